"""3D Gaussian Splatting optimisation of a cloud against posed photos.

The method of Kerbl et al. 2023 ("3D Gaussian Splatting for Real-Time Radiance Field
Rendering") with the defaults of gsplat's `examples/simple_trainer.py`:

- loss (1 - λ)·L1 + λ·(1 - SSIM), λ = 0.2 (SSIM: 11×11 Gaussian window, σ = 1.5);
- Adam (eps 1e-15, fused), one optimiser per parameter: means 1.6e-4 × scene scale decaying
  exponentially to 1 % at the end, log-scales 5e-3, quaternions 1e-3, opacity logits
  5e-2, SH DC 2.5e-3, higher SH 2.5e-3 / 20;
- densification by gsplat's `DefaultStrategy` (pure PyTorch, so it runs on CPU tensors):
  clone small / split large splats whose accumulated 2D-mean gradient (in gsplat's
  normalised screen units, so the 0.0002 threshold holds at any resolution) is high,
  prune transparent (< 0.005) and, after the first opacity reset, huge splats;
- opacity reset every `reset_every` steps (done here: gsplat 1.5.3's own reset test
  `step % reset_every == 0 & step > 0` is always false);
- SH degree raised by one every `sh_every` steps up to `sh_degree`.

Budget-bound runs (a few hundred steps on a CPU) compress the schedules: the SH degree
rises every 10 % of the run and densification runs about four times, between
`refine_start` and `refine_stop` of the run.

Coarse-to-fine (`fine_start` < 1): from that fraction of the run on, each step renders a
random crop of a view at `fine_size` (0 = as given) with as many pixels as a coarse step
(the crop's camera is the view's with the principal point shifted), so the splats are
fitted to detail the coarse `size` never shows while a step costs about the same (less:
a crop overlaps fewer splats). Densification and opacity resets stay in the coarse phase
(gsplat's gradient threshold is normalised by the rendered image's size, which a crop
changes). Measured on Sceaux (11 photos 2832×2128, 9 trained, 90 s, evaluated at 1416 px):
320 px only 117 steps, training 16.56 dB / held-out 12.56 dB; 100 steps at 320 px then
141 crops of 320×240 from 1600×1202, 16.95 / 13.41 dB (SSIM 0.545 → 0.620).

One loop, two rasterizers: gsplat's CUDA `rasterization` on a GPU, the compiled CPU
rasterizer `generators.splat_cpu` otherwise (same semantics as the viewer). On the CPU
the run is sized by a wall-clock budget (`seconds`) as well as `steps`: schedules follow
the progress fraction max(step / steps, elapsed / seconds), and whatever stopped the run
early or limited growth is reported — never silently.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from scene.camera import Camera
from scene.gaussians import GaussianCloud
from scene.sh import C0, C1, C2, C3, REST_COEFFS

if TYPE_CHECKING:
    import torch

    from generators.jobs import CancelToken

log = logging.getLogger(__name__)


@dataclass
class OptimizeOptions:
    """Options of `optimize_cloud` (gsplat simple-trainer defaults where they apply)."""

    steps: int = 3000  # at most this many steps (one photo each)
    seconds: float = 0.0  # wall-clock budget of the whole call (0 = none)
    size: int = 320  # training resolution: long side in px (0 = photo size)
    fine_start: float = 1.0  # from this fraction of the run, train on crops of ...
    fine_size: int = 0  # ... the views at this long side (0 = as given, at most)
    fine_crop: int = 0  # crop long side in px (0 = `size`: a coarse step's cost)
    device: str = "auto"  # auto | cpu | cuda
    sh_degree: int = 1  # highest SH degree trained (gsplat default 3)
    sh_every: int = 1000  # raise the SH degree every this many steps (gsplat 1000)
    ssim_lambda: float = 0.2
    lr_means: float = 1.6e-4  # × scene scale; decays to 1 % of it over the run
    lr_scales: float = 5e-3
    lr_quats: float = 1e-3
    lr_opacities: float = 5e-2
    lr_sh0: float = 2.5e-3
    lr_shN: float = 2.5e-3 / 20
    lr_decay: float = 1.0  # other rates than the means' decay to this × (1 = constant)
    densify: bool = True
    grow_grad2d: float = 0.0002  # gsplat's normalised screen-space gradient threshold
    grow_scale3d: float = 0.01  # × scene scale: clone below, split above
    prune_opa: float = 0.005
    prune_scale3d: float = 0.1  # × scene scale (pruned only after an opacity reset)
    refine_start: float = 0.05  # densify from this fraction of the run ...
    refine_stop: float = 0.6  # ... to this one (gsplat: 500 .. 15000 of 30000)
    refine_every: int = 100  # steps between densifications (gsplat 100)
    reset_every: int = 3000  # opacity reset period in steps (gsplat 3000)
    max_splats: int = 0  # growth limit (0 = 1.5 × the initial count); reported
    background: tuple[float, float, float] = (0.0, 0.0, 0.0)
    seed: int = 0
    max_aniso: float = 0.0  # cap each splat's longest axis at this × its middle one
    #                                    (0 = off): no needles (PhysGaussian's anisotropy limit)
    max_angular: float = 0.25  # cap each splat's standard deviations at this × its distance
    #                            to the nearest training camera (0 = off; `_cap_angular`)
    exposure: bool = False  # learn a per-view colour affine (gain, bias per channel)
    lr_exposure: float = 1e-3  # its rate (Adam); the appearance terms of e.g. Mip-NeRF 360
    exposure_reg: float = 1e-2  # L2 pull of log-gains and biases towards identity
    prune_unseen_px: float = 0.01  # after the steps, drop splats whose blending weight
    #                                sums to less than this many pixels in every training
    #                                view (0 = keep them; `splat_weights`)
    depth_lambda: float = 0.0  # weight of the depth term where views have depth maps: L1
    #   between the render's expected disparity and the map's, × scene scale (gsplat's
    #   simple trainer, 1e-2 there on SfM points); 0 = off
    clipped: float = 250 / 255  # photo channels at or above this were clipped by the
    #                             camera (a white sky): a render brighter there is no error
    #                             (0 = off)


#: Learning rates for short runs (a CPU makes hundreds of steps in its budget, not
#: gsplat's 30000): scale and rotation rates ×32, colour ×16, positions ×4, opacities ×4,
#: all but the positions' decaying to 10 % over the run so it settles. Measured on Great
#: Wall (12 photos, 397k splats, 48 steps at 240 px, constant rates, one view held out,
#: PSNR from 16.75 dB there): plain rates ~+1 dB, ×8 23.43 dB, ×16 26.29 dB, ×32 28.07 dB.
#: With the faster CPU rasteriser a run makes 500-1700 steps, where colour ×32 and
#: opacity ×2 fell behind. At fixed steps from the `--refine 0` clouds (training /
#: held-out dB, evaluated at 640 px), colour ×16 and opacity ×4 took the fox figurine
#: (instant-ngp, 550 steps) 28.59 / 23.04 -> 29.44 / 24.00, the tree walk-around
#: (alicevision monstree, 750) 23.76 / 18.08 -> 24.26 / 18.48, the Great Wall (1000)
#: 36.13 / 30.41 -> 36.45 / 31.84 and Sceaux (900) 28.03 / 14.62 -> 28.65 / 14.56.
#: Colour ×8 was better on the fox alone (Great Wall training 36.51 -> 35.59 dB against
#: ×16); scales ×16 changed nothing. Whole `reconstruct --holdout 8` runs: fox 28.85 /
#: 23.81 -> 29.71 / 24.36, tree 23.74 / 19.69 -> 23.89 / 19.82, Great Wall 37.12 / 32.40
#: -> 37.32 / 32.37, Sceaux 26.44 / 14.75 -> 26.53 / 14.84 (`bench/reconstruct_quality.py`).
SHORT_RUN_RATES = {
    "lr_means": 1.6e-4 * 4,
    "lr_scales": 5e-3 * 32,
    "lr_quats": 1e-3 * 32,
    "lr_opacities": 5e-2 * 4,
    "lr_sh0": 2.5e-3 * 16,
    "lr_shN": 2.5e-3 / 20 * 16,
    "lr_decay": 0.1,
    "lr_exposure": 3e-2,
}

#: gsplat's clone/split gradient threshold for short runs: ×4. Its 0.0002 is set for a
#: 30000-step run, whose mean view-space gradient is mostly a settled scene's; over a few
#: hundred steps from a dense fused cloud it is an early scene's, and 0.0002 picked 10-18 %
#: of the splats, and every added splat cost PSNR on three sets of four. At a fixed 550 /
#: 900 steps (`reconstruct --refine 0` clouds, evaluated at 640 px; training / held-out
#: dB): fox figurine (instant-ngp, 43 views) 27.92 / 22.31 at 0.0002, 28.59 / 23.04 at
#: 0.0008, 28.57 / 23.12 without growth; Sceaux 28.35 / 14.70, 28.03 / 14.62, 28.00 /
#: 14.42. Whole `reconstruct --holdout 8` runs, before this and `_grow` -> after: fox
#: 27.22 / 22.42 -> 28.85 / 23.81; Great Wall 36.47 / 32.13 -> 37.12 / 32.40 and
#: Sceaux 26.26 / 14.88 -> 26.44 / 14.75 (`bench/reconstruct_quality.py`); the tree
#: walk-around (alicevision monstree, 20 views, at 640 px) 23.20 / 19.46 -> 23.74 / 19.69.
SHORT_RUN_GROW_GRAD2D = 0.0008


@dataclass
class OptimizeReport:
    """What an optimisation run did (stored in cloud.meta["refinement"])."""

    device: str
    size: tuple[int, int]  # training resolution of the first view (w, h)
    fine_size: tuple[int, int] = (0, 0)  # fine phase: resolution of the first view (w, h) ...
    fine_crop: tuple[int, int] = (0, 0)  # ... and the crop each of its steps renders
    fine_steps: int = 0  # steps of the fine phase (included in `steps`)
    steps: int = 0
    steps_planned: int = 0  # the step limit asked for
    seconds: float = 0.0
    splats_before: int = 0
    splats_after: int = 0
    psnr_before: float = float("nan")  # mean over the training views at `size`
    psnr_after: float = float("nan")
    loss_final: float = float("nan")
    sh_degree: int = 0
    densified: int = 0  # splats added by clone/split
    pruned: int = 0
    pruned_unseen: int = 0  # dropped at the end: no training view sees them (`splat_weights`)
    capped_angular: int = 0  # most splats clamped in one step by `max_angular` ...
    max_angular: float = 0.0  # ... that ratio
    depth_views: int = 0  # training views with a depth map pulling the renders' depth ...
    depth_lambda: float = 0.0  # ... with this weight (`depth_loss`; 0 = none)
    opacity_resets: int = 0
    compile_seconds: float = 0.0  # compiling the CPU kernels first (a fresh install only)
    # view name -> [gain r, g, b, bias r, g, b]: the learnt per-view exposure (render × gain
    # + bias matches that photo; the scene itself holds the views' common colours)
    exposure: dict[str, list[float]] = field(default_factory=dict)
    limits: list[str] = field(default_factory=list)  # every limit that applied, in words

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("size", "fine_size", "fine_crop"):
            d[k] = list(getattr(self, k))
        for k in ("psnr_before", "psnr_after", "loss_final", "seconds", "compile_seconds"):
            d[k] = None if not math.isfinite(d[k]) else round(float(d[k]), 3)
        return d


def pick_device(device: str = "auto") -> str:
    """'cuda' when asked for (or auto) and usable with gsplat, else 'cpu'."""
    import torch

    if device == "cpu":
        return "cpu"
    ok = torch.cuda.is_available()
    if ok:
        try:
            from gsplat import rasterization  # noqa: F401
        except ImportError:
            ok = False
    if device == "cuda" and not ok:
        raise ValueError("--device cuda: CUDA with gsplat is not available here (use cpu or auto)")
    return "cuda" if ok else "cpu"


# ---------------------------------------------------------------------------- rendering
def sh_colors(
    sh0: torch.Tensor, shN: torch.Tensor, dirs: torch.Tensor, degree: int
) -> torch.Tensor:
    """Viewer colours: 0.5 + C0·dc + Σ basis(dir)·rest up to `degree`, clamped at 0.

    sh0 (N, 3); shN (N, K, 3); dirs (N, 3) unit, camera → splat (world frame). Basis and
    signs as `scene.sh` (the 3DGS reference `eval_sh`). The reference twin of
    `generators.sh_cpu`, which `render_cpu` uses for the degrees it covers."""
    c = 0.5 + C0 * sh0
    if degree >= 1 and shN.shape[1] >= 3:
        x, y, z = dirs[:, 0:1], dirs[:, 1:2], dirs[:, 2:3]
        c = c - C1 * y * shN[:, 0] + C1 * z * shN[:, 1] - C1 * x * shN[:, 2]
        if degree >= 2 and shN.shape[1] >= 8:
            xx, yy, zz = x * x, y * y, z * z
            c = (
                c
                + C2[0] * x * y * shN[:, 3]
                + C2[1] * y * z * shN[:, 4]
                + C2[2] * (2 * zz - xx - yy) * shN[:, 5]
                + C2[3] * x * z * shN[:, 6]
                + C2[4] * (xx - yy) * shN[:, 7]
            )
            if degree >= 3 and shN.shape[1] >= 15:
                c = (
                    c
                    + C3[0] * y * (3 * xx - yy) * shN[:, 8]
                    + C3[1] * x * y * z * shN[:, 9]
                    + C3[2] * y * (4 * zz - xx - yy) * shN[:, 10]
                    + C3[3] * z * (2 * zz - 3 * xx - 3 * yy) * shN[:, 11]
                    + C3[4] * x * (4 * zz - xx - yy) * shN[:, 12]
                    + C3[5] * z * (xx - yy) * shN[:, 13]
                    + C3[6] * x * (xx - 3 * yy) * shN[:, 14]
                )
    return c.clamp_min(0.0)


def render_cpu(
    params: dict,
    cam: Camera,
    sh_degree: int,
    bg: torch.Tensor,
    probe: bool = True,
    depth: bool = False,
) -> tuple[torch.Tensor, dict]:
    """(H, W, 3) render through `generators.splat_cpu` and the densification info
    (means2d (1, N, 2) leaf whose .grad is dL/d 2D mean, radii (1, N, 2), width, height).
    `depth`: info also holds "depth" (H, W), the expected camera z Σ w·z / Σ w (gsplat's
    "ED"; 0 where nothing is drawn), and "alpha" (H, W) Σ w, both differentiable."""
    import torch

    from generators import sh_cpu
    from generators.splat_cpu import rasterize_cpu

    means = params["means"]
    n = means.shape[0]
    campos = torch.as_tensor(cam.position, dtype=means.dtype)
    colors = params["sh0"]
    if sh_degree > 0 and sh_cpu.supports(sh_degree):
        # one fused pass per splat (the PyTorch ops below took ~50 ms a step at 400k)
        colors = sh_cpu.sh_colors_cpu(means, params["sh0"], params["shN"], cam.position, sh_degree)
    elif sh_degree > 0:
        dirs = means - campos  # gradients flow through the view direction too (as 3DGS)
        dirs = dirs / dirs.norm(dim=1, keepdim=True).clamp_min(1e-12)
        colors = sh_colors(params["sh0"], params["shN"], dirs, sh_degree)
    else:
        colors = (0.5 + C0 * params["sh0"]).clamp_min(0.0)
    if depth:
        # camera z and ones ride along as two more colour channels (RGB+ED and alpha)
        R = torch.as_tensor(cam.R, dtype=means.dtype)
        z = means @ R[2] + float(cam.t[2])
        colors = torch.cat([colors, z[:, None], torch.ones_like(z)[:, None]], 1)
    m2 = torch.zeros((1, n, 2), dtype=means.dtype, requires_grad=probe)
    stats: dict = {}
    img = rasterize_cpu(
        means,
        params["quats"],
        params["scales"],
        params["opacities"],
        colors,
        cam,
        background=tuple(bg.tolist()),
        mean2d_probe=m2[0],
        stats=stats,
    )
    r = torch.from_numpy(stats["radius"].astype(np.int32))
    info = {
        "means2d": m2,
        "radii": torch.stack([r, r], -1)[None],
        "width": cam.width,
        "height": cam.height,
        "n_cameras": 1,
        "gaussian_ids": None,
        "pairs": stats["pairs"],
    }
    if depth:
        img, acc, alpha = img[..., :3], img[..., 3], img[..., 4]
        info["alpha"] = alpha
        info["depth"] = torch.where(alpha > 1e-6, acc / alpha.clamp_min(1e-6), 0.0)
    return img, info


def render_gsplat(
    params: dict,
    cam: Camera,
    sh_degree: int,
    bg: torch.Tensor,
    probe: bool = True,
    depth: bool = False,
) -> tuple[torch.Tensor, dict]:
    """(H, W, 3) render through gsplat's CUDA `rasterization` (SH evaluated there, with its
    default 0.3 px² low-pass, packed=False) and its info dict (means2d, radii, ...);
    `depth`: "depth" (H, W) expected depth (render_mode "RGB+ED") and "alpha" (H, W) too."""
    import torch
    from gsplat import rasterization

    dev = params["means"].device
    view = torch.as_tensor(cam.world_to_camera(), dtype=torch.float32, device=dev)[None]
    K = torch.as_tensor(cam.K, dtype=torch.float32, device=dev)[None]
    k = (sh_degree + 1) ** 2
    coeffs = torch.cat([params["sh0"][:, None, :], params["shN"][:, : k - 1]], 1)
    img, alphas, info = rasterization(
        params["means"],
        params["quats"],
        torch.exp(params["scales"]),
        torch.sigmoid(params["opacities"]),
        coeffs,
        view,
        K,
        cam.width,
        cam.height,
        sh_degree=sh_degree,
        backgrounds=bg[None],  # gsplat pads it for the depth channel
        packed=False,
        render_mode="RGB+ED" if depth else "RGB",
    )
    if depth:
        info["depth"] = img[0, ..., 3]
        info["alpha"] = alphas[0, ..., 0]
    return img[0, ..., :3], info


def cloud_params(cloud: GaussianCloud, dtype: Any = None) -> dict:
    """GaussianCloud -> the parameter dict the renderers take (torch tensors, CPU)."""
    import torch

    dtype = dtype or torch.float32
    return {
        "means": torch.as_tensor(cloud.means, dtype=dtype),
        "scales": torch.as_tensor(cloud.scales, dtype=dtype),
        "quats": torch.as_tensor(cloud.quats, dtype=dtype),
        "opacities": torch.as_tensor(cloud.opacities, dtype=dtype),
        "sh0": torch.as_tensor(cloud.sh0, dtype=dtype),
        "shN": torch.as_tensor(cloud.shN, dtype=dtype),
    }


def render_cloud_cpu(cloud: GaussianCloud, cam: Camera, background=(0.0, 0.0, 0.0)) -> np.ndarray:  # noqa: ANN001
    """(H, W, 3) float32 render (not clipped) of `cloud` with its SH degree through the
    compiled CPU rasterizer: what the viewer shows from `cam`."""
    import torch

    with torch.no_grad():
        img, _ = render_cpu(
            cloud_params(cloud),
            cam,
            cloud.sh_degree,
            torch.as_tensor(background, dtype=torch.float32),
            probe=False,
        )
    return img.numpy()


# ---------------------------------------------------------------------------- loss
def _gauss_window(dtype: torch.dtype, device: Any) -> torch.Tensor:
    import torch

    x = torch.arange(11, dtype=dtype, device=device) - 5
    g = torch.exp(-(x * x) / (2 * 1.5**2))
    return g / g.sum()


def ssim(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean SSIM of two (H, W, 3) images in 0..1 (11×11 Gaussian window σ 1.5, 'valid'
    borders as 3DGS's `fused_ssim` uses 'same' zero padding; both are common; constants
    C1 = 0.01², C2 = 0.03²)."""
    import torch.nn.functional as F

    g = _gauss_window(a.dtype, a.device)
    x = torch_stack_nchw(a, b)  # (2, 3, H, W)
    ch = x.shape[1]
    wx = g.view(1, 1, 1, 11).repeat(ch, 1, 1, 1)
    wy = g.view(1, 1, 11, 1).repeat(ch, 1, 1, 1)

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.conv2d(t, wx, padding=(0, 5), groups=ch), wy, padding=(5, 0), groups=ch)

    xa, xb = x[0:1], x[1:2]
    mu_a, mu_b = blur(xa), blur(xb)
    saa = blur(xa * xa) - mu_a * mu_a
    sbb = blur(xb * xb) - mu_b * mu_b
    sab = blur(xa * xb) - mu_a * mu_b
    c1, c2 = 0.01**2, 0.03**2
    s = ((2 * mu_a * mu_b + c1) * (2 * sab + c2)) / (
        (mu_a * mu_a + mu_b * mu_b + c1) * (saa + sbb + c2)
    )
    return s.mean()


