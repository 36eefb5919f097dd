"""A small differentiable Gaussian-splat rasterizer in PyTorch, for the CPU.

Same semantics as the 3DGS reference: EWA projection of each 3D covariance (x/z, y/z
clamped to 1.3·tan(fov/2)), +0.3 px² low-pass, 3σ footprint, α = min(0.99, o·exp(-½dᵀΣ⁻¹d)),
α < 1/255 skipped, front-to-back compositing. Splats are binned into 16×16 tiles and
each tile composites its depth-sorted list; tile batches run under activation
checkpointing so memory stays at the size of the inputs, not of every (splat, pixel) pair.
`rasterize_dense` is the plain reference twin (every splat against every pixel) that the
tests compare with. Pixel centres are at integer + 0.5, as in `scene.camera`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scene.camera import Camera

TILE = 16
NEAR = 0.01
ALPHA_MIN = 1.0 / 255.0
ALPHA_MAX = 0.99


@dataclass
class Projected:
    """Screen-space splats (all tensors, N rows)."""

    mean2d: "torch.Tensor"   # (N, 2) pixel coords
    conic: "torch.Tensor"    # (N, 3) inverse 2D covariance (a, b, c)
    radius: "torch.Tensor"   # (N,) 3σ radius in pixels (no grad)
    depth: "torch.Tensor"    # (N,) camera z
    valid: "torch.Tensor"    # (N,) bool: in front and on screen


def quat_to_rotmat(q: "torch.Tensor") -> "torch.Tensor":
    """(N, 4) wxyz (any norm) -> (N, 3, 3)."""
    import torch

    q = q / q.norm(dim=1, keepdim=True).clamp_min(1e-12)
    w, x, y, z = q.unbind(1)
    return torch.stack([
        1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
        2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
    ], 1).reshape(-1, 3, 3)


def project(means: "torch.Tensor", quats: "torch.Tensor", log_scales: "torch.Tensor",
            cam: Camera) -> Projected:
    """EWA projection of (N, 3) means, (N, 4) quats, (N, 3) log-scales into `cam`."""
    import torch

    dt = means.dtype
    R = torch.as_tensor(cam.R, dtype=dt)
    t = torch.as_tensor(cam.t, dtype=dt)
    pc = means @ R.T + t                                          # (N, 3)
    z = pc[:, 2]
    zs = z.clamp_min(NEAR)
    lim_x = 1.3 * 0.5 * cam.width / cam.fx
    lim_y = 1.3 * 0.5 * cam.height / cam.fy
    tx = (pc[:, 0] / zs).clamp(-lim_x, lim_x) * zs
    ty = (pc[:, 1] / zs).clamp(-lim_y, lim_y) * zs
    zero = torch.zeros_like(zs)
    J = torch.stack([cam.fx / zs, zero, -cam.fx * tx / zs ** 2,
                     zero, cam.fy / zs, -cam.fy * ty / zs ** 2], 1).reshape(-1, 2, 3)
    M = quat_to_rotmat(quats) * torch.exp(log_scales)[:, None, :]  # (N, 3, 3) R S
    T = J @ R @ M                                                 # (N, 2, 3)
    cov = T @ T.transpose(1, 2)                                   # (N, 2, 2)
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
        valid = (z > NEAR) & (mean2d[:, 0] + radius > 0) & (mean2d[:, 0] - radius < cam.width) \
            & (mean2d[:, 1] + radius > 0) & (mean2d[:, 1] - radius < cam.height)
    return Projected(mean2d, conic, radius, z, valid)


def _composite(pix: "torch.Tensor", mean2d, conic, opac, color, bg) -> "torch.Tensor":  # noqa: ANN001
    """Front-to-back compositing. pix (B, P, 2); splats (B, K, ...) sorted near->far.

    Returns (B, P, 3). Padding splats carry opacity 0.
    """
    import torch

    d = pix[:, None, :, :] - mean2d[:, :, None, :]                # (B, K, P, 2)
    dx, dy = d[..., 0], d[..., 1]
    power = -0.5 * (conic[..., 0:1] * dx * dx + conic[..., 2:3] * dy * dy) - conic[..., 1:2] * dx * dy
    alpha = (opac[..., None] * torch.exp(power.clamp_max(0.0))).clamp_max(ALPHA_MAX)
    alpha = torch.where(alpha < ALPHA_MIN, torch.zeros_like(alpha), alpha)  # (B, K, P)
    trans = torch.cumprod(1.0 - alpha, dim=1)
    trans_excl = torch.cat([torch.ones_like(trans[:, :1]), trans[:, :-1]], 1)
    w = alpha * trans_excl                                        # (B, K, P)
    rgb = torch.einsum("bkp,bkc->bpc", w, color)
    return rgb + trans[:, -1, :, None] * bg


def rasterize(means, quats, log_scales, opacity_logits, colors, cam: Camera,  # noqa: ANN001
              background=(0.0, 0.0, 0.0), *, checkpoint: bool = True,
              batch_elems: int = 4_000_000) -> "torch.Tensor":
    """Render (H, W, 3) (same dtype as means) of splats with linear RGB `colors` (N, 3).

    Differentiable w.r.t. every tensor argument. `batch_elems` bounds splat×pixel pairs
    per tile batch.
    """
    import torch
    from torch.utils.checkpoint import checkpoint as ckpt

    W, H = cam.width, cam.height
    dt = means.dtype
    bg = torch.as_tensor(background, dtype=dt)
    pr = project(means, quats, log_scales, cam)
    opac = torch.sigmoid(opacity_logits)
    tiles_x, tiles_y = (W + TILE - 1) // TILE, (H + TILE - 1) // TILE
    n_tiles = tiles_x * tiles_y
    with torch.no_grad():
        idx = torch.nonzero(pr.valid).squeeze(1).numpy()
        m2 = pr.mean2d.detach().numpy()[idx]
        r = pr.radius.numpy()[idx]
        x0 = np.clip(np.floor((m2[:, 0] - r) / TILE), 0, tiles_x - 1).astype(np.int64)
        x1 = np.clip(np.floor((m2[:, 0] + r) / TILE), 0, tiles_x - 1).astype(np.int64)
        y0 = np.clip(np.floor((m2[:, 1] - r) / TILE), 0, tiles_y - 1).astype(np.int64)
        y1 = np.clip(np.floor((m2[:, 1] + r) / TILE), 0, tiles_y - 1).astype(np.int64)
        nx, ny = x1 - x0 + 1, y1 - y0 + 1
        cnt = nx * ny
        g = np.repeat(np.arange(len(idx)), cnt)                   # intersection -> splat
        off = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        tx = x0[g] + off % nx[g]
        ty = y0[g] + off // nx[g]
        tile_id = ty * tiles_x + tx
        depth = pr.depth.detach().numpy()[idx][g]
        order = np.lexsort((depth, tile_id))
        tile_id, gs = tile_id[order], idx[g[order]]
        per_tile = np.bincount(tile_id, minlength=n_tiles)
    out = torch.empty((n_tiles, TILE * TILE, 3), dtype=dt)
    out[:] = bg
    ys, xs = np.mgrid[0:TILE, 0:TILE]
    local = np.stack([xs.ravel() + 0.5, ys.ravel() + 0.5], 1)    # (P, 2)
    starts = np.concatenate([[0], np.cumsum(per_tile)])
    # null splat (index N) pads ragged tile lists
    N = means.shape[0]
    m2_all = torch.cat([pr.mean2d, torch.zeros((1, 2), dtype=dt)])
    con_all = torch.cat([pr.conic, torch.zeros((1, 3), dtype=dt)])
    op_all = torch.cat([opac, torch.zeros(1, dtype=dt)])
    col_all = torch.cat([colors, torch.zeros((1, 3), dtype=dt)])
    busy = np.nonzero(per_tile)[0]
    busy = busy[np.argsort(per_tile[busy])]                        # similar sizes batch well
    i = 0
    while i < len(busy):
        kmax = int(per_tile[busy[i]])
        j = i + 1
        while j < len(busy) and int(per_tile[busy[j]]) * (j - i + 1) * TILE * TILE <= batch_elems:
            j += 1
        batch = busy[i:j]
        kmax = int(per_tile[batch].max())
        sel = np.full((len(batch), kmax), N, np.int64)
        for b, tid in enumerate(batch):
            k = per_tile[tid]
            sel[b, :k] = gs[starts[tid]:starts[tid] + k]
        origin = np.stack([(batch % tiles_x) * TILE, (batch // tiles_x) * TILE], 1)
        pix = torch.as_tensor(origin[:, None, :] + local[None], dtype=dt)  # (B, P, 2)
        st = torch.as_tensor(sel)
        args = (pix, m2_all[st], con_all[st], op_all[st], col_all[st], bg)
        if checkpoint and torch.is_grad_enabled():
            res = ckpt(_composite, *args, use_reentrant=False)
        else:
            res = _composite(*args)
        out[torch.as_tensor(batch)] = res
        i = j
    img = out.reshape(tiles_y, tiles_x, TILE, TILE, 3).permute(0, 2, 1, 3, 4)
    return img.reshape(tiles_y * TILE, tiles_x * TILE, 3)[:H, :W]


def rasterize_dense(means, quats, log_scales, opacity_logits, colors, cam: Camera,  # noqa: ANN001
                    background=(0.0, 0.0, 0.0)) -> "torch.Tensor":
    """Reference twin of `rasterize`: every splat against every pixel (small inputs only)."""
    import torch

    dt = means.dtype
    pr = project(means, quats, log_scales, cam)
    keep = torch.nonzero(pr.valid).squeeze(1)
    keep = keep[torch.argsort(pr.depth[keep].detach(), stable=True)]
    ys, xs = torch.meshgrid(torch.arange(cam.height, dtype=dt) + 0.5,
                            torch.arange(cam.width, dtype=dt) + 0.5, indexing="ij")
    pix = torch.stack([xs.reshape(-1), ys.reshape(-1)], 1)[None]  # (1, P, 2)
    # the tiled version only lets a splat touch pixels inside its 3σ box
    m2 = pr.mean2d[keep]
    r = pr.radius[keep]
    inside = ((pix[0, None, :, 0] - m2[:, None, 0]).abs() < r[:, None] + TILE) & \
             ((pix[0, None, :, 1] - m2[:, None, 1]).abs() < r[:, None] + TILE)
    rgb = _composite_masked(pix, m2[None], pr.conic[keep][None], torch.sigmoid(opacity_logits)[keep][None],
                            colors[keep][None], torch.as_tensor(background, dtype=dt), inside[None], cam, r)
    return rgb.reshape(cam.height, cam.width, 3)


def _composite_masked(pix, mean2d, conic, opac, color, bg, inside, cam, radius):  # noqa: ANN001
    """Like `_composite`, restricted to the pixels of the tiles each splat's box touches."""
    import torch

    tx0 = torch.floor((mean2d[0, :, 0] - radius) / TILE).clamp(0, (cam.width - 1) // TILE)
    tx1 = torch.floor((mean2d[0, :, 0] + radius) / TILE).clamp(0, (cam.width - 1) // TILE)
    ty0 = torch.floor((mean2d[0, :, 1] - radius) / TILE).clamp(0, (cam.height - 1) // TILE)
    ty1 = torch.floor((mean2d[0, :, 1] + radius) / TILE).clamp(0, (cam.height - 1) // TILE)
    ptx = torch.floor(pix[0, :, 0] / TILE)
    pty = torch.floor(pix[0, :, 1] / TILE)
    mask = (ptx[None] >= tx0[:, None]) & (ptx[None] <= tx1[:, None]) & \
           (pty[None] >= ty0[:, None]) & (pty[None] <= ty1[:, None])   # (K, P)
    d = pix[:, None, :, :] - mean2d[:, :, None, :]
    dx, dy = d[..., 0], d[..., 1]
    power = -0.5 * (conic[..., 0:1] * dx * dx + conic[..., 2:3] * dy * dy) - conic[..., 1:2] * dx * dy
    alpha = (opac[..., None] * torch.exp(power.clamp_max(0.0))).clamp_max(ALPHA_MAX)
    alpha = torch.where((alpha < ALPHA_MIN) | ~mask[None], torch.zeros_like(alpha), alpha)
    trans = torch.cumprod(1.0 - alpha, dim=1)
    trans_excl = torch.cat([torch.ones_like(trans[:, :1]), trans[:, :-1]], 1)
    w = alpha * trans_excl
    return torch.einsum("bkp,bkc->bpc", w, color) + trans[:, -1, :, None] * bg


def cloud_tensors(cloud, dtype=None) -> dict:  # noqa: ANN001
    """GaussianCloud -> dict of torch tensors (means, quats, log_scales, opacity_logits, colors)."""
    import torch

    dtype = dtype or torch.float32
    return {
        "means": torch.as_tensor(cloud.means, dtype=dtype),
        "quats": torch.as_tensor(cloud.quats, dtype=dtype),
        "log_scales": torch.as_tensor(cloud.scales, dtype=dtype),
        "opacity_logits": torch.as_tensor(cloud.opacities, dtype=dtype),
        "colors": torch.as_tensor(np.clip(0.5 + 0.28209479177387814 * cloud.sh0, 0, 1), dtype=dtype),
    }


def render_cloud(cloud, cam: Camera, background=(0.0, 0.0, 0.0)) -> np.ndarray:  # noqa: ANN001
    """(H, W, 3) uint8 render of a GaussianCloud (DC colour only), no gradients."""
    import torch

    with torch.no_grad():
        img = rasterize(**cloud_tensors(cloud), cam=cam, background=background, checkpoint=False)
    return (img.clamp(0, 1).numpy() * 255 + 0.5).astype(np.uint8)
