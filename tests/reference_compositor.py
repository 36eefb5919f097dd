"""An independent CPU implementation of the reference 3DGS image formation, for tests.

Projection: gsplat's pure-PyTorch `_fully_fused_projection` (EWA Jacobian with the 1.3·tan
clamp, +0.3 px² dilation, near cull z <= 0.2). Colour: gsplat's `_spherical_harmonics`
(reference basis), max(0.5 + SH, 0). Clouds with meta["antialiased"] get gsplat's
opacity compensation. Rasterisation (ours, as in the reference CUDA
kernel): splats in front-to-back depth order; each covers the 16-px tiles its 3.33σ box
touches; per pixel centre alpha = min(0.99, o·exp(-½ dᵀ conic d)), skipped below 1/255;
a pixel stops once transmittance would fall below 1e-4; background added with the
remaining transmittance. Nothing here shares code with viewer/.
"""

from __future__ import annotations

import numpy as np

TILE = 16


def project(cloud, camera, near: float = 0.2):
    """Per-splat screen data: means2d (N,2), conics (N,3) [a,b,c], depths (N,), radii (N,2) int,
    colours (N,3), opacities (N,) — all numpy float64 (radii int)."""
    import torch
    from gsplat.cuda._torch_impl import _fully_fused_projection, _spherical_harmonics

    means = torch.tensor(cloud.means, dtype=torch.float64)
    q = torch.tensor(cloud.quats, dtype=torch.float64)
    q = q / q.norm(dim=1, keepdim=True)
    w, x, y, z = q.unbind(1)
    rot = torch.stack(
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
    s = torch.exp(torch.tensor(cloud.scales, dtype=torch.float64))
    m = rot * s[:, None, :]
    covars = m @ m.transpose(1, 2)
    view = torch.eye(4, dtype=torch.float64)
    view[:3, :3] = torch.tensor(camera.R)
    view[:3, 3] = torch.tensor(camera.t)
    K = torch.tensor(
        [[camera.fx, 0, camera.cx], [0, camera.fy, camera.cy], [0, 0, 1.0]], dtype=torch.float64
    )
    aa = bool(cloud.meta.get("antialiased"))
    radii, means2d, depths, conics, comp = _fully_fused_projection(
        means,
        covars,
        view[None],
        K[None],
        int(camera.width),
        int(camera.height),
        eps2d=0.3,
        near_plane=near,
        calc_compensations=aa,
    )
    campos = -view[:3, :3].T @ view[:3, 3]
    dirs = means - campos
    coeffs = torch.cat(
        [
            torch.tensor(cloud.sh0, dtype=torch.float64)[:, None],
            torch.tensor(cloud.shN, dtype=torch.float64),
        ],
        1,
    )
    colors = torch.clamp_min(_spherical_harmonics(cloud.sh_degree, dirs, coeffs) + 0.5, 0.0)
    opac = torch.sigmoid(torch.tensor(cloud.opacities, dtype=torch.float64))
    if aa:  # antialiased (mip-splatting) scenes: opacity × sqrt(det Σ / det(Σ + 0.3 I))
        opac = opac * comp[0]
    return (
        means2d[0].numpy(),
        conics[0].numpy(),
        depths[0].numpy(),
        radii[0].numpy(),
        colors.numpy(),
        opac.numpy(),
    )


def composite(
    means2d,
    conics,
    depths,
    radii,
    colors,
    opacities,
    width: int,
    height: int,
    background=(0.0, 0.0, 0.0),
) -> np.ndarray:
    """Front-to-back alpha compositing -> (H, W, 3) float64 (not clamped)."""
    img = np.zeros((height, width, 3))
    trans = np.ones((height, width))
    done = np.zeros((height, width), bool)
    valid = (radii[:, 0] > 0) & (radii[:, 1] > 0)
    order = np.argsort(depths, kind="stable")
    for i in order[valid[order]]:
        mx, my = means2d[i]
        rx, ry = radii[i]
        # tiles touched by the box, then every pixel of those tiles
        tx0 = max(0, int(np.floor((mx - rx) / TILE)))
        tx1 = min(-(-width // TILE), int(np.floor((mx + rx) / TILE)) + 1)
        ty0 = max(0, int(np.floor((my - ry) / TILE)))
        ty1 = min(-(-height // TILE), int(np.floor((my + ry) / TILE)) + 1)
        if tx0 >= tx1 or ty0 >= ty1:
            continue
        x0, x1 = tx0 * TILE, min(width, tx1 * TILE)
        y0, y1 = ty0 * TILE, min(height, ty1 * TILE)
        dx = (np.arange(x0, x1) + 0.5 - mx)[None, :]
        dy = (np.arange(y0, y1) + 0.5 - my)[:, None]
        a, b, c = conics[i]
        power = -0.5 * (a * dx * dx + c * dy * dy) - b * dx * dy
        alpha = np.minimum(0.99, opacities[i] * np.exp(np.minimum(power, 0.0)))
        alpha = np.where((power > 0) | (alpha < 1.0 / 255.0), 0.0, alpha)
        T = trans[y0:y1, x0:x1]
        D = done[y0:y1, x0:x1]
        test_t = T * (1 - alpha)
        stop = (test_t < 1e-4) & (alpha > 0)
        D |= stop
        use = (alpha > 0) & ~D
        img[y0:y1, x0:x1] += np.where(use, alpha * T, 0.0)[..., None] * colors[i]
        T[...] = np.where(use, test_t, T)
    return img + trans[..., None] * np.asarray(background, np.float64)


def render_reference(cloud, camera, background=(0.0, 0.0, 0.0)) -> np.ndarray:
    """Reference image of a GaussianCloud seen by a scene.camera.Camera, (H, W, 3) float64."""
    return composite(*project(cloud, camera), int(camera.width), int(camera.height), background)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB between two images in 0..1 (clamped)."""
    mse = float(np.mean((np.clip(a, 0, 1) - np.clip(b, 0, 1)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)
