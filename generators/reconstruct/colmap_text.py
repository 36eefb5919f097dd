"""Write cameras as a COLMAP text model (cameras.txt, images.txt, points3D.txt).

PINHOLE cameras (the dense stage removed any distortion), one camera per image, image
names as the user's photo files, 2D observations from projecting the sparse points, so
pycolmap and every 3DGS tool read the model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from scene.camera import Camera


def write_colmap_text(folder: Path, cams: list[Camera], points: np.ndarray, colors: np.ndarray,
                      visible: list[np.ndarray] | None = None) -> None:
    """Write the model into `folder` (created). `visible[i]`: point indices seen by cams[i]."""
    folder.mkdir(parents=True, exist_ok=True)
    points = np.asarray(points, np.float64).reshape(-1, 3)
    colors = np.asarray(colors, np.uint8).reshape(-1, 3)
    tracks: list[list[tuple[int, int]]] = [[] for _ in range(len(points))]
    cam_lines = ["# Camera list with one line of data per camera:",
                 "#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]", f"# Number of cameras: {len(cams)}"]
    img_lines = ["# Image list with two lines of data per image:",
                 "#   IMAGE_ID, QW, QX, QY, QZ, TX, TY, TZ, CAMERA_ID, NAME",
                 "#   POINTS2D[] as (X, Y, POINT3D_ID)", f"# Number of images: {len(cams)}"]
    for i, c in enumerate(cams, start=1):
        cam_lines.append(f"{i} PINHOLE {c.width} {c.height} " + _nums([c.fx, c.fy, c.cx, c.cy]))
        q = Rotation.from_matrix(np.asarray(c.R, np.float64)).as_quat(scalar_first=True)
        img_lines.append(f"{i} " + _nums([*q, *c.t]) + f" {i} {c.name}")
        obs = []
        if visible is not None and len(points):
            vis = np.asarray(visible[i - 1], np.int64)
            if len(vis):
                uv, z = c.project(points[vis])
                ok = (z > 0) & (uv[:, 0] >= 0) & (uv[:, 0] < c.width) & (uv[:, 1] >= 0) & (uv[:, 1] < c.height)
                for k, (pid, (u, v)) in enumerate(zip(vis[ok], uv[ok])):
                    obs.append(f"{u:.3f} {v:.3f} {pid + 1}")
                    tracks[pid].append((i, k))
        img_lines.append(" ".join(obs))
    pt_lines = ["# 3D point list with one line of data per point:",
                "#   POINT3D_ID, X, Y, Z, R, G, B, ERROR, TRACK[] as (IMAGE_ID, POINT2D_IDX)",
                f"# Number of points: {sum(1 for t in tracks if t)}"]
    for pid, (p, col) in enumerate(zip(points, colors)):
        if not tracks[pid]:
            continue  # COLMAP drops track-less points
        tr = " ".join(f"{a} {b}" for a, b in tracks[pid])
        pt_lines.append(f"{pid + 1} " + _nums(p) + f" {col[0]} {col[1]} {col[2]} 0 {tr}")
    for name, lines in (("cameras.txt", cam_lines), ("images.txt", img_lines), ("points3D.txt", pt_lines)):
        (folder / name).write_text("\n".join(lines) + "\n")


def _nums(vals) -> str:  # noqa: ANN001
    return " ".join(f"{float(v):.17g}" for v in vals)
