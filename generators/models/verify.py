"""`models verify NAME`: load a backend from the cache and run one tiny inference.

Each backend module has a `verify_backend(paths, device) -> str` that loads its model
from the resolved snapshot folders and runs the smallest real call (one denoising step
on a small image, one depth map, one mask); the summary says what came out.
"""

from __future__ import annotations

import importlib
import time
from typing import Any

from .device import check_memory, pick_device, pick_dtype
from .hub import ModelMissing, backend_state, resolve
from .registry import Backend, get_backend

#: backend name -> module with verify_backend(paths, device)
_VERIFIERS = {
    "flux-pano": "generators.panorama.outpaint_flux",
    "sd-inpaint": "generators.panorama.outpaint_diffusion",
    "depth-anything-v2-small": "generators.depth.neural",
    "depth-anything-v2-large": "generators.depth.neural",
    "moge": "generators.depth.neural",
    "sam2-tiny": "generators.objects.segment_neural",
    "sam-vit-base": "generators.objects.segment_neural",
    "zero123plus": "generators.objects.multiview",
    "hunyuan3d-2mini": "generators.objects.hunyuan3d",
    "depth-anything-3": "generators.reconstruct.feedforward",
}


def memory_need_gb(backend: Backend) -> float:
    """VRAM the backend needs, scaled by the weights actually in the cache (VRAM grows with
    the weights: a reduced or test checkpoint needs proportionally less)."""
    st = backend_state(backend)
    expected = backend.size_gb * 1e9
    if st.size_bytes <= 0 or expected <= 0:
        return backend.vram_gb
    return backend.vram_gb * min(1.0, st.size_bytes / expected)


def prepare(backend: Backend | str, device: str | None = "auto") -> tuple[Backend, list, str]:
    """Resolve the weights, pick the device and refuse early (one line) when memory is short."""
    b = get_backend(backend) if isinstance(backend, str) else backend
    paths = resolve(b)
    dev = pick_device(device)
    need = memory_need_gb(b)
    if need >= 2.0:
        check_memory(b, dev)
    return b, paths, dev


def verify(backend: Backend | str, device: str | None = "auto") -> dict[str, Any]:
    """Load and run the backend once; returns device, dtype, summary, load_s, run_s."""
    b, paths, dev = prepare(backend, device)
    mod_name = _VERIFIERS.get(b.name)
    if mod_name is None:
        raise ModelMissing(f"{b.name}: Wander has no runner for it in this build ({b.pip})")
    mod = importlib.import_module(mod_name)
    t0 = time.perf_counter()
    runner = mod.verify_backend(b, paths, dev)
    t1 = time.perf_counter()
    summary = runner()
    t2 = time.perf_counter()
    return {
        "device": dev,
        "dtype": str(pick_dtype(dev)).replace("torch.", ""),
        "summary": summary,
        "load_s": t1 - t0,
        "run_s": t2 - t1,
    }
