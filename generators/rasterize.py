"""A small differentiable Gaussian-splat rasterizer in PyTorch, for the CPU.

Same semantics as the 3DGS reference: EWA projection of each 3D covariance (x/z, y/z
clamped to the frustum widened by 30 %), +0.3 px² low-pass, 3σ footprint,
α = min(0.99, o·exp(-½dᵀΣ⁻¹d)), α < 1/255 skipped, front-to-back compositing. Instead of
tiles, it lists every (splat, pixel-in-its-3σ-box) pair, sorted by pixel then depth, and
composites all pairs at once with segmented cumulative sums, so the cost follows the
splats' real footprints.
`rasterize_dense` is the plain reference twin (a sequential loop over splats) that the
tests compare with. Pixel centres are at integer + 0.5, as in `scene.camera`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from scene.camera import Camera
from scene.sh import C0
from scene.splatting import ALPHA_MAX, ALPHA_MIN, NEAR_CULL

if TYPE_CHECKING:
    import torch

NEAR = NEAR_CULL  # the shared near cull (scene.splatting), as the GL viewer


@dataclass
class Projected:
    """Screen-space splats (all tensors, N rows)."""

    mean2d: torch.Tensor  # (N, 2) pixel coords
    conic: torch.Tensor  # (N, 3) inverse 2D covariance (a, b, c)
    radius: torch.Tensor  # (N,) 3σ radius in pixels (no grad)
    depth: torch.Tensor  # (N,) camera z
    valid: torch.Tensor  # (N,) bool: in front and on screen


def quat_to_rotmat(q: torch.Tensor) -> torch.Tensor:
    """(N, 4) wxyz (any norm) -> (N, 3, 3)."""
    import torch

    q = q / q.norm(dim=1, keepdim=True).clamp_min(1e-12)
    w, x, y, z = q.unbind(1)
    return torch.stack(
        [
            1 - 2 * (y * y + z * z),
            2 * (x * y - w * z),
            2 * (x * z + w * y),
            2 * (x * y + w * z),
            1 - 2 * (x * x + z * z),
            2 * (y * z - w * x),
            2 * (x * z - w * y),
            2 * (y * z + w * x),
            1 - 2 * (x * x + y * y),
        ],
        1,
    ).reshape(-1, 3, 3)


def project(
    means: torch.Tensor, quats: torch.Tensor, log_scales: torch.Tensor, cam: Camera
) -> Projected:
    """EWA projection of (N, 3) means, (N, 4) quats, (N, 3) log-scales into `cam`."""
    import torch

    dt = means.dtype
    R = torch.as_tensor(cam.R, dtype=dt)
    t = torch.as_tensor(cam.t, dtype=dt)
    pc = means @ R.T + t  # (N, 3)
    z = pc[:, 2]
    zs = z.clamp_min(NEAR)
    # the frustum widened by 30 % of the half field of view on each side, as the viewer's
    # shader and gsplat (equals 3DGS's ±1.3·tan(fov/2) for a centred principal point)
    tanx, tany = 0.5 * cam.width / cam.fx, 0.5 * cam.height / cam.fy
    tx = (pc[:, 0] / zs).clamp(
        -(cam.cx / cam.fx + 0.3 * tanx), (cam.width - cam.cx) / cam.fx + 0.3 * tanx
    ) * zs
    ty = (pc[:, 1] / zs).clamp(
        -(cam.cy / cam.fy + 0.3 * tany), (cam.height - cam.cy) / cam.fy + 0.3 * tany
    ) * zs
    zero = torch.zeros_like(zs)
    J = torch.stack(
        [cam.fx / zs, zero, -cam.fx * tx / zs**2, zero, cam.fy / zs, -cam.fy * ty / zs**2], 1
    ).reshape(-1, 2, 3)
    M = quat_to_rotmat(quats) * torch.exp(log_scales)[:, None, :]  # (N, 3, 3) R S
    T = J @ R @ M  # (N, 2, 3)
    cov = T @ T.transpose(1, 2)  # (N, 2, 2)
    a = cov[:, 0, 0] + 0.3
    b = cov[:, 0, 1]
    c = cov[:, 1, 1] + 0.3
    det = (a * c - b * b).clamp_min(1e-12)
    conic = torch.stack([c / det, -b / det, a / det], 1)
    mean2d = torch.stack([cam.fx * pc[:, 0] / zs + cam.cx, cam.fy * pc[:, 1] / zs + cam.cy], 1)
    with torch.no_grad():
        mid = 0.5 * (a + c)
        lam = mid + torch.sqrt((mid * mid - det).clamp_min(0.1))
        radius = torch.ceil(3.0 * torch.sqrt(lam))
        valid = (
            (z > NEAR)
            & (mean2d[:, 0] + radius > 0)
            & (mean2d[:, 0] - radius < cam.width)
            & (mean2d[:, 1] + radius > 0)
            & (mean2d[:, 1] - radius < cam.height)
        )
    return Projected(mean2d, conic, radius, z, valid)


def _pairs(pr: Projected, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (splat, pixel) pair with the pixel centre inside the splat's 3σ box, sorted by
    pixel, then near to far. Returns (splat index (M,), pixel index (M,)) int64."""
    idx = np.nonzero(pr.valid.numpy())[0]
    idx = idx[np.argsort(pr.depth.detach().numpy()[idx], kind="stable")]  # near -> far
    m2 = pr.mean2d.detach().numpy()[idx].astype(np.float64)
    r = pr.radius.numpy()[idx].astype(np.float64)
    x0 = np.clip(np.ceil(m2[:, 0] - r - 0.5), 0, width).astype(np.int64)
    x1 = np.clip(np.floor(m2[:, 0] + r - 0.5), -1, width - 1).astype(np.int64)
    y0 = np.clip(np.ceil(m2[:, 1] - r - 0.5), 0, height).astype(np.int64)
    y1 = np.clip(np.floor(m2[:, 1] + r - 0.5), -1, height - 1).astype(np.int64)
    nx = np.maximum(x1 - x0 + 1, 0)
    ny = np.maximum(y1 - y0 + 1, 0)
    cnt = nx * ny
    g = np.repeat(np.arange(len(idx)), cnt)
    off = np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    px = x0[g] + off % np.maximum(nx[g], 1)
    py = y0[g] + off // np.maximum(nx[g], 1)
    pix = py * width + px
    order = np.argsort(pix, kind="stable")  # keeps near -> far inside each pixel
    return idx[g[order]], pix[order]


