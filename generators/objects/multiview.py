"""Multi-view diffusion (Zero123++ layout) + space carving: one photo -> six views -> object.

Two kinds of local weight folders load here:
- a real Zero123++ folder (`sudo-ai/zero123plus-v1.2` downloaded, with the custom pipeline's
  `pipeline.py` from `sudo-ai/zero123plus-pipeline` copied into it): loaded through
  `DiffusionPipeline.from_pretrained(dir, custom_pipeline=dir)`;
- a `WanderMultiViewPipeline` folder (this module's pipeline, built from stock diffusers
  components: a UNet conditioned on CLIP image embeddings plus the photo's latents).
Both return one image of 3 rows x 2 columns of square views at the Zero123++ v1.2 cameras
(azimuths 30..330°, elevations 20/-10°, FOV 30°) on a gray background.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from generators.jobs import CancelToken, ProgressFn, Stages, no_progress
from generators.models.hub import offline
from scene.gaussians import GaussianCloud
from scene.mesh import Mesh

from .carve import (
    ZERO123PP_VIEW,
    carve,
    carve_to_object,
    silhouette_against_background,
    split_grid,
    zero123pp_cameras,
)
from .segment_classical import Segmentation

GRAY = 0.5
DOWNLOAD_HINT = (
    "run `python main.py models download zero123plus` (then --model is not needed), or "
    "download sudo-ai/zero123plus-v1.2 into that folder and copy pipeline.py from "
    "sudo-ai/zero123plus-pipeline beside its model_index.json (or point --model at a "
    "saved WanderMultiViewPipeline)"
)


def conditioning_image(seg: Segmentation, size: int = 320, fill: float = 0.8) -> np.ndarray:
    """The object alone, centred on a gray square, filling `fill` of it: (size, size, 3) uint8."""
    import cv2

    x0, y0, x1, y1 = seg.box
    rgb = seg.rgb[y0:y1, x0:x1].astype(np.float32) / 255.0
    a = seg.alpha[y0:y1, x0:x1, None] * seg.mask[y0:y1, x0:x1, None]
    comp = rgb * a + GRAY * (1 - a)
    side = max(x1 - x0, y1 - y0)
    s = fill * size / side
    w, h = max(1, round((x1 - x0) * s)), max(1, round((y1 - y0) * s))
    comp = cv2.resize(comp, (w, h), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    out = np.full((size, size, 3), GRAY, np.float32)
    oy, ox = (size - h) // 2, (size - w) // 2
    out[oy : oy + h, ox : ox + w] = comp
    return (np.clip(out, 0, 1) * 255 + 0.5).astype(np.uint8)


def _pipeline_class() -> type:
    """`WanderMultiViewPipeline`, defined lazily so importing this module needs no torch."""
    global _PIPELINE_CLASS
    if _PIPELINE_CLASS is not None:
        return _PIPELINE_CLASS
    import torch
    from diffusers import DiffusionPipeline

    class WanderMultiViewPipeline(DiffusionPipeline):
        """Image-conditioned diffusion of a 3x2 grid of views (Zero123++ layout).

        UNet input: noisy grid latents (4 ch) + the photo's latents tiled over the grid (4 ch);
        cross-attention: the photo's CLIP image embedding as one token.
        """

        model_cpu_offload_seq = "image_encoder->unet->vae"

        def __init__(
            self, unet, vae, image_encoder, feature_extractor, scheduler, view_size: int = 320
        ) -> None:
            super().__init__()
            self.register_modules(
                unet=unet,
                vae=vae,
                image_encoder=image_encoder,
                feature_extractor=feature_extractor,
                scheduler=scheduler,
            )
            self.register_to_config(view_size=view_size)
            self.vae_scale_factor = 2 ** (len(self.vae.config.block_out_channels) - 1)

        @torch.no_grad()
        def __call__(
            self,
            image: Any,
            num_inference_steps: int = 28,
            guidance_scale: float = 4.0,
            generator: torch.Generator | None = None,
            view_size: int | None = None,
            callback_on_step_end: Callable | None = None,
            output_type: str = "np",
        ) -> Any:
            from diffusers.utils import BaseOutput
            from PIL import Image

            s = int(view_size or self.config.view_size)
            if s % self.vae_scale_factor:
                raise ValueError(f"view size {s} must be a multiple of {self.vae_scale_factor}")
            pil = (
                image
                if isinstance(image, Image.Image)
                else Image.fromarray(np.asarray(image, np.uint8))
            )
            pil = pil.convert("RGB")
            dev, dtype = self._execution_device, self.unet.dtype
            clip_in = self.feature_extractor(images=pil, return_tensors="pt").pixel_values.to(
                dev, dtype
            )
            emb = self.image_encoder(clip_in).image_embeds[:, None, :]  # (1, 1, D)
            cond = torch.from_numpy(
                np.asarray(pil.resize((s, s), Image.BICUBIC), np.float32) / 127.5 - 1
            )
            cond = cond.permute(2, 0, 1)[None].to(dev, dtype)  # (1, 3, s, s)
            lat_c = self.vae.encode(cond).latent_dist.mode() * self.vae.config.scaling_factor
            lat_c = lat_c.repeat(1, 1, 3, 2)  # (1, 4, 3s/f, 2s/f)
            cfg = guidance_scale > 1.0
            if cfg:
                emb = torch.cat([torch.zeros_like(emb), emb])
                lat_c = torch.cat([torch.zeros_like(lat_c), lat_c])
            shape = (
                1,
                self.unet.config.out_channels,
                3 * s // self.vae_scale_factor,
                2 * s // self.vae_scale_factor,
            )
            latents = torch.randn(shape, generator=generator, device="cpu", dtype=torch.float32)
            latents = latents.to(dev, dtype) * self.scheduler.init_noise_sigma
            self.scheduler.set_timesteps(num_inference_steps, device=dev)
            for i, t in enumerate(self.scheduler.timesteps):
                inp = torch.cat([latents] * 2) if cfg else latents
                inp = self.scheduler.scale_model_input(inp, t)
                noise = self.unet(torch.cat([inp, lat_c], 1), t, encoder_hidden_states=emb).sample
                if cfg:
                    un, co = noise.chunk(2)
                    noise = un + guidance_scale * (co - un)
                latents = self.scheduler.step(noise, t, latents, generator=generator).prev_sample
                if callback_on_step_end is not None:
                    callback_on_step_end(self, i, t, {"latents": latents})
            img = self.vae.decode(latents / self.vae.config.scaling_factor).sample
            img = (img / 2 + 0.5).clamp(0, 1)[0].permute(1, 2, 0).float().cpu().numpy()
            out = (
                img if output_type == "np" else Image.fromarray((img * 255 + 0.5).astype(np.uint8))
            )
            return BaseOutput(images=[out])  # type: ignore[call-arg]

    _PIPELINE_CLASS = WanderMultiViewPipeline
    return WanderMultiViewPipeline


_PIPELINE_CLASS: type | None = None


def wander_pipeline_class() -> type:
    """The pipeline class (for tests and for saving new pipelines)."""
    return _pipeline_class()


@offline()  # HF_HUB_OFFLINE for the load only (generators.models.hub)
def load_multiview_pipeline(model: str | Path | None, device: str | None = None) -> Any:
    """Load a multiview pipeline from a local folder, or through the model manager (None or
    `zero123plus`: the cached sudo-ai/zero123plus-v1.2 snapshot with the custom pipeline code
    from sudo-ai/zero123plus-pipeline); never downloads. fp16 on CUDA/MPS."""
    custom: Path | None = None
    if model is None or (not Path(model).exists() and str(model) == "zero123plus"):
        from generators.models.hub import resolve

        model, custom = resolve("zero123plus")
    path = Path(model)
    if not path.exists():
        raise FileNotFoundError(f"multiview model {path} not found: {DOWNLOAD_HINT}")
    index = path / "model_index.json"
    if not index.is_file():
        raise ValueError(
            f"{path} is not a diffusers pipeline folder (no model_index.json): {DOWNLOAD_HINT}"
        )
    try:
        cls_name = json.loads(index.read_text()).get("_class_name", "")
    except json.JSONDecodeError as exc:
        raise ValueError(f"{index}: broken JSON ({exc})") from None
    from generators.models.device import pick_device, pick_dtype

    dev = pick_device(device)
    dtype = pick_dtype(dev)
    try:
        if cls_name == "WanderMultiViewPipeline":
            pipe = _pipeline_class().from_pretrained(str(path), dtype=dtype, local_files_only=True)
        else:
            from diffusers import DiffusionPipeline, EulerAncestralDiscreteScheduler

            code = custom if custom is not None else path
            if not (code / "pipeline.py").is_file():
                raise ValueError(
                    f"{path} holds a {cls_name or 'custom'} pipeline but no pipeline.py: "
                    f"{DOWNLOAD_HINT}"
                )
            pipe = DiffusionPipeline.from_pretrained(
                str(path), custom_pipeline=str(code), dtype=dtype, local_files_only=True
            )
            pipe.scheduler = EulerAncestralDiscreteScheduler.from_config(
                pipe.scheduler.config, timestep_spacing="trailing"
            )
    except OSError as exc:
        raise ValueError(
            f"could not load the multiview pipeline from {path}: {exc}. {DOWNLOAD_HINT}"
        ) from None
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(dev)


def generate_views(
    pipe: Any,
    cond: np.ndarray,
    steps: int = 28,
    seed: int = 0,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Run the pipeline: conditioning image (S, S, 3) uint8 -> grid (3V, 2V, 3) float32 0..1."""
    import torch
    from PIL import Image

    gen = torch.Generator("cpu").manual_seed(int(seed))

    def on_step(p: Any, i: int, t: Any, kw: dict) -> dict:
        if cancel is not None and cancel.cancelled:
            p._interrupt = True
            cancel.check()
        progress((i + 1) / steps, f"view diffusion step {i + 1}/{steps}")
        return kw

    out = pipe(
        Image.fromarray(cond),
        num_inference_steps=steps,
        generator=gen,
        callback_on_step_end=on_step,
    )
    img = out.images[0]
    arr = np.asarray(img, np.float32)
    if arr.dtype != np.float32 or arr.max() > 1.5:
        arr = arr / 255.0
    return np.clip(arr[:, :, :3], 0, 1).astype(np.float32)


