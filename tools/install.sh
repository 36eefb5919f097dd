#!/usr/bin/env bash
# Install Wander (and, with --test, its test tools) into the current Python.
# torch first: a CPU build is pinned so pip does not pull a multi-GB CUDA build on
# machines without a GPU. Set WANDER_TORCH="torch" to let pip pick (e.g. for CUDA).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
extra=""
[ "${1:-}" = "--test" ] && extra="[test]"
if ! $PY -c "import torch" 2>/dev/null; then
  $PY -m pip install -q "${WANDER_TORCH:-torch==2.13.0}"
fi
$PY -m pip install -q -e ".${extra}"
# compile the CPU splat rasterizer's numba kernels now (cached on disk), so the first
# reconstruction spends its optimisation budget optimising, not compiling
$PY -c "from generators.splat_cpu import warm_up; print(f'compiled the CPU rasterizer in {warm_up():.0f} s')" \
  || echo "warning: could not precompile the CPU rasterizer; the first reconstruction will compile it" >&2
