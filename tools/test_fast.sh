#!/usr/bin/env bash
# The fast headless subset, for while you work: no display (DISPLAY unset), nothing marked
# `gl` (needs Xvfb + OpenGL) or `slow`. Under a minute on a quiet machine; installs nothing.
# Extra arguments go to pytest (e.g. `-x`, a file, `-k name`). The full suite: tools/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
exec env -u DISPLAY -u WAYLAND_DISPLAY "${PYTHON:-python3}" -m pytest -q -m "not gl and not slow" "$@"
