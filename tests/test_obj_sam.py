"""Objects: the `neural` segmenter (Segment Anything via transformers) on a tiny random model."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data

pytestmark = pytest.mark.slow  # importing transformers' SAM takes several seconds here


@pytest.fixture(scope="module")
def tiny_sam(tmp_path_factory):
    """A tiny random SamModel + SamProcessor saved as a local folder (no downloads)."""
    import torch
    from transformers import (
        SamConfig,
        SamImageProcessor,
        SamMaskDecoderConfig,
        SamModel,
        SamProcessor,
        SamPromptEncoderConfig,
        SamVisionConfig,
    )

    torch.manual_seed(0)
    cfg = SamConfig(
        vision_config=SamVisionConfig(
            hidden_size=16,
            output_channels=8,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=64,
            patch_size=8,
            window_size=4,
            global_attn_indexes=[1],
            num_pos_feats=4,
            mlp_dim=16,
        ),
        prompt_encoder_config=SamPromptEncoderConfig(
            hidden_size=8, image_size=64, patch_size=8, mask_input_channels=4
        ),
        mask_decoder_config=SamMaskDecoderConfig(
            hidden_size=8,
            mlp_dim=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            iou_head_hidden_dim=8,
        ),
    )
    out = tmp_path_factory.mktemp("tiny_sam")
    SamModel(cfg).save_pretrained(str(out))
    proc = SamImageProcessor(
        size={"longest_edge": 64},
        pad_size={"height": 64, "width": 64},
        mask_size={"longest_edge": 16},
        mask_pad_size={"height": 16, "width": 16},
    )
    SamProcessor(image_processor=proc).save_pretrained(str(out))
    return out


def test_sam_loads_and_predicts_full_size_masks(tiny_sam) -> None:
    from generators.objects.segment_neural import sam_masks_transformers

    img = skimage.data.coffee()
    masks, scores = sam_masks_transformers(img, tiny_sam, (60, 20, 500, 390), None)
    assert masks.shape == (3, 400, 600) and masks.dtype == bool
    assert scores.shape == (3,) and np.isfinite(scores).all()
    m2, s2 = sam_masks_transformers(img, tiny_sam, None, (300.0, 200.0))  # a click prompt
    assert m2.shape == (3, 400, 600)


def test_segment_neural_gives_a_clean_mask_or_a_clear_error(tiny_sam) -> None:
    from generators.objects.pipeline import ObjectRequest, segment

    req = ObjectRequest(image=skimage.data.coffee(), segmenter="neural", sam=tiny_sam)
    try:  # random weights: whatever SAM says must come out validated
        seg = segment(req)
    except ValueError as exc:
        assert "no clear object" in str(exc)
    else:
        assert seg.meta["method"] == "sam" and seg.mask.sum() >= 480
        assert seg.mask.shape == (400, 600)


def test_best_usable_mask_wins_and_bad_masks_fail(monkeypatch, tiny_sam) -> None:
    import generators.objects.segment_neural as sn

    img = skimage.data.coffee()
    good = np.zeros((400, 600), bool)
    good[100:300, 200:400] = True
    one = np.zeros((400, 600), bool)
    one[10, 10] = True
    monkeypatch.setattr(
        sn,
        "sam_masks_transformers",
        lambda *a, **k: (np.stack([one, good, good & False]), np.array([0.9, 0.5, 0.1])),
    )
    seg = sn.segment_neural(img, tiny_sam)
    assert seg.mask.sum() == good.sum() and seg.meta["sam_score"] == 0.5
    monkeypatch.setattr(
        sn,
        "sam_masks_transformers",
        lambda *a, **k: (np.stack([one, one & False]), np.array([0.9, 0.5])),
    )
    with pytest.raises(ValueError, match="no clear object"):
        sn.segment_neural(img, tiny_sam)


def test_missing_sam_weights(tmp_path) -> None:
    from generators.objects.segment_neural import segment_neural

    with pytest.raises(FileNotFoundError, match="sam-vit-base"):
        segment_neural(skimage.data.coffee(), tmp_path / "none")
    with pytest.raises(ValueError, match="could not load SAM|segment-anything"):
        segment_neural(skimage.data.coffee(), tmp_path)  # a folder without a model
    bad = tmp_path / "sam_vit_b.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="SAM|segment-anything"):
        segment_neural(skimage.data.coffee(), bad)
