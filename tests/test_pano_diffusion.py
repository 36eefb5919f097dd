"""Diffusion outpainting: a tiny random-weight SD inpainting pipeline built here, saved,
then loaded and run through the real backend code (no downloads, HF offline)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from generators.jobs import Cancelled, CancelToken

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")


def _byte_chars() -> list[str]:
    """CLIP's bytes_to_unicode alphabet (256 printable characters)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def build_tiny_tokenizer(folder: Path):
    from transformers import CLIPTokenizer

    chars = _byte_chars()
    vocab = {"<|startoftext|>": 0, "!": 1, "<|endoftext|>": 2}
    for ch in chars + [c + "</w>" for c in chars]:
        vocab.setdefault(ch, len(vocab))
    merges = ["#version: 0.2", "s k", "sk y</w>", "t r", "e e</w>"]
    for tok in ("sk", "sky</w>", "tr", "ee</w>"):
        vocab[tok] = len(vocab)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("\n".join(merges) + "\n")
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"),
                         model_max_length=77, pad_token="!")


@pytest.fixture(scope="module")
def tiny_sd(tmp_path_factory) -> Path:
    from diffusers import (
        AutoencoderKL,
        PNDMScheduler,
        StableDiffusionInpaintPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    root = tmp_path_factory.mktemp("sd")
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=16, in_channels=9,
        out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32)
    vae = AutoencoderKL(block_out_channels=[32, 64], in_channels=3, out_channels=3,
                        down_block_types=["DownEncoderBlock2D"] * 2,
                        up_block_types=["UpDecoderBlock2D"] * 2, latent_channels=4)
    text = CLIPTextModel(CLIPTextConfig(bos_token_id=0, eos_token_id=2, hidden_size=32,
                                        intermediate_size=37, layer_norm_eps=1e-5,
                                        num_attention_heads=4, num_hidden_layers=2,
                                        pad_token_id=1, vocab_size=1000))
    tok = build_tiny_tokenizer(root / "tok-src")
    pipe = StableDiffusionInpaintPipeline(vae=vae, text_encoder=text, tokenizer=tok, unet=unet,
                                          scheduler=PNDMScheduler(skip_prk_steps=True),
                                          safety_checker=None, feature_extractor=None,
                                          requires_safety_checker=False)
    pipe.save_pretrained(root / "pipe")
    return root / "pipe"


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
    out = outpaint_diffusion(pano, known, model=tiny_sd, steps=2, work_height=32,
                             device="cpu", progress=lambda f, m: events.append((f, m)))
    assert out.shape == (64, 128, 3) and np.isfinite(out).all()
    full = known >= 1.0
    np.testing.assert_allclose(out[full], pano[full], atol=1e-6)      # photo kept exactly
    assert out[known == 0].std() > 0.01                                # something generated
    steps = [m for _, m in events if "step" in m]
    assert any("outpainting: step 2/2" in m for m in steps)
    assert any("seam" in m for m in steps)                             # second, seam pass ran
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
        outpaint_diffusion(pano, known, pipe=pipe, steps=4, work_height=32, progress=progress,
                           cancel=token)
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
    rc = run_cli(["panorama", "--photo", str(photo), "--backend", "diffusion", "--model",
                  str(tiny_sd), "--steps", "1", "--height", "64", "--out", str(out)])
    assert rc == 0 and out.exists()
    meta = json.loads((tmp_path / "pano.png.json").read_text())
    assert meta["backend"] == "diffusion" and meta["model"] == str(tiny_sd)
