"""Device, dtype and memory checks shared by the neural backends.

CUDA first, then Apple MPS, then the CPU. fp16 (or bf16 where the model needs its range,
e.g. FLUX) on accelerators, fp32 on the CPU. A backend that needs more VRAM than the
card has is refused before anything loads, in one line.
"""

from __future__ import annotations

import logging
from typing import Any

from scene.errors import InputError

from .registry import Backend

log = logging.getLogger(__name__)


def pick_device(preference: str | None = None) -> str:
    """'cuda', 'mps' or 'cpu' (or the given one, checked). `auto`/None picks the best."""
    import torch

    pref = (preference or "auto").lower()
    if pref == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "mps"
        return "cpu"
    if pref.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(f"--device {preference}: no CUDA GPU is available here (use cpu or auto)")
    if pref == "mps" and not (
        getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
    ):
        raise InputError("--device mps: Apple Metal is not available here (use cpu or auto)")
    return pref


def pick_dtype(device: str, prefer_bf16: bool = False) -> Any:
    """torch dtype for a device: bf16/fp16 on accelerators, fp32 on the CPU."""
    import torch

    if device.startswith("cuda"):
        if prefer_bf16 and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float16
    if device == "mps":
        return torch.float16
    return torch.float32


def free_vram_gb(device: str) -> float | None:
    """Free memory on a CUDA device in GB (None elsewhere: not measurable)."""
    import torch

    if not device.startswith("cuda"):
        return None
    free, _total = torch.cuda.mem_get_info(torch.device(device))
    return free / 1e9


def check_memory(backend: Backend, device: str, *, offload: bool = False) -> None:
    """Refuse early when the card cannot hold the backend.

    With CPU offload (diffusers' model offload) about 45% of the VRAM is needed.
    Raises InputError in one line; on the CPU, refuses backends marked GPU-only unless
    WANDER_ALLOW_CPU=1 (they would take hours).
    """
    import os

    if device == "cpu":
        if not backend.cpu_ok and os.environ.get("WANDER_ALLOW_CPU") != "1":
            raise InputError(
                f"{backend.name} needs a GPU with about {backend.vram_gb:g} GB "
                "(on the CPU one image takes hours); set WANDER_ALLOW_CPU=1 to run it anyway"
            )
        return
    free = free_vram_gb(device)
    if free is None:
        return
    need = backend.vram_gb * (0.45 if offload else 1.0)
    if free < need:
        raise InputError(
            f"{backend.name} needs about {need:.1f} GB of GPU memory, {device} has "
            f"{free:.1f} GB free: close other GPU programs or use a smaller model"
        )


def check_backend_memory(name: str, device: str) -> None:
    """`check_memory` for the manager's backend `name`, with the need scaled to the weights in
    the cache (see `verify.memory_need_gb`); small needs (< 2 GB) are not checked."""
    from .registry import get_backend
    from .verify import memory_need_gb

    b = get_backend(name)
    if memory_need_gb(b) >= 2.0:
        check_memory(b, device)