def rasterize(
    means,
    quats,
    log_scales,
    opacity_logits,
    colors,
    cam: Camera,  # noqa: ANN001
    background=(0.0, 0.0, 0.0),
) -> torch.Tensor:
    """Render (H, W, 3) (dtype of `means`) of splats with linear RGB `colors` (N, 3).

    Differentiable w.r.t. every tensor argument. Work and memory follow the number of
    (splat, covered pixel) pairs: transmittance in front of each pair is the exclusive
    per-pixel cumulative sum of log(1 - α) (float64), so no per-tile padding is needed.
    """
    import torch

    W, H = cam.width, cam.height
    dt = means.dtype
    bg = torch.as_tensor(background, dtype=dt)
    pr = project(means, quats, log_scales, cam)
    with torch.no_grad():
        gs, pix = _pairs(pr, W, H)
    out = torch.zeros((H * W, 3), dtype=dt)
    trans_end = torch.ones(H * W, dtype=torch.float64)
    if len(gs):
        gi = torch.as_tensor(gs)
        pi = torch.as_tensor(pix)
        px = (pi % W).to(dt) + 0.5
        py = torch.div(pi, W, rounding_mode="floor").to(dt) + 0.5
        m2 = pr.mean2d[gi]
        cn = pr.conic[gi]
        dx, dy = px - m2[:, 0], py - m2[:, 1]
        power = -0.5 * (cn[:, 0] * dx * dx + cn[:, 2] * dy * dy) - cn[:, 1] * dx * dy
        alpha = (torch.sigmoid(opacity_logits)[gi] * torch.exp(power.clamp_max(0.0))).clamp_max(
            ALPHA_MAX
        )
        alpha = torch.where(alpha < ALPHA_MIN, torch.zeros_like(alpha), alpha)
        log_t = torch.log1p(-alpha.to(torch.float64))  # (M,)
        csum = torch.cumsum(log_t, 0)
        # start of each pixel's run in the sorted pair list
        first = np.ones(len(pix), bool)
        first[1:] = pix[1:] != pix[:-1]
        run_start = np.maximum.accumulate(np.where(first, np.arange(len(pix)), 0))
        base = (csum - log_t)[torch.as_tensor(run_start)]  # cumsum before the run
        excl = torch.exp(csum - log_t - base)  # T in front of the pair
        w = (alpha.to(torch.float64) * excl).to(dt)
        out = out.index_add(0, pi, w[:, None] * colors[gi])
        last = np.ones(len(pix), bool)
        last[:-1] = pix[1:] != pix[:-1]
        lt = torch.as_tensor(np.nonzero(last)[0])
        trans_end = trans_end.index_copy(0, pi[lt], torch.exp(csum[lt] - base[lt]))
    img = out + trans_end.to(dt)[:, None] * bg
    return img.reshape(H, W, 3)


