"""Preview images of a reconstruction: the splats rendered from a viewpoint behind the
photo cameras, with each camera's frustum drawn as lines (no GL needed).

    python -m generators.reconstruct.preview --photos DIR --out docs/reconstruct-room.png
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

import numpy as np

from scene.camera import Camera
from scene.gaussians import GaussianCloud


def overview_camera(cams: Sequence[Camera], width: int = 960, height: int = 540,
                    back: float = 0.6, up: float = 0.9) -> Camera:
    """A camera behind and above the photo cameras, looking where they look."""
    centre = np.mean([c.position for c in cams], axis=0)
    fwd = np.mean([c.forward for c in cams], axis=0)
    fwd /= np.linalg.norm(fwd)
    spread = max(float(np.ptp(np.array([c.position for c in cams]), axis=0).max()), 1e-3)
    eye = centre - fwd * back * spread + np.array([0.0, up * spread, 0.0])
    return Camera.look_at(eye, centre + fwd * 1.6 * spread, 70, width, height)


def draw_frusta(img: np.ndarray, view: Camera, cams: Sequence[Camera], depth: float,
                color: tuple[int, int, int] = (255, 220, 40)) -> np.ndarray:
    """Draw each camera's frustum (apex + image rectangle at `depth`) into RGB `img`."""
    import cv2

    out = img.copy()
    for c in cams:
        corners = np.array([[0, 0], [c.width, 0], [c.width, c.height], [0, c.height]], np.float64)
        rays = np.stack([(corners[:, 0] - c.cx) / c.fx, (corners[:, 1] - c.cy) / c.fy, np.ones(4)], 1)
        pts = (rays * depth) @ c.R + c.position  # camera -> world
        allp = np.vstack([c.position, pts])
        uv, z = view.project(allp)
        if (z <= 1e-3).any():
            continue
        p = [tuple(int(round(v)) for v in q) for q in uv]
        for k in range(4):
            cv2.line(out, p[0], p[k + 1], color, 1, cv2.LINE_AA)
            cv2.line(out, p[k + 1], p[(k + 1) % 4 + 1], color, 1, cv2.LINE_AA)
        cv2.line(out, p[1], p[2], (255, 80, 80), 2, cv2.LINE_AA)  # top edge marks "up"
    return out


def preview(cloud: GaussianCloud, cams: Sequence[Camera], width: int = 960, height: int = 540) -> np.ndarray:
    """(H, W, 3) uint8 overview render with frusta."""
    from generators.rasterize import render_cloud

    view = overview_camera(cams, width, height)
    img = render_cloud(cloud, view, background=(0.08, 0.08, 0.1))
    spread = max(float(np.ptp(np.array([c.position for c in cams]), axis=0).max()), 1e-3)
    return draw_frusta(img, view, cams, 0.1 * spread)


def main(argv: list[str] | None = None) -> int:
    import cv2

    from .photos import list_photos
    from .pipeline import ReconstructOptions, reconstruct

    p = argparse.ArgumentParser(description="reconstruct photos and save an overview image with frusta")
    p.add_argument("--photos", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--refine", type=int, default=0)
    a = p.parse_args(argv)
    res = reconstruct(list_photos(a.photos), ReconstructOptions(refine_steps=a.refine))
    img = preview(res.cloud, res.cameras)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(a.out), img[..., ::-1])
    print(f"{a.out}: {len(res.cloud)} splats, {len(res.cameras)} cameras")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
