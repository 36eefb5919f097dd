"""Objects: classical segmentation + silhouette inflation, the CLI, and bad input."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest
import skimage.data
from conftest import ROOT

from generators.jobs import Cancelled, CancelToken
from generators.objects.inflate import InflateOptions, inflate_profile, lift_classical
from generators.objects.pipeline import ObjectRequest, generate_object
from generators.objects.segment_classical import (
    box_clip_note,
    clean_mask,
    parse_box,
    segment_classical,
    validate_mask,
)
from scene.errors import SceneFormatError


@pytest.fixture(scope="module")
def coffee_seg():
    return segment_classical(skimage.data.coffee())


@pytest.fixture(scope="module")
def coffee_obj(coffee_seg):
    return lift_classical(coffee_seg, InflateOptions(resolution=160, mesh_resolution=64))


@pytest.mark.slow
def test_grabcut_finds_the_cup(coffee_seg) -> None:
    m = coffee_seg.mask
    assert 0.25 < m.mean() < 0.7
    # The cup's centre is object, the photo's corners are background.
    assert m[200, 300] and not m[5, 5] and not m[-5, -5] and not m[5, -5]
    assert coffee_seg.alpha.min() >= 0 and coffee_seg.alpha.max() <= 1
    x0, y0, x1, y1 = coffee_seg.box
    assert 30 < x0 < 150 and 420 < x1 < 560 and y1 > 300


@pytest.mark.slow
def test_click_seed_and_box_seed() -> None:
    img = skimage.data.coffee()
    by_click = segment_classical(img, point=(300, 200))
    by_box = segment_classical(img, box=parse_box("60,20,500,390", 600, 400))
    inter = (by_click.mask & by_box.mask).sum()
    union = (by_click.mask | by_box.mask).sum()
    assert inter / union > 0.8


def test_alpha_image_is_used_as_is() -> None:
    rgb = np.zeros((120, 160, 3), np.uint8)
    rgb[:] = (30, 200, 40)
    alpha = np.zeros((120, 160), np.float32)
    cv2.circle(alpha, (80, 60), 40, 1.0, -1)
    alpha[5, 5] = 1.0  # a speck: cleaned away
    seg = segment_classical(rgb, alpha)
    assert seg.meta["method"] == "alpha"
    assert not seg.mask[5, 5] and seg.mask[60, 80]
    assert abs(seg.mask.sum() - np.pi * 40**2) < 0.05 * np.pi * 40**2


def test_clean_mask_keeps_largest_and_fills_holes() -> None:
    m = np.zeros((50, 50), bool)
    m[10:40, 10:40] = True
    m[20:25, 20:25] = False  # hole
    m[45:48, 45:48] = True  # speck
    out = clean_mask(m)
    assert out[22, 22] and not out[46, 46] and out.sum() == 900


@pytest.mark.parametrize(
    "mask,words",
    [
        (np.zeros((100, 100), bool), "nothing in the photo stands out"),
        (np.pad(np.ones((1, 1), bool), ((50, 49), (50, 49))), "1 pixel"),
        (np.ones((100, 100), bool), "whole photo"),
    ],
)
def test_bad_masks_are_clear_errors(mask, words) -> None:
    with pytest.raises(ValueError, match=words):
        validate_mask(mask)


@pytest.mark.slow
def test_photo_without_object_is_a_clear_error() -> None:
    flat = np.full((200, 200, 3), 128, np.uint8)
    with pytest.raises(ValueError, match="no .*object"):
        segment_classical(flat)
    noise = np.random.default_rng(1).integers(0, 256, (200, 200, 3)).astype(np.uint8)
    with pytest.raises(ValueError, match="object"):
        generate_object(ObjectRequest(image=noise))


def test_one_pixel_mask_request_fails_cleanly() -> None:
    img = skimage.data.coffee()
    mask = np.zeros(img.shape[:2], bool)
    mask[100, 100] = True
    with pytest.raises(ValueError, match="pixel"):
        generate_object(ObjectRequest(image=img, mask=mask))


def test_profile_of_a_disk_is_a_hemisphere() -> None:
    m = np.zeros((101, 101), bool)
    yy, xx = np.mgrid[:101, :101]
    m[(yy - 50) ** 2 + (xx - 50) ** 2 <= 40**2] = True
    h = inflate_profile(m, depth=1.0)
    assert abs(h[50, 50] - 40) < 2.5  # centre height = radius
    r = 30
    assert abs(h[50, 50 + r] - np.sqrt(40**2 - r**2)) < 3
    assert h[~m].max() == 0


def test_the_back_keeps_broad_colours_not_the_fronts_details() -> None:
    """The back was the front's mirror image: a label's text read backwards through the
    object. It keeps the front's broad colour regions (a red body, a white panel) at
    their place, without detail narrower than BACK_DETAIL of the object."""
    from generators.objects.inflate import back_texture

    h, w = 200, 120
    rgb = np.zeros((h, w, 3), np.float32)
    rgb[:] = (0.8, 0.1, 0.1)  # red body
    rgb[60:140, 20:100] = (0.95, 0.95, 0.95)  # a white label panel
    for r in range(70, 130, 9):
        rgb[r : r + 3, 30:90] = 0.0  # lines of text on it (a third of the panel)
    mask = np.zeros((h, w), bool)
    mask[5:195, 10:110] = True
    back = back_texture(rgb, mask)
    assert np.allclose(back[30, 60], (0.8, 0.1, 0.1), atol=0.05)  # body stays red
    panel = back[75:125, 35:85]
    assert panel.min() > 0.85  # the panel is white: no text
    assert np.abs(back[mask] - rgb[mask]).mean() < 0.12
    cloud, _ = lift_classical_cloud(rgb, mask)
    front, rear = cloud.means[:, 2] > 0, cloud.means[:, 2] < 0
    dark = cloud.base_colors().max(1) < 0.5
    assert dark[front].sum() > 100 and dark[rear].sum() == 0


def lift_classical_cloud(rgb: np.ndarray, mask: np.ndarray):  # noqa: ANN201
    """(cloud, mesh) of `rgb` (H, W, 3) 0..1 over `mask` through the classical lift."""
    from generators.objects.inflate import relief_from_segmentation, relief_to_cloud
    from generators.objects.segment_classical import Segmentation

    ys, xs = np.nonzero(mask)
    seg = Segmentation(
        rgb=(rgb * 255).astype(np.uint8),
        mask=mask,
        alpha=mask.astype(np.float32),
        box=(int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1),
    )
    opts = InflateOptions(resolution=120)
    rel = relief_from_segmentation(seg, opts)
    return relief_to_cloud(rel, opts), rel


def test_object_frame_and_size(coffee_obj) -> None:
    cloud, mesh, info = coffee_obj
    lo, hi = cloud.bounds()
    assert abs(lo[1]) < 0.02 and abs(hi[1] - 1.0) < 0.02  # base at 0, height 1
    assert abs(lo[0] + hi[0]) < 0.05 and abs(lo[2] + hi[2]) < 1e-3  # centred
    assert 0.2 < hi[2] - lo[2] < 1.2  # rounded, not flat, not huge
    assert info["size"] == pytest.approx(list(hi - lo), rel=1e-5)
    cloud.validate()
    # Front splats are the photo's colours: the cup is mostly red/brown.
    front = cloud.means[:, 2] > 0.05
    col = cloud.base_colors()[front].mean(0)
    assert col[0] > col[2] + 0.1


def test_mesh_is_watertight_and_coloured(coffee_obj) -> None:
    import trimesh

    _, mesh, _ = coffee_obj
    tm = trimesh.Trimesh(mesh.vertices, mesh.faces, process=False)
    assert tm.is_watertight and tm.volume > 0
    assert mesh.vertex_colors is not None and mesh.vertex_colors.std() > 0.05
    lo, hi = mesh.bounds()
    assert abs(hi[1] - 1.0) < 0.05 and abs(lo[1]) < 0.05


def test_side_silhouette_stays_bounded(coffee_obj) -> None:
    """Seen from ±30°, the object's projected width stays close to its front width."""
    cloud, _, _ = coffee_obj
    lo, hi = cloud.bounds()
    front_w = hi[0] - lo[0]
    for deg in (30, -30):
        a = np.radians(deg)
        x_view = cloud.means[:, 0] * np.cos(a) - cloud.means[:, 2] * np.sin(a)
        w = np.quantile(x_view, 0.995) - np.quantile(x_view, 0.005)
        assert 0.7 * front_w < w < 1.25 * front_w


