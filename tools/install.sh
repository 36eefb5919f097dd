#!/usr/bin/env bash
# Install Wander (and, with --test, its test tools) into the current Python.
#
# PyTorch first, chosen by tools/torch_plan.py: with an NVIDIA GPU the CUDA build (and
# gsplat); without one the CPU build from PyTorch's CPU wheel index (probed with a short
# timeout); where that index cannot be reached, pip's own sources only if they offer a build
# without CUDA packages, else no torch (the classical generators do not need it) and a
# message saying how to add it. Then `pip install -e .`.
#
#   --test      also the test tools (pytest, pytest-qt...)
#   --dry-run   install nothing: print the plan and what pip would install (pip --dry-run --report)
# Environment: PYTHON, WANDER_GPU=0|1, WANDER_TORCH (requirement), WANDER_TORCH_INDEX,
# WANDER_PROBE_TIMEOUT (seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
extras=()
dry=0
for arg in "$@"; do
  case "$arg" in
    --test) extras+=(test) ;;
    --dry-run) dry=1 ;;
    *) echo "install.sh: unknown option $arg (use --test, --dry-run)" >&2; exit 2 ;;
  esac
done

plan=$($PY tools/torch_plan.py)
field() { $PY -c "import json,sys; p=json.loads(sys.argv[1]); v=p[sys.argv[2]]; print(' '.join(v) if isinstance(v, list) else ('' if v is None else v))" "$plan" "$1"; }
echo "$(field message)"
torch_args=$(field pip_args)
for e in $(field extras); do extras+=("$e"); done
spec="."
if [ ${#extras[@]} -gt 0 ]; then spec=".[$(IFS=,; echo "${extras[*]}")]"; fi

if [ "$dry" = 1 ]; then
  report=$(mktemp)
  trap 'rm -f "$report"' EXIT
  show() { $PY -c "import json,sys; r=json.load(open(sys.argv[1])); print('  would install:', ' '.join(sorted(i['metadata']['name']+'=='+i['metadata']['version'] for i in r.get('install', []))) or 'nothing')" "$report"; }
  if [ -n "$torch_args" ]; then
    # shellcheck disable=SC2086
    $PY -m pip install -q --dry-run --report "$report" $torch_args && show
  fi
  $PY -m pip install -q --dry-run --report "$report" -e "$spec" && show
  exit 0
fi

if [ -n "$torch_args" ]; then
  # shellcheck disable=SC2086
  $PY -m pip install -q $torch_args
fi
$PY -m pip install -q -e "$spec"
# compile the CPU splat rasterizer's numba kernels now (cached on disk), so the first
# reconstruction spends its optimisation budget optimising, not compiling
if $PY -c "import torch" 2>/dev/null; then
  $PY -c "from generators.splat_cpu import warm_up; print(f'compiled the CPU rasterizer in {warm_up():.0f} s')" \
    || echo "warning: could not precompile the CPU rasterizer; the first reconstruction will compile it" >&2
fi
# and the viewer's CPU frames (viewer/cpu_splat.py; numba only), so the first full-quality
# frames on a machine without a GPU do not wait for them
$PY -c "from viewer.cpu_splat import warm_up; print(f'compiled the viewer CPU frames in {warm_up():.0f} s')" \
  || echo "warning: could not precompile the viewer's CPU frames; the viewer compiles them on first use" >&2
