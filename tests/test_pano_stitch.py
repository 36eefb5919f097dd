"""Several photos from one spot: stitched onto the sphere where they belong; no overlap ->
clear error."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from generators.images import save_image
from generators.panorama import panorama_from_photos
from generators.panorama.projection import equirect_to_perspective, perspective_camera
from generators.panorama.stitch import stitch_photos

H = 512


#: horizontal field of view of `_room_photo` (45° vertical at 480x360)
ROOM_FOV_X = math.degrees(2 * math.atan(math.tan(math.radians(22.5)) * 480 / 360))


def _room_photo(x: float, yaw_deg: float) -> np.ndarray:
    """A 480x360 photo of tests/world_scene's room from (x, 1.6, 0), turned `yaw_deg`."""
    from world_scene import raycast

    from scene.camera import Camera

    yaw = math.radians(yaw_deg)
    eye = np.array([x, 1.6, 0.0])
    cam = Camera.look_at(eye, eye + [-math.sin(yaw), 0.0, -math.cos(yaw)], 45, 480, 360)
    return raycast(cam)[0].astype(np.float32)


@pytest.fixture(scope="module")
def scene_pano() -> np.ndarray:
    """A textured 360° panorama made of real photos (ground truth for the views)."""
    from skimage import data

    tiles = [data.rocket(), data.chelsea(), data.coffee(), data.astronaut()]
    return np.concatenate([cv2.resize(t, (H // 2, H)) for t in tiles], 1).astype(np.float32) / 255


def _view(
    pano: np.ndarray, yaw_deg: float, pitch_deg: float = 3.0, fov: float = 60.0
) -> np.ndarray:
    cam = perspective_camera(
        400, 300, fov, yaw=math.radians(yaw_deg), pitch=math.radians(pitch_deg)
    )
    return equirect_to_perspective(pano, cam)


@pytest.mark.slow
def test_stitch_recovers_rotations_focal_and_content(scene_pano: np.ndarray) -> None:
    views = [_view(scene_pano, y) for y in (0, -35, -70)]
    placed: list = []
    pano, known, meta = stitch_photos(
        views, [65.0] * 3, H, fov_known=False, placed=placed
    )  # wrong FOV guess
    cams = meta["cameras"]
    # centred on longitude 0: the middle photo at yaw 0, the others ±35°, pitch kept
    assert [c["yaw_deg"] for c in cams] == pytest.approx([35, 0, -35], abs=0.6)
    assert [c["pitch_deg"] for c in cams] == pytest.approx([3, 3, 3], abs=0.4)
    assert cams[0]["fov_x_deg"] == pytest.approx(60.0, abs=1.0)  # focal found from overlaps
    assert meta["focal_source"] == "overlaps"
    # content matches the ground truth rotated by the centring (35°)
    ref = np.roll(scene_pano, -round(35 / 360 * 2 * H), axis=1)
    m = known > 0.99
    assert m.mean() > 0.08
    psnr = 10 * math.log10(1 / np.mean((pano[m] - ref[m]) ** 2))
    assert psnr > 24
    # each photo with its camera as stitched (what the outpainting's floor view reads):
    # the panorama seen through that camera is the photo
    assert len(placed) == 3 and [p.name for p in placed] == ["", "", ""]
    for view, p in zip(views, placed):
        assert p.rgb is view and p.camera.width == 400
        seen = equirect_to_perspective(pano, p.camera)
        inner = np.s_[20:-20, 20:-20]
        err = np.mean((seen[inner] - view[inner]) ** 2)
        assert 10 * math.log10(1 / err) > 24


@pytest.mark.slow
def test_stitched_photos_keep_their_own_detail_for_a_world(scene_pano: np.ndarray) -> None:
    """Trial: a world from three stitched photos was far blurrier than one from the middle
    photo alone; the photos' region came from the 1024-row panorama (~5.7 px/°, the photos
    had 15). The stitcher now also composites that region at up to the photos' own rows."""
    from generators.panorama.projection import resize_pano

    views = [_view(scene_pano, y) for y in (0, -35, -70)]
    want = {"rows": H, "pixels": 10**7}
    pano, known, meta = stitch_photos(views, [60.0] * 3, 128, detail=want)
    assert want["height"] == H and want["image"].shape == (H, 2 * H, 3)
    ref = np.roll(scene_pano, -round(35 / 360 * 2 * H), axis=1)
    m = want["known"] > 0.99
    assert m.mean() > 0.08
    coarse = resize_pano(pano, H)

    def psnr(a: np.ndarray) -> float:
        return 10 * math.log10(1 / np.mean((a[m] - ref[m]) ** 2))

    # 28.8 against 24.8 dB (feathered or two-band blended alike)
    assert psnr(want["image"]) > psnr(coarse) + 3.5, (psnr(want["image"]), psnr(coarse))
    # the same brightness as the coarse blend (its gains), and a pixel budget is kept
    assert abs(float(want["image"][m].mean()) - float(coarse[m].mean())) < 0.01
    small = {"rows": H, "pixels": 20_000}
    stitch_photos(views, [60.0] * 3, 128, detail=small)
    assert 128 < small["height"] < H and (small["known"] > 0.5).sum() <= 1.1 * 20_000
    none = {"rows": 150, "pixels": 10**7}  # no finer than the panorama by a quarter: no detail
    stitch_photos(views, [60.0] * 3, 128, detail=none)
    assert "image" not in none


@pytest.mark.slow
def test_non_overlapping_photos_name_the_culprits(scene_pano: np.ndarray) -> None:
    views = [_view(scene_pano, 0), _view(scene_pano, -35), _view(scene_pano, 180)]
    with pytest.raises(
        ValueError,
        match=r"photo 3 \(c.jpg\) does not overlap photos 1 \(a.jpg\) and 2 \(b.jpg\); "
        "leave it out to stitch the other 2",
    ):
        stitch_photos(views, [60.0] * 3, H, names=["a.jpg", "b.jpg", "c.jpg"])
    with pytest.raises(ValueError, match=r"photos 1 \(a.jpg\) and 2 \(c.jpg\) do not overlap"):
        stitch_photos([views[0], views[2]], [60.0] * 2, H, names=["a.jpg", "c.jpg"])
    flat = np.full((300, 400, 3), 0.5, np.float32)  # featureless: no crash, clear error
    with pytest.raises(ValueError, match="do not overlap"):
        stitch_photos([views[0], flat], [60.0] * 2, H)


@pytest.mark.slow
def test_panorama_from_several_photo_files(tmp_path: Path, scene_pano: np.ndarray) -> None:
    paths = []
    for i, y in enumerate((10, -25, -60)):
        p = tmp_path / f"shot{i}.jpg"
        save_image(p, _view(scene_pano, y, fov=60.0))
        paths.append(p)
    pano = panorama_from_photos(paths, fov=60.0, height=256)
    assert pano.image.shape == (256, 512, 3)
    assert pano.meta["stitch"]["photos"] == 3 and pano.meta["inputs"] == [str(p) for p in paths]
    assert 0.08 < (pano.known > 0.99).mean() < 0.3
    assert np.abs(pano.image[:, 0] - pano.image[:, -1]).mean() < 0.05  # outpainted, seamless
    # one of them given twice, once under another name: used once, with a warning (it
    # stopped the stitch: "photos 1 and 2 show the same view")
    copy = tmp_path / "copy of shot0.jpg"
    copy.write_bytes(paths[0].read_bytes())
    again = panorama_from_photos(
        [paths[0], paths[0], paths[1], copy, paths[2]], fov=60.0, height=256
    )
    assert again.meta["stitch"]["photos"] == 3
    said = " ".join(again.meta.get("warnings", []))
    assert "shot0.jpg was given twice" in said
    assert "copy of shot0.jpg is the same file as shot0.jpg" in said
    # a folder stands for its photos; a file that is not one is left out, with a warning
    # (a trial's folder and glob stopped at notes.txt: "not a readable image")
    (tmp_path / "notes.txt").write_text("shot on a tripod")
    copy.unlink()
    folder = panorama_from_photos([tmp_path], fov=60.0, height=256)
    assert folder.meta["stitch"]["photos"] == 3 and folder.meta["inputs"] == [str(p) for p in paths]
    assert "notes.txt" in " ".join(folder.meta.get("warnings", []))
    globbed = panorama_from_photos([*paths, tmp_path / "notes.txt"], fov=60.0, height=256)
    assert globbed.meta["stitch"]["photos"] == 3
    assert "not photos, left out: notes.txt" in globbed.meta.get("warnings", [])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no photos in this folder"):
        panorama_from_photos([empty], fov=60.0)


@pytest.mark.slow
def test_the_same_view_twice_is_refused_and_parallax_is_said(scene_pano: np.ndarray) -> None:
    """The same photo twice was stitched and claimed a 57° field of view "from overlaps"
    (a true 60°); photos taken a step apart were stitched without a word, with doubled
    edges. Now the first is one clear error, the second a warning in the meta (a rotation
    about one spot leaves no misfit)."""
    a = _view(scene_pano, 0)
    with pytest.raises(ValueError, match=r"photos 1 \(a.jpg\) and 2 \(b.jpg\) show the same view"):
        stitch_photos([a, a.copy()], [60.0] * 2, H, names=["a.jpg", "b.jpg"], fov_known=False)
    _, _, meta = stitch_photos([a, _view(scene_pano, -35)], [60.0] * 2, H)
    assert meta["misfit_deg"] < 0.5 * 180 / H and "warning" not in meta

    fov_x = ROOM_FOV_X
    turned = [_room_photo(0.0, 0.0), _room_photo(0.0, -25.0)]  # a turn on the spot: no warning
    _, _, meta = stitch_photos(turned, [fov_x] * 2, H, names=["p.jpg", "q.jpg"])
    assert meta["misfit_deg"] < 180 / H and "warning" not in meta
    # a step of 0.6 m in a room whose walls are 2-5 m away: parallax of degrees
    walked = [_room_photo(0.0, 0.0), _room_photo(0.6, -25.0)]
    _, _, meta = stitch_photos(walked, [fov_x] * 2, H, names=["p.jpg", "q.jpg"])
    assert meta["misfit_deg"] > 180 / H
    assert "not taken from one spot" in meta["warning"] and "q.jpg" in meta["warning"]


@pytest.mark.slow
def test_photos_that_all_look_the_same_way_are_said() -> None:
    """A trial stitched the 11 Sceaux photos (walked round the castle, all facing it) into a
    "panorama" and warned about one pair only. Photos whose directions all lie within a
    third of one photo's view cover little more than one photo: said, with what to do (a
    scene when they were taken from different spots, else turning further)."""
    fov_x = ROOM_FOV_X
    walked = [_room_photo(0.0, 0.0), _room_photo(0.4, -4.0), _room_photo(0.8, -8.0)]
    _, _, meta = stitch_photos(walked, [fov_x] * 3, H, names=["a.jpg", "b.jpg", "c.jpg"])
    # (the alignment turns the photos to make up for the steps: more than the 8° they turn)
    assert 8.0 <= meta["view_spread_deg"] < fov_x / 3
    first = meta["warning"]
    assert first.startswith("the 3 photos all look about the same way (within ")
    assert "from different spots" in first and "reconstruct" in first
    turned = [_room_photo(0.0, 0.0), _room_photo(0.0, -5.0), _room_photo(0.0, -10.0)]  # on one spot
    _, _, meta = stitch_photos(turned, [fov_x] * 3, H, names=["a.jpg", "b.jpg", "c.jpg"])
    assert meta["warning"].startswith("the 3 photos all look about the same way (within 10")
    assert "Turn between photos" in meta["warning"] and "different spots" not in meta["warning"]
    wide = [_room_photo(0.0, 0.0), _room_photo(0.0, -25.0)]  # a real turn: nothing said
    _, _, meta = stitch_photos(wide, [fov_x] * 2, H, names=["a.jpg", "b.jpg"])
    assert "warning" not in meta and meta["view_spread_deg"] == pytest.approx(25.0, abs=0.6)


@pytest.mark.slow
def test_one_photo_held_sideways_does_not_tip_the_panorama(scene_pano: np.ndarray) -> None:
    """A photo turned 90° without an orientation tag among level ones: the others stay
    level and the rolled one is named. Before, up came from every photo's x axis, the
    rolled one's included, and the middle photo ended up pointing at the sky (pitch 89.9°),
    with no word."""
    views = [_view(scene_pano, y) for y in (0, -35, -70)]
    views[1] = np.ascontiguousarray(np.rot90(views[1]))
    tall = math.degrees(2 * math.atan(math.tan(math.radians(30)) * 300 / 400))  # its width's
    names = ["a.jpg", "b.jpg", "c.jpg"]
    pano, known, meta = stitch_photos(views, [60.0, tall, 60.0], H, names=names)
    cams = meta["cameras"]
    assert abs(cams[0]["pitch_deg"] - 3) < 1.0 and abs(cams[2]["pitch_deg"] - 3) < 1.0, cams
    assert any("2 (b.jpg)" in w and "turned more than" in w for w in meta["warnings"])
    level = [_view(scene_pano, y) for y in (0, -35, -70)]
    assert "warnings" not in stitch_photos(level, [60.0] * 3, H)[2]
    # with the field of view found from the overlaps (no EXIF): one focal length in
    # pixels for all, not one field of view across each photo's width. Trial: the focal
    # shared per width made the sideways photo's 25 % too short, and the stitcher said
    # the photos were "not taken from one spot" (5.2° misfit)
    pano, known, meta = stitch_photos(views, [65.0] * 3, H, names=names, fov_known=False)
    assert meta["focal_source"] == "overlaps"
    assert meta["cameras"][0]["fov_x_deg"] == pytest.approx(60.0, abs=1.0)
    assert meta["cameras"][1]["fov_x_deg"] == pytest.approx(tall, abs=1.0)
    assert meta["misfit_deg"] < 0.5 and not any("one spot" in w for w in meta["warnings"])


@pytest.mark.slow
def test_a_field_of_view_the_overlaps_cannot_fix_is_said(
    scene_pano: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the joint refinement runs the field of view to the end of its range (photos
    taken while moving: the fit shrinks the FOV to shrink the misfit), the assumed one is
    kept and a warning says so. Before, '20.0° from overlaps' was reported and the photos
    came out as a small scrambled patch."""
    from generators.panorama import stitch

    real = stitch._refine

    def runs_off(rots, focals, images, edges, refine_focal):  # noqa: ANN001, ANN202
        rs, fs = real(rots, focals, images, edges, refine_focal)
        if refine_focal:  # as on Great Wall frames: pinned at the 20° bound
            w = images[0].shape[1]
            fs = [0.5 * w / math.tan(math.radians(stitch._MIN_FOV) / 2)] * len(fs)
        return rs, fs

    monkeypatch.setattr(stitch, "_refine", runs_off)
    views = [_view(scene_pano, y) for y in (0, -35, -70)]
    _, _, meta = stitch_photos(views, [65.0] * 3, H, fov_known=False)
    assert meta["focal_source"] == "assumed"
    assert meta["cameras"][0]["fov_x_deg"] == pytest.approx(65.0, abs=0.01)
    assert "do not fix the photos' field of view" in meta["warning"]


def test_photos_that_disagree_are_not_blended_into_doubled_edges(scene_pano: np.ndarray) -> None:
    """Photos taken a few steps apart do not line up exactly after their rotations: their
    overlap, feathered over its whole width, showed every window and chimney twice (a
    trial: three Sceaux photos taken while walking). Detail now comes from one photo per
    pixel (two-band blending), so the overlap keeps about a single photo's fine contrast
    (feathering two copies 4 px apart kept under half of it)."""
    from generators.jobs import CancelToken
    from generators.panorama.stitch import _composite, _project_photo

    cams = [perspective_camera(400, 300, 60.0, yaw=math.radians(y), pitch=0.0) for y in (0, -35)]
    views = [equirect_to_perspective(scene_pano, c) for c in cams]
    views[1] = np.roll(views[1], 4, axis=1)  # parallax: 4 px off where its rotation puts it
    f = 200 / math.tan(math.radians(30))
    rots = [c.R for c in cams]
    out, known, _ = _composite(views, [f, f], rots, H, [1.0, 1.0], None, CancelToken())
    pa, ca, _ = _project_photo(views[0], f, rots[0], H, 2 * H, None)
    pb, cb, _ = _project_photo(views[1], f, rots[1], H, 2 * H, None)
    both = (ca > 0.99) & (cb > 0.99)
    assert both.sum() > 5000

    def fine(x: np.ndarray) -> float:  # energy of the detail finer than ~2 px
        return float(np.mean((x - cv2.GaussianBlur(x, (0, 0), 2))[both] ** 2))

    assert fine(out) > 0.65 * 0.5 * (fine(pa) + fine(pb))
    # outside the overlap each photo is itself
    only_a = (ca > 0.99) & (cb == 0)
    assert np.abs(out[only_a] - pa[only_a]).mean() < 0.01


@pytest.mark.slow
def test_photos_looking_one_way_are_pitched_by_their_vertical_lines() -> None:
    """Three photos of tests/world_scene's room from one spot, turned 4° apart and all
    tilted 12° up: wave correction cannot tell the pitch of a set that looks one way (the
    first photo's was taken as level, and a trial's castle, shot 10° up, sat 10° low); the
    photos' vertical lines pitch it, as they do one photo."""
    from world_scene import raycast

    from scene.camera import Camera

    def photo(yaw_deg: float, pitch_deg: float) -> np.ndarray:
        yaw, p = math.radians(yaw_deg), math.radians(pitch_deg)
        eye = np.array([0.0, 1.6, 0.0])
        d = np.array([-math.sin(yaw) * math.cos(p), math.sin(p), -math.cos(yaw) * math.cos(p)])
        return raycast(Camera.look_at(eye, eye + d, 45, 480, 360))[0].astype(np.float32)

    views = [photo(y, 12.0) for y in (0, 4, 8)]
    _, _, meta = stitch_photos(views, [ROOM_FOV_X] * 3, 256)
    assert [c["pitch_deg"] for c in meta["cameras"]] == pytest.approx([12, 12, 12], abs=1.0)
    assert meta["level"]["source"] == "vertical lines in 3 of 3 photos"
