"""GPU smoke run: every neural backend Wander can run here, once, with tiny random weights.

    python bench/gpu_smoke.py [--device auto|cuda|mps|cpu] [--only NAME ...]

Builds tiny random-weight versions of each backend's models (tests/models_tiny.py), puts them
in a temporary Hugging Face cache under the real repo ids, and runs `models verify NAME` on
the chosen device: load time, inference time and peak GPU memory. On an accelerator the
same run is repeated on the CPU and the ratio printed (the comparison in the same run).
Backends whose package is not installed are listed with the one-line fix. Tiny weights
measure the plumbing (loading, dtype, offload, device transfers), not the models' speed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "tests"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))


def _peak_reset(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def _peak_mb(device: str) -> float | None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() / 1e6
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--only", nargs="*", help="backend names (default: all)")
    args = ap.parse_args(argv)

    import torch
    from models_tiny import install_tiny_backends

    from generators.models.device import pick_device
    from generators.models.hub import ModelMissing, missing_packages
    from generators.models.registry import BACKENDS

    dev = pick_device(args.device)
    print(
        f"torch {torch.__version__}; device {dev}"
        + (f" ({torch.cuda.get_device_name(0)})" if dev.startswith("cuda") else "")
    )
    with tempfile.TemporaryDirectory(prefix="wander-smoke-") as tmp:
        cache = Path(tmp) / "hub"
        os.environ["HF_HUB_CACHE"] = str(cache)
        os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
        import warnings

        from diffusers.utils import logging as dlog
        from transformers.utils import logging as tlog

        warnings.filterwarnings("ignore")  # tiny configs trip library deprecation notes
        dlog.disable_progress_bar()
        dlog.set_verbosity_error()
        tlog.disable_progress_bar()
        tlog.set_verbosity_error()
        built = install_tiny_backends(cache, Path(tmp) / "src", args.only)
        from generators.models.verify import verify

        print(
            f"{'backend':<26}{'load s':>8}{'run s':>8}{'peak MB':>9}"
            f"{'cpu run s':>11}{'ratio':>7}  result"
        )
        for b in BACKENDS:
            if args.only and b.name not in args.only:
                continue
            if b.name not in built:
                miss = missing_packages(b)
                why = (
                    f"needs {', '.join(miss)}: {b.pip}"
                    if miss
                    else "no tiny model for it in this bench"
                )
                print(f"{b.name:<26}{'-':>8}{'-':>8}{'-':>9}{'-':>11}{'-':>7}  skipped: {why}")
                continue
            try:
                if dev != "cpu":
                    verify(b.name, device=dev)  # warm-up: first CUDA kernels, lazy imports
                _peak_reset(dev)
                res = verify(b.name, device=dev)
                peak = _peak_mb(dev)
                cpu = verify(b.name, device="cpu") if dev != "cpu" else None
            except (ModelMissing, ValueError) as exc:
                print(f"{b.name:<26}  failed: {exc}")
                continue
            ratio = f"{cpu['run_s'] / max(res['run_s'], 1e-9):.1f}x" if cpu else "-"
            print(
                f"{b.name:<26}{res['load_s']:>8.2f}{res['run_s']:>8.3f}"
                f"{(f'{peak:.0f}' if peak is not None else '-'):>9}"
                f"{(format(cpu['run_s'], '.3f') if cpu else '-'):>11}{ratio:>7}  {res['summary']}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
