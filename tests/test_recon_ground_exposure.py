"""Ground plane fill of empty depth (generators.reconstruct.ground), the ground-normal plane
sweep, per-photo exposure (learnt by the optimiser, predicted from EXIF for held-out
photos) and the EXIF orientation record of photo intake."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from generators.reconstruct.exposure import apply_affine, predict_affine, view_affines
from generators.reconstruct.ground import fill_ground_depth, fit_ground_plane, plane_depth
from generators.reconstruct.synthetic import render, room_scene
from scene.camera import Camera


def _floor_view(w: int = 96, h: int = 72) -> tuple[Camera, np.ndarray, np.ndarray]:
    """A camera 1.2 above the room's floor (y = 0) looking at the back wall and the box:
    (camera, true depth, world points)."""
    cam = Camera.look_at(np.array([0.3, 1.2, 2.2]), np.array([0.0, 0.4, -1.5]), 55, w, h)
    _, depth = render(room_scene(), cam, 1)
    v, u = np.mgrid[0:h, 0:w] + 0.5
    xc = np.stack([(u - cam.cx) / cam.fx * depth, (v - cam.cy) / cam.fy * depth, depth], -1)
    return cam, depth.astype(np.float32), (xc - cam.t) @ cam.R


def test_ground_plane_is_found_among_walls_and_outliers() -> None:
    rng = np.random.default_rng(0)
    floor = np.c_[rng.uniform(-2, 2, 3000), rng.normal(0, 0.003, 3000), rng.uniform(-2, 2, 3000)]
    wall = np.c_[rng.uniform(-2, 2, 4000), rng.uniform(0, 2.5, 4000), np.full(4000, -2.0)]
    junk = rng.uniform(-2, 2, (500, 3))
    cams = np.array([[0.0, 1.5, 1.0], [1.0, 1.6, 1.5]])
    plane = fit_ground_plane(np.r_[floor, wall, junk], np.array([0.05, 1.0, 0.0]), cams, tol=0.02)
    assert plane is not None
    assert plane.normal[1] > 0.999 and abs(plane.d) < 0.01
    # no floor below the cameras: no plane (a wall is not ground)
    assert (
        fit_ground_plane(np.r_[wall, junk[:50]], np.array([0.0, 1.0, 0.0]), cams, tol=0.02) is None
    )


def test_empty_floor_pixels_get_the_floor_depth_and_facade_holes_stay_empty() -> None:
    cam, depth, world = _floor_view()
    on_floor = (depth > 0) & (np.abs(world[..., 1]) < 1e-3)
    assert on_floor.mean() > 0.2
    d = depth.copy()
    rng = np.random.default_rng(1)
    d[on_floor & (rng.random(d.shape) > 0.1)] = 0.0  # stereo found 10 % of the floor
    wall = (depth > 0) & (np.abs(world[..., 2] + 2.0) < 1e-3) & (world[..., 1] > 1.0)
    hole = np.zeros_like(wall)
    ys, xs = np.nonzero(wall)
    cy, cx = int(np.median(ys)), int(np.median(xs))
    hole[cy - 3 : cy + 4, cx - 3 : cx + 4] = True
    hole &= wall
    d[hole] = 0.0  # a window hole in the back wall
    plane = fit_ground_plane(
        world[on_floor][::3], np.array([0.0, 1.0, 0.0]), cam.position[None], tol=0.01
    )
    assert plane is not None
    fill = fill_ground_depth(d, cam, plane)
    zp = plane_depth(cam, plane, d.shape)
    assert fill[on_floor & (d == 0)].mean() > 0.8  # most of the floor comes back ...
    assert np.abs(zp[fill & on_floor] - depth[fill & on_floor]).max() < 0.01 * depth.max()
    assert not fill[hole].any()  # ... the wall's hole does not become floor
    assert not fill[d > 0].any()  # known depth on the plane is kept
    # no floor depth at all in the view: the plane grows only from where the walls and
    # the box meet the floor (their depth is on the plane), not over the whole floor
    none = depth.copy()
    none[on_floor] = 0.0
    assert fill_ground_depth(none, cam, plane)[on_floor].mean() < 0.4  # measured 0.29


def test_ground_sweep_recovers_the_floor_that_fronto_parallel_planes_miss() -> None:
    from generators.reconstruct.dense import plane_sweep

    w, h = 96, 72
    quads = room_scene()
    ref = Camera.look_at(np.array([0.0, 0.6, 2.0]), np.array([0.0, 0.0, 0.2]), 55, w, h)
    srcs = []
    for dx in (-0.25, 0.25):
        c = Camera.look_at(np.array([dx, 0.6, 2.0]), np.array([dx, 0.0, 0.2]), 55, w, h)
        img, _ = render(quads, c, 2)
        srcs.append((img.astype(np.float32).mean(-1) / 255.0, c))
    img, depth = render(quads, ref, 2)
    grey = img.astype(np.float32).mean(-1) / 255.0
    down = ref.R @ np.array([0.0, -1.0, 0.0])
    gd, gs = plane_sweep(grey, ref, srcs, 0.2, 2.0, planes=48, normal=down)
    fd, fs = plane_sweep(grey, ref, srcs, 0.5, 6.0, planes=48)
    band = (slice(h // 2, h - 6), slice(8, w - 8))  # floor in front of the camera
    good = lambda d, s: (
        (s[band] > 0.5) & (np.abs(d[band] - depth[band]) < 0.03 * depth[band])
    ).mean()
    print(
        f"floor pixels within 3 %: ground sweep {good(gd, gs):.2f}, "
        f"fronto-parallel {good(fd, fs):.2f}"
    )
    assert good(gd, gs) > 0.6 and good(gd, gs) > good(fd, fs) + 0.1


def test_held_out_exposure_is_predicted_from_exif_alone() -> None:
    ev = {f"p{i}": float(e) for i, e in enumerate([-2.0, -1.5, -1.0, -0.5, 0.0])}
    # learnt gains follow the exposure: 2^(0.45 ev) per channel, biases 0.01
    learnt = {
        n: [*(2 ** (0.45 * e) * np.array([1.0, 0.98, 1.02])), 0.01, 0.01, 0.01]
        for n, e in ev.items()
        if n != "p2"
    }
    aff, how = predict_affine(learnt, ev, "p2")
    truth = 2 ** (0.45 * -1.0) * np.array([1.0, 0.98, 1.02])
    assert how == "exif" and np.allclose(aff[:3], truth, rtol=1e-6) and np.allclose(aff[3:], 0.01)
    aff, how = predict_affine(learnt, {**ev, "p2": None}, "p2")  # no EXIF: the mean
    assert how == "mean" and np.allclose(
        aff[:3], np.exp(np.log([v[:3] for v in learnt.values()]).mean(0))
    )
    assert predict_affine({}, ev, "p2") == ([1.0, 1.0, 1.0, 0.0, 0.0, 0.0], "none")
    rep = {"refinement": {"exposure": learnt, "exif_exposure": ev}}
    got = view_affines(rep, ["p0", "p2"])
    assert got["p0"][1] == "learnt" and got["p2"][1] == "exif"
    assert view_affines({"refinement": {}}, ["p0"]) == {}
    img = np.full((2, 2, 3), 100, np.uint8)
    assert (apply_affine(img, [2.0, 1.0, 0.5, 0.0, 0.1, 0.0]) == [200, 126, 50]).all()


@pytest.mark.slow
def test_optimiser_learns_a_brighter_photos_exposure() -> None:
    pytest.importorskip("torch", reason="PyTorch is optional (torch extra)")
    pytest.importorskip("gsplat", reason="gsplat is optional (cuda extra)")
    from generators.reconstruct.optimize import SHORT_RUN_RATES, OptimizeOptions, optimize_cloud
    from generators.reconstruct.synthetic import orbit_cameras
    from scene.gaussians import GaussianCloud

    quads = room_scene()
    cams = orbit_cameras(6, 64, 48, seed=3)
    views, pts, cols = [], [], []
    for i, cam in enumerate(cams):
        img, depth = render(quads, cam, 2)
        v, u = np.mgrid[0:48:2, 0:64:2]
        z = depth[v, u]
        ok = z > 0
        xc = np.stack([(u + 0.5 - cam.cx) / cam.fx * z, (v + 0.5 - cam.cy) / cam.fy * z, z], -1)[ok]
        pts.append((xc - cam.t) @ cam.R)
        cols.append(img[v, u][ok] / 255.0)
        if i == 2:  # one photo 30 % brighter (auto exposure)
            img = np.clip(img.astype(np.float32) * 1.3, 0, 255).astype(np.uint8)
        views.append((cam, img))
    cloud = GaussianCloud.from_points(np.concatenate(pts), np.concatenate(cols), 0.03, opacity=0.8)
    opts = dict(steps=60, size=0, sh_degree=0, densify=False, **SHORT_RUN_RATES)
    out_e, rep_e = optimize_cloud(cloud, views, OptimizeOptions(exposure=True, **opts))
    _, rep_0 = optimize_cloud(cloud, views, OptimizeOptions(exposure=False, **opts))
    gains = {n: np.mean(v[:3]) for n, v in rep_e.exposure.items()}
    others = np.mean([g for n, g in gains.items() if n != cams[2].name])
    print(
        f"gain of the bright photo {gains[cams[2].name]:.3f}, others {others:.3f}; training PSNR "
        f"{rep_0.psnr_after:.2f} dB without, {rep_e.psnr_after:.2f} dB with exposure"
    )
    assert len(rep_e.exposure) == 6 and rep_0.exposure == {}
    assert gains[cams[2].name] > others * 1.1  # measured 1.138 vs 1.004 (60 steps)
    assert rep_e.psnr_after > rep_0.psnr_after


def test_intake_records_the_exif_orientation(tmp_path: Path) -> None:
    from PIL import Image

    from generators.reconstruct.photos import ingest_photos

    rng = np.random.default_rng(0)
    paths = []
    for i, orient in enumerate((1, 6)):
        im = Image.fromarray(rng.integers(0, 255, (60, 80, 3), np.uint8))
        ex = Image.Exif()
        ex[0x0112] = orient
        p = tmp_path / f"p{i}.jpg"
        im.save(p, exif=ex.tobytes())
        paths.append(p)
    photos, _ = ingest_photos(paths, tmp_path / "work", 1600)
    by = {p.name: p for p in photos}
    assert by["p0.jpg"].orientation == 1 and by["p1.jpg"].orientation == 6
    assert by["p1.jpg"].orig_size == (60, 80)  # upright: turned 90°
    photos, _ = ingest_photos(paths, tmp_path / "work2", 1600, upright=False)
    assert all(p.orientation == 1 for p in photos)


def test_anisotropy_cap_shortens_needles_and_keeps_discs() -> None:
    torch = pytest.importorskip("torch", reason="PyTorch is optional (torch extra)")
    from generators.reconstruct.optimize import _cap_anisotropy

    ls = torch.log(
        torch.tensor(
            [
                [0.01, 0.01, 1.0],  # needle
                [0.5, 0.5, 0.01],  # flat disc
                [0.1, 0.2, 0.3],
            ]
        )
    )  # blob
    before = ls.clone()
    assert _cap_anisotropy(ls, 10.0) == 1
    assert torch.allclose(ls[0].exp(), torch.tensor([0.01, 0.01, 0.1]))
    assert torch.equal(ls[1:], before[1:])


def test_angular_cap_bounds_splats_by_distance_to_nearest_camera() -> None:
    torch = pytest.importorskip("torch", reason="PyTorch is optional (torch extra)")
    from generators.reconstruct.optimize import _cap_angular

    centres = torch.tensor([[0.0, 0.0, 0.0], [10.0, 0.0, 0.0]])
    means = torch.tensor([[0.0, 0.0, 20.0], [10.0, 0.0, 2.0], [0.0, 0.0, 4.0]])
    ls = torch.log(
        torch.tensor(
            [
                [30.0, 0.1, 0.1],  # a sheet 20 m from the first camera: 0.25 x 20 = 5 m at most
                [0.1, 0.2, 0.3],  # small beside the second camera: untouched
                [0.5, 0.5, 2.0],  # 4 m away: its long axis to 1 m
            ]
        )
    )
    before = ls.clone()
    assert _cap_angular(means, ls, centres, 0.25) == 2
    assert torch.allclose(ls[0].exp(), torch.tensor([5.0, 0.1, 0.1]), rtol=1e-5)
    assert torch.equal(ls[1], before[1])
    assert torch.allclose(ls[2].exp(), torch.tensor([0.5, 0.5, 1.0]), rtol=1e-5)