def test_cancel_stops_the_job() -> None:
    tok = CancelToken()
    tok.cancel()
    with pytest.raises(Cancelled):
        generate_object(ObjectRequest(image=skimage.data.coffee()), cancel=tok)


def test_bad_options() -> None:
    with pytest.raises(ValueError, match="backend"):
        ObjectRequest(image=np.zeros((9, 9, 3), np.uint8), backend="magic").check()
    with pytest.raises(ValueError, match="box"):
        parse_box("1,2,3", 100, 100)


def test_boxes_grabcut_cannot_use_are_said_plainly() -> None:
    """A box over the whole photo reached the user as OpenCV's own assertion text
    ('!bgdSamples.empty()'), an inverted one as 'the mask is empty', and a click outside
    the box was taken silently."""
    img = skimage.data.coffee()  # 600x400
    assert parse_box("-50,-50,700,390", 600, 400) == (0, 0, 600, 390)  # clipped
    with pytest.raises(ValueError, match="inverted"):
        parse_box("10,10,5,5", 600, 400)
    with pytest.raises(ValueError, match="covers the whole 600x400 photo") as exc:
        segment_classical(img, box=parse_box("0,0,99999,99999", 600, 400))
    assert "OpenCV" not in str(exc.value)
    with pytest.raises(ValueError, match="outside the box"):
        segment_classical(img, box=(100, 50, 500, 380), point=(20, 20))
    with pytest.raises(ValueError, match="--model"):
        ObjectRequest(photo="x.png", backend="multiview").check()


