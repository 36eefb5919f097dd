"""Objects: space carving from Zero123++-layout views of a KNOWN synthetic object."""

from __future__ import annotations

import numpy as np
import pytest

from generators.objects.carve import (
    carve,
    carve_to_object,
    iou,
    silhouette_against_background,
    split_grid,
    zero123pp_cameras,
)

BOX_LO, BOX_HI = np.array([-0.55, -0.6, -0.45]), np.array([0.55, 0.0, 0.45])
SPHERE_C, SPHERE_R = np.array([0.0, 0.35, 0.0]), 0.42
RED, GREEN, GRAY = np.array([0.8, 0.1, 0.1]), np.array([0.1, 0.7, 0.2]), np.array([0.5, 0.5, 0.5])


def inside(p: np.ndarray) -> np.ndarray:
    in_box = np.all((p >= BOX_LO) & (p <= BOX_HI), axis=1)
    return in_box | (np.linalg.norm(p - SPHERE_C, axis=1) <= SPHERE_R)


def render(cam) -> np.ndarray:
    """Ray-cast the box + sphere: red box, green sphere, on a gray background, (S, S, 3)."""
    d = cam.pixel_rays().reshape(-1, 3)
    o = cam.position
    with np.errstate(divide="ignore", invalid="ignore"):
        t1, t2 = (BOX_LO - o) / d, (BOX_HI - o) / d
    tn = np.nanmax(np.minimum(t1, t2), axis=1)
    tf = np.nanmin(np.maximum(t1, t2), axis=1)
    t_box = np.where((tn <= tf) & (tf > 0), tn, np.inf)
    oc = o - SPHERE_C
    b = d @ oc
    disc = b * b - (oc @ oc - SPHERE_R**2)
    t_sph = np.where(disc >= 0, -b - np.sqrt(np.maximum(disc, 0)), np.inf)
    img = np.tile(GRAY, (len(d), 1))
    img[t_box < t_sph] = RED
    img[(t_sph < t_box) & np.isfinite(t_sph)] = GREEN
    return img.reshape(cam.height, cam.width, 3).astype(np.float32)


@pytest.fixture(scope="module")
def views():
    cams = zero123pp_cameras(size=128)
    return [render(c) for c in cams], cams


def test_grid_layout_roundtrip() -> None:
    grid = np.arange(960 * 640).reshape(960, 640)
    tiles = split_grid(grid)
    assert len(tiles) == 6 and all(t.shape == (320, 320) for t in tiles)
    assert tiles[1][0, 0] == 320 and tiles[2][0, 0] == 320 * 640
    with pytest.raises(ValueError, match="grid"):
        split_grid(np.zeros((100, 640)))


def test_cameras_follow_zero123pp_layout() -> None:
    cams = zero123pp_cameras()
    assert len(cams) == 6 and cams[0].width == 320 and abs(cams[0].fov_y_deg - 30) < 1e-6
    elev = [np.degrees(np.arcsin(c.position[1] / np.linalg.norm(c.position))) for c in cams]
    assert np.allclose(elev, [20, -10, 20, -10, 20, -10])
    az = [np.degrees(np.arctan2(c.position[0], c.position[2])) % 360 for c in cams]
    assert np.allclose(az, [30, 90, 150, 210, 270, 330])
    for c in cams:  # all look at the origin
        uv, _ = c.project(np.zeros((1, 3)))
        assert np.allclose(uv, 160, atol=1e-6)


@pytest.mark.slow
def test_carved_volume_matches_the_object(views) -> None:
    imgs, cams = views
    masks = [silhouette_against_background(v) for v in imgs]
    res = carve(masks, cams, resolution=80)
    ijk = np.argwhere(np.ones(res.occ.shape, bool))
    truth = inside(res.centres(ijk)).reshape(res.occ.shape)
    score = iou(res.occ, truth)
    assert score >= 0.8, score
    # the hull contains the object (up to voxelisation at the border)
    assert (truth & ~res.occ).sum() < 0.03 * truth.sum()


@pytest.mark.slow
def test_carved_object_colours(views) -> None:
    imgs, cams = views
    masks = [silhouette_against_background(v) for v in imgs]
    cloud, mesh = carve_to_object(carve(masks, cams, resolution=64), imgs, cams)
    c = cloud.base_colors()
    top = cloud.means[:, 1] > 0.55  # only the sphere is up there
    low = cloud.means[:, 1] < -0.3  # only the box is down there
    assert c[top, 1].mean() > 0.5 and c[top, 0].mean() < 0.3
    assert c[low, 0].mean() > 0.5 and c[low, 1].mean() < 0.35
    import trimesh

    tm = trimesh.Trimesh(mesh.vertices, mesh.faces, process=False)
    assert tm.is_watertight and tm.volume > 0


def test_empty_or_disagreeing_views_fail_clearly(views) -> None:
    imgs, cams = views
    masks = [silhouette_against_background(v) for v in imgs]
    with pytest.raises(ValueError, match="no object"):
        carve([np.zeros_like(masks[0])] + masks[1:], cams)
    shifted = [np.zeros_like(m) for m in masks]
    shifted[0][:10, :10] = True
    for m in shifted[1:]:
        m[-10:, -10:] = True
    with pytest.raises(ValueError, match="nothing carved"):
        carve(shifted, cams)
