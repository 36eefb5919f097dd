"""A cut-out photo (an alpha channel) with a box or a click: the box and the click pick
the part of the cut-out the user means, and a bad one is refused, as on an opaque photo.
Before, both were ignored in silence and recorded in the provenance as if used."""

from __future__ import annotations

import numpy as np
import pytest

from generators.objects.segment_classical import segment_classical


def _cutout() -> tuple[np.ndarray, np.ndarray]:
    """A 300x400 RGBA cut-out: a red body, a blue nozzle on top, a separate green disc."""
    rgb = np.zeros((300, 400, 3), np.uint8)
    alpha = np.zeros((300, 400), np.float32)
    rgb[80:250, 100:300], alpha[80:250, 100:300] = (200, 40, 40), 1.0
    rgb[30:80, 180:220], alpha[30:80, 180:220] = (40, 40, 200), 1.0
    yy, xx = np.mgrid[0:300, 0:400]
    disc = (xx - 40) ** 2 + (yy - 40) ** 2 < 20**2
    rgb[disc], alpha[disc] = (0, 200, 0), 1.0
    return rgb, alpha


def test_the_alpha_matte_is_used_whole_by_default() -> None:
    rgb, alpha = _cutout()
    seg = segment_classical(rgb, alpha)
    assert seg.mask[150, 200] and seg.mask[50, 200]  # body and nozzle: one component
    assert not seg.mask[40, 40]  # the smaller, separate disc is left out


def test_a_box_keeps_the_part_of_the_cut_out_inside_it() -> None:
    rgb, alpha = _cutout()
    seg = segment_classical(rgb, alpha, box=(170, 20, 230, 85))
    ys, xs = np.nonzero(seg.mask)
    assert ys.min() >= 20 and ys.max() < 85 and xs.min() >= 170 and xs.max() < 230
    assert seg.mask[50, 200]  # the nozzle


def test_a_click_picks_the_piece_under_it() -> None:
    rgb, alpha = _cutout()
    seg = segment_classical(rgb, alpha, point=(40.0, 40.0))
    assert seg.mask[40, 40] and not seg.mask[150, 200]  # the disc, not the body


@pytest.mark.parametrize(
    "kw, msg",
    [
        ({"point": (5000.0, 5.0)}, "outside the 400x300 photo"),
        ({"point": (5.0, 290.0)}, "transparent background"),
        ({"box": (100, 80, 300, 250), "point": (40.0, 40.0)}, "outside the box"),
    ],
)
def test_bad_prompts_on_a_cut_out_are_refused(kw: dict, msg: str) -> None:
    rgb, alpha = _cutout()
    with pytest.raises(ValueError, match=msg):
        segment_classical(rgb, alpha, **kw)


def test_a_fully_transparent_png_is_refused_by_name(tmp_path) -> None:  # noqa: ANN001
    """A fully transparent PNG was refused as "no object found: the mask is empty", with no
    word of the file or its alpha (a trial); the CLI says both, exit 2."""
    import os

    from PIL import Image
    from project_craft import run_cli

    from generators.objects.segment_classical import load_image
    from scene.errors import SceneFormatError

    rgba = np.zeros((64, 64, 4), np.uint8)
    rgba[..., :3] = 128
    path = tmp_path / "clear.png"
    Image.fromarray(rgba).save(path)
    with pytest.raises(SceneFormatError, match="clear.png.*fully transparent"):
        load_image(path)
    run = run_cli(
        ["object", "--photo", str(path), "--out", str(tmp_path / "o.ply")],
        dict(os.environ),
        tmp_path,
        timeout=120,
    )
    assert run.returncode == 2 and "fully transparent" in run.stderr
    assert "Traceback" not in run.stderr and not (tmp_path / "o.ply").exists()


def test_a_big_photo_is_segmented_at_a_working_size_with_its_prompts_scaled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 12000x9000 photo peaked at 6.3 GB in segmentation (a trial): photos over
    SEGMENT_MAX_SIDE are segmented at that size, the box and the click given in the photo's
    own pixels scaled with it (here the cut-out at 4x, segmented at 1x)."""
    import cv2

    from generators.objects import pipeline
    from generators.objects.options import ObjectOptions

    rgb, alpha = _cutout()
    big = np.concatenate(
        [
            cv2.resize(rgb, (1600, 1200), interpolation=cv2.INTER_NEAREST),
            (cv2.resize(alpha, (1600, 1200), interpolation=cv2.INTER_NEAREST) * 255)[..., None],
        ],
        -1,
    ).astype(np.uint8)
    monkeypatch.setattr(pipeline, "SEGMENT_MAX_SIDE", 400)
    seg = pipeline.segment(ObjectOptions(image=big, box=(680, 80, 920, 340)))
    assert seg.mask.shape == (300, 400)
    ys, xs = np.nonzero(seg.mask)
    assert ys.min() >= 20 and ys.max() < 85 and xs.min() >= 170 and xs.max() < 230
    assert seg.mask[50, 200]  # the nozzle, as the box at 1x picks it
    seg = pipeline.segment(ObjectOptions(image=big, point=(160.0, 160.0)))
    assert seg.mask[40, 40] and not seg.mask[150, 200]  # the disc under the click
