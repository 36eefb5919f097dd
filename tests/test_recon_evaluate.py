"""Scene evaluation (PSNR / SSIM / coverage at COLMAP cameras) and the holdout convention."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT


def _photo(h: int = 60, w: int = 80, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (h // 4, w // 4, 3)).astype(np.uint8)
    return np.repeat(np.repeat(base, 4, 0), 4, 1)


def _perturb(img: np.ndarray, d: int) -> np.ndarray:
    """Every value moved by exactly ±d without clipping: MSE = d² exactly."""
    a = img.astype(np.int32)
    return np.where(a <= 255 - d, a + d, a - d).astype(np.uint8)


# --------------------------------------------------------------- metrics
def test_psnr_matches_the_analytic_value_and_caps_identical_images() -> None:
    from generators.reconstruct.evaluate import PSNR_CAP, psnr

    img = _photo()
    for d in (1, 3, 10):
        assert psnr(_perturb(img, d), img) == pytest.approx(
            10 * math.log10(255**2 / d**2), abs=1e-9
        )
    assert psnr(img, img) == PSNR_CAP
    black = np.zeros_like(img)
    expect = 10 * math.log10(255**2 / np.mean(img.astype(float) ** 2))
    assert psnr(black, img) == pytest.approx(expect, abs=1e-9)
    with pytest.raises(ValueError):
        psnr(img, img[:-1])


def test_masked_psnr_only_counts_covered_pixels() -> None:
    from generators.reconstruct.evaluate import psnr_masked

    img = _photo()
    bad = img.copy()
    bad[:, 40:] = 255 - bad[:, 40:]  # garbage where not covered
    bad[:, :40] = _perturb(img[:, :40], 4)  # ±4 where covered
    mask = np.zeros(img.shape[:2], bool)
    mask[:, :40] = True
    assert psnr_masked(bad, img, mask) == pytest.approx(10 * math.log10(255**2 / 16), abs=1e-9)
    assert psnr_masked(bad, img, np.zeros_like(mask)) is None


def test_ssim_is_one_for_identical_images_and_drops_with_noise() -> None:
    from generators.reconstruct.evaluate import ssim

    img = _photo(64, 64)
    assert ssim(img, img) == pytest.approx(1.0)
    rng = np.random.default_rng(1)
    noisy = np.clip(img + rng.normal(0, 25, img.shape), 0, 255).astype(np.uint8)
    s = ssim(noisy, img)
    assert 0.0 < s < 0.9
    assert ssim(np.zeros_like(img), img) < 0.05


def test_ssim_matches_skimage_its_reference_twin() -> None:
    """The OpenCV float32 SSIM against skimage's Gaussian-window SSIM (the settings it
    replaced), on images of odd sizes with edges, smooth ramps, flat areas and noise, with
    and without a mask."""
    from skimage.metrics import structural_similarity

    from generators.reconstruct.evaluate import SKIMAGE_SSIM, ssim

    rng = np.random.default_rng(4)
    kw = SKIMAGE_SSIM
    for h, w in ((11, 11), (37, 53), (120, 97)):
        yy, xx = np.mgrid[0:h, 0:w]
        ramp = np.stack([xx * 255 / w, yy * 255 / h, (xx + yy) % 64 * 4], -1)
        a = np.clip(ramp + rng.normal(0, 8, ramp.shape), 0, 255).astype(np.uint8)
        a[: h // 3, : w // 3] = 200  # a flat patch: zero variance
        b = np.clip(a + rng.normal(0, 20, a.shape), 0, 255).astype(np.uint8)
        b[h // 2 :, w // 2 :] = 255 - b[h // 2 :, w // 2 :]
        ref = structural_similarity(a, b, **kw)
        assert ssim(a, b) == pytest.approx(ref, abs=1e-5)
        mask = rng.random((h, w)) < 0.6
        mask[h // 2, w // 2] = True  # (an 11-px image's map is its centre alone)
        _, smap = structural_similarity(a, b, full=True, **kw)
        inner = (slice(5, -5), slice(5, -5))
        masked = smap[inner][mask[inner]].mean()
        assert ssim(a, b, mask) == pytest.approx(masked, abs=1e-5)
    with pytest.raises(ValueError):
        ssim(a[:10], b[:10])


def test_psnr_of_uint8_images_matches_the_float64_formula() -> None:
    from generators.reconstruct.evaluate import psnr, psnr_masked

    rng = np.random.default_rng(5)
    a = rng.integers(0, 256, (41, 67, 3)).astype(np.uint8)
    b = rng.integers(0, 256, (41, 67, 3)).astype(np.uint8)
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    assert psnr(a, b) == pytest.approx(10 * math.log10(255**2 / mse), abs=1e-9)
    m = rng.random((41, 67)) < 0.3
    mse_m = np.mean((a[m].astype(np.float64) - b[m].astype(np.float64)) ** 2)
    assert psnr_masked(a, b, m) == pytest.approx(10 * math.log10(255**2 / mse_m), abs=1e-9)


def test_coverage_counts_pixels_at_half_opacity_or_more() -> None:
    from generators.reconstruct.evaluate import coverage

    a = np.zeros((10, 10), np.float32)
    a[:3] = 0.9
    a[3, :5] = 0.5
    a[4] = 0.49
    assert coverage(a) == pytest.approx(0.35)


def test_holdout_takes_indices_0_k_2k_of_the_sorted_names() -> None:
    from generators.reconstruct.evaluate import holdout_names

    names = [f"img_{i:02d}.jpg" for i in range(20)][::-1]
    assert holdout_names(names, 8) == ["img_00.jpg", "img_08.jpg", "img_16.jpg"]
    assert holdout_names(names, 0) == []
    assert holdout_names(["b", "a", "c"], 2) == ["a", "c"]


# ------------------------------------------------- evaluate_views (injected renderer)
def _cams_and_photos(folder: Path, n: int = 4, w: int = 80, h: int = 60):
    import cv2

    from scene.camera import Camera

    folder.mkdir(parents=True, exist_ok=True)
    cams, imgs = [], []
    for i in range(n):
        c = Camera.look_at((i, 0, 5), (0, 0, 0), 50, w, h)
        c.name = f"p{i}.png"
        img = _photo(h, w, seed=i)
        cv2.imwrite(str(folder / c.name), img[..., ::-1])
        cams.append(c)
        imgs.append(img)
    return cams, imgs


def test_evaluate_views_scores_each_view_and_splits_the_means(tmp_path: Path) -> None:
    from generators.reconstruct.evaluate import evaluate_views

    cams, imgs = _cams_and_photos(tmp_path / "photos")
    truth = {c.name: img for c, img in zip(cams, imgs)}
    d = {"p0.png": 2, "p1.png": 4, "p2.png": 8, "p3.png": 16}

    def render(cam):  # the photo moved by ±d, half the frame covered
        alpha = np.zeros((cam.height, cam.width), np.float32)
        alpha[:, : cam.width // 2] = 1.0
        return _perturb(truth[cam.name], d[cam.name]), alpha

    rep = evaluate_views(
        cams, tmp_path / "photos", render, held_out=["p0.png", "p2.png"], out_dir=tmp_path / "views"
    )
    got = {v.name: v for v in rep.views}
    for n, dn in d.items():
        assert got[n].psnr == pytest.approx(10 * math.log10(255**2 / dn**2), abs=1e-9)
        assert got[n].coverage == pytest.approx(0.5)
        assert got[n].psnr_masked == pytest.approx(got[n].psnr)  # ±d everywhere
        assert (got[n].width, got[n].height) == (80, 60)
    m = rep.means()
    psnr = {n: 10 * math.log10(255**2 / dn**2) for n, dn in d.items()}
    assert m["held_out"]["psnr"] == pytest.approx((psnr["p0.png"] + psnr["p2.png"]) / 2)
    assert m["training"]["psnr"] == pytest.approx((psnr["p1.png"] + psnr["p3.png"]) / 2)
    assert m["psnr"] == pytest.approx(np.mean(list(psnr.values())))
    assert m["held_out"]["views"] == 2 and m["training"]["views"] == 2
    assert [v.held_out for v in rep.views] == [True, False, True, False]
    from PIL import Image

    side = np.asarray(Image.open(tmp_path / "views" / "p1.png"))
    assert side.shape == (60, 160, 3)
    # the photo on the right, as it is below its label ("photo", top left)
    assert np.array_equal(side[25:, 80:], imgs[1][25:])
    assert not np.array_equal(side[:25, 80:], imgs[1][:25])
    js = rep.to_json()
    assert set(js["views"][0]) >= {"name", "held_out", "psnr", "ssim", "coverage"}
    json.dumps(js)  # valid JSON


def test_evaluate_views_rescales_cameras_to_the_photo_and_honours_max_size(tmp_path: Path) -> None:
    from generators.reconstruct.evaluate import evaluate_views

    cams, _ = _cams_and_photos(tmp_path / "photos", n=2)
    small = [c.resized(40, 30) for c in cams]  # the model was made at half size
    for c, s in zip(cams, small):
        s.name = c.name
    seen = []

    def render(cam):
        seen.append((cam.width, cam.height, cam.fx))
        return np.zeros((cam.height, cam.width, 3), np.uint8), np.zeros(
            (cam.height, cam.width), np.float32
        )

    evaluate_views(small, tmp_path / "photos", render)
    assert seen[0] == (80, 60, pytest.approx(cams[0].fx))
    seen.clear()
    rep = evaluate_views(cams, tmp_path / "photos", render, max_size=40)
    assert seen[0] == (40, 30, pytest.approx(cams[0].fx / 2))
    assert rep.views[0].width == 40


def test_missing_or_mismatched_photos_are_skipped_with_a_reason(tmp_path: Path) -> None:
    from generators.reconstruct.evaluate import evaluate_views
    from scene.camera import Camera

    cams, _ = _cams_and_photos(tmp_path / "photos", n=2)
    ghost = Camera.look_at((0, 0, 5), (0, 0, 0), 50, 80, 60)
    ghost.name = "ghost.png"
    square = Camera.look_at((0, 0, 5), (0, 0, 0), 50, 60, 60)
    square.name = "p1.png"

    def render(cam):
        return np.zeros((cam.height, cam.width, 3), np.uint8), np.zeros(
            (cam.height, cam.width), np.float32
        )

    rep = evaluate_views([cams[0], ghost, square], tmp_path / "photos", render)
    assert [v.name for v in rep.views] == ["p0.png"]
    assert "no photo" in rep.skipped["ghost.png"] and "aspect" in rep.skipped["p1.png"]
    with pytest.raises(ValueError, match="no view"):
        evaluate_views([ghost], tmp_path / "photos", render)


def test_exif_orientation_stored_for_colmap_applied_for_wander(tmp_path: Path) -> None:
    """A JPEG stored 80x60 with EXIF orientation 6 (rotate 90° CW) is 60x80 upright."""
    from PIL import Image

    from generators.reconstruct.evaluate import read_photo

    img = _photo(60, 80)
    exif = Image.Exif()
    exif[0x0112] = 6
    p = tmp_path / "r.jpg"
    Image.fromarray(img).save(p, exif=exif, quality=98)
    assert read_photo(p, apply_exif=False).shape == (60, 80, 3)
    up = read_photo(p, apply_exif=True)
    assert up.shape == (80, 60, 3)
    stored = read_photo(p, apply_exif=False).astype(int)
    assert np.abs(np.rot90(stored, -1) - up).mean() < 1.0


def test_report_path_and_held_out_list(tmp_path: Path) -> None:
    from generators.reconstruct.evaluate import held_out_from_report, scene_report_path
    from generators.reconstruct.pipeline import side_paths

    for name in ("s.ply", "s.spz", "a/b.compressed.ply"):
        assert scene_report_path(tmp_path / name) == side_paths(tmp_path / name)["report"]
    rp = tmp_path / "s_report.json"
    rp.write_text(json.dumps({"generator": "wander.reconstruct", "held_out": ["a.jpg"]}))
    assert held_out_from_report(rp)[0] == ["a.jpg"]
    rp.write_text(json.dumps({"held_out": "a.jpg"}))
    with pytest.raises(ValueError, match="held_out"):
        held_out_from_report(rp)


# --------------------------------------------------------------- the CLI (GL)
def _scene_with_cameras(tmp_path: Path):
    """A random cloud seen by 3 cameras; returns (ply, cameras dir, cameras)."""
    from conftest import random_cloud

    from scene.camera import Camera
    from scene.io import save
    from scene.io.colmap import write_colmap_text

    ply = tmp_path / "scene.ply"
    save(random_cloud(3000, 0, seed=3), ply)
    cams = []
    for i, eye in enumerate([(0, 0.5, 6), (2, 0.5, 5.5), (-2, 1, 5.5)]):
        c = Camera.look_at(eye, (0, 0, 0), 50, 96, 72)
        c.name = f"v{i}.png"
        cams.append(c)
    write_colmap_text(tmp_path / "scene_cameras", cams)
    return ply, tmp_path / "scene_cameras", cams


def _evaluate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "evaluate", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.gl
def test_evaluate_cli_on_renders_of_the_scene_and_on_noisy_photos(
    x_display, tmp_path: Path
) -> None:
    import cv2

    from scene.io import load
    from viewer.offscreen import render_image

    ply, cam_dir, cams = _scene_with_cameras(tmp_path)
    photos = tmp_path / "photos"
    photos.mkdir()
    cloud = load(ply)
    renders = {}
    for c in cams:
        renders[c.name] = render_image(cloud, c)
        cv2.imwrite(str(photos / c.name), renders[c.name][..., ::-1])
    # v1 differs by exactly ±5 per value: PSNR = 10 log10(255² / 25)
    cv2.imwrite(str(photos / "v1.png"), _perturb(renders["v1.png"], 5)[..., ::-1])
    (tmp_path / "scene_report.json").write_text(
        json.dumps({"generator": "wander.reconstruct", "held_out": ["v0.png"]})
    )
    out = tmp_path / "eval"
    res = _evaluate(str(ply), "--photos", str(photos), "--out", str(out))
    assert res.returncode == 0, res.stderr
    rep = json.loads((out / "report.json").read_text())
    views = {v["name"]: v for v in rep["views"]}
    assert views["v0.png"]["psnr"] > 60 and views["v2.png"]["psnr"] > 60
    assert views["v0.png"]["ssim"] > 0.999
    assert views["v1.png"]["psnr"] == pytest.approx(10 * math.log10(255**2 / 25), abs=0.05)
    assert views["v0.png"]["held_out"] and not views["v1.png"]["held_out"]
    assert rep["mean"]["held_out"]["views"] == 1 and rep["mean"]["training"]["views"] == 2
    cov = views["v0.png"]["coverage"]
    assert 0.05 < cov < 1.0  # a random cloud leaves background at the frame's edges
    assert (out / "views" / "v0.png").is_file()
    assert "held out" in res.stdout

    # a camera facing away sees nothing: the black frame is scored against the photo
    from scene.camera import Camera
    from scene.io.colmap import write_colmap_text

    away = Camera.look_at((0, 0.5, 6), (0, 0.5, 12), 50, 96, 72)
    away.name = "v2.png"
    write_colmap_text(tmp_path / "away", [away])
    res = _evaluate(
        str(ply),
        "--photos",
        str(photos),
        "--out",
        str(tmp_path / "e2"),
        "--cameras",
        str(tmp_path / "away"),
        "--no-images",
    )
    assert res.returncode == 0, res.stderr
    v = json.loads((tmp_path / "e2" / "report.json").read_text())["views"][0]
    p = renders["v2.png"].astype(float)
    assert v["coverage"] == 0.0
    assert v["psnr"] == pytest.approx(10 * math.log10(255**2 / np.mean(p**2)), abs=1e-6)


@pytest.mark.slow
def test_evaluate_cli_errors_are_one_clear_line(tmp_path: Path) -> None:
    from conftest import random_cloud

    from scene.io import save

    ply = tmp_path / "s.ply"
    save(random_cloud(10), ply)
    (tmp_path / "ph").mkdir()
    res = _evaluate(str(ply), "--photos", str(tmp_path / "ph"), "--out", str(tmp_path / "o"))
    assert res.returncode == 2 and "COLMAP model" in res.stderr and "Traceback" not in res.stderr
    # --out = the photo folder (or the model's, or a views/ that is one of them): refused
    # before any work; it filled the photo folder with renders
    from generators.reconstruct.colmap_text import write_colmap_text
    from generators.reconstruct.synthetic import orbit_cameras

    cams = orbit_cameras(2, 64, 48)
    write_colmap_text(tmp_path / "cams", cams, np.zeros((0, 3)), np.zeros((0, 3), np.uint8))
    (tmp_path / "ph" / "a.png").write_bytes(b"x")
    for out in (tmp_path / "ph", tmp_path / "cams", tmp_path / "ph" / ".."):
        res = _evaluate(
            str(ply),
            "--photos",
            str(tmp_path / "ph"),
            "--cameras",
            str(tmp_path / "cams"),
            "--out",
            str(out if out.name != ".." else tmp_path),
        )
        if out.name == "..":  # tmp_path/views is no input: this one runs past the check
            assert "choose a folder of its own" not in res.stderr
            continue
        assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
        assert "choose a folder of its own" in res.stderr or "overwrite an input" in res.stderr
    assert sorted(p.name for p in (tmp_path / "ph").iterdir()) == ["a.png"]
    views = tmp_path / "v2" / "views"
    views.mkdir(parents=True)
    res = _evaluate(
        str(ply),
        "--photos",
        str(views),
        "--cameras",
        str(tmp_path / "cams"),
        "--out",
        str(views.parent),
    )
    assert res.returncode == 2 and "choose a folder of its own" in res.stderr
    # a scene that is not there is named as such (it was "no COLMAP model folder")
    res = _evaluate(str(tmp_path / "gone.ply"), "--photos", str(tmp_path / "ph"), "--out", "o")
    assert res.returncode == 2 and "gone.ply: no such file" in res.stderr


@pytest.mark.gl
def test_evaluate_that_scores_nothing_leaves_no_empty_folders(tmp_path: Path) -> None:
    """Photos of another set (no name matches a camera): one line, exit 2, and neither
    --out nor its views/ left behind empty; a folder that was there stays."""
    ply, cams, _ = _scene_with_cameras(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    cv2 = pytest.importorskip("cv2")
    cv2.imwrite(str(other / "x.png"), _photo())
    res = _evaluate(str(ply), "--photos", str(other), "--out", str(tmp_path / "ev"))
    assert res.returncode == 2 and "no view could be evaluated" in res.stderr
    assert not (tmp_path / "ev").exists()
    (tmp_path / "kept").mkdir()
    res = _evaluate(str(ply), "--photos", str(other), "--out", str(tmp_path / "kept"))
    assert res.returncode == 2 and list((tmp_path / "kept").iterdir()) == []


# --------------------------------------------------------------- reconstruct --holdout
def _gt_model(folder: Path, cams, depths, per_view: int = 150) -> None:
    """COLMAP text model of the true cameras, with points sampled from the true depth
    and tracks from a depth test in every view (as SfM would give)."""
    from generators.reconstruct.colmap_text import write_colmap_text

    rng = np.random.default_rng(0)
    pts = []
    for c, d in zip(cams, depths):
        v, u = rng.integers(0, c.height, per_view), rng.integers(0, c.width, per_view)
        z = d[v, u]
        ok = z > 0
        rays = np.stack([(u + 0.5 - c.cx) / c.fx, (v + 0.5 - c.cy) / c.fy, np.ones(per_view)], 1)
        pts.append(((rays * z[:, None]) - c.t) @ c.R)  # camera -> world: Rᵀ (x − t)
        pts[-1] = pts[-1][ok]
    pts = np.concatenate(pts)
    vis = []
    for c, d in zip(cams, depths):
        uv, z = c.project(pts)
        ui, vi = np.floor(uv[:, 0]).astype(int), np.floor(uv[:, 1]).astype(int)
        inside = (z > 0) & (ui >= 0) & (ui < c.width) & (vi >= 0) & (vi < c.height)
        seen = np.zeros(len(pts), bool)
        seen[inside] = np.abs(d[vi[inside], ui[inside]] - z[inside]) < 0.02 * z[inside]
        vis.append(np.nonzero(seen)[0])
    write_colmap_text(folder, cams, pts, np.full((len(pts), 3), 128, np.uint8), vis)


@pytest.mark.slow
def test_reconstruct_holdout_keeps_held_out_photos_out_of_the_scene(tmp_path: Path) -> None:
    import cv2

    from generators.reconstruct.pipeline import ReconstructOptions, reconstruct, save_result
    from generators.reconstruct.synthetic import make_photo_set

    cams, _, depths = make_photo_set(tmp_path / "photos", 9, 160, 120, seed=5, supersample=1)
    _gt_model(tmp_path / "gt", cams, depths)
    # no optimisation: its time budget makes two runs differ whatever the photos; the views it
    # trains on are the depth maps' (held-out photos have none), checked below
    opts = dict(
        colmap_dir=tmp_path / "gt",
        depth_size=96,
        planes=16,
        max_points=20_000,
        holdout=4,
        refine_steps=0,
    )
    paths = sorted((tmp_path / "photos").iterdir())
    res = reconstruct(paths, ReconstructOptions(**opts))
    assert res.held_out == ["view_000.png", "view_004.png", "view_008.png"]
    assert len(res.cameras) == 9  # their cameras are known
    assert set(res.depths) == {c.name for c in cams} - set(res.held_out)
    written = save_result(res, tmp_path / "out" / "scene.ply", photos=paths)
    rep = json.loads(written["report"].read_text())
    assert rep["held_out"] == res.held_out
    # the report names the photos' folder: `evaluate scene.ply` finds them without --photos
    from cli.cmd_evaluate import _report_photos

    assert rep["photos_folder"] == str(tmp_path / "photos")  # as given (links not followed)
    assert _report_photos(tmp_path / "out" / "scene.ply", None) == tmp_path / "photos"
    assert _report_photos(tmp_path / "gt" / "none.ply", None) is None
    from scene.io.colmap import read_colmap

    assert sorted(c.name for c in read_colmap(written["cameras"])[0]) == sorted(
        c.name for c in cams
    )
    assert rep["capture"]["type"] in ("walk", "orbit", "aerial") and rep["capture"]["scale"]

    # a .wander project: scene + camera frusta layers, +Y up, a bookmark per photo + Overview
    from scene.project import load_project

    wp = save_result(res, tmp_path / "w" / "scene.wander", photos=paths)
    assert wp["cameras"].is_dir() and wp["report"].is_file()
    world, warnings = load_project(tmp_path / "w" / "scene.wander")
    assert not warnings
    # the project carries its photos, held-out ones too (evaluate can be run from it later)
    from scene.project import read_manifest

    stored = read_manifest(tmp_path / "w" / "scene.wander")["inputs"]
    assert sorted(Path(x["name"]).name for x in stored) == [p.name for p in paths]
    assert [lay.kind for lay in world.layers] == ["world", "mesh"]
    assert len(world.layers[0].data) == len(res.cloud)
    # the first training photo first (the start view), held-out ones after, Overview last
    held = set(res.held_out)
    order = sorted((c.name for c in cams), key=lambda n: (n in held, n))
    assert [b.name for b in world.bookmarks] == order + ["Overview"]
    assert world.bookmarks[0].name not in held and world.meta["units"] == "m"
    assert np.allclose(world.up_axis, [0, 1, 0])
    assert world.meta["reconstruct"]["held_out"] == res.held_out

    # the held-out pixels take no part: replacing them by noise changes nothing in the scene
    black = tmp_path / "noise"
    black.mkdir()
    rng = np.random.default_rng(7)
    for p in paths:
        img = cv2.imread(str(p))
        if p.name in res.held_out:
            img[:] = rng.integers(0, 256, img.shape, dtype=np.uint8)
        cv2.imwrite(str(black / p.name), img)
    res2 = reconstruct(sorted(black.iterdir()), ReconstructOptions(**opts))
    assert np.array_equal(res2.cloud.means, res.cloud.means)
    assert np.array_equal(res2.cloud.sh0, res.cloud.sh0)
    # ... while without holdout they do
    res3 = reconstruct(sorted(black.iterdir()), ReconstructOptions(**{**opts, "holdout": 0}))
    assert not res3.held_out and len(res3.depths) == 9
    assert len(res3.cloud) != len(res.cloud) or not np.array_equal(res3.cloud.sh0, res.cloud.sh0)
    for bad in (1, -3):  # one message for every refused value (-3 said ">= 0", then 1 ">= 2")
        with pytest.raises(ValueError, match=r"--holdout must be 0 \(off\) or >= 2, got"):
            ReconstructOptions(holdout=bad).check()


@pytest.mark.gl
def test_evaluate_without_a_display_renders_through_egl(x_display, tmp_path: Path) -> None:
    """No DISPLAY: the offscreen context must exist before OpenGL is first imported."""
    import os

    import cv2

    ply, cam_dir, cams = _scene_with_cameras(tmp_path)
    photos = tmp_path / "photos"
    photos.mkdir()
    for c in cams:
        cv2.imwrite(str(photos / c.name), np.full((c.height, c.width, 3), 90, np.uint8))
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WANDER_GL", "PYOPENGL_PLATFORM")
    }
    res = subprocess.run(
        [
            sys.executable,
            str(ROOT / "main.py"),
            "evaluate",
            str(ply),
            "--photos",
            str(photos),
            "--out",
            str(tmp_path / "e"),
            "--no-images",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    if res.returncode != 0 and "EGL" in res.stderr:
        pytest.skip(f"no EGL here: {res.stderr.strip()[-200:]}")
    assert res.returncode == 0, res.stderr
    rep = json.loads((tmp_path / "e" / "report.json").read_text())
    assert len(rep["views"]) == 3 and all(v["coverage"] > 0.05 for v in rep["views"])


def test_evaluate_refuses_a_project_whose_scene_layer_was_cut_off(tmp_path: Path) -> None:
    """Only the photo-camera frusta of a reconstruction project loaded (its scene layer
    cut off): the frusta are hidden for scoring, so nothing is left to evaluate, and the
    command says so instead of scoring black frames."""
    from conftest import random_cloud

    from cli import run_cli
    from scene.project import save_project
    from scene.world import Layer, World

    _, cam_dir, _ = _scene_with_cameras(tmp_path)
    w = World()
    w.add_layer(Layer("cameras", random_cloud(50, seed=1), source={"what": "camera frusta"}))
    w.add_layer(Layer("scene", random_cloud(3000, seed=2)))
    whole = tmp_path / "whole.wander"
    save_project(w, whole)
    cut = tmp_path / "cut.wander"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    (tmp_path / "ph").mkdir()
    argv = ["evaluate", str(cut), "--photos", str(tmp_path / "ph"), "--cameras", str(cam_dir)]
    assert run_cli([*argv, "--out", str(tmp_path / "o")]) == 2
    assert not (tmp_path / "o").exists()


@pytest.mark.gl
def test_evaluate_a_project_against_the_photos_it_carries(x_display, tmp_path: Path) -> None:  # noqa: ANN001
    """A reconstruction saved as a .wander carries its photos; `evaluate` scores it against
    them without --photos (the same report as with the photo folder). A scene file carries
    none: --photos is asked for in one line."""
    import json

    from generators.reconstruct.pipeline import ReconstructOptions, reconstruct, save_result
    from generators.reconstruct.synthetic import make_photo_set

    cams, _, depths = make_photo_set(tmp_path / "photos", 6, 120, 90, seed=2, supersample=1)
    _gt_model(tmp_path / "gt", cams, depths)
    paths = sorted((tmp_path / "photos").iterdir())
    opts = ReconstructOptions(
        colmap_dir=tmp_path / "gt", depth_size=64, planes=12, max_points=5000, refine_steps=0
    )
    res = reconstruct(paths, opts)
    scene = tmp_path / "w" / "scene.wander"
    save_result(res, scene, photos=paths)

    def evaluate(*extra: str) -> subprocess.CompletedProcess:
        cmd = [sys.executable, str(ROOT / "main.py"), "evaluate", *extra, "--no-images"]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=300)

    given = evaluate(str(scene), "--photos", str(tmp_path / "photos"), "--out", str(tmp_path / "a"))
    assert given.returncode == 0, given.stderr
    carried = evaluate(str(scene), "--out", str(tmp_path / "b"))
    assert carried.returncode == 0, carried.stderr
    assert "the 6 the project carries" in carried.stdout
    a = json.loads((tmp_path / "a" / "report.json").read_text())
    b = json.loads((tmp_path / "b" / "report.json").read_text())
    assert [v["psnr"] for v in a["views"]] == [v["psnr"] for v in b["views"]]
    assert len(b["views"]) == 6 and "scene.wander carries" in b["photos_dir"]
    # saved from the app there is no model or report beside it: the cameras and the
    # held-out list the project records
    import shutil

    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(scene, alone / "scene.wander")
    own = evaluate(str(alone / "scene.wander"), "--out", str(tmp_path / "d"))
    assert own.returncode == 0, own.stderr
    assert "cameras: the 6 scene.wander records" in own.stdout
    d = json.loads((tmp_path / "d" / "report.json").read_text())
    assert [round(v["psnr"], 3) for v in d["views"]] == [round(v["psnr"], 3) for v in a["views"]]
    assert d["held_out_from"] == "the project (scene.wander)"
    ply = tmp_path / "p" / "scene.ply"
    save_result(res, ply)
    refused = evaluate(str(ply), "--out", str(tmp_path / "c"))
    assert refused.returncode == 2 and "--photos DIR is needed" in refused.stderr


def test_side_by_side_images_say_which_is_the_render() -> None:
    """evaluate's render|photo PNGs had nothing to tell the render from the photo (a
    trial): each half is labelled in its top-left corner, the rest left as it was."""
    from generators.reconstruct.evaluate import _labelled

    side = np.full((360, 1280, 3), 128, np.uint8)
    out = _labelled(side.copy(), ["render  24.98 dB  (held out)", "photo"])
    changed = np.any(out != side, axis=2)
    assert changed[:40, :300].any() and changed[:40, 640:760].any()  # a label on each half
    assert not changed[60:, :].any() and not changed[:, 400:640].any()  # nothing else


def test_a_camera_name_never_reaches_a_photo_outside_the_photos_folder(tmp_path) -> None:
    """COLMAP image names come from files anyone can craft (a model, a project's
    cameras): '../' parts and absolute names are looked up by base name inside the
    photos folder only, and glob characters match only themselves (a trial had
    `evaluate` copy an image from elsewhere into its side-by-side images)."""
    from generators.reconstruct.evaluate import find_photo

    photos = tmp_path / "photos"
    (photos / "sub").mkdir(parents=True)
    (photos / "sub" / "a.jpg").write_bytes(b"x")
    (photos / "b.png").write_bytes(b"x")
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"x")
    assert find_photo(photos, "sub/a.jpg") == photos / "sub" / "a.jpg"
    assert find_photo(photos, "b.jpg") == photos / "b.png"  # a PNG copy of the JPEG
    assert find_photo(photos / "sub", "../secret.png") is None
    assert find_photo(photos / "sub", "../../secret.png") is None
    assert find_photo(photos, str(secret)) is None
    assert find_photo(photos / "sub", "../b.png") is None
    assert find_photo(photos, "*.jpg") is None
    assert find_photo(photos, "..") is None


@pytest.mark.gl
def test_evaluate_a_scene_saved_from_the_app_with_an_object(x_display, tmp_path: Path) -> None:  # noqa: ANN001
    """A trial: `reconstruct` -> scene.ply, opened in the app (its held-out photos read from
    the report beside it), an object inserted, saved as a project. `evaluate` of that
    project said "no photo named ..." for every view (the project carried the object's
    photo only); with --photos it scored the held-out photos as training and rendered the
    object into every view. Now: the project's photos are asked for in one line, the
    held-out photos it records are marked, and inserted objects are left out."""
    import json

    import cv2
    from conftest import random_cloud

    from scene.project import save_project
    from scene.world import Layer, World, similarity_matrix
    from viewer.offscreen import render_image

    _, _, cams = _scene_with_cameras(tmp_path)
    w = World()
    w.add_layer(Layer("scene", random_cloud(3000, 0, seed=3)))
    photos = tmp_path / "photos"
    photos.mkdir()
    for c in cams:  # the photos: renders of the scene alone
        cv2.imwrite(str(photos / c.name), render_image(w, c)[:, :, ::-1])
    w.meta["cameras"] = [c.to_record() for c in cams]
    w.meta["held_out"] = ["v1.png"]  # as use_cameras_beside records the report's list
    obj_photo = tmp_path / "extinguisher.png"
    cv2.imwrite(str(obj_photo), np.full((8, 8, 3), 200, np.uint8))
    w.add_layer(
        Layer(
            "extinguisher",
            random_cloud(400, 0, seed=9),
            "object",
            transform=similarity_matrix((0, 0, 2.5), 0.0, 0.6),
            source={"photo": str(obj_photo)},
        )
    )
    proj = tmp_path / "gw.wander"
    save_project(w, proj)
    res = _evaluate(str(proj), "--out", str(tmp_path / "e1"), "--no-images")
    assert res.returncode == 2, res.stdout + res.stderr
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "--photos DIR" in errors[0] and "no photo of its 3" in errors[0]
    res = _evaluate(str(proj), "--photos", str(photos), "--out", str(tmp_path / "e2"))
    assert res.returncode == 0, res.stderr
    assert "left out: 1 inserted object" in res.stdout
    rep = json.loads((tmp_path / "e2" / "report.json").read_text())
    assert [v["name"] for v in rep["views"] if v["held_out"]] == ["v1.png"]
    assert min(v["psnr"] for v in rep["views"]) > 30.0  # the scene alone, as photographed
