"""Robust photo loading: corrupt, 16-bit, grayscale, alpha, EXIF rotation, huge; EXIF FOV."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from generators.images import load_image
from generators.panorama.fov import DEFAULT_FOV_DEG, fov_from_exif, photo_fov
from scene.errors import SceneFormatError


def _photo(h: int = 60, w: int = 80) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // w, y * 255 // h, (x + y) % 256], -1).astype(np.uint8)


def test_corrupt_empty_missing_and_truncated_files_raise_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"this is not a jpeg at all" * 10)
    with pytest.raises(SceneFormatError, match="bad.jpg.*not a readable image"):
        load_image(bad)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(SceneFormatError, match="empty"):
        load_image(empty)
    with pytest.raises(SceneFormatError, match="no such file"):
        load_image(tmp_path / "missing.png")
    good = tmp_path / "good.png"
    Image.fromarray(_photo(200, 300)).save(good)
    trunc = tmp_path / "trunc.png"
    trunc.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(SceneFormatError, match="trunc.png"):
        load_image(trunc)
    with pytest.raises(SceneFormatError, match="folder"):
        load_image(tmp_path)


def test_checked_image_size_finds_cut_off_photos_of_every_format(tmp_path: Path) -> None:
    """`checked_image_size` (where the app offers a photo a world): the size of a whole
    photo; a clear error for one cut off part-way, JPEG (decoded small) or PNG and TIFF
    (verified by Pillow, not decoded: a full decode of a 12000x6000 PNG held the window
    2.5 s, a review)."""
    from scene.io.images import checked_image_size

    rng = np.random.default_rng(1)
    img = Image.fromarray(rng.integers(0, 255, (300, 400, 3), np.uint8))
    for ext in ("jpg", "png", "tif"):
        whole = tmp_path / f"whole.{ext}"
        img.save(whole)
        assert checked_image_size(whole) == (400, 300)
        cut = tmp_path / f"cut.{ext}"
        cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
        with pytest.raises(SceneFormatError, match=f"cut.{ext}"):
            checked_image_size(cut)


def test_16bit_grayscale_and_rgb_and_8bit_gray(tmp_path: Path) -> None:
    g16 = (np.linspace(0, 65535, 64 * 48).reshape(48, 64)).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "g16.png"), g16)
    im = load_image(tmp_path / "g16.png")
    assert im.rgb.shape == (48, 64, 3) and im.rgb.dtype == np.float32
    np.testing.assert_allclose(im.rgb[..., 0], g16 / 65535.0, atol=1e-4)
    rgb16 = np.stack([g16, g16[::-1], np.full_like(g16, 30000)], -1)
    cv2.imwrite(str(tmp_path / "rgb16.png"), rgb16[..., ::-1])  # cv2 writes BGR
    im = load_image(tmp_path / "rgb16.png")
    np.testing.assert_allclose(im.rgb[..., 2], 30000 / 65535, atol=1 / 255)
    np.testing.assert_allclose(im.rgb[..., 0], g16 / 65535.0, atol=1 / 255)
    Image.fromarray(_photo()[..., 0]).save(tmp_path / "g8.png")
    im = load_image(tmp_path / "g8.png")
    assert im.rgb.shape == (60, 80, 3) and np.allclose(im.rgb[..., 0], im.rgb[..., 2])


def test_alpha_is_kept_and_palette_converted(tmp_path: Path) -> None:
    rgba = np.dstack([_photo(), np.full((60, 80), 255, np.uint8)])
    rgba[:, :40, 3] = 0
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    im = load_image(tmp_path / "a.png")
    assert im.alpha is not None and im.alpha[:, :40].max() == 0 and im.alpha[:, 40:].min() == 1
    Image.fromarray(_photo()).convert("P").save(tmp_path / "p.png")
    assert load_image(tmp_path / "p.png").rgb.shape == (60, 80, 3)


@pytest.mark.parametrize("orientation", [3, 6, 8, 5, 7])
def test_exif_orientation_matches_pillow(tmp_path: Path, orientation: int) -> None:
    arr = _photo(40, 70)
    ex = Image.Exif()
    ex[0x0112] = orientation
    path = tmp_path / f"o{orientation}.png"
    Image.fromarray(arr).save(path, exif=ex.tobytes())
    im = load_image(path)
    with Image.open(path) as pil:
        ref = np.asarray(ImageOps.exif_transpose(pil).convert("RGB"), np.float32) / 255
    assert im.rgb.shape == ref.shape
    np.testing.assert_allclose(im.rgb, ref, atol=1e-6)
    if orientation in (6, 8):
        assert im.rgb.shape[:2] == (70, 40)


def _pixel_work(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[tuple[int, int]]]:
    """Record the (width, height) of every raster Pillow decodes ("decoded") and of every
    image the loader then converts to an array ("converted"): the work done, counted
    rather than timed."""
    from PIL import ImageFile

    import scene.io.images as images

    work: dict[str, list[tuple[int, int]]] = {"decoded": [], "converted": []}
    real_load, real_to_array = ImageFile.ImageFile.load, images._to_array

    def load(img):
        out = real_load(img)
        work["decoded"].append(tuple(img.size))
        return out

    def to_array(img, p):
        work["converted"].append(tuple(img.size))
        return real_to_array(img, p)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    monkeypatch.setattr(images, "_to_array", to_array)
    return work


@pytest.mark.slow
def test_huge_photo_is_downscaled_while_decoding(tmp_path: Path, monkeypatch) -> None:
    rng = np.random.default_rng(0)
    small = (rng.random((80, 120, 3)) * 255).astype(np.uint8)
    big = cv2.resize(small, (12000, 8000), interpolation=cv2.INTER_NEAREST)
    path = tmp_path / "huge.jpg"
    cv2.imwrite(str(path), big, [cv2.IMWRITE_JPEG_QUALITY, 80])
    del big
    work = _pixel_work(monkeypatch)
    im = load_image(path)
    assert max(im.rgb.shape[:2]) == 4096 and im.rgb.shape[:2] == (2731, 4096)
    assert im.original_size == (12000, 8000) and im.scale == pytest.approx(4096 / 12000, rel=1e-3)
    # libjpeg decoded the 96 MP file at 1/2 scale (a quarter of its pixels), never in full
    assert set(work["decoded"]) == {(6000, 4000)} and work["converted"] == [(6000, 4000)]


@pytest.mark.slow
def test_huge_png_also_loads(tmp_path: Path, monkeypatch) -> None:
    big = np.zeros((8000, 12000), np.uint8)
    big[::100] = 255
    path = tmp_path / "huge.png"
    cv2.imwrite(str(path), big, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    del big
    work = _pixel_work(monkeypatch)
    im = load_image(path, max_side=2048)
    assert im.rgb.shape == (1365, 2048, 3)
    # Pillow box-reduced it (by 5) before any conversion to float
    assert work["converted"] == [(2400, 1600)]


def test_fov_from_exif_35mm_and_focal_plane() -> None:
    # 26 mm equivalent, 4:3 landscape: diagonal FOV 79.5°, horizontal ~ 67.3°
    f = fov_from_exif({0xA405: 26}, 4000, 3000)
    diag = 2 * math.atan(math.hypot(36, 24) / 52)
    assert f == pytest.approx(math.degrees(2 * math.atan(math.tan(diag / 2) * 0.8)), abs=1e-6)
    assert 66 < f < 68.5
    # portrait: same lens, narrower horizontally
    assert fov_from_exif({0xA405: 26}, 3000, 4000) < f
    # 4.25 mm lens, sensor 4000 px over 5.6 mm (FocalPlaneXResolution in px per cm)
    ex = {0x920A: (425, 100), 0xA20E: 4000 / 0.56, 0xA210: 3, 0xA002: 4000, 0xA003: 3000}
    expected = math.degrees(2 * math.atan(5.6 / (2 * 4.25)))
    assert fov_from_exif(ex, 4000, 3000) == pytest.approx(expected, rel=1e-6)
    assert fov_from_exif(ex, 1000, 750) == pytest.approx(expected, rel=1e-6)  # downscaled copy
    assert fov_from_exif({}, 100, 100) is None
    assert photo_fov({}, 100, 100) == (DEFAULT_FOV_DEG, "default")
    assert photo_fov({0xA405: 26}, 100, 75, override=40.0) == (40.0, "option")
    with pytest.raises(ValueError, match="fov"):
        photo_fov({}, 100, 100, override=0.0)


def test_an_unusable_exif_focal_length_is_said() -> None:
    """A focal length without the sensor size, or a 35 mm equivalent of 2000 mm (1°), went
    to the 65° default in silence (a trial); with no focal tag at all there is nothing to say."""
    from generators.panorama.fov import fov_exif_note

    assert fov_exif_note({}, 400, 300) is None
    assert fov_exif_note({0xA405: 26}, 400, 300) is None  # used: nothing to say
    note = fov_exif_note({0x920A: (585, 100)}, 400, 300)
    assert note is not None and "5.85 mm" in note and "sensor size" in note and "--fov" in note
    note = fov_exif_note({0xA405: 2000}, 400, 300)
    assert note is not None and "2000 mm" in note and "not believable" in note
    # the world's estimate says the same reason (a trial read "no EXIF focal length" there)
    from generators.panorama.fov import fov_default_reason

    assert fov_default_reason({}, 400, 300) == "no EXIF focal length"
    assert "5.85 mm" in fov_default_reason({0x920A: (585, 100)}, 400, 300)


def test_exif_focal_read_from_file(tmp_path: Path) -> None:
    ex = Image.Exif()
    ex.get_ifd(0x8769)[0xA405] = 26
    path = tmp_path / "f.jpg"
    Image.fromarray(_photo(300, 400)).save(path, exif=ex.tobytes())
    im = load_image(path)
    fov, src = photo_fov(im.exif, im.width, im.height)
    assert src == "exif" and 66 < fov < 68.5


def test_file_fov_reads_the_header_of_an_upright_photo(tmp_path: Path) -> None:
    """The New World dialog shows a photo's EXIF field of view (a trial saw 65° in the box
    for a photo whose EXIF gives 52.6°): across the photo as seen, turned by its EXIF
    orientation."""
    from generators.panorama.fov import file_fov

    ex = Image.Exif()
    ex.get_ifd(0x8769)[0xA405] = 26
    flat = tmp_path / "flat.jpg"
    Image.fromarray(_photo(300, 400)).save(flat, exif=ex.tobytes())
    assert file_fov(flat) == pytest.approx(fov_from_exif({0xA405: 26}, 400, 300))
    ex[0x0112] = 6  # stored landscape, seen portrait
    turned = tmp_path / "turned.jpg"
    Image.fromarray(_photo(300, 400)).save(turned, exif=ex.tobytes())
    assert file_fov(turned) == pytest.approx(fov_from_exif({0xA405: 26}, 300, 400))
    plain = tmp_path / "plain.jpg"
    Image.fromarray(_photo(300, 400)).save(plain)
    assert file_fov(plain) is None
    (tmp_path / "bad.jpg").write_bytes(b"not a jpeg")
    assert file_fov(tmp_path / "bad.jpg") is None


def test_a_tiny_or_very_dark_photo_is_warned_about(tmp_path: Path) -> None:
    """A 64x48 photo and an almost black one made a blurred mosaic and a black world
    without a word (a trial): both are usable, and each gets a warning line."""
    from generators.images import photo_warnings
    from generators.panorama import PanoramaOptions, generate_panorama

    ok = _photo(300, 400)
    assert photo_warnings("a.jpg", ok) == []
    assert "only 64x48 pixels" in " ".join(photo_warnings("t.jpg", ok[:48, :64]))
    dark = (ok.astype(np.float32) * 0.03).astype(np.uint8)
    (note,) = photo_warnings("d.jpg", dark)
    assert "very dark" in note
    # a bright object in a dark photo: its own pixels count
    mask = np.zeros(ok.shape[:2], np.float32)
    mask[100:200, 100:200] = 1
    lit = dark.copy()
    lit[100:200, 100:200] = ok[100:200, 100:200]
    assert photo_warnings("o.png", lit, mask) == []
    path = tmp_path / "dark.png"
    Image.fromarray(dark).save(path)
    res = generate_panorama(PanoramaOptions(photos=[path], height=128))
    assert any("dark.png is very dark" in w for w in res.meta.get("warnings", [])), res.meta


def _facade(h: int = 480, w: int = 640) -> np.ndarray:
    """A facade-like photo (h, w, 3) float 0..1: 28 dark vertical edges converging slightly
    to a point far below, a few horizontal ones, sky on top."""
    rng = np.random.default_rng(0)
    img = np.full((h, w, 3), 200, np.uint8)
    img[: h // 4] = (150, 200, 235)
    for i in range(28):
        x = int(20 + i * (w - 40) / 27)
        c = int(rng.integers(40, 120))
        x2 = int(w / 2 + (x - w / 2) * 0.93)
        cv2.line(
            img, (x, h // 4 + int(rng.integers(0, 30))), (x2, h - 10), (c, c, c), 2, cv2.LINE_AA
        )
    for j in range(5):
        y = h // 4 + 40 + j * 80
        cv2.line(img, (30, y), (w // 3, y + 15), (60, 60, 60), 2, cv2.LINE_AA)
    return img.astype(np.float32) / 255


def test_a_photo_on_its_side_without_an_orientation_tag_is_warned_about(tmp_path: Path) -> None:
    """Office.jpg turned a quarter with no EXIF orientation made a world lying on its side,
    without a word (a trial; stitching already warned). Its vertical lines run across it:
    a warning; the same photo upright gets none."""
    from generators.panorama import PanoramaOptions, generate_panorama
    from generators.panorama.pitch import looks_sideways

    up = _facade()
    assert not looks_sideways(up, 65.0)
    assert looks_sideways(np.ascontiguousarray(np.rot90(up, 1)), 50.0)
    assert looks_sideways(np.ascontiguousarray(np.rot90(up, 3)), 50.0)
    for name, img in (("up.png", up), ("side.png", np.rot90(up, 1))):
        Image.fromarray((np.ascontiguousarray(img) * 255).astype(np.uint8)).save(tmp_path / name)
    said = lambda p: " ".join(  # noqa: E731
        generate_panorama(PanoramaOptions(photos=[p], height=128)).meta.get("warnings", [])
    )
    assert "side.png looks turned on its side" in said(tmp_path / "side.png")
    assert "on its side" not in said(tmp_path / "up.png")
