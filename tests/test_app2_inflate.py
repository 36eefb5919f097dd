"""Object-mesh smoothing without pyvista: trimesh Taubin + quadric decimation on a shape
whose true surface is known (a disk silhouette inflated with depth 1 is a sphere)."""

from __future__ import annotations

import sys

import numpy as np

from generators.objects import inflate
from generators.objects.segment_classical import Segmentation


def _sphere_relief(n: int = 160):  # noqa: ANN202
    yy, xx = np.mgrid[:n, :n]
    mask = (xx - n / 2 + 0.5) ** 2 + (yy - n / 2 + 0.5) ** 2 <= (0.4 * n) ** 2
    ys, xs = np.nonzero(mask)
    seg = Segmentation(
        np.full((n, n, 3), 128, np.uint8),
        mask.astype(np.float32),
        mask,
        (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1),
    )
    opts = inflate.InflateOptions(depth=1.0, mesh_resolution=64, mesh_faces=4000)
    return inflate.relief_from_segmentation(seg, opts), opts


def _normal_error_deg(pts: np.ndarray, faces: np.ndarray) -> float:
    c = 0.5 * (pts.min(0) + pts.max(0))
    a, b, d = pts[faces[:, 0]], pts[faces[:, 1]], pts[faces[:, 2]]
    nrm = np.cross(b - a, d - a)
    nrm /= np.linalg.norm(nrm, axis=1, keepdims=True) + 1e-30
    rad = (a + b + d) / 3 - c
    rad /= np.linalg.norm(rad, axis=1, keepdims=True) + 1e-30
    return float(np.degrees(np.arccos(np.clip(np.abs((nrm * rad).sum(1)), 0, 1))).mean())


def test_smoothing_needs_no_pyvista_and_beats_the_raw_mesh(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setitem(sys.modules, "pyvista", None)  # import pyvista -> ImportError
    rel, opts = _sphere_relief()
    raw = {}
    orig = inflate._smooth_decimate

    def spy(p, f, t):  # noqa: ANN001, ANN202
        raw["pts"], raw["faces"] = p.astype(np.float64), f
        return orig(p, f, t)

    monkeypatch.setattr(inflate, "_smooth_decimate", spy)
    mesh = inflate.relief_to_mesh(rel, opts)
    assert len(mesh.faces) <= 1.05 * opts.mesh_faces < len(raw["faces"])  # decimated
    e_raw = _normal_error_deg(raw["pts"], raw["faces"])
    e_new = _normal_error_deg(mesh.vertices.astype(np.float64), mesh.faces)
    assert e_new < 0.9 * e_raw  # the staircase is smoothed away, even after decimation
    # ...without shrinking: the radius stays within 2 % of the raw mesh's
    r = lambda p: np.median(np.linalg.norm(p - 0.5 * (p.min(0) + p.max(0)), axis=1))  # noqa: E731
    assert abs(r(mesh.vertices.astype(np.float64)) / r(raw["pts"]) - 1) < 0.02
    assert mesh.vertex_colors.shape == (len(mesh.vertices), 3)


def test_without_decimation_backend_the_full_mesh_is_kept(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setitem(sys.modules, "fast_simplification", None)
    rel, opts = _sphere_relief(120)
    mesh = inflate.relief_to_mesh(rel, opts)
    assert len(mesh.faces) > opts.mesh_faces and np.isfinite(mesh.vertices).all()
