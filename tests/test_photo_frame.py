"""A photo's black band along its edges is invented, not placed (issue 14)."""

from __future__ import annotations

import numpy as np

from generators.panorama.border import dark_margins, frame_alpha, without_frame


def _picture(h: int = 240, w: int = 320, seed: int = 0) -> np.ndarray:
    """A textured picture (h, w, 3) 0..1, mid-grey on average."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = 0.45 + 0.15 * np.sin(xx / 9.0) * np.cos(yy / 13.0)
    img = base[..., None] * np.array([1.0, 0.9, 0.8], np.float32)
    return np.clip(img + 0.03 * rng.standard_normal((h, w, 3)), 0, 1).astype(np.float32)


def _framed(img: np.ndarray, t: int, b: int, l: int, r: int) -> np.ndarray:  # noqa: E741
    """`img` with black bands t, b, l, r px wide, each blended into the picture over two
    lines (as a resampled, undistorted frame's edge is: ScanNet's)."""
    out = img.copy()
    h, w = out.shape[:2]
    for k in range(2):  # the blend: a third and two thirds of the picture
        f = (k + 1) / 3.0
        out[t + k] *= f
        out[h - 1 - b - k] *= f
        out[:, l + k] *= f
        out[:, w - 1 - r - k] *= f
    out[:t] = 0.0
    out[h - b :] = 0.0
    out[:, :l] = 0.0
    out[:, w - r :] = 0.0
    return out


def test_a_black_band_and_its_blend_are_found_on_each_side() -> None:
    img = _framed(_picture(), 3, 4, 5, 2)
    top, bottom, left, right = dark_margins(img)
    assert 3 <= top <= 5 and 4 <= bottom <= 6 and 5 <= left <= 7 and 2 <= right <= 4
    alpha, margins = frame_alpha(img, None)
    assert margins == (top, bottom, left, right)
    assert alpha[:top].max() == 0 and alpha[:, -right:].max() == 0
    assert alpha[top:-bottom, left:-right].min() == 1.0
    # for line detection the band is the picture's edge carried out (no straight black edge)
    filled = without_frame(img, margins)
    assert filled.shape == img.shape
    assert np.allclose(filled[top:-bottom, 0], img[top:-bottom, left])


def test_the_band_s_last_blended_line_is_part_of_it() -> None:
    """A ScanNet frame's last blended column sits at 65 % of the picture's brightness: left
    in the photo, it stood as a dashed dark line down the start view's edges."""
    img = _picture()
    img[:, :4] = 0.0
    img[:, 4] *= 0.65
    assert dark_margins(img)[2] == 5


def test_no_band_on_a_night_photo_a_dark_corner_or_a_plain_photo() -> None:
    plain = _picture()
    assert dark_margins(plain) == (0, 0, 0, 0)
    assert frame_alpha(plain, None) == (None, (0, 0, 0, 0))
    night = plain * 0.12  # dark everywhere: its edges are no frame
    assert dark_margins(night) == (0, 0, 0, 0)
    corner = plain.copy()
    corner[:, :60][:, :, :] = np.where(np.arange(240)[:, None, None] > 150, 0.02, corner[:, :60])
    assert dark_margins(corner) == (0, 0, 0, 0)  # a black sofa at the left edge, not a band


def test_a_framed_photo_s_band_is_not_placed_on_the_panorama(tmp_path) -> None:
    """ScanNet frames carry a 3-5 px black band: placed as the photo it stood as a black
    outline round it in the world, and its straight sides were counted as vertical lines
    for the pitch. Now its pixels are invented like the rest of the sphere."""
    import cv2

    from generators.panorama import generate_panorama
    from generators.panorama.options import PanoramaOptions

    img = _framed(_picture(480, 640), 4, 4, 5, 5)
    path = tmp_path / "framed.png"
    cv2.imwrite(str(path), (img[:, :, ::-1] * 255).astype(np.uint8))
    pano = generate_panorama(PanoramaOptions(photos=[path], height=256, fov=60.0))
    assert pano.meta["photo_frame"]["margins_px"]["left"] >= 5
    known = pano.known > 0.5
    # the photo's region holds no black rim: its outermost known pixels are the picture's
    ring = known & ~cv2.erode(known.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    lum = pano.image[ring] @ np.array([0.299, 0.587, 0.114], np.float32)
    assert float(np.percentile(lum, 5)) > 0.15, float(np.percentile(lum, 5))
