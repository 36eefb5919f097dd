"""Insert Object dialog: the object backends and segmenters show what the model manager says
is ready, and the best ready one is preselected (pytest-qt under Xvfb)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from viewer.app import configure_gl

configure_gl()

pytestmark = pytest.mark.gl


def _fake_states(ready: set[str], cpu_ok: bool = True):  # noqa: ANN202
    def state(name: str) -> SimpleNamespace:
        ok = name in ready
        return SimpleNamespace(
            ready=ok,
            missing_packages=[] if ok or name != "hunyuan3d-2mini" else ["hy3dgen"],
            state="ready" if ok else "not downloaded",
            backend=SimpleNamespace(cpu_ok=cpu_ok, vram_gb=6.0),
        )

    return state


def _dialog(qtbot, tmp_path, monkeypatch, ready, gpu=True):  # noqa: ANN001, ANN202
    import cv2

    from generators.models import hub
    from viewer import models_dialog
    from viewer.ext_objects import SegmentDialog

    monkeypatch.setattr(hub, "backend_state", _fake_states(ready))
    monkeypatch.setattr(models_dialog, "_has_gpu", lambda: gpu)
    photo = tmp_path / "cup.png"
    cv2.imwrite(str(photo), np.full((80, 100, 3), 128, np.uint8))
    dlg = SegmentDialog(None, photo)
    qtbot.addWidget(dlg)
    return dlg


def _labels(combo) -> list[str]:  # noqa: ANN001
    return [combo.itemText(i) for i in range(combo.count())]


def test_nothing_downloaded_preselects_classical_and_says_what_is_missing(
    qtbot, x_display, tmp_path, monkeypatch
) -> None:  # noqa: ANN001
    dlg = _dialog(qtbot, tmp_path, monkeypatch, ready=set())
    assert dlg.backend.currentData() == "classical" and dlg.segmenter.currentData() == "classical"
    labels = _labels(dlg.backend)
    assert "Classical inflation (no weights) — ready" in labels
    assert any("Zero123++" in t and "Settings > Models > Download zero123plus" in t for t in labels)
    assert any("Hunyuan3D" in t and "needs hy3dgen" in t for t in labels)
    assert any("SAM" in t and "Download sam2-tiny" in t for t in _labels(dlg.segmenter))
    assert dlg.request().backend == "classical"
    # the height: Auto (sized where it lands) unless set, then the object is made that tall
    assert dlg.fixed_height() is None and dlg.request().height == 1.0
    assert dlg.height.text().startswith("Auto")
    dlg.height.setValue(0.45)
    assert dlg.fixed_height() == pytest.approx(0.45)
    assert dlg.request().height == pytest.approx(0.45)


def test_best_ready_backend_and_segmenter_are_preselected(
    qtbot, x_display, tmp_path, monkeypatch
) -> None:  # noqa: ANN001
    dlg = _dialog(qtbot, tmp_path, monkeypatch, ready={"zero123plus", "sam2-tiny"})
    assert dlg.backend.currentData() == "multiview" and dlg.segmenter.currentData() == "neural"
    assert dlg.request().backend == "multiview" and dlg.request().segmenter == "neural"
    assert "ready" in dlg.backend.currentText()
    # a GPU-only model on a machine without CUDA is not ready
    from generators.models import hub
    from viewer.ext_objects import OBJECT_OFFERS, offer_choices

    monkeypatch.setattr(hub, "backend_state", _fake_states({"hunyuan3d-2mini"}, cpu_ok=False))
    from viewer import models_dialog

    monkeypatch.setattr(models_dialog, "_has_gpu", lambda: False)
    choices, best = offer_choices(OBJECT_OFFERS)
    assert choices[best].value == "classical" and "needs a GPU" in choices[2].label


def test_reconstruct_dialog_without_torch_turns_optimisation_off(
    qtbot, x_display, tmp_path, monkeypatch
) -> None:  # noqa: ANN001
    """Issue 15: without PyTorch the app's reconstruction does not reach a raw ImportError:
    the dialog sets optimisation to 0 steps and says in one line how to add PyTorch."""
    import cv2

    from cli import cmd_reconstruct
    from viewer.ext_reconstruct import ReconstructDialog

    monkeypatch.setattr(cmd_reconstruct, "torch_available", lambda: False)
    photos = []
    for i in range(2):
        p = tmp_path / f"p{i}.png"
        cv2.imwrite(str(p), np.full((40, 60, 3), 100 + 40 * i, np.uint8))
        photos.append(p)
    dlg = ReconstructDialog(None, photos)
    qtbot.addWidget(dlg)
    assert dlg.refine.value() == 0 and not dlg.refine.isEnabled()
    assert (
        "PyTorch is not installed" in dlg.no_torch.text() and "pip install" in dlg.no_torch.text()
    )
    assert dlg.request().options.refine_steps == 0


def test_the_mask_preview_shows_on_a_black_background() -> None:
    """A product shot on black: what the mask leaves out is tinted, the mask outlined, its
    inside untouched (darkening the rest showed nothing there: a trial)."""
    from viewer.ext_objects import MASK_TINT, masked_preview

    rgb = np.zeros((90, 120, 3), np.uint8)
    rgb[30:60, 40:80] = (150, 90, 40)
    mask = np.zeros((90, 120), bool)
    mask[30:60, 40:80] = True
    out = masked_preview(rgb, mask)
    np.testing.assert_allclose(out[5, 5], 0.5 * MASK_TINT, atol=1)  # left out: tinted
    np.testing.assert_array_equal(out[45, 60], rgb[45, 60])  # inside: as it is
    assert tuple(out[29, 60]) == (255, 210, 40) and tuple(out[30, 60]) == (255, 210, 40)


def test_a_cut_out_photo_shows_its_own_mask_and_asks_for_no_box(
    qtbot, x_display, tmp_path, monkeypatch
) -> None:  # noqa: ANN001
    """A trial inserted a PNG cut-out (the object on transparency): the dialog asked to
    drag a box around the object, which its transparency overrides. It says the photo's
    transparency is the mask, and shows it at once."""
    import cv2

    from generators.models import hub
    from viewer import models_dialog
    from viewer.ext_objects import SegmentDialog

    monkeypatch.setattr(hub, "backend_state", _fake_states(set()))
    monkeypatch.setattr(models_dialog, "_has_gpu", lambda: False)
    rgba = np.zeros((80, 100, 4), np.uint8)
    rgba[..., :3] = 128
    rgba[20:60, 30:70, 3] = 255  # the object, on transparency
    photo = tmp_path / "cutout.png"
    cv2.imwrite(str(photo), rgba)
    dlg = SegmentDialog(None, photo)
    qtbot.addWidget(dlg)
    assert dlg.cut_out and "transparency is the object's mask" in dlg.info.text()
    assert dlg.canvas.mask is not None and int(dlg.canvas.mask.sum()) == 40 * 40
    plain = tmp_path / "plain.png"
    cv2.imwrite(str(plain), rgba[..., :3])
    dlg2 = SegmentDialog(None, plain)
    qtbot.addWidget(dlg2)
    assert not dlg2.cut_out and "Drag a box" in dlg2.info.text() and dlg2.canvas.mask is None