def clip_aware(img: torch.Tensor, target: torch.Tensor, level: float) -> torch.Tensor:
    """`img` (H, W, 3) with every channel where the photo `target` is at or above `level`
    (clipped by the camera: the true value is that or more) and the render is brighter
    replaced by the photo's value, so such a render costs nothing and gets no gradient.

    A sky that one photo shows blue and a brighter exposure of the same sky saturates to
    white is one sky: without this the loss pulls its splats towards white in one view
    and blue in the other, leaving streaks of both. The evaluation clips the render to
    0..1 as it is shown, so a render above a clipped photo scores as it does here."""
    import torch

    return torch.where((target >= level) & (img > target), target, img)


def torch_stack_nchw(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    import torch

    return torch.stack([a, b]).permute(0, 3, 1, 2)


def psnr(img: torch.Tensor, target: torch.Tensor) -> float:
    """PSNR in dB of images in 0..1 (the render clipped to 0..1 first, as it is shown)."""
    mse = float(((img.detach().clamp(0, 1) - target) ** 2).mean())
    return 10.0 * math.log10(1.0 / max(mse, 1e-12))


# ---------------------------------------------------------------------------- loop
def scene_scale(cloud: GaussianCloud, cams: Sequence[Camera]) -> float:
    """gsplat's scene scale: 1.1 × the largest camera distance from the cameras' centre;
    at least 10 % of the median camera-to-splat distance (photos taken from one spot)."""
    pos = np.array([c.position for c in cams], np.float64)
    extent = float(np.linalg.norm(pos - pos.mean(0), axis=1).max()) * 1.1 if len(pos) else 0.0
    if len(cloud):
        sample = cloud.means[:: max(1, len(cloud) // 20000)].astype(np.float64)
        med = float(np.median(np.linalg.norm(sample - pos.mean(0), axis=1)))
        extent = max(extent, 0.1 * med)
    return extent or 1.0


def _prepare_views(
    views: Sequence[tuple[Camera, np.ndarray]], size: int, dev: str
) -> list[tuple[Camera, torch.Tensor]]:
    import cv2
    import torch

    data = []
    for cam, img in views:
        if img.shape[:2] != (cam.height, cam.width):
            raise ValueError(
                f"{cam.name}: image is {img.shape[1]}x{img.shape[0]} but the camera "
                f"{cam.width}x{cam.height}"
            )
        s = min(1.0, size / max(cam.width, cam.height)) if size > 0 else 1.0
        w, h = max(16, round(cam.width * s)), max(16, round(cam.height * s))
        c = cam.resized(w, h)
        im = (
            img
            if (w, h) == (cam.width, cam.height)
            else cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
        )
        data.append((c, torch.as_tensor(im[..., :3].astype(np.float32) / 255.0, device=dev)))
    return data


def _prepare_fine(
    views: Sequence[tuple[Camera, np.ndarray]], size: int, crop: int
) -> list[tuple[Camera, np.ndarray, tuple[int, int]]]:
    """(camera, RGB uint8 image, (crop w, crop h)) per view at long side `size` (0 = as
    given; never upscaled); the crop keeps the view's aspect at long side `crop`."""
    import cv2

    out = []
    for cam, img in views:
        s = min(1.0, size / max(cam.width, cam.height)) if size > 0 else 1.0
        w, h = max(16, round(cam.width * s)), max(16, round(cam.height * s))
        c = cam.resized(w, h)
        im = (
            img[..., :3]
            if (w, h) == (cam.width, cam.height)
            else cv2.resize(img[..., :3], (w, h), interpolation=cv2.INTER_AREA)
        )
        k = min(1.0, crop / max(w, h)) if crop > 0 else 1.0
        out.append(
            (
                c,
                np.ascontiguousarray(im),
                (max(16, min(w, round(w * k))), max(16, min(h, round(h * k)))),
            )
        )
    return out


def _crop_view(
    view: tuple[Camera, np.ndarray, tuple[int, int]],
    rng: np.random.Generator,
    dev: str,
    depth: np.ndarray | None = None,
) -> tuple[Camera, torch.Tensor, torch.Tensor | None]:
    """A random crop of a fine view: the crop's camera (principal point shifted), image
    and, given the view's depth map at its size, the depth map's crop."""
    import torch

    cam, img, (cw, ch) = view
    x0 = int(rng.integers(0, cam.width - cw + 1))
    y0 = int(rng.integers(0, cam.height - ch + 1))
    c = Camera(
        cw, ch, cam.fx, cam.fy, cam.cx - x0, cam.cy - y0, cam.R, cam.t, cam.name, dict(cam.meta)
    )
    t = torch.as_tensor(img[y0 : y0 + ch, x0 : x0 + cw].astype(np.float32) / 255.0, device=dev)
    d = None
    if depth is not None:
        d = torch.as_tensor(np.ascontiguousarray(depth[y0 : y0 + ch, x0 : x0 + cw]), device=dev)
    return c, t, d


def _depth_at(depth: np.ndarray | None, cam: Camera) -> np.ndarray | None:
    """A view's depth map ((h, w) camera z, 0 = unknown; any size of the photo's aspect)
    resampled to `cam`'s size (nearest: no depths blended across an edge)."""
    import cv2

    if depth is None:
        return None
    d = np.asarray(depth, np.float32)
    d = np.where(np.isfinite(d) & (d > 0), d, 0.0).astype(np.float32)
    if d.shape != (cam.height, cam.width):
        d = cv2.resize(d, (cam.width, cam.height), interpolation=cv2.INTER_NEAREST)
    return d


def depth_loss(info: dict, target: torch.Tensor, scale: float) -> torch.Tensor | None:
    """Mean |1/ED - 1/D| × `scale` over the pixels where the target depth D is known and
    the render covers (alpha > 0.5); ED is the render's expected depth (info "depth").
    As gsplat's simple trainer's depth loss (there on sparse SfM points); None where no
    pixel qualifies. A floater in front of the surface the depth map saw pulls the
    expected depth forward: the term pushes it back or fades it."""
    ed, alpha = info["depth"], info["alpha"]
    m = (target > 0) & (alpha > 0.5) & (ed > 1e-6)
    if not bool(m.any()):
        return None
    return (1.0 / ed[m] - 1.0 / target[m]).abs().mean() * scale


def mean_psnr(
    params: dict,
    data: list,
    render: Callable,
    sh_degree: int,
    bg: torch.Tensor,
    affine: list | None = None,
) -> float:
    """Mean PSNR of the current parameters over `data` (no gradients); `affine`: per view
    (gain (3,), bias (3,)) applied to the render first (the learnt exposure)."""
    import torch

    vals = []
    with torch.no_grad():
        for i, (cam, target) in enumerate(data):
            img, _ = render(params, cam, sh_degree, bg, probe=False)
            if affine is not None:
                img = img * affine[i][0] + affine[i][1]
            vals.append(psnr(img, target))
    return float(np.mean(vals)) if vals else float("nan")


def splat_weights(params: dict, data: list, render: Callable, bg: torch.Tensor) -> np.ndarray:
    """(N,) float64: per splat, the most any view of `data` sees of it — the sum over that
    view's pixels of its blending weight α·T (in pixels at the view's size: 1.0 = one
    pixel's worth of colour). From one render and backward pass per view: d(Σ image) /
    d(colour) is exactly that sum (close to LightGaussian's global significance, Fan et al.
    2023, without its volume term). A splat every view sees less than a
    hundredth of a pixel of was left unconstrained by the photos: the optimiser's large
    colour steps (Adam normalises the gradient) turn such splats garish, and they show in
    novel views only."""
    import torch

    n = params["means"].shape[0]
    best = np.zeros(n)
    frozen = {k: v.detach() for k, v in params.items()}
    for cam, _ in data:
        sh0 = torch.zeros_like(frozen["sh0"], requires_grad=True)  # colour 0.5: no clamp
        img, _ = render({**frozen, "sh0": sh0}, cam, 0, bg, probe=False)
        img.sum().backward()
        w = sh0.grad[:, 0].detach().cpu().numpy().astype(np.float64) / C0
        best = np.maximum(best, w)
    return best


def views_psnr(
    cloud: GaussianCloud,
    views: Sequence[tuple[Camera, np.ndarray]],
    size: int = 0,
    background=(0.0, 0.0, 0.0),
) -> list[float]:  # noqa: ANN001
    """PSNR (dB) of `cloud` rendered by the compiled CPU rasterizer (with its SH) at each
    view's camera, against the view's image, both at `size` (long side; 0 = as given)."""
    import torch

    data = _prepare_views(views, size, "cpu")
    params = cloud_params(cloud)
    bg = torch.as_tensor(background, dtype=torch.float32)
    with torch.no_grad():
        return [
            psnr(render_cpu(params, c, cloud.sh_degree, bg, probe=False)[0], t) for c, t in data
        ]


def optimize_cloud(
    cloud: GaussianCloud,
    views: Sequence[tuple[Camera, np.ndarray]],
    options: OptimizeOptions | None = None,
    report: Callable[[float, str], None] | None = None,
    cancel: CancelToken | None = None,
    depths: Sequence[np.ndarray | None] | None = None,
) -> tuple[GaussianCloud, OptimizeReport]:
    """Optimise `cloud` so its renders match `views` ((camera, RGB uint8 image) pairs,
    image at the camera's size; resized to `options.size`). Returns the optimised copy
    (SH degree `options.sh_degree`) and what was done. `report(fraction, message)` gets
    loss and PSNR as it goes (and may raise to cancel, as `Stages` reports do); `cancel`
    is checked between steps (raises `generators.jobs.Cancelled`). `depths`: per view
    (same order) a depth map (h, w) float camera z in world units, 0 = unknown, at any
    size of the photo's aspect, or None; with `options.depth_lambda` > 0 the renders'
    expected depth is pulled to them (`depth_loss`). Raises ValueError on no views,
    or depths not one per view."""
    if report is not None and "torch" not in sys.modules:
        report(0.0, "optimising: loading PyTorch")  # seconds: the progress seemed stuck
    import torch

    o = options or OptimizeOptions()
    dev = pick_device(o.device)
    compile_s = 0.0
    if dev == "cpu" and o.steps > 0:
        # compiling the kernels (a fresh install only: numba caches them on disk) is not
        # optimisation time; it is reported on its own
        from generators.splat_cpu import warm_up

        if report is not None:
            report(0.0, "optimising: preparing the CPU rasterizer")
        compile_s = warm_up()
        if compile_s > 2.0:
            log.info("compiled the CPU rasterizer in %.1f s (cached for later runs)", compile_s)
    t_start = time.perf_counter()
    if not views:
        raise ValueError("optimisation needs at least one view")
    data = _prepare_views(views, o.size, dev)
    if depths is not None and len(depths) != len(views):
        raise ValueError(f"{len(depths)} depth maps for {len(views)} views")
    dmaps = list(depths) if depths is not None and o.depth_lambda > 0 else [None] * len(views)
    rep = OptimizeReport(
        device=dev,
        size=(data[0][0].width, data[0][0].height),
        splats_before=len(cloud),
        sh_degree=0,
        compile_seconds=compile_s,
        max_angular=o.max_angular,
    )
    fine: list = []
    if o.fine_start < 1.0:
        fine = _prepare_fine(views, o.fine_size, o.fine_crop or o.size)
        rep.fine_size = (fine[0][0].width, fine[0][0].height)
        rep.fine_crop = fine[0][2]
    dtargets = [_depth_at(d, c) for d, (c, _) in zip(dmaps, data, strict=True)]
    dtargets_t = [None if d is None else torch.as_tensor(d, device=dev) for d in dtargets]
    dfine = [_depth_at(d, f[0]) for d, f in zip(dmaps, fine, strict=True)] if fine else []
    rep.depth_views = sum(d is not None for d in dtargets)
    rep.depth_lambda = o.depth_lambda if rep.depth_views else 0.0
    if o.steps <= 0 or len(cloud) == 0:
        rep.splats_after = len(cloud)
        return cloud.copy(), rep
    render = render_gsplat if dev == "cuda" else render_cpu
    threads = torch.get_num_threads()
    if dev == "cpu":
        # the compiled kernels use every core; PyTorch's small ops between them run
        # faster on one thread than with a second pool competing for the cores
        torch.set_num_threads(1)
    try:
        return _optimize(
            cloud, data, o, rep, dev, render, report, cancel, t_start, fine, dtargets_t, dfine
        )
    finally:
        torch.set_num_threads(threads)


def _optimize(
    cloud: GaussianCloud,
    data: list,
    o: OptimizeOptions,
    rep: OptimizeReport,
    dev: str,
    render: Callable,
    report: Callable[[float, str], None] | None,
    cancel: CancelToken | None,
    t_start: float,
    fine: list | None = None,
    dtargets: list | None = None,
    dfine: list | None = None,
) -> tuple[GaussianCloud, OptimizeReport]:
    import torch
    from gsplat.strategy import DefaultStrategy
    from gsplat.strategy.ops import reset_opa

    torch.manual_seed(o.seed)
    rng = np.random.default_rng(o.seed)
    scale = scene_scale(cloud, [c for c, _ in data])
    centres = torch.tensor(np.array([c.position for c, _ in data], np.float32), device=dev)
    limit = None  # per-splat log-scale limit (`_angular_limit`)
    k_rest = REST_COEFFS[max(0, min(3, o.sh_degree))]
    shN = np.zeros((len(cloud), k_rest, 3), np.float32)
    kk = min(k_rest, cloud.shN.shape[1])
    shN[:, :kk] = cloud.shN[:, :kk]
    init = {
        "means": cloud.means,
        "scales": cloud.scales,
        "quats": cloud.quats,
        "opacities": cloud.opacities,
        "sh0": cloud.sh0,
        "shN": shN,
    }
    params = torch.nn.ParameterDict(
        {
            k: torch.nn.Parameter(torch.tensor(np.asarray(v, np.float32), device=dev))
            for k, v in init.items()
        }
    )
    lrs = {
        "means": o.lr_means * scale,
        "scales": o.lr_scales,
        "quats": o.lr_quats,
        "opacities": o.lr_opacities,
        "sh0": o.lr_sh0,
        "shN": o.lr_shN,
    }
    opts = {
        # fused: one kernel per parameter, ~8× faster than the per-tensor loop on the CPU
        k: torch.optim.Adam(
            [{"params": [params[k]], "lr": lrs[k], "name": k}], eps=1e-15, fused=True
        )
        for k in params
    }
    strategy = DefaultStrategy(
        prune_opa=o.prune_opa,
        grow_grad2d=o.grow_grad2d,
        grow_scale3d=o.grow_scale3d,
        prune_scale3d=o.prune_scale3d,
        refine_start_iter=0,
        refine_stop_iter=1 << 30,
        reset_every=max(o.reset_every, 1),
        refine_every=1 << 30,
    )
    strategy.check_sanity(params, opts)
    # per-view exposure (log-gain, bias per channel), kept out of `params` so densification
    # leaves it alone
    expo = None
    if o.exposure:
        expo = torch.zeros((len(data), 6), dtype=torch.float32, device=dev, requires_grad=True)
        expo_opt = RowAdam(expo, eps=1e-15)
    state = strategy.initialize_state(scene_scale=scale)
    max_splats = o.max_splats or int(1.5 * len(cloud))
    bg = torch.as_tensor(o.background, dtype=torch.float32, device=dev)

    def say(frac: float, msg: str) -> None:
        if cancel is not None:
            cancel.check()
        if report is not None:
            report(frac, msg)

    say(0.0, "optimising: measuring the starting point")
    te = time.perf_counter()
    rep.psnr_before = mean_psnr(params, data, render, 0, bg)
    eval_s = time.perf_counter() - te
    log.info(
        "optimise: %d splats, %d views at %dx%d, scene scale %.3g, start PSNR %.2f dB (%s)",
        len(cloud),
        len(data),
        rep.size[0],
        rep.size[1],
        scale,
        rep.psnr_before,
        dev,
    )
    t0 = time.perf_counter()
    # the budget covers the whole call: setup, both PSNR measurements and the steps
    # (the closing measurement renders with SH and maybe more splats: 1.3× the opening
    # one; finding unseen splats renders each view again with a backward pass: 2×)
    closing = 1.3 * eval_s + (2.0 * eval_s if o.prune_unseen_px > 0 else 0.0)
    budget = max(0.0, o.seconds - (t0 - t_start) - closing) if o.seconds > 0 else float("inf")
    order: list[int] = []
    loss_ema = psnr_ema = None
    sh_deg = 0
    step = 0
    last_step_s = 0.0
    last_report = 0.0
    since_refine = 0
    refine_every = o.refine_every
    total = float(o.steps)  # the steps the run will make (a budget-bound run: its estimate)
    while step < o.steps:
        elapsed = time.perf_counter() - t0
        frac = max(step / o.steps, elapsed / budget if budget > 0 else 1.0)
        if frac >= 1.0 or elapsed + last_step_s > budget:
            rep.limits.append(
                f"time budget {o.seconds:.0f} s reached after {step} of {o.steps} steps"
            )
            break
        # one more SH degree every `sh_every` steps, or every 10 % of a budget-bound run
        sh_deg = min(o.sh_degree, max(step // max(o.sh_every, 1), int(frac * 10)))
        for name, opt in opts.items():
            f = 0.01 if name == "means" else o.lr_decay
            for g in opt.param_groups:
                g["lr"] = lrs[name] * f**frac
        if not order:
            order = list(rng.permutation(len(data)))
        in_fine = bool(fine) and frac >= o.fine_start
        vi = order.pop()
        if in_fine:
            # coarse-to-fine: a random crop of a high-resolution view, as many pixels as
            # a coarse step but at full detail (densification is over by then)
            cam, target, dtarget = _crop_view(fine[vi], rng, dev, dfine[vi] if dfine else None)
            rep.fine_steps += 1
        else:
            cam, target = data[vi]
            dtarget = dtargets[vi] if dtargets else None
        ts = time.perf_counter()
        img, info = render(params, cam, sh_deg, bg, depth=dtarget is not None)
        if expo is not None:
            img = img * torch.exp(expo[vi, :3]) + expo[vi, 3:]
        if o.clipped > 0:
            img = clip_aware(img, target, o.clipped)
        l1 = (img - target).abs().mean()
        loss = (
            (1 - o.ssim_lambda) * l1 + o.ssim_lambda * (1 - ssim(img, target))
            if o.ssim_lambda
            else l1
        )
        if dtarget is not None:
            dl = depth_loss(info, dtarget, scale)
            if dl is not None:
                loss = loss + o.depth_lambda * dl
        if expo is not None and o.exposure_reg > 0:
            loss = loss + o.exposure_reg * (expo[vi] ** 2).mean()
        strategy.step_pre_backward(params, opts, state, step, info)
        loss.backward()
        densify = o.densify and o.refine_start <= frac < o.refine_stop and not in_fine
        if densify:
            strategy._update_state(params, state, info, packed=False)
        for opt in opts.values():
            opt.step()
            opt.zero_grad(set_to_none=True)
        if o.max_aniso > 0:
            _cap_anisotropy(params["scales"], o.max_aniso)
        if o.max_angular > 0:
            # the limits follow the means, which move by millimetres a step: worked out
            # again every ANGULAR_EVERY steps and after densification reorders the splats
            if limit is None or step % ANGULAR_EVERY == 0:
                limit = _angular_limit(params["means"], centres, o.max_angular)
            rep.capped_angular = max(rep.capped_angular, _clamp_scales(params["scales"], limit))
        if expo is not None:
            expo_opt.step(vi, o.lr_exposure * o.lr_decay**frac)
        step += 1
        since_refine += 1
        if densify and since_refine >= refine_every:
            since_refine = 0
            _densify(strategy, params, opts, state, step, max_splats, rep)
            limit = None
        if (
            o.reset_every > 0
            and step % o.reset_every == 0
            and o.refine_start <= frac < o.refine_stop
            and not in_fine
        ):
            reset_opa(params=params, optimizers=opts, state=state, value=o.prune_opa * 2.0)
            rep.opacity_resets += 1
        last_step_s = time.perf_counter() - ts
        if budget < float("inf") and step >= 3:
            # a budget-bound run: about four densification rounds whatever the step rate
            # (gsplat: 145 rounds in 30000 steps), at least 10 steps apart to gather views
            left = (budget - (time.perf_counter() - t0)) / ((time.perf_counter() - t0) / step)
            total = min(o.steps, step + max(left, 0.0))
            stop = min(o.refine_stop, o.fine_start) if fine else o.refine_stop
            refine_every = int(np.clip(total * (stop - o.refine_start) / 4, 10, o.refine_every))
        p = psnr(img, target)
        lv = float(loss.detach())
        loss_ema = lv if loss_ema is None else 0.9 * loss_ema + 0.1 * lv
        psnr_ema = p if psnr_ema is None else 0.9 * psnr_ema + 0.1 * p
        now = time.perf_counter()
        if step == 1 or now - last_report >= 0.25:
            last_report = now
            # how far it is, first (a trial read "optimising: step 1…" in the app's status
            # bar and could not tell the run would stop at step 1205 of 3000 on its budget)
            left_s = max(0.0, budget - (now - t0)) if budget < float("inf") else None
            # a budget's step count is known from the third step's pace: before it "of
            # ~3000" (the plan) was printed, and "of ~389" a second later (a trial)
            known = budget == float("inf") or step >= 3
            say(
                min(frac, 1.0),
                f"optimising: step {step}"
                + (f" of ~{int(round(total))}" if known else "")
                + (f" · {int(left_s // 60)}:{int(left_s % 60):02d} left" if left_s else "")
                # the views (crops, later) each step trains on, a running mean: the
                # summary's figure renders every training view whole
                + f" · batch PSNR {psnr_ema:.1f} dB · {len(params['means']):,} splats"
                + f" · loss {loss_ema:.4f}",
            )
        elif cancel is not None:
            cancel.check()
    rep.steps = step
    rep.seconds = time.perf_counter() - t0
    elapsed_per = rep.seconds / max(step, 1)
    rep.steps_planned = o.steps
    rep.sh_degree = sh_deg
    rep.loss_final = loss_ema if loss_ema is not None else float("nan")
    if o.prune_unseen_px > 0 and len(params["means"]):
        say(1.0, "optimising: dropping splats no photo sees")
        keep = splat_weights(params, data, render, bg) >= o.prune_unseen_px
        rep.pruned_unseen = int((~keep).sum())
        if rep.pruned_unseen:
            idx = torch.as_tensor(np.flatnonzero(keep), device=params["means"].device)
            params = {k: v.detach()[idx] for k, v in params.items()}
    say(1.0, "optimising: measuring the result")
    affine = None
    if expo is not None:
        with torch.no_grad():
            expo = bake_mean_exposure(params, expo)
        e = expo.detach().cpu().numpy().astype(np.float64)
        rep.exposure = {
            c.name: [round(float(v), 5) for v in (*np.exp(e[i, :3]), *e[i, 3:])]
            for i, (c, _) in enumerate(data)
        }
        affine = [(torch.exp(expo[i, :3]).detach(), expo[i, 3:].detach()) for i in range(len(data))]
    rep.psnr_after = mean_psnr(params, data, render, sh_deg, bg, affine)
    rep.splats_after = len(params["means"])
    out = _to_cloud(cloud, params, k_rest)
    log.info(
        "optimise: %d steps in %.1f s (%.0f ms/step), %d -> %d splats, PSNR %.2f -> %.2f dB%s",
        rep.steps,
        rep.seconds,
        1e3 * elapsed_per,
        rep.splats_before,
        rep.splats_after,
        rep.psnr_before,
        rep.psnr_after,
        ("; " + "; ".join(rep.limits)) if rep.limits else "",
    )
    rep.seconds = time.perf_counter() - t_start
    return out, rep


class RowAdam:
    """Adam (Kingma & Ba 2015) over the rows of a (V, D) tensor whose gradient each step
    touches one row (a view's exposure): each row keeps its own moments and step count and
    moves only on its own steps, the "lazy" Adam of torch.optim.SparseAdam.

    Why: a dense Adam moves every row by its momentum on every step, also the rows with
    no gradient. A view's exposure, set by its one step an epoch, kept drifting the same
    way for the ~10 steps after (β1 = 0.9): by its next turn it was far off, and every
    view rendered worse in the second epoch than in the first (50 frames of a fox
    figurine, training views' running PSNR 20.8 -> 16.8 dB and back over ~100 steps of a
    250-step run; without exposure learning, no dip)."""

    def __init__(
        self, rows: torch.Tensor, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8
    ) -> None:
        import torch

        self.rows = rows
        self.b1, self.b2 = betas
        self.eps = eps
        self.m = torch.zeros_like(rows, requires_grad=False)
        self.v = torch.zeros_like(rows, requires_grad=False)
        self.t = [0] * rows.shape[0]

    def step(self, i: int, lr: float) -> None:
        """One Adam step of row i from rows.grad[i] (then cleared) at rate `lr`."""
        import torch

        g = self.rows.grad
        if g is None:
            return
        with torch.no_grad():
            gi = g[i]
            self.t[i] += 1
            t = self.t[i]
            self.m[i] = self.b1 * self.m[i] + (1 - self.b1) * gi
            self.v[i] = self.b2 * self.v[i] + (1 - self.b2) * gi * gi
            m_hat = self.m[i] / (1 - self.b1**t)
            v_hat = self.v[i] / (1 - self.b2**t)
            self.rows[i] -= lr * m_hat / (v_hat.sqrt() + self.eps)
        self.rows.grad = None


def bake_mean_exposure(params: dict, expo: torch.Tensor) -> torch.Tensor:
    """Move the views' mean exposure into the splats' colours; returns the per-view
    affines (V, 6) (log-gain r, g, b, bias r, g, b) relative to it.

    Scene brightness and the views' gains are one degree of freedom the loss cannot
    tell apart (render × g + b): left where the optimiser put it, a scene came out ~20 %
    too bright with every gain near 0.8, so the app, which shows the scene without any
    photo's affine, showed it washed out (Great Wall 24.8 dB against its photos as
    rendered, 31.9 dB through the learnt affines). With ḡ = exp(mean log-gain) and
    b̄ = mean bias, every colour c becomes ḡ·c + b̄ (SH DC: 0.5 + C0·sh0 ↦ ḡ(0.5 + C0·sh0)
    + b̄; higher bands × ḡ) and each view's affine g, b becomes g/ḡ, b − (g/ḡ)·b̄, so
    every view renders as before (exactly where a pixel is covered) and the scene
    itself looks like the average photo. `params` changes in place."""
    import torch

    lg_mean = expo[:, :3].mean(0)
    g_mean = torch.exp(lg_mean)
    b_mean = expo[:, 3:].mean(0)
    dc = 0.5 + C0 * params["sh0"]
    params["sh0"].copy_((g_mean * dc + b_mean - 0.5) / C0)
    params["shN"].mul_(g_mean)
    rel_g = torch.exp(expo[:, :3] - lg_mean)
    return torch.cat([expo[:, :3] - lg_mean, expo[:, 3:] - rel_g * b_mean], 1)


def _densify(
    strategy: Any,
    params: Any,
    opts: dict,
    state: dict,
    step: int,
    max_splats: int,
    rep: OptimizeReport,
) -> None:
    """One clone/split + prune round of gsplat's DefaultStrategy, with growth limited to
    `max_splats` (the candidates with the largest gradients win; the limit is reported)."""
    import torch

    with torch.no_grad():
        if state["grad2d"] is None:
            return
        n = len(params["means"])
        grads = state["grad2d"] / state["count"].clamp_min(1)
        cand = grads > strategy.grow_grad2d
        # a clone adds one splat, a split replaces one by two: both add one
        room = max(0, max_splats - n)
        n_cand = int(cand.sum())
        if n_cand > room:
            keep = (
                torch.topk(torch.where(cand, grads, torch.zeros_like(grads)), room).indices
                if room
                else None
            )
            newg = torch.zeros_like(state["grad2d"])
            if keep is not None:
                newg[keep] = state["grad2d"][keep]
            state["grad2d"] = newg
            msg = (
                f"splat limit {max_splats}: {n_cand - room} of {n_cand} "
                "densification candidates skipped"
            )
            if not any(m.startswith(f"splat limit {max_splats}") for m in rep.limits):
                rep.limits.append(msg)
            log.info("step %d: %s", step, msg)
        n_dupli, n_split = _grow(strategy, params, opts, state, step)
        n_prune = strategy._prune_gs(params, opts, state, step)
        state["grad2d"].zero_()
        state["count"].zero_()
    rep.densified += n_dupli + n_split
    rep.pruned += n_prune
    log.debug(
        "step %d: %d cloned, %d split, %d pruned -> %d splats",
        step,
        n_dupli,
        n_split,
        n_prune,
        len(params["means"]),
    )


def _moments(opts: dict) -> list:
    """Every per-splat Adam moment tensor: (optimiser state dict, key) pairs."""
    out = []
    for opt in opts.values():
        for st in opt.state.values():
            out += [(st, k) for k in ("exp_avg", "exp_avg_sq") if k in st]
    return out


def _grow(strategy: Any, params: Any, opts: dict, state: dict, step: int) -> tuple[int, int]:
    """gsplat's `DefaultStrategy._grow_gs` (clone the small splats with high view-space
    gradients, split the large ones), with each new splat's Adam moments copied from the
    splat it came from instead of gsplat's zeros. Returns (cloned, split) counts.

    Why: torch's Adam keeps one step count per tensor, so zero moments in a tensor already
    hundreds of steps old are not bias-corrected; a new splat's update m/sqrt(v) then
    grows to ~6.5 learning rates by its 10th step ((1 - 0.9^10) / sqrt(1 - 0.999^10)),
    harmless at gsplat's rates, not at the short-run rates (`SHORT_RUN_RATES`, up to
    ×32). Fox figurine (instant-ngp, 43 views, 550 steps, evaluated at 640 px): training
    / held-out PSNR 27.71 / 21.99 -> 27.92 / 22.31 dB."""
    import torch
    from gsplat.strategy.ops import duplicate, split

    grads = state["grad2d"] / state["count"].clamp_min(1)
    high = grads > strategy.grow_grad2d
    small = (
        torch.exp(params["scales"]).max(dim=-1).values
        <= strategy.grow_scale3d * state["scene_scale"]
    )
    is_dupli = high & small
    is_split = high & ~small
    n_dupli, n_split = int(is_dupli.sum()), int(is_split.sum())
    if n_dupli:
        src = torch.where(is_dupli)[0]
        duplicate(params=params, optimizers=opts, state=state, mask=is_dupli)
        for st, k in _moments(opts):
            st[k][-n_dupli:] = st[k][src]
        is_split = torch.cat([is_split, torch.zeros(n_dupli, dtype=torch.bool, device=high.device)])
    if n_split:
        src = torch.where(is_split)[0]
        kept = [(st, k, st[k][src].clone()) for st, k in _moments(opts)]
        split(
            params=params,
            optimizers=opts,
            state=state,
            mask=is_split,
            revised_opacity=strategy.revised_opacity,
        )
        for st, k, v in kept:
            st[k][-2 * n_split :] = v.repeat(2, *([1] * (v.dim() - 1)))
    return n_dupli, n_split


#: steps between working out again each splat's size limit (`_angular_limit`): 250k
#: splats against 16 cameras take tens of ms on a CPU, a sizeable share of a step
ANGULAR_EVERY = 10


def _angular_limit(means: torch.Tensor, centres: torch.Tensor, ratio: float) -> torch.Tensor:
    """(N, 1) log of `ratio` × each splat's distance to the nearest camera centre: the
    largest log-scale `_clamp_scales` lets it keep. means (N, 3), centres (C, 3) world
    units.

    Why: with the short-run learning rates a splat's scale can double in a few steps. In a
    courtyard shot from all round (Strecha's castle-P19, cameras looking inwards), splats
    of the sky above the roofs grew to sheets 80-120 m across 25-80 m from the cameras
    within 200 steps, each one covering the facades in every other view; the run ended at
    14 dB, below its 17 dB start. Splats of an optimised walk-through (Sceaux, Great Wall,
    Strecha's fountain-P11) stay under 0.06 × their distance at the 99th percentile."""
    import torch

    with torch.no_grad():
        d = torch.cdist(means.data, centres).min(dim=1).values
        return torch.log(torch.clamp(d * ratio, min=1e-6))[:, None]


def _clamp_scales(log_scales: torch.Tensor, limit: torch.Tensor) -> int:
    """Clamp (in place) log_scales (N, 3) to limit (N, 1); returns how many splats were
    clamped."""
    import torch

    with torch.no_grad():
        over = log_scales.data > limit
        log_scales.data.copy_(torch.minimum(log_scales.data, limit))
    return int(over.any(1).sum())


def _cap_angular(
    means: torch.Tensor, log_scales: torch.Tensor, centres: torch.Tensor, ratio: float
) -> int:
    """Clamp (in place) each splat's log-scales to log(ratio × its distance to the nearest
    camera centre): no splat's standard deviation spans more than ~atan(ratio) of any
    training view (`_angular_limit`). means (N, 3), log_scales (N, 3), centres (C, 3)
    world units. Returns how many splats were clamped."""
    return _clamp_scales(log_scales, _angular_limit(means, centres, ratio))


def _cap_anisotropy(log_scales: torch.Tensor, ratio: float) -> int:
    """Clamp (in place) each splat's largest log-scale to its middle one + log(ratio): a
    long thin needle becomes a shorter one, a flat disc (two equal large axes) is
    untouched (as the anisotropy regulariser of PhysGaussian, Xie et al. 2024, as a hard
    limit). log_scales (N, 3). Returns how many splats were clamped."""
    import torch

    with torch.no_grad():
        srt, _ = torch.sort(log_scales.data, dim=1)
    return _clamp_scales(log_scales, srt[:, 1:2] + math.log(ratio))


def _to_cloud(src: GaussianCloud, params: Any, k_rest: int) -> GaussianCloud:
    def a(k: str) -> np.ndarray:
        return params[k].detach().cpu().numpy().astype(np.float32)

    q = a("quats")
    q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
    out = GaussianCloud(
        a("means"), a("scales"), q, a("opacities"), a("sh0"), a("shN").reshape(len(q), k_rest, 3)
    )
    out.meta = dict(src.meta)
    # densification and pruning reorder splats: 'the last M are sky' is found again from
    # the sky sphere's centre and radius (dropped when they were not recorded)
    from .sky import mark_far_field

    return mark_far_field(out)