def views_to_object(
    grid: np.ndarray,
    height: float = 1.0,
    resolution: int = 96,
    with_mesh: bool = True,
    cancel: CancelToken | None = None,
) -> tuple[GaussianCloud, Mesh | None, dict[str, Any]]:
    """Six views on gray -> silhouettes -> carved, coloured object in the object frame."""
    views = split_grid(grid)
    masks = [silhouette_against_background(v) for v in views]
    empty = [i for i, m in enumerate(masks) if m.sum() < 16]
    if empty:
        raise ValueError(f"the generated views {empty} show no object against the gray background")
    full = [i for i, m in enumerate(masks) if m.mean() > 0.97]
    if full:
        raise ValueError(
            f"the generated views {full} have no gray background to cut the object from "
            "(the model output is not Zero123++-like)"
        )
    cams = zero123pp_cameras(size=views[0].shape[0])
    res = carve(masks, cams, resolution=resolution, cancel=cancel)
    cloud, mesh = carve_to_object(res, views, cams, with_mesh)
    lo, hi = cloud.bounds()
    s = height / max(float(hi[1] - lo[1]), 1e-9)
    m = np.eye(4)
    m[:3, :3] *= s
    m[:3, 3] = -np.array([(lo[0] + hi[0]) / 2, lo[1], (lo[2] + hi[2]) / 2]) * s
    cloud = cloud.transformed(m)
    mesh = mesh.transformed(m) if mesh is not None else None
    lo, hi = cloud.bounds()
    return (
        cloud,
        mesh,
        {"size": [float(v) for v in hi - lo], "view_coverage": [float(k.mean()) for k in masks]},
    )


