"""Settings > Models in the real window: the table, Download with progress and cancel through the
window's job runner (against a local stand-in hub), and Create dialogs offering ready backends."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from models_tiny import StandInHub

from viewer.app import configure_gl

configure_gl()
pytestmark = [pytest.mark.slow, pytest.mark.gl]

REPO = "depth-anything/Depth-Anything-V2-Small-hf"


@pytest.fixture
def window(app_window, tmp_path, monkeypatch):  # conftest's shared window
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))  # an empty model cache
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    from viewer import ext_models, ext_panorama, ext_reconstruct

    return app_window(ext_models, ext_panorama, ext_reconstruct)


@pytest.fixture
def served(tmp_path: Path) -> Path:
    src = tmp_path / "served"
    src.mkdir()
    (src / "config.json").write_text('{"model_type": "depth_anything"}')
    (src / "preprocessor_config.json").write_text("{}")
    (src / "model.safetensors").write_bytes(os.urandom(4_000_000))
    return src


def _row(dlg, name: str) -> int:
    for r in range(dlg.table.rowCount()):
        if dlg.table.item(r, 0).text() == name:
            return r
    raise AssertionError(name)


def test_models_dialog_downloads_with_progress_and_cancel(
    window, qtbot, served, monkeypatch
) -> None:
    from generators.models.registry import BACKENDS

    texts = [a.text() for a in window.menu("&Settings").actions()]
    assert "&Models…" in texts
    dlg = window.extensions["models_tools"].open()
    assert dlg.table.rowCount() == len(BACKENDS)
    r = _row(dlg, "depth-anything-v2-small")
    assert dlg.table.item(r, 2).text() == "missing"
    btn = dlg.table.cellWidget(r, 3)
    assert btn.text() == "Download"
    with StandInHub({REPO: served}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        # cancel: the job ends as cancelled and nothing counts as downloaded
        job = dlg.download("depth-anything-v2-small")
        job.cancel()
        qtbot.waitUntil(lambda: not job.running, timeout=30000)
        assert job.state == "cancelled"
        qtbot.waitUntil(lambda: "cancelled" in dlg.status.text(), timeout=5000)
        assert dlg.table.item(_row(dlg, "depth-anything-v2-small"), 2).text() != "ready"
        # download: progress reaches the dialog, the row turns ready with a Verify button
        seen: list[int] = []
        job = dlg.download("depth-anything-v2-small")
        job.progressed.connect(lambda f, m: seen.append(int(f * 100)))
        qtbot.waitUntil(lambda: not job.running, timeout=60000)
    assert job.state == "done", job.error
    r = _row(dlg, "depth-anything-v2-small")
    assert dlg.table.item(r, 2).text() == "ready"
    assert dlg.table.cellWidget(r, 3).text() == "Verify"
    assert seen and max(seen) >= 50


def test_create_dialogs_offer_ready_backends(window, tmp_path) -> None:
    from models_tiny import put_in_cache

    from generators.models.registry import get_backend
    from viewer.ext_panorama import NewWorldDialog
    from viewer.ext_reconstruct import ReconstructDialog

    photo = tmp_path / "p.png"
    import cv2
    import numpy as np

    cv2.imwrite(str(photo), np.zeros((32, 48, 3), np.uint8))
    dlg = NewWorldDialog(window, [photo])
    combo = dlg.pano_backend
    values = [combo.itemData(i) for i in range(combo.count())]
    assert values == ["classical", "flux", "diffusion"]
    assert combo.currentData() == "classical"  # nothing downloaded: the weightless one
    flux = combo.model().item(values.index("flux"))
    assert not flux.isEnabled() and "Settings > Models" in combo.itemText(values.index("flux"))
    assert dlg.depth_backend.currentData() == "classical"
    # once Depth Anything V2 is in the cache, neural depth is offered and preselected
    src = tmp_path / "src"
    src.mkdir()
    for f in ("config.json", "preprocessor_config.json"):
        (src / f).write_text("{}")
    put_in_cache(src, get_backend("depth-anything-v2-small").repos[0].id, tmp_path / "hub")
    dlg = NewWorldDialog(window, [photo])
    assert dlg.depth_backend.currentData() == "neural"
    assert dlg.request().depth_backend == "neural" and dlg.request().depth_model is None
    dlg.request().check()
    rd = ReconstructDialog(window, [photo, photo])
    assert rd.backend.currentData() == "sfm" and rd.request().options.backend == "sfm"


def test_models_dialog_speaks_to_the_app_user(window, qtbot, monkeypatch) -> None:
    """A trial: an offline Download told the app's user to run `python main.py models
    download ...`; declining a licence left the last error on screen; a model whose package
    is missing went to the hub without a word about the package; the progress bar and Cancel
    were squeezed to slivers when they appeared."""
    from PyQt6.QtWidgets import QMessageBox

    from generators.models.registry import BACKENDS

    dlg = window.extensions["models_tools"].open()
    # it fits the screen: its intro on one line made it 1950 px wide on a 1600-px screen,
    # the Close button off it (a trial)
    qtbot.waitUntil(dlg.isVisible, timeout=3000)
    screen = dlg.screen().availableGeometry()
    assert dlg.frameGeometry().width() <= screen.width(), (dlg.frameGeometry(), screen)
    assert dlg.progress.sizePolicy().retainSizeWhenHidden()
    assert dlg.cancel_btn.sizePolicy().retainSizeWhenHidden()
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    job = dlg.download("depth-anything-v2-small")
    qtbot.waitUntil(lambda: not job.running, timeout=60000)
    text = dlg.status.text()
    assert "press Download again" in text and "main.py" not in text, text
    restricted = next(b for b in BACKENDS if b.restricted)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    assert dlg.download(restricted.name) is None
    assert dlg.status.text() == f"{restricted.name}: not downloaded (its licence was not accepted)"
    from generators.models.hub import missing_packages

    lacking = next((b for b in BACKENDS if missing_packages(b) and not b.restricted), None)
    if lacking is not None:
        job = dlg.download(lacking.name)
        assert lacking.pip in dlg.status.text()
        qtbot.waitUntil(lambda: not job.running, timeout=60000)
        assert lacking.pip in dlg.status.text()
        # the package it needs is named in its row, not only in a tooltip (a trial)
        state = dlg.table.item(_row(dlg, lacking.name), 2).text()
        assert all(p in state for p in missing_packages(lacking)), state
    # ... and the dialog says none of it is needed for the classical backends (a trial)
    from PyQt6.QtWidgets import QLabel

    assert any("None of these is needed" in lbl.text() for lbl in dlg.findChildren(QLabel))
