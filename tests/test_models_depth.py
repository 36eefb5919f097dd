"""MoGe behind the transformers-style depth interface: the adapter's output, the panorama depth
fusion running on it, and the one-line fix when the package is missing (it is not installable
from the package index here, so the MoGe network is stood in for by a depth oracle)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is optional (torch extra)")

from generators.depth.moge import MoGeDepth, _Processor  # noqa: E402


class _Oracle(torch.nn.Module):
    """Answers `infer(image)` like MoGe: metric depth (H, W) and a validity mask; here depth
    grows with the image's brightness (bright = far), the top-left pixel marked invalid."""

    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(1))

    def infer(self, x):
        d = 1.0 + 4.0 * x.mean(0)
        m = torch.ones_like(d, dtype=torch.bool)
        m[0, 0] = False
        return {"depth": d, "mask": m}


def test_adapter_gives_metric_depth_with_invalid_pixels_pushed_far() -> None:
    img = np.zeros((8, 8, 3), np.uint8)
    img[:, 4:] = 255
    out = MoGeDepth(_Oracle())(**_Processor()(images=img)).predicted_depth
    assert out.shape == (1, 8, 8)
    assert float(out[0, 1, 0]) == pytest.approx(1.0) and float(out[0, 1, 7]) == pytest.approx(5.0)
    assert float(out[0, 0, 0]) == pytest.approx(5.0)  # invalid -> the view's far value


def test_panorama_depth_fusion_runs_on_moge_output() -> None:
    from generators.depth.classical import prior_depth
    from generators.depth.neural import neural_pano_depth

    H = 64
    yy, xx = np.mgrid[0:H, 0 : 2 * H]
    image = np.stack([xx / (2 * H), yy / H, np.full_like(xx, 0.4, dtype=float)], -1).astype(
        np.float32
    )
    sky = np.zeros((H, 2 * H), bool)
    sky[:6] = True
    prior = prior_depth(H, sky=sky)
    depth = neural_pano_depth(
        image, prior, sky, net=(_Processor(), MoGeDepth(_Oracle())), view_size=32
    )
    assert depth.shape == prior.shape and np.isfinite(depth).all() and depth.min() > 0
    band = slice(H // 3, H // 2)  # walls near the horizon: the oracle's depth, aligned to the prior
    assert np.abs(depth[band] - prior[band]).mean() > 1e-3  # the model's output was used
    np.testing.assert_allclose(depth[sky], prior[sky])  # sky stays on the dome


def test_moge_without_its_package_is_one_line(tmp_path, monkeypatch) -> None:
    from generators.depth.neural import load_depth_model

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(ValueError, match="moge") as exc:
        load_depth_model("moge", "cpu")
    assert "\n" not in str(exc.value)