def lift_multiview(
    seg: Segmentation,
    model: str | Path | None,
    *,
    steps: int = 28,
    seed: int = 0,
    height: float = 1.0,
    with_mesh: bool = True,
    device: str | None = None,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> tuple[GaussianCloud, Mesh | None, dict[str, Any]]:
    """Segmented photo -> Zero123++-style views -> carved Gaussian object (+ mesh)."""
    stages = Stages(progress, [("load model", 1), ("views", 6), ("carve", 2)], cancel)
    with stages("load model"):
        pipe = load_multiview_pipeline(model, device)
    with stages("views") as report:
        size = int(getattr(pipe.config, "view_size", ZERO123PP_VIEW) or ZERO123PP_VIEW)
        cond = conditioning_image(seg, size)
        grid = generate_views(pipe, cond, steps, seed, report, stages.cancel)
    with stages("carve"):
        cloud, mesh, info = views_to_object(grid, height, with_mesh=with_mesh, cancel=stages.cancel)
    info["views_shape"] = list(grid.shape)
    return cloud, mesh, info


def verify_backend(backend: Any, paths: list[Path], device: str) -> Any:
    """`models verify zero123plus`: load, then run 2 steps on a gray 64-px conditioning image."""
    pipe = load_multiview_pipeline(None, device)

    def run() -> str:
        cond = np.full((64, 64, 3), 128, np.uint8)
        cond[16:48, 24:40] = (200, 60, 40)
        grid = generate_views(pipe, cond, steps=2)
        if not np.isfinite(grid).all():
            raise ValueError("zero123plus produced non-finite pixels")
        return f"a {grid.shape[1]}x{grid.shape[0]} grid of 6 views in 2 steps"

    return run
