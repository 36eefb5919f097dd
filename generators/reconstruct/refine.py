"""Photometric refinement: Adam on the splats' colours, opacities, positions, scales and
rotations so renders match the photos (L1 loss) at a low resolution.

Backends: gsplat's CUDA rasterizer when CUDA is available (device "auto"/"cuda"),
otherwise the CPU PyTorch rasterizer in `generators.rasterize` (meant for small scenes:
its cost grows with splats × covered pixels).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from scene.camera import Camera

if TYPE_CHECKING:
    import torch
from scene.gaussians import GaussianCloud

C0 = 0.28209479177387814


def pick_device(device: str = "auto") -> str:
    """'cuda' when asked for (or auto) and usable with gsplat, else 'cpu'."""
    import torch

    if device == "cpu":
        return "cpu"
    ok = torch.cuda.is_available()
    if ok:
        try:
            import gsplat  # noqa: F401
        except ImportError:
            ok = False
    if device == "cuda" and not ok:
        raise ValueError("--device cuda: CUDA with gsplat is not available here (use cpu or auto)")
    return "cuda" if ok else "cpu"


def _render(params: dict, cam: Camera, device: str, bg: "torch.Tensor") -> "torch.Tensor":
    """(H, W, 3) render of the current parameters."""
    import torch

    colors = 0.5 + C0 * params["sh0"]
    if device == "cuda":
        from gsplat import rasterization

        view = torch.as_tensor(cam.world_to_camera(), dtype=torch.float32, device="cuda")[None]
        K = torch.as_tensor(cam.K, dtype=torch.float32, device="cuda")[None]
        img, _, _ = rasterization(params["means"], params["quats"], torch.exp(params["scales"]),
                                  torch.sigmoid(params["opacities"]), colors, view, K,
                                  cam.width, cam.height, backgrounds=bg[None])
        return img[0]
    from generators.rasterize import rasterize

    return rasterize(params["means"], params["quats"], params["scales"], params["opacities"], colors,
                     cam, background=bg)


def refine_cloud(cloud: GaussianCloud, views: Sequence[tuple[Camera, np.ndarray]], *, steps: int = 100,
                 size: int = 192, device: str = "auto", seed: int = 0, background=(0.0, 0.0, 0.0),
                 report: Callable[[float, str], None] | None = None) -> GaussianCloud:
    """Return a refined copy of `cloud`. views: (camera, RGB uint8 image) pairs; images are
    resized to `size` (long side) with their cameras. `report` also checks cancel."""
    import cv2
    import torch

    if steps <= 0 or len(cloud) == 0:
        return cloud.copy()
    dev = pick_device(device)
    data = []
    for cam, img in views:
        s = min(1.0, size / max(cam.width, cam.height))
        w, h = max(16, round(cam.width * s)), max(16, round(cam.height * s))
        c = cam.resized(w, h)
        im = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
        data.append((c, torch.as_tensor(im.astype(np.float32) / 255.0, device=dev)))
    if not data:
        raise ValueError("refinement needs at least one view")
    scene_scale = float(np.linalg.norm(cloud.means.std(0))) or 1.0
    params = {
        "means": torch.tensor(cloud.means, device=dev, requires_grad=True),
        "scales": torch.tensor(cloud.scales, device=dev, requires_grad=True),
        "quats": torch.tensor(cloud.quats, device=dev, requires_grad=True),
        "opacities": torch.tensor(cloud.opacities, device=dev, requires_grad=True),
        "sh0": torch.tensor(cloud.sh0, device=dev, requires_grad=True),
    }
    lrs = {"means": 1.6e-4 * scene_scale, "scales": 2e-3, "quats": 1e-3, "opacities": 1e-2,
           "sh0": 5e-3}
    opt = torch.optim.Adam([{"params": [p], "lr": lrs[k], "name": k} for k, p in params.items()], eps=1e-15)
    bg = torch.as_tensor(background, dtype=torch.float32, device=dev)
    rng = np.random.default_rng(seed)
    order: list[int] = []
    for step in range(steps):
        if report is not None:
            report(step / steps, f"refinement step {step + 1}/{steps}")
        if not order:
            order = list(rng.permutation(len(data)))
        cam, target = data[order.pop()]
        img = _render(params, cam, dev, bg)
        loss = (img - target).abs().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    out = cloud.copy()
    with torch.no_grad():
        out.means = params["means"].detach().cpu().numpy().astype(np.float32)
        out.scales = params["scales"].detach().cpu().numpy().astype(np.float32)
        q = params["quats"].detach().cpu().numpy().astype(np.float32)
        out.quats = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
        out.opacities = params["opacities"].detach().cpu().numpy().astype(np.float32)
        out.sh0 = params["sh0"].detach().cpu().numpy().astype(np.float32)
    out.meta["refinement"] = {"steps": steps, "size": size, "device": dev}
    return out
