"""Diffusion outpainting of equirect panoramas with a local Stable Diffusion inpainting model.

Seam-aware (circular) handling, two passes:
  1. the panorama, circularly padded by 1/8 of its width on both sides (so content
     near ±180° sees its neighbours across the seam), is inpainted where unknown;
  2. the result is rolled by half its width, which puts the ±180° seam in the middle,
     and a band around it is inpainted again, so the two ends join seamlessly.
The photo itself is always kept; only the generated part is upsampled to the output.
Progress comes from `callback_on_step_end`; cancel sets the pipeline's `_interrupt`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from generators.jobs import CancelToken, ProgressFn, no_progress
from generators.models.hub import offline

DOWNLOAD_HINT = (
    "Run `python main.py models download sd-inpaint` (then --model is not needed), or pass "
    "--model DIR: a diffusers inpainting folder with model_index.json, unet/, vae/, "
    "text_encoder/, tokenizer/, scheduler/."
)
DEFAULT_PROMPT = (
    "360 degree equirectangular panorama, seamless, natural continuation of the "
    "scene, photorealistic, highly detailed"
)
NEGATIVE_PROMPT = "text, watermark, frame, border, people, blurry, distorted"


@offline()  # HF_HUB_OFFLINE for the load only (generators.models.hub)
def load_inpaint_pipeline(model: str | Path | None, device: str | None = None) -> Any:
    """Load a diffusers inpainting pipeline from a local folder, or through the model manager
    (model None or `sd-inpaint`: the cached snapshot; ModelMissing names the download command).
    fp16 on CUDA/MPS, fp32 on the CPU; never contacts the hub."""
    from generators.models.hub import resolve_model_arg

    managed = model is None or not Path(model).exists()
    if managed:
        model = resolve_model_arg(model, "sd-inpaint")
    path = Path(model)
    local = path.exists()
    if local and not (path / "model_index.json").is_file():
        raise ValueError(
            f"{path} is not a diffusers pipeline folder (no model_index.json).\n" + DOWNLOAD_HINT
        )
    try:
        import torch  # noqa: F401 - checks torch is installed and imports
        from diffusers import AutoPipelineForInpainting
    except ImportError as exc:  # pragma: no cover - installed in this project
        raise ValueError(
            f"diffusion outpainting needs torch and diffusers ({exc}); "
            "pip install torch diffusers transformers"
        ) from None
    from generators.models.device import pick_device, pick_dtype

    dev = pick_device(device)
    dtype = pick_dtype(dev)
    if managed:
        from generators.models.device import check_backend_memory

        check_backend_memory("sd-inpaint", dev)  # one line before loading, not an OOM later
    try:
        pipe = AutoPipelineForInpainting.from_pretrained(
            str(path) if local else str(model),
            dtype=dtype,
            local_files_only=True,
            safety_checker=None,
            requires_safety_checker=False,
        )
    except (OSError, ValueError) as exc:
        where = f"folder {path}" if local else f"{model!r} in the Hugging Face cache"
        raise ValueError(
            f"cannot load an inpainting pipeline from {where}: {exc}\n" + DOWNLOAD_HINT
        ) from None
    pipe = pipe.to(dev)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _work_size(height: int, pipe: Any) -> int:
    """Working height: a multiple of 8 · the VAE factor, at most the panorama's."""
    unit = 8 * int(getattr(pipe, "vae_scale_factor", 8))
    unit = max(unit, 8)
    return max(unit, (height // unit) * unit)


def outpaint_diffusion(
    pano: np.ndarray,
    known: np.ndarray,
    *,
    model: str | Path | None = None,
    pipe: Any = None,
    prompt: str = "",
    negative_prompt: str = NEGATIVE_PROMPT,
    steps: int = 30,
    guidance: float = 7.0,
    seed: int = 0,
    work_height: int = 512,
    device: str | None = None,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Inpaint the unknown part of an equirect panorama (H, 2H, 3) with a diffusion model.

    known (H, 2H) 0..1 marks the photo. `pipe` may be a loaded pipeline (reused);
    otherwise it is loaded from `model`. Returns (H, 2H, 3) float32 0..1.
    """
    import cv2
    import torch
    from PIL import Image

    from .outpaint_classical import outpaint_classical

    cancel = cancel or CancelToken()
    if steps < 1 or steps > 500:
        raise ValueError(f"steps must be between 1 and 500, got {steps}")
    H, W = known.shape
    progress(0.0, "loading the diffusion model")
    pipe = pipe if pipe is not None else load_inpaint_pipeline(model, device)
    cancel.check()
    # classical fill first: a sensible colour layout under the mask for the VAE to encode
    base = outpaint_classical(pano, known, seed=seed, cancel=cancel)
    hs = _work_size(min(work_height, H), pipe)
    ws = 2 * hs
    unit = 8 * int(getattr(pipe, "vae_scale_factor", 8))
    pad = max(unit, (ws // 8) // unit * unit)
    small = cv2.resize(base, (ws, hs), interpolation=cv2.INTER_AREA)
    k_small = cv2.resize(known, (ws, hs), interpolation=cv2.INTER_AREA)
    mask = (k_small < 0.98).astype(np.uint8)
    mask = cv2.dilate(mask, np.ones((3, 3), np.uint8), iterations=max(1, hs // 128))
    steps2 = max(1, steps // 2)
    total = steps + steps2
    done = [0]
    gen = torch.Generator(device="cpu").manual_seed(seed)

    def run(img: np.ndarray, m: np.ndarray, n_steps: int, label: str) -> np.ndarray:
        def on_step(p: Any, step: int, timestep: Any, kw: dict) -> dict:
            done[0] += 1
            progress(0.05 + 0.9 * done[0] / total, f"{label}: step {step + 1}/{n_steps}")
            if cancel.cancelled:
                p._interrupt = True
            return kw

        h, w = img.shape[:2]
        out = pipe(
            prompt=prompt or DEFAULT_PROMPT,
            negative_prompt=negative_prompt,
            image=Image.fromarray((np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)),
            mask_image=Image.fromarray(m * 255),
            height=h,
            width=w,
            num_inference_steps=n_steps,
            guidance_scale=guidance,
            generator=gen,
            output_type="np",
            callback_on_step_end=on_step,
        ).images[0]
        cancel.check()  # an interrupted run returns early: drop its result
        out = np.asarray(out, np.float32)
        if out.shape[:2] != (h, w):
            out = cv2.resize(out, (w, h), interpolation=cv2.INTER_CUBIC)
        # keep what was known exactly
        return np.where(m[..., None] > 0, out, img).astype(np.float32)

    # pass 1: circular padding so both ends see each other across ±180°
    padded = np.concatenate([small[:, -pad:], small, small[:, :pad]], axis=1)
    m_pad = np.concatenate([mask[:, -pad:], mask, mask[:, :pad]], axis=1)
    gen1 = run(padded, m_pad, steps, "outpainting")[:, pad : pad + ws]
    # pass 2: roll the seam to the middle and repaint a band around it
    rolled = np.roll(gen1, ws // 2, axis=1)
    band = np.zeros((hs, ws), np.uint8)
    half = max(unit // 2, ws // 16)
    band[:, ws // 2 - half : ws // 2 + half] = 1
    band &= np.roll(mask, ws // 2, axis=1)
    if band.any():
        rolled = run(rolled, band, steps2, "closing the 360° seam")
    gen2 = np.roll(rolled, -(ws // 2), axis=1)
    progress(0.97, "blending")
    out = composite_generated(pano, known, gen2)
    progress(1.0, "outpainting done")
    return out


def composite_generated(pano: np.ndarray, known: np.ndarray, gen: np.ndarray) -> np.ndarray:
    """Put a model's panorama back at full size under the photo.

    pano: (H, W, 3) float in 0..1, the photo on the sphere; known: (H, W) its coverage in 0..1;
    gen: (h, w, 3) the generated equirect at working resolution (w = 2h, wrapping at ±180°).
    Returns (H, W, 3) float32: `gen` upsampled (cubic, resampled across the seam so both edges
    see their wrapped neighbours) where the photo is not, the photo at full resolution where it is.
    """
    import cv2

    H, W = known.shape
    ws = gen.shape[1]
    big = cv2.resize(
        np.concatenate([gen[:, -4:], gen, gen[:, :4]], 1),
        (W + round(8 * W / ws), H),
        interpolation=cv2.INTER_CUBIC,
    )
    o = round(4 * W / ws)
    big = big[:, o : o + W]
    alpha = np.clip(known, 0, 1)[..., None]
    return np.clip(pano * alpha + big * (1 - alpha), 0, 1).astype(np.float32)


def verify_backend(backend: Any, paths: list[Path], device: str) -> Any:
    """`models verify sd-inpaint`: load, then inpaint a 64x128 panorama in 2 steps."""
    pipe = load_inpaint_pipeline(paths[0], device)

    def run() -> str:
        H = 64
        pano = np.full((H, 2 * H, 3), 0.5, np.float32)
        known = np.zeros((H, 2 * H), np.float32)
        known[16:48, 48:80] = 1
        out = outpaint_diffusion(pano, known, pipe=pipe, steps=2, work_height=H)
        if not np.isfinite(out).all():
            raise ValueError("sd-inpaint produced non-finite pixels")
        return (
            f"inpainted a {out.shape[1]}x{out.shape[0]} panorama in 2+1 steps "
            f"(mean {out.mean():.3f})"
        )

    return run
