"""Building blocks of the reconstruction: similarity alignment, the Wander frame, COLMAP
text output, plane-sweep depth with exact cameras, fusion and Gaussian initialisation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from generators.reconstruct import align
from generators.reconstruct.synthetic import orbit_cameras, render, room_scene


def _rand_rot(seed: int) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    return Rotation.random(random_state=seed).as_matrix()


def test_umeyama_recovers_a_similarity() -> None:
    rng = np.random.default_rng(0)
    src = rng.normal(size=(20, 3))
    r, s, t = _rand_rot(1), 2.5, np.array([1.0, -2.0, 0.5])
    dst = s * src @ r.T + t
    s2, r2, t2 = align.umeyama(src, dst)
    assert abs(s2 - s) < 1e-9 and np.allclose(r2, r) and np.allclose(t2, t)
    with pytest.raises(ValueError):
        align.umeyama(src[:2], dst[:2])


def test_align_cameras_and_transform_camera_roundtrip() -> None:
    cams = orbit_cameras(6, 64, 48)
    r, s, t = _rand_rot(2), 0.3, np.array([0.2, 0.1, -4.0])
    moved = [align.transform_camera(c, s, r, t) for c in cams]
    pts = np.random.default_rng(1).normal(size=(5, 3))
    for c, m in zip(cams, moved):  # the same pixels see the transformed points
        np.testing.assert_allclose(c.project(pts)[0], m.project(s * pts @ r.T + t)[0], atol=1e-8)
    s2, r2, t2 = align.align_cameras(cams, moved)
    assert abs(s2 - s) < 1e-9 and align.rotation_error_deg(r2, r) < 1e-6


def test_wander_frame_puts_up_on_plus_y() -> None:
    cams = orbit_cameras(6, 64, 48)  # upright: up = +Y
    r0, s0, t0 = _rand_rot(3), 7.0, np.array([5.0, 1.0, 2.0])
    tilted = [align.transform_camera(c, s0, r0, t0) for c in cams]
    pts = s0 * np.random.default_rng(2).uniform(-2, 2, (200, 3)) @ r0.T + t0
    s, r, t = align.wander_frame(tilted, pts, target_depth=2.0)
    back = [align.transform_camera(c, s, r, t) for c in tilted]
    for c in back:
        assert c.up[1] > 0.9
    assert np.allclose(np.mean([c.position for c in back], 0), 0, atol=1e-9)
    fwd = np.mean([c.forward for c in back], 0)
    assert fwd[2] < 0 and abs(fwd[0]) < 1e-6  # looking along -Z on average


def test_colmap_text_is_read_by_pycolmap(tmp_path: Path) -> None:
    import pycolmap

    from generators.reconstruct.colmap_text import write_colmap_text

    cams = orbit_cameras(3, 64, 48)
    pts = np.random.default_rng(0).uniform(-1, 1, (30, 3)) + [-0.3, 0.7, -1.0]
    write_colmap_text(tmp_path, cams, pts, np.full((30, 3), 200, np.uint8), [np.arange(30)] * 3)
    rec = pycolmap.Reconstruction(str(tmp_path))
    assert rec.num_reg_images() == 3 and rec.num_points3D() > 0
    for c in cams:
        im = next(i for i in rec.images.values() if i.name == c.name)
        np.testing.assert_allclose(im.cam_from_world().rotation.matrix(), c.R, atol=1e-9)
        np.testing.assert_allclose(im.cam_from_world().translation, c.t, atol=1e-9)
        cam = rec.cameras[im.camera_id]
        np.testing.assert_allclose(cam.params, [c.fx, c.fy, c.cx, c.cy])


def test_plane_sweep_depth_with_exact_cameras() -> None:
    import cv2

    from generators.reconstruct.dense import plane_sweep

    quads = room_scene()
    cams = orbit_cameras(5, 200, 150, seed=8, spread_deg=30)
    views = [render(quads, c) for c in cams]
    grey = [cv2.cvtColor(v[0], cv2.COLOR_RGB2GRAY).astype(np.float32) / 255 for v in views]
    gt = views[2][1]
    depth, score = plane_sweep(
        grey[2],
        cams[2],
        [(grey[i], cams[i]) for i in (0, 1, 3, 4)],
        near=gt[gt > 0].min() * 0.7,
        far=gt.max() * 1.3,
        planes=64,
    )
    m = (depth > 0) & (score > 0.5) & (gt > 0)
    assert m.mean() > 0.6
    err = np.abs(depth[m] - gt[m]) / gt[m]
    assert np.median(err) < 0.02


def test_normal_quats_and_gaussians_are_flat_disks() -> None:
    from generators.reconstruct.fuse import normal_quats, points_to_gaussians
    from scene.rotations import quats_to_matrices

    rng = np.random.default_rng(0)
    n = rng.normal(size=(50, 3))
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    rot = quats_to_matrices(normal_quats(n))
    np.testing.assert_allclose(rot[:, :, 2], n, atol=1e-5)  # local z = normal
    xy = rng.uniform(-1, 1, (400, 2))
    pts = np.c_[xy[:, 0], np.zeros(400), xy[:, 1]].astype(np.float32)  # a floor
    normals = np.tile([0.0, 1.0, 0.0], (400, 1)).astype(np.float32)
    g = points_to_gaussians(pts, np.full((400, 3), 0.5, np.float32), normals)
    cov = g.covariances()
    assert (cov[:, 1, 1] < 0.05 * cov[:, 0, 0]).all()  # thin along the normal
    assert np.allclose(g.base_colors(), 0.5, atol=1e-3) and g.sh_degree == 0


def test_ingest_reports_skips(tmp_path: Path) -> None:
    import cv2

    from generators.reconstruct.photos import ingest_photos, list_photos

    img = (np.random.default_rng(0).uniform(0, 255, (120, 160, 3))).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "a.png"), img)
    cv2.imwrite(str(tmp_path / "b.jpg"), img[::-1].copy(), [cv2.IMWRITE_JPEG_QUALITY, 95])
    cv2.imwrite(str(tmp_path / "tiny.png"), img[:20, :20])
    cv2.imwrite(str(tmp_path / "dup.png"), img)
    (tmp_path / "x.jpg").write_bytes(b"garbage")
    (tmp_path / "readme.txt").write_text("not a photo")
    photos, status = ingest_photos(list_photos(tmp_path), tmp_path / "work", max_size=100)
    assert [p.name for p in photos] == ["a.png", "b.jpg"]
    assert photos[0].size == (100, 75) and photos[0].orig_size == (160, 120)
    assert "too small" in status["tiny.png"] and "duplicate of a.png" in status["dup.png"]
    assert "not a readable image" in status["x.jpg"] and "readme.txt" not in status
    with pytest.raises(ValueError, match="at least 2 usable"):
        ingest_photos([tmp_path / "a.png", tmp_path / "x.jpg"], tmp_path / "w2")


def test_floor_level() -> None:
    rng = np.random.default_rng(0)
    floor = np.c_[rng.uniform(-2, 2, 3000), np.full(3000, -0.7), rng.uniform(-2, 2, 3000)]
    wall = np.c_[rng.uniform(-2, 2, 3000), rng.uniform(-0.7, 2.0, 3000), np.full(3000, -2.0)]
    table = np.c_[rng.uniform(-0.3, 0.3, 300), np.full(300, 0.1), rng.uniform(-0.3, 0.3, 300)]
    pts = np.vstack([floor, wall, table])
    nrm = np.vstack(
        [
            np.tile([0, 1.0, 0], (3000, 1)),
            np.tile([0, 0, 1.0], (3000, 1)),
            np.tile([0, 1.0, 0], (300, 1)),
        ]
    )
    assert abs(align.floor_level(pts, nrm, np.array([0.8, 0.9])) + 0.7) < 0.05
    assert align.floor_level(wall, np.tile([0, 0, 1.0], (3000, 1)), np.array([0.8])) is None