def rasterize_dense(
    means,
    quats,
    log_scales,
    opacity_logits,
    colors,
    cam: Camera,  # noqa: ANN001
    background=(0.0, 0.0, 0.0),
) -> torch.Tensor:
    """Reference twin of `rasterize`: every splat against every pixel with a plain
    sequential front-to-back loop (small inputs only). colors (N, C) and background (C,)
    may hold any number of channels (the compiled rasterizer's extra features); an RGB
    background with more channels leaves the extra ones' at 0."""
    import torch

    dt = means.dtype
    pr = project(means, quats, log_scales, cam)
    keep = torch.nonzero(pr.valid).squeeze(1)
    keep = keep[torch.argsort(pr.depth[keep].detach(), stable=True)]
    ys, xs = torch.meshgrid(
        torch.arange(cam.height, dtype=dt) + 0.5,
        torch.arange(cam.width, dtype=dt) + 0.5,
        indexing="ij",
    )
    trans = torch.ones((cam.height, cam.width), dtype=dt)
    img = torch.zeros((cam.height, cam.width, colors.shape[1]), dtype=dt)
    opac = torch.sigmoid(opacity_logits)
    for i in keep.tolist():
        mx, my = pr.mean2d[i]
        r = pr.radius[i]
        a, b, c = pr.conic[i]
        dx, dy = xs - mx, ys - my
        inside = (dx.abs() <= r) & (dy.abs() <= r)
        power = -0.5 * (a * dx * dx + c * dy * dy) - b * dx * dy
        alpha = (opac[i] * torch.exp(power.clamp_max(0.0))).clamp_max(ALPHA_MAX)
        alpha = torch.where((alpha < ALPHA_MIN) | ~inside, torch.zeros_like(alpha), alpha)
        img = img + (alpha * trans)[..., None] * colors[i]
        trans = trans * (1 - alpha)
    bg = torch.as_tensor(background, dtype=dt).reshape(-1)
    if bg.shape[0] == 3 < colors.shape[1]:  # RGB given: the extra channels' is 0
        bg = torch.cat([bg, torch.zeros(colors.shape[1] - 3, dtype=dt)])
    return img + trans[..., None] * bg


def cloud_tensors(cloud, dtype=None) -> dict:  # noqa: ANN001
    """GaussianCloud -> dict of torch tensors (means, quats, log_scales, opacity_logits, colors)."""
    import torch

    dtype = dtype or torch.float32
    return {
        "means": torch.as_tensor(cloud.means, dtype=dtype),
        "quats": torch.as_tensor(cloud.quats, dtype=dtype),
        "log_scales": torch.as_tensor(cloud.scales, dtype=dtype),
        "opacity_logits": torch.as_tensor(cloud.opacities, dtype=dtype),
        "colors": torch.as_tensor(np.clip(0.5 + C0 * cloud.sh0, 0, 1), dtype=dtype),
    }


def render_cloud(cloud, cam: Camera, background=(0.0, 0.0, 0.0)) -> np.ndarray:  # noqa: ANN001
    """(H, W, 3) uint8 render of a GaussianCloud (DC colour only), no gradients."""
    import torch

    with torch.no_grad():
        img = rasterize(**cloud_tensors(cloud), cam=cam, background=background)
    return (img.clamp(0, 1).numpy() * 255 + 0.5).astype(np.uint8)
