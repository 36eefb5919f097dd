#!/usr/bin/env bash
# Install everything the tests need on a fresh Debian/Ubuntu machine, then run them.
# System: Xvfb + Mesa (llvmpipe software OpenGL) + the xcb libraries Qt needs.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
PKGS="xvfb xauth libgl1-mesa-dri libglx-mesa0 libegl1 libxcb-icccm4 libxcb-keysyms1 \
libxcb-image0 libxcb-render-util0 libxcb-xinerama0 libxcb-randr0 libxcb-shape0 libxcb-xkb1 \
libxkbcommon-x11-0 libxcb-cursor0 libfontconfig1 libdbus-1-3"
missing=$(dpkg-query -W -f='${Status} ${Package}\n' $PKGS 2>/dev/null | grep -v "install ok installed" | awk '{print $NF}' || true)
if ! command -v Xvfb >/dev/null || [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $PKGS >/dev/null
fi
bash tools/install.sh --test
# lint and formatting first (rules in pyproject.toml); a finding fails the run
$PY -m ruff check .
$PY -m ruff format --check .
# one worker per core, at most 4 (each starts its own Xvfb): the suite took 16 min on one
# process on a 2-core machine, 8 min on two; `-n 0` runs it in this process
exec $PY -m pytest -q -ra -n auto --maxprocesses 4 "$@"
