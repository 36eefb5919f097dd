"""Object-mesh smoothing: trimesh Taubin + fast_simplification (Wander's method) vs the
former pyvista/VTK windowed-sinc + decimate (run when pyvista is installed).

A disk silhouette inflated with depth 1 is an exact sphere (h = sqrt(R² - r²)), so the
error of each method is measurable: RMS and max of |‖p - c‖ - R| / R over the vertices,
plus time and face count. Also the raw marching-cubes mesh for reference.

    python bench/inflate_smoothing.py [--resolution 96]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generators.objects import inflate  # noqa: E402
from generators.objects.segment_classical import Segmentation  # noqa: E402


def normal_error_deg(pts: np.ndarray, faces: np.ndarray) -> float:
    """Mean angle between each face normal and the sphere's radial direction (staircase)."""
    c = 0.5 * (pts.min(0) + pts.max(0))
    a, b, d = pts[faces[:, 0]], pts[faces[:, 1]], pts[faces[:, 2]]
    nrm = np.cross(b - a, d - a)
    nrm /= np.linalg.norm(nrm, axis=1, keepdims=True) + 1e-30
    rad = (a + b + d) / 3 - c
    rad /= np.linalg.norm(rad, axis=1, keepdims=True) + 1e-30
    return float(np.degrees(np.arccos(np.clip(np.abs((nrm * rad).sum(1)), 0, 1))).mean())


def sphere_error(pts: np.ndarray) -> tuple[float, float]:
    c = 0.5 * (pts.min(0) + pts.max(0))
    r_true = 0.5 * float(pts[:, 1].max() - pts[:, 1].min())  # the height spans the diameter
    d = np.linalg.norm(pts - c, axis=1)
    r_fit = float(np.median(d))
    e = np.abs(d - r_fit) / r_fit
    return float(np.sqrt((e**2).mean())), abs(r_fit - r_true) / r_true


def pyvista_smooth_decimate(pts: np.ndarray, faces: np.ndarray, target: int):  # noqa: ANN201
    """The method Wander used before: VTK windowed-sinc smoothing + quadric decimation."""
    import pyvista as pv

    cells = np.hstack([np.full((len(faces), 1), 3), faces]).ravel()
    surf = pv.PolyData(pts.astype(np.float64), cells)
    surf = surf.smooth_taubin(n_iter=20, pass_band=0.1)
    if target and surf.n_cells > target:
        surf = surf.decimate(1.0 - target / surf.n_cells, volume_preservation=True)
    surf = surf.clean().triangulate()
    return np.asarray(surf.points, np.float32), surf.faces.reshape(-1, 4)[:, 1:].astype(np.int64)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--resolution", type=int, default=96)
    a = ap.parse_args()
    n = 400
    yy, xx = np.mgrid[:n, :n]
    mask = (xx - n / 2 + 0.5) ** 2 + (yy - n / 2 + 0.5) ** 2 <= (0.4 * n) ** 2
    ys, xs = np.nonzero(mask)
    seg = Segmentation(
        np.full((n, n, 3), 128, np.uint8),
        mask.astype(np.float32),
        mask,
        (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1),
    )
    rows = []
    orig = inflate._smooth_decimate
    for method in ("raw", "trimesh", "pyvista"):
        opts = inflate.InflateOptions(depth=1.0, mesh_resolution=a.resolution)
        if method == "raw":
            inflate._smooth_decimate = lambda p, f, t: (p, f)  # noqa: E731
        elif method == "pyvista":
            inflate._smooth_decimate = pyvista_smooth_decimate
        try:
            rel = inflate.relief_from_segmentation(seg, opts)
            t0 = time.perf_counter()
            mesh = inflate.relief_to_mesh(rel, opts)
            dt = time.perf_counter() - t0
        except ImportError as exc:
            print(f"{method}: not available ({exc})")
            continue
        finally:
            inflate._smooth_decimate = orig
        rms, radius = sphere_error(mesh.vertices.astype(np.float64))
        ang = normal_error_deg(mesh.vertices.astype(np.float64), mesh.faces)
        rows.append((method, rms, radius, ang, len(mesh.faces), dt))
    print(
        f"{'method':8s} {'RMS radial err':>15s} {'radius err':>11s} {'normal err':>11s} "
        f"{'faces':>7s} {'time s':>7s}"
    )
    for m, rms, rad, ang, nf, dt in rows:
        print(f"{m:8s} {100 * rms:14.3f}% {100 * rad:10.3f}% {ang:9.2f}° {nf:7d} {dt:7.2f}")
    base = {m: r for m, *r in rows}
    if "trimesh" in base and "pyvista" in base:
        print(
            f"trimesh/pyvista ratios: RMS radial {base['trimesh'][0] / base['pyvista'][0]:.2f}, "
            f"normal error {base['trimesh'][2] / base['pyvista'][2]:.2f}, "
            f"time {base['trimesh'][4] / base['pyvista'][4]:.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
