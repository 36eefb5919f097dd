"""The app's Create/Insert dialogs fill the generators' own options dataclasses: their
defaults, choices and ranges agree with the dataclass (and so with the CLI, which
`test_options.py` checks against the same fields)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest

from generators.objects.options import ObjectOptions
from generators.reconstruct.options import ReconstructOptions
from generators.world_options import WorldOptions

pytestmark = pytest.mark.gl  # Qt widgets: needs the X display


def _combo_data(combo) -> list:  # noqa: ANN001
    return [combo.itemData(i) for i in range(combo.count())]


def _meta(cls) -> dict:  # noqa: ANN001
    return {f.name: f.metadata for f in dataclasses.fields(cls)}


def _untouched(opts, cls, dialog_fields) -> None:  # noqa: ANN001
    """Fields the dialog does not set keep the dataclass defaults."""
    base = cls()
    for f in dataclasses.fields(cls):
        if f.name not in dialog_fields and f.name not in ("photos", "photo"):
            assert getattr(opts, f.name) == getattr(base, f.name), f.name


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    p = tmp_path / "photo.png"
    rng = np.random.default_rng(0)
    cv2.imwrite(str(p), rng.integers(0, 255, (60, 80, 3), dtype=np.uint8))
    return p


def test_new_world_dialog_builds_world_options(qtbot, photo: Path, tmp_path: Path) -> None:
    from viewer.ext_panorama import DIALOG_FIELDS, NewWorldDialog

    meta = _meta(WorldOptions)
    assert set(DIALOG_FIELDS) <= set(meta)
    dlg = NewWorldDialog(None, [photo])
    qtbot.addWidget(dlg)
    opts = dlg.request()
    assert type(opts) is WorldOptions
    assert opts == WorldOptions(
        photos=[photo],
        pano_backend=dlg.pano_backend.currentData(),
        depth_backend=dlg.depth_backend.currentData(),
        resolution=WorldOptions().resolution or 768,
    )
    _untouched(opts, WorldOptions, DIALOG_FIELDS)
    assert set(_combo_data(dlg.pano_backend)) <= set(meta["pano_backend"]["choices"])
    assert set(_combo_data(dlg.depth_backend)) <= set(meta["depth_backend"]["choices"])
    assert (dlg.fov.minimum(), dlg.fov.maximum()) == (meta["fov"]["lo"], meta["fov"]["hi"])
    dlg.auto_fov.setChecked(False)
    dlg.fov.setValue(50.0)
    assert dlg.request().fov == 50.0
    dlg.request().check()  # classical backends: nothing missing
    pano = tmp_path / "p.png"
    d2 = NewWorldDialog(None, [], pano)
    qtbot.addWidget(d2)
    o2 = d2.request()
    assert o2.panorama == pano and o2.photos == [] and o2.pano_backend == "classical"
    # the CLI's --no-level, --eye-height and --radius (the panorama dialog had none)
    assert o2.level and o2.radius is None and o2.eye_height == WorldOptions().eye_height
    lo, hi = meta["radius"]["lo"], meta["radius"]["hi"]
    assert (d2.radius.minimum(), d2.radius.maximum()) == (lo, hi)
    d2.level.setChecked(False)
    d2.eye_height.setValue(1.2)
    d2.auto_radius.setChecked(False)
    d2.radius.setValue(12.0)
    o3 = d2.request()
    assert (o3.level, o3.eye_height, o3.radius) == (False, 1.2, 12.0)


def test_reconstruct_dialog_builds_reconstruct_options(qtbot, photo: Path) -> None:
    from cli.cmd_reconstruct import torch_available
    from viewer.ext_reconstruct import DETAIL, DIALOG_FIELDS, ReconstructDialog

    meta = _meta(ReconstructOptions)
    assert set(DIALOG_FIELDS) <= set(meta)
    dlg = ReconstructDialog(None, [photo, photo])
    qtbot.addWidget(dlg)
    req = dlg.request()
    opts = req.options
    assert type(opts) is ReconstructOptions
    _untouched(opts, ReconstructOptions, DIALOG_FIELDS)
    base = ReconstructOptions()
    assert opts.refine_seconds == base.refine_seconds and opts.depth_size == base.depth_size
    assert opts.run_seconds == base.run_seconds
    assert opts.refine_steps == (base.refine_steps if torch_available() else 0)
    assert set(_combo_data(dlg.backend)) <= set(meta["backend"]["choices"])
    assert all(size >= meta["depth_size"]["lo"] for _, size in DETAIL)
    dlg.refine.setValue(0)
    dlg.refine_seconds.setValue(5)
    dlg.run_seconds.setValue(0)
    o = dlg.request().options
    assert (o.refine_steps, o.refine_seconds, o.run_seconds) == (0, 5.0, 0.0)
    dlg.request().check()
    # the CLI's --capture, --holdout and --no-fill-gaps (the dialog had none of them)
    assert (opts.capture, opts.holdout, opts.fill_gaps) == (base.capture, 0, base.fill_gaps)
    assert _combo_data(dlg.capture) == list(meta["capture"]["choices"])
    dlg.capture.setCurrentIndex(_combo_data(dlg.capture).index("aerial"))
    dlg.holdout.setValue(8)
    assert base.fill_gaps and dlg.fill_gaps.isChecked()  # on by default
    dlg.fill_gaps.setChecked(False)
    o = dlg.request().options
    assert (o.capture, o.holdout, o.fill_gaps) == ("aerial", 8, False)
    dlg.request().check()
    # the next dialog starts from these (a trial's second run came back at the defaults);
    # what cannot be read is left at its default
    dlg.detail.setCurrentIndex(0)
    kept = dlg.remembered()
    again = ReconstructDialog(None, [photo, photo])
    qtbot.addWidget(again)
    again.restore(kept)
    assert again.remembered() == kept
    o = again.request().options
    assert (o.capture, o.holdout, o.fill_gaps, o.refine_seconds) == ("aerial", 8, False, 5.0)
    fresh = ReconstructDialog(None, [photo, photo])
    qtbot.addWidget(fresh)
    before = fresh.remembered()
    fresh.restore({"run_seconds": -5, "detail": 99, "capture": "sideways", "holdout": "x"})
    fresh.restore("not a dict")
    assert fresh.remembered() == before


def test_segment_dialog_builds_object_options(qtbot, photo: Path) -> None:
    from viewer.ext_objects import SegmentDialog

    meta = _meta(ObjectOptions)
    dlg = SegmentDialog(None, photo)
    qtbot.addWidget(dlg)
    opts = dlg.request()
    assert type(opts) is ObjectOptions and opts.photo == photo
    _untouched(opts, ObjectOptions, ("backend", "segmenter", "box", "point", "model", "sam"))
    assert set(_combo_data(dlg.backend)) <= set(meta["backend"]["choices"])
    assert set(_combo_data(dlg.segmenter)) <= set(meta["segmenter"]["choices"])
