"""Lens distortion end to end: reconstruct writes the lens the photos were taken with
(SIMPLE_RADIAL k1), every reader keeps it, and evaluate undistorts the stored photos
through it before comparing with the pinhole render."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

K1 = -0.15  # barrel, as a wide phone lens


def _texture(h: int, w: int, seed: int) -> np.ndarray:
    """(h, w, 3) uint8, smooth enough that bilinear resampling is near-exact."""
    import cv2

    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (h // 8 + 2, w // 8 + 2, 3)).astype(np.float32)
    img = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(cv2.GaussianBlur(img, (0, 0), 1.5), 0, 255).astype(np.uint8)


def _distort(img: np.ndarray, fx: float, fy: float, cx: float, cy: float, k1: float) -> np.ndarray:
    """The photo a SIMPLE_RADIAL lens (k1) takes of the pinhole image `img`: each stored
    pixel looks up the pinhole pixel of its undistorted ray (COLMAP's `cam_from_img`)."""
    import cv2
    import pycolmap

    h, w = img.shape[:2]
    cam = pycolmap.Camera(
        model="OPENCV", width=w, height=h, params=[fx, fy, cx, cy, k1, 0.0, 0.0, 0.0]
    )
    u, v = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    xy = np.asarray(cam.cam_from_img(np.stack([u, v], -1).reshape(-1, 2)), np.float64).reshape(
        h, w, 2
    )
    mx = (xy[..., 0] * fx + cx - 0.5).astype(np.float32)
    my = (xy[..., 1] * fy + cy - 0.5).astype(np.float32)
    return cv2.remap(img, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def _lens_scene(folder: Path, n: int = 3, w: int = 160, h: int = 120, k1: float = K1):
    """Cameras carrying k1, their pinhole renders, and the distorted photos on disk."""
    import cv2

    from scene.camera import Camera

    folder.mkdir(parents=True, exist_ok=True)
    cams, renders = [], {}
    for i in range(n):
        c = Camera.look_at((i, 0, 5), (0, 0, 0), 60, w, h)
        c.name = f"p{i}.png"
        c.meta["k1"] = k1
        truth = _texture(h, w, seed=i)
        photo = _distort(truth, c.fx, c.fy, c.cx, c.cy, k1)
        cv2.imwrite(str(folder / c.name), photo[..., ::-1])
        cams.append(c)
        renders[c.name] = truth
    return cams, renders


def _renderer(renders: dict[str, np.ndarray]):
    import cv2

    def render(c):  # noqa: ANN001, ANN202
        img = renders[c.name]
        if img.shape[:2] != (c.height, c.width):
            img = cv2.resize(img, (c.width, c.height), interpolation=cv2.INTER_AREA)
        return img, np.ones((c.height, c.width), np.float32)

    return render


def test_writer_picks_the_model_from_k1_and_pycolmap_reads_it_back(tmp_path: Path) -> None:
    import pycolmap

    from scene.camera import Camera
    from scene.io.colmap import read_colmap, write_colmap

    a = Camera.look_at((0, 0, 5), (0, 0, 0), 60, 160, 120)
    a.name, a.meta["k1"] = "a.png", K1
    b = Camera.look_at((1, 0, 5), (0, 0, 0), 60, 160, 120)
    b.name = "b c.png"  # a space: binary model
    for binary, names in ((False, ["a.png", "b.png"]), (None, ["a.png", "b c.png"])):
        a2, b2 = a.resized(160, 120), b.resized(160, 120)
        a2.name, b2.name = names
        out = tmp_path / f"m{binary}"
        write_colmap(out, [a2, b2], binary=binary)
        rec = pycolmap.Reconstruction(str(out))
        by = {im.name: rec.cameras[im.camera_id] for im in rec.images.values()}
        ca, cb = by[names[0]], by[names[1]]
        assert ca.model.name == "SIMPLE_RADIAL" and cb.model.name == "PINHOLE"
        assert np.allclose(ca.params, [a.fx, a.cx, a.cy, K1])
        cams = {c.name: c for c in read_colmap(out)[0]}
        assert cams[names[0]].meta["colmap_model"] == "SIMPLE_RADIAL"
        assert cams[names[0]].meta["k1"] == pytest.approx(K1)
        assert "k1" not in cams[names[1]].meta
    bad = a.resized(160, 120)
    bad.meta["k1"] = float("nan")
    with pytest.raises(ValueError, match="k1"):
        write_colmap(tmp_path / "bad", [bad])


@pytest.mark.parametrize("k1", [K1, -K1])
def test_evaluate_undistorts_photos_through_the_lens(tmp_path: Path, k1: float) -> None:
    from generators.reconstruct.evaluate import evaluate_views
    from scene.io.colmap import read_colmap, write_colmap

    cams, renders = _lens_scene(tmp_path / "photos", k1=k1)
    write_colmap(tmp_path / "radial", cams)
    radial = read_colmap(tmp_path / "radial")[0]
    assert {c.meta["colmap_model"] for c in radial} == {"SIMPLE_RADIAL"}
    flat = [c.resized(c.width, c.height) for c in cams]
    for c in flat:
        c.meta.pop("k1")
    write_colmap(tmp_path / "pinhole", flat)
    pinhole = read_colmap(tmp_path / "pinhole")[0]

    good = evaluate_views(radial, tmp_path / "photos", _renderer(renders))
    old = evaluate_views(pinhole, tmp_path / "photos", _renderer(renders))
    g, o = good.means(), old.means()
    assert g["views"] == o["views"] == 3
    assert g["psnr"] > 32 and g["ssim"] > 0.97, g
    assert o["psnr"] < g["psnr"] - 10 and o["ssim"] < g["ssim"] - 0.1, (o, g)
    for v in good.views:
        assert v.lens == "SIMPLE_RADIAL" and v.coverage == 1.0  # coverage stays the render's
        if k1 > 0:  # pincushion removal leaves an empty border: out of the score, reported
            assert 0.7 < v.photo_coverage < 0.99
        else:  # barrel removal at the same focal length crops the photo: no border
            assert v.photo_coverage == 1.0
    assert all(v.photo_coverage == 1.0 and v.lens == "PINHOLE" for v in old.views)
    # downscaled evaluation: the lens is undone at full size, the mask follows the photo
    small = evaluate_views(radial, tmp_path / "photos", _renderer(renders), max_size=80)
    assert small.views[0].width == 80 and small.means()["psnr"] > 30
    # a camera that only carries meta k1 (no colmap params) is undone just as well
    bare = evaluate_views(cams, tmp_path / "photos", _renderer(renders))
    assert abs(bare.means()["psnr"] - g["psnr"]) < 0.5


def test_masked_ssim_ignores_pixels_outside_the_mask() -> None:
    from generators.reconstruct.evaluate import ssim

    a = _texture(60, 80, 1)
    b = a.copy()
    b[:, :20] = 255 - b[:, :20]
    m = np.ones((60, 80), bool)
    m[:, :32] = False  # the damaged columns and the SSIM window around them
    assert ssim(a, b, m) == pytest.approx(1.0, abs=1e-6)
    assert ssim(a, b) < 0.9
    assert ssim(a, b, np.ones((60, 80), bool)) == pytest.approx(ssim(a, b))


@pytest.mark.slow
def test_reconstruct_writes_simple_radial_cameras_with_its_k1(tmp_path: Path) -> None:
    """reconstruct --colmap with a SIMPLE_RADIAL model: the k1 the dense stage removed is
    the one the written cameras carry, at the photo size, readable by pycolmap; the
    viewer's cameras-beside rule reads them."""
    import pycolmap
    from test_recon_evaluate import _gt_model

    from generators.reconstruct.pipeline import ReconstructOptions, reconstruct, save_result
    from generators.reconstruct.synthetic import make_photo_set

    cams, _, depths = make_photo_set(tmp_path / "photos", 6, 160, 120, seed=5, supersample=1)
    for c in cams:
        c.meta["k1"] = -0.05
    _gt_model(tmp_path / "gt", cams, depths)
    assert pycolmap.Reconstruction(str(tmp_path / "gt")).cameras[1].model.name == "SIMPLE_RADIAL"
    res = reconstruct(
        sorted((tmp_path / "photos").iterdir()),
        ReconstructOptions(
            colmap_dir=tmp_path / "gt", depth_size=64, planes=16, max_points=5000, refine_steps=0
        ),
    )
    assert [c.meta.get("k1") for c in res.cameras] == [pytest.approx(-0.05)] * 6
    written = save_result(res, tmp_path / "out" / "scene.ply")
    rec = pycolmap.Reconstruction(str(written["cameras"]))
    assert len(rec.images) == 6
    for im in rec.images.values():
        cam = rec.cameras[im.camera_id]
        assert cam.model.name == "SIMPLE_RADIAL" and (cam.width, cam.height) == (160, 120)
        assert cam.params[3] == pytest.approx(-0.05)

    from scene.world import World
    from viewer.up_axis import use_cameras_beside

    world = World()
    assert use_cameras_beside(world, tmp_path / "out" / "scene.ply")
    rec0 = world.meta["cameras"][0]
    assert rec0["colmap_model"] == "SIMPLE_RADIAL" and rec0["colmap_params"][3] == pytest.approx(
        -0.05
    )
    assert len(world.bookmarks) == 6


def test_a_read_lens_is_written_back_unless_the_camera_was_resized(tmp_path: Path) -> None:
    import pycolmap

    from scene.camera import Camera
    from scene.io.colmap import read_colmap, write_colmap

    a = Camera.look_at((0, 0, 5), (0, 0, 0), 60, 160, 120)
    a.name = "a.png"
    write_colmap(tmp_path / "m", [a])
    txt = tmp_path / "m" / "cameras.txt"
    lines = txt.read_text().splitlines()
    w = lines[-1].split()
    prm = [a.fx, a.fy, a.cx, a.cy, -0.05, 0.01, 0.001, 0.0]
    lines[-1] = " ".join(w[:1] + ["OPENCV"] + w[2:4] + [repr(v) for v in prm])
    txt.write_text("\n".join(lines) + "\n")
    (cam,) = read_colmap(tmp_path / "m")[0]
    assert cam.meta["colmap_size"] == [160, 120] and cam.meta["k1"] == pytest.approx(-0.05)
    write_colmap(tmp_path / "again", [cam])
    back = next(iter(pycolmap.Reconstruction(str(tmp_path / "again")).cameras.values()))
    assert back.model.name == "OPENCV" and np.allclose(back.params, prm)
    write_colmap(tmp_path / "half", [cam.resized(80, 60)])  # only k1 can follow a resize
    half = next(iter(pycolmap.Reconstruction(str(tmp_path / "half")).cameras.values()))
    assert half.model.name == "SIMPLE_RADIAL" and half.params[3] == pytest.approx(-0.05)


@pytest.mark.slow
def test_reconstruct_colmap_writes_back_a_lens_beyond_k1(tmp_path: Path) -> None:
    """--colmap with an OPENCV lens (pincushion k1, k2, p1 set): the photos are undistorted
    for the dense stages (the empty border left out of the depth maps), and the written
    model is that same lens at the photo size."""
    import pycolmap
    from test_recon_evaluate import _gt_model

    from generators.reconstruct.pipeline import ReconstructOptions, reconstruct, save_result
    from generators.reconstruct.synthetic import make_photo_set

    cams, _, depths = make_photo_set(tmp_path / "photos", 6, 160, 120, seed=5, supersample=1)
    _gt_model(tmp_path / "gt", cams, depths)
    txt = tmp_path / "gt" / "cameras.txt"
    out = []
    for ln in txt.read_text().splitlines():
        w = ln.split()
        if w and not ln.startswith("#"):
            ln = " ".join(w[:1] + ["OPENCV"] + w[2:8] + ["0.08", "0.01", "0.001", "0"])
        out.append(ln)
    txt.write_text("\n".join(out) + "\n")
    res = reconstruct(
        sorted((tmp_path / "photos").iterdir()),
        ReconstructOptions(
            colmap_dir=tmp_path / "gt", depth_size=64, planes=16, max_points=5000, refine_steps=0
        ),
    )
    for v in res.depths.values():  # the border the pincushion removal leaves: no depth
        assert 0.6 < v.image_mask().mean() < 0.99 and not v.depth[~v.image_mask()].any()
    written = save_result(res, tmp_path / "out" / "scene.ply")
    rec = pycolmap.Reconstruction(str(written["cameras"]))
    gt = pycolmap.Reconstruction(str(tmp_path / "gt"))
    gt_by = {im.name: gt.cameras[im.camera_id] for im in gt.images.values()}
    for im in rec.images.values():
        cam = rec.cameras[im.camera_id]
        assert cam.model.name == "OPENCV"
        assert np.allclose(cam.params, gt_by[im.name].params)


def test_lens_map_from_a_node_grid_matches_the_exact_map_or_is_not_used() -> None:
    """The undistortion map is interpolated from nodes MAP_STEP px apart only where that
    stays within MAP_TOL px of the exact map: a smooth radial lens is interpolated (and
    matches every pixel), a map with a kink or undefined nodes is mapped pixel by pixel."""
    from generators.reconstruct.sfm import MAP_TOL, _smooth_map

    w, h, f, cx, cy = 320, 240, 300.0, 160.0, 120.0

    def radial(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        x, y = (u - cx) / f, (v - cy) / f
        d = 1 + 0.08 * (x * x + y * y)
        return np.stack([x * d * f + cx, y * d * f + cy], -1) - 0.5

    got = _smooth_map(radial, w, h)
    assert got is not None and got.shape == (h, w, 2)
    uu, vv = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    assert np.abs(got - radial(uu, vv)).max() <= 2 * MAP_TOL

    def kinked(u: np.ndarray, v: np.ndarray) -> np.ndarray:  # folds at x = 101.5 px
        return np.stack([np.abs(u - 101.5) * 3.0, v], -1)

    assert _smooth_map(kinked, w, h) is None

    def undefined(u: np.ndarray, v: np.ndarray) -> np.ndarray:  # a fisheye beyond 180°
        out = radial(u, v)
        out[u > 300] = np.nan
        return out

    assert _smooth_map(undefined, w, h) is None
