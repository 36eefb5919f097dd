#!/usr/bin/env bash
# The fast headless subset, for while you work: no display (DISPLAY unset), nothing marked
# `gl` (needs Xvfb + OpenGL) or `slow`. Under a minute on a quiet machine; installs nothing.
# `ruff check .` and `ruff format --check .` run first (a finding fails the run).
# Extra arguments go to pytest (e.g. `-x`, a file, `-k name`). The full suite: tools/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
$PY -m ruff check .
$PY -m ruff format --check .
exec env -u DISPLAY -u WAYLAND_DISPLAY "$PY" -m pytest -q -m "not gl and not slow" "$@"
