"""HunyuanWorld-1.0-style panorama outpainting: FLUX.1-Fill + the PanoDiT-Image LoRA.

The photo is already placed on the equirect canvas at its own field of view (EXIF or
`--fov`, see `fov.py`); the rest of the sphere is filled by diffusers' `FluxFillPipeline`
with HunyuanWorld-1's `HunyuanWorld-PanoDiT-Image/lora.safetensors` loaded through peft,
at 1920x960 by default (HunyuanWorld's size).

Circular seam (after HunyuanWorld-1's `blend_h` in its Flux panorama pipeline): the canvas
is extended on the right by its own first `blend` columns, so the model paints across the
±180° seam; afterwards the extension is cross-faded linearly into the start of the
panorama (weight x/blend) and cut off, so the two ends meet without a visible line.
Source: Tencent-Hunyuan/HunyuanWorld-1.0, hy3dworld/models/pipelines.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from generators.jobs import CancelToken, ProgressFn, no_progress
from generators.models.hub import offline

log = logging.getLogger(__name__)

LORA_SUBFOLDER = "HunyuanWorld-PanoDiT-Image"
LORA_FILE = "lora.safetensors"
DEFAULT_PROMPT = "a seamless 360 degree equirectangular panorama, photorealistic, highly detailed"
WORK_HEIGHT = 960  # HunyuanWorld-1 generates 1920x960
GUIDANCE = 30.0  # FLUX.1-Fill's recommended guidance (HunyuanWorld uses 30)


@offline()  # HF_HUB_OFFLINE for the load only (generators.models.hub)
def load_flux_pano(paths: list[Path] | None = None, device: str | None = "auto") -> Any:
    """FluxFillPipeline + PanoDiT-Image LoRA from the cache (or given snapshot folders).

    paths: [FLUX.1-Fill snapshot, HunyuanWorld-1 snapshot]; None resolves `flux-pano`
    through the model manager (ModelMissing names `models download flux-pano`).
    bf16 on CUDA (fp16 overflows in FLUX), CPU model offload when the card is short of
    the full need but holds the largest part; refuses in one line below that.
    """
    from generators.models.device import free_vram_gb, pick_device, pick_dtype
    from generators.models.hub import resolve
    from generators.models.registry import get_backend
    from generators.models.verify import memory_need_gb
    from scene.errors import InputError

    backend = get_backend("flux-pano")
    if paths is None:
        paths = resolve(backend)
    base, lora = Path(paths[0]), Path(paths[1])
    try:
        import torch  # noqa: F401
        from diffusers import FluxFillPipeline
    except ImportError as exc:
        raise InputError(f"flux-pano needs diffusers ({exc}): {backend.pip}") from None
    try:
        import peft  # noqa: F401
    except ImportError:
        raise InputError(f"flux-pano loads its LoRA with peft: {backend.pip}") from None
    dev = pick_device(device)
    dtype = pick_dtype(dev, prefer_bf16=True)
    need = memory_need_gb(backend)
    offload = False
    if dev.startswith("cuda"):
        free = free_vram_gb(dev) or 0.0
        if free < need * 0.45:
            raise InputError(
                f"flux-pano needs at least {need * 0.45:.1f} GB of GPU memory even with "
                f"CPU offload, {dev} has {free:.1f} GB free; use --backend diffusion"
            )
        offload = free < need
    elif dev == "cpu" and need >= 2.0:
        import os

        if os.environ.get("WANDER_ALLOW_CPU") != "1":
            raise InputError(
                "flux-pano needs a GPU (24 GB, 11 GB with offload); on the CPU one "
                "panorama takes hours. Set WANDER_ALLOW_CPU=1 to run it anyway, or use "
                "--backend diffusion / classical"
            )
    try:
        pipe = FluxFillPipeline.from_pretrained(str(base), dtype=dtype, local_files_only=True)
        pipe.load_lora_weights(str(lora), subfolder=LORA_SUBFOLDER, weight_name=LORA_FILE)
    except (OSError, ValueError) as exc:
        raise InputError(
            f"cannot load flux-pano from {base} + {lora}: {str(exc).splitlines()[0]}; "
            "run `python main.py models download flux-pano` again"
        ) from None
    if offload:
        pipe.enable_model_cpu_offload(device=dev)
    else:
        pipe = pipe.to(dev)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def blend_seam(img: np.ndarray, blend: int) -> np.ndarray:
    """HunyuanWorld's circular `blend_h`: img (H, W + blend, C) whose last `blend` columns
    continue past the ±180° seam -> (H, W, C), the extension cross-faded into the start."""
    if blend <= 0:
        return img
    W = img.shape[1] - blend
    out = img[:, :W].copy()
    w = (np.arange(blend, dtype=np.float32) / blend)[None, :, None]
    out[:, :blend] = img[:, W:] * (1 - w) + img[:, :blend] * w
    return out


def outpaint_flux(
    pano: np.ndarray,
    known: np.ndarray,
    *,
    pipe: Any = None,
    paths: list[Path] | None = None,
    prompt: str = "",
    steps: int = 28,
    guidance: float = GUIDANCE,
    seed: int = 0,
    work_height: int = WORK_HEIGHT,
    blend: int | None = None,
    device: str | None = "auto",
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Fill the unknown part of an equirect panorama (H, 2H, 3) float 0..1 with FLUX.1-Fill.

    known (H, 2H) 0..1 marks the photo (kept exactly at full resolution). Generation runs
    at `work_height` x 2·work_height (multiples of the pipeline's 16-pixel unit) plus
    the circular extension; the generated part is resized to the panorama's size.
    Returns (H, 2H, 3) float32 0..1. Raises Cancelled when the token is set.
    """
    import cv2
    import torch
    from PIL import Image

    from .outpaint_classical import outpaint_classical

    cancel = cancel or CancelToken()
    if not 1 <= steps <= 500:
        raise ValueError(f"steps must be between 1 and 500, got {steps}")
    H, W = known.shape
    progress(0.0, "loading FLUX.1-Fill + PanoDiT LoRA")
    pipe = pipe if pipe is not None else load_flux_pano(paths, device)
    cancel.check()
    unit = 2 * int(getattr(pipe, "vae_scale_factor", 8))
    hs = max(unit, (min(work_height, H) // unit) * unit)
    ws = 2 * hs
    ext = blend if blend is not None else max(unit, (ws // 32) // unit * unit)  # 60 px at 1920
    base = outpaint_classical(pano, known, seed=seed, cancel=cancel)  # colour layout under the mask
    small = cv2.resize(base, (ws, hs), interpolation=cv2.INTER_AREA)
    k_small = cv2.resize(known.astype(np.float32), (ws, hs), interpolation=cv2.INTER_AREA)
    mask = (k_small < 0.98).astype(np.uint8)
    mask = cv2.dilate(mask, np.ones((3, 3), np.uint8), iterations=max(1, hs // 160))
    img_ext = np.concatenate([small, small[:, :ext]], axis=1)
    m_ext = np.concatenate([mask, mask[:, :ext]], axis=1)

    def on_step(p: Any, step: int, timestep: Any, kw: dict) -> dict:
        progress(0.05 + 0.9 * (step + 1) / steps, f"FLUX fill: step {step + 1}/{steps}")
        if cancel.cancelled:
            p._interrupt = True
        return kw

    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    out = pipe(
        prompt=prompt or DEFAULT_PROMPT,
        image=Image.fromarray((np.clip(img_ext, 0, 1) * 255 + 0.5).astype(np.uint8)),
        mask_image=Image.fromarray(m_ext * 255),
        height=hs,
        width=ws + ext,
        num_inference_steps=steps,
        guidance_scale=guidance,
        generator=gen,
        output_type="np",
        callback_on_step_end=on_step,
    ).images[0]
    cancel.check()  # an interrupted run returns early: drop it
    gen_img = np.asarray(out, np.float32)
    if gen_img.shape[:2] != (hs, ws + ext):
        gen_img = cv2.resize(gen_img, (ws + ext, hs), interpolation=cv2.INTER_CUBIC)
    gen_img = blend_seam(gen_img, ext)
    progress(0.97, "blending")
    from .outpaint_diffusion import composite_generated

    res = composite_generated(pano, known, gen_img)
    progress(1.0, "outpainting done")
    return res


def verify_backend(backend: Any, paths: list[Path], device: str) -> Callable[[], str]:
    """`models verify flux-pano`: load, then fill a 64x128 panorama in 2 steps."""
    pipe = load_flux_pano(paths, device)

    def run() -> str:
        H = 64
        yy, xx = np.mgrid[0:H, 0 : 2 * H]
        pano = np.stack([xx / (2 * H), yy / H, np.full_like(xx, 0.5, dtype=float)], -1).astype(
            np.float32
        )
        known = np.zeros((H, 2 * H), np.float32)
        known[16:48, 48:80] = 1
        out = outpaint_flux(pano, known, pipe=pipe, steps=2, work_height=H)
        if not np.isfinite(out).all():
            raise ValueError("flux-pano produced non-finite pixels")
        return f"filled a {out.shape[1]}x{out.shape[0]} panorama in 2 steps (mean {out.mean():.3f})"

    return run