def test_a_box_reaching_outside_the_photo_is_clipped_with_a_warning() -> None:
    """A box measured on a resized copy of the photo was cut to the photo without a word
    (a trial)."""
    assert box_clip_note("60,20,500,390", (60, 20, 500, 390), 600, 400) is None
    img = skimage.data.coffee()  # 600x400
    res = generate_object(ObjectRequest(image=img, box="60,20,900,390", resolution=32))
    assert res.warnings[0] == (
        "--box 60,20,900,390 reaches outside the 600x400 photo: clipped to 60,20,600,390"
    )
    res = generate_object(ObjectRequest(image=img, box="60,20,500,390", resolution=32))
    assert not any("--box" in w for w in res.warnings)


@pytest.mark.slow
def test_cli_writes_ply_and_glb(tmp_path) -> None:
    photo = tmp_path / "cup.png"
    cv2.imwrite(str(photo), skimage.data.coffee()[:, :, ::-1])
    out, glb = tmp_path / "cup.ply", tmp_path / "cup.glb"
    res = subprocess.run(
        [
            sys.executable,
            "main.py",
            "object",
            "--photo",
            str(photo),
            "--resolution",
            "128",
            "--out",
            str(out),
            "--mesh",
            str(glb),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    import trimesh
    from plyfile import PlyData

    ply = PlyData.read(str(out))
    assert ply["vertex"].count > 5000 and "f_dc_0" in ply["vertex"].data.dtype.names
    assert any("wander" in c and "classical" in c for c in ply.comments)
    tm = trimesh.load(str(glb), force="mesh")
    assert len(tm.faces) > 100
    # a missing photo is one clear line and exit code 2, and nothing is written
    res = subprocess.run(
        [
            sys.executable,
            "main.py",
            "object",
            "--photo",
            str(tmp_path / "none.png"),
            "--out",
            str(tmp_path / "x.ply"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2 and "no such file" in res.stderr
    assert not (tmp_path / "x.ply").exists()


def test_unreadable_photo(tmp_path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image at all")
    with pytest.raises(SceneFormatError, match="not a readable image"):
        generate_object(ObjectRequest(photo=bad))


@pytest.mark.slow
def test_provenance_is_json(tmp_path) -> None:
    import json

    res = generate_object(
        ObjectRequest(image=skimage.data.coffee(), resolution=64, with_mesh=False)
    )
    text = json.dumps(res.cloud.meta)
    assert '"backend": "classical"' in text and "segmentation" in res.meta and "size" in res.meta


def test_png_with_alpha_keeps_colours_and_matte(tmp_path) -> None:
    rgba = np.zeros((100, 120, 4), np.uint8)
    rgba[..., :3] = (0, 0, 255)  # BGR on disk: pure red
    cv2.rectangle(rgba, (30, 20), (90, 80), (0, 0, 255, 255), -1)
    path = tmp_path / "red.png"
    cv2.imwrite(str(path), rgba)
    res = generate_object(ObjectRequest(photo=path, resolution=48, with_mesh=False))
    assert res.meta["segmentation"]["method"] == "alpha"
    c = res.cloud.base_colors()[res.cloud.means[:, 2] > 0]
    assert c[:, 0].mean() > 0.9 and c[:, 2].mean() < 0.1


def test_a_hole_through_the_object_stays_open_and_a_dark_patch_is_filled() -> None:
    """A chair's back has a gap that shows the backdrop: a hole of the backdrop's colour
    (or transparent in an alpha matte) stays open; a dark patch of another colour inside an
    object, and small holes, are filled (GrabCut's specks)."""
    import cv2

    rgb = np.full((160, 200, 3), 20, np.uint8)  # a near-black backdrop
    cv2.rectangle(rgb, (50, 30), (150, 130), (170, 110, 60), -1)  # a wooden frame...
    rgb[55:105, 75:125] = 20  # ... with a window showing the backdrop
    rgb[36:44, 60:70] = (60, 40, 140)  # a small dark-blue patch on the wood
    seg = segment_classical(rgb, box=(40, 20, 160, 140))
    assert seg.meta["method"] == "grabcut"
    assert not seg.mask[80, 100]  # the window is open
    assert seg.mask[40, 65] and seg.mask[35, 100]  # the patch and the wood are object
    # an alpha matte: a transparent hole is background, a speck hole is filled
    alpha = np.zeros((160, 200), np.float32)
    alpha[30:130, 50:150] = 1.0
    alpha[55:105, 75:125] = 0.0
    alpha[40, 60] = 0.0  # one transparent pixel: matte noise
    seg = segment_classical(rgb, alpha)
    assert not seg.mask[80, 100] and seg.mask[40, 60]
    m = np.zeros((50, 50), bool)
    m[10:40, 10:40] = True
    m[20:25, 20:25] = False
    assert not clean_mask(m, see_through=lambda hole: True)[22, 22]  # 25 px: 2.8 % of it
    assert clean_mask(m, see_through=lambda hole: False)[22, 22]
