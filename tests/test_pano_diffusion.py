"""Diffusion outpainting: a tiny random-weight SD inpainting pipeline built here, saved,
then loaded and run through the real backend code (no downloads, HF offline)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from generators.jobs import Cancelled, CancelToken

# PyTorch is optional (the `torch` extra; tools/install.sh picks its build): without it the
# neural backends cannot run at all. diffusers is a required dependency: imported plainly.
torch = pytest.importorskip("torch", reason="PyTorch is optional (torch extra)")

from models_tiny import build_tiny_sd_inpaint


@pytest.fixture(scope="module")
def tiny_sd(tmp_path_factory) -> Path:
    """The tiny random SD inpainting pipeline (models_tiny's builder), saved to a folder."""
    return build_tiny_sd_inpaint(tmp_path_factory.mktemp("sd"))


def _inputs(h: int = 64) -> tuple[np.ndarray, np.ndarray]:
    from skimage import data

    from generators.panorama import place_photo

    photo = data.chelsea().astype(np.float32) / 255
    return place_photo(photo, 70.0, h)


@pytest.mark.slow
def test_diffusion_outpaint_runs_real_loading_and_inference(tiny_sd: Path, monkeypatch) -> None:
    from generators.panorama.outpaint_diffusion import outpaint_diffusion

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    pano, known = _inputs(64)
    events: list[tuple[float, str]] = []
    out = outpaint_diffusion(
        pano,
        known,
        model=tiny_sd,
        steps=2,
        work_height=32,
        device="cpu",
        progress=lambda f, m: events.append((f, m)),
    )
    assert out.shape == (64, 128, 3) and np.isfinite(out).all()
    full = known >= 1.0
    np.testing.assert_allclose(out[full], pano[full], atol=1e-6)  # photo kept exactly
    assert out[known == 0].std() > 0.01  # something generated
    steps = [m for _, m in events if "step" in m]
    assert any("outpainting: step 2/2" in m for m in steps)
    assert any("seam" in m for m in steps)  # second, seam pass ran
    assert events[-1][0] == pytest.approx(1.0)


@pytest.mark.slow
def test_diffusion_cancel_interrupts_the_pipeline(tiny_sd: Path) -> None:
    from generators.panorama.outpaint_diffusion import load_inpaint_pipeline, outpaint_diffusion

    pipe = load_inpaint_pipeline(tiny_sd, "cpu")
    pano, known = _inputs(64)
    token = CancelToken()
    calls: list[str] = []

    def progress(f: float, m: str) -> None:
        calls.append(m)
        if "step 1/" in m:
            token.cancel()

    with pytest.raises(Cancelled):
        outpaint_diffusion(
            pano, known, pipe=pipe, steps=4, work_height=32, progress=progress, cancel=token
        )
    assert pipe._interrupt is True
    assert sum("step" in m for m in calls) == 1


def test_missing_or_wrong_model_folder_says_what_to_download(tmp_path: Path, monkeypatch) -> None:
    from generators.panorama.outpaint_diffusion import load_inpaint_pipeline

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(ValueError, match="models download sd-inpaint"):
        load_inpaint_pipeline(None)
    with pytest.raises(ValueError, match="no model_index.json"):
        load_inpaint_pipeline(tmp_path)
    with pytest.raises(ValueError, match="neither a folder nor a known model"):
        load_inpaint_pipeline("nobody/no-such-model-here")


@pytest.mark.slow
def test_panorama_cli_with_diffusion_backend(tiny_sd: Path, tmp_path: Path) -> None:
    import cv2
    from skimage import data

    from cli import run_cli

    photo = tmp_path / "cat.png"
    cv2.imwrite(str(photo), data.chelsea()[..., ::-1])
    out = tmp_path / "pano.png"
    rc = run_cli(
        [
            "panorama",
            "--photo",
            str(photo),
            "--backend",
            "diffusion",
            "--model",
            str(tiny_sd),
            "--steps",
            "1",
            "--height",
            "64",
            "--out",
            str(out),
        ]
    )
    assert rc == 0 and out.exists()
    meta = json.loads((tmp_path / "pano.png.json").read_text())
    assert meta["backend"] == "diffusion" and meta["model"] == str(tiny_sd)
