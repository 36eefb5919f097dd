"""Neural panorama depth: alignment, fusion of views, and a tiny random Depth Anything model
built here and loaded through the real backend code (no downloads)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is optional (torch extra)")

from models_tiny import build_tiny_depth_anything, tiny_dpt_processor

from generators.depth.classical import prior_depth
from generators.depth.neural import align_disparity, load_depth_model, neural_pano_depth
from generators.panorama.projection import pano_dirs


@pytest.fixture(scope="module")
def tiny_depth_model(tmp_path_factory) -> Path:
    return build_tiny_depth_anything(tmp_path_factory.mktemp("depth") / "tiny-depth-anything")


def test_align_disparity_recovers_scale_and_shift() -> None:
    rng = np.random.default_rng(0)
    rel = rng.random((40, 40))
    target = 0.3 * rel + 0.05
    target[:4] += 5.0  # outliers are trimmed
    valid = np.ones_like(rel, bool)
    a, b = align_disparity(rel, target, valid)
    assert a == pytest.approx(0.3, rel=1e-3) and b == pytest.approx(0.05, abs=1e-3)
    assert align_disparity(-rel, 0.3 * rel, valid) is None  # inverted ordering -> rejected
    assert align_disparity(np.ones((40, 40)), target, valid) is None


class _OracleDepthNet(torch.nn.Module):
    """A stand-in 'network' that reads disparity encoded in the image's red channel
    (metric=True: it answers depth instead, as ZoeDepth-like models do)."""

    def __init__(self, metric: bool = False) -> None:
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(1))
        self.metric = metric

    def forward(self, pixel_values):
        disp = pixel_values[:, 0] + 2.0 + 0 * self.dummy  # normalised to about 1..3
        return SimpleNamespace(predicted_depth=1.0 / disp if self.metric else disp)


@pytest.mark.slow
@pytest.mark.parametrize("metric", [False, True])
def test_fusion_puts_a_near_object_in_front_of_the_prior_wall(metric: bool) -> None:
    h = 96
    truth = prior_depth(h, radius=8.0).copy()
    dirs = pano_dirs(h)
    box = (
        (np.abs(np.degrees(np.arctan2(dirs[..., 0], -dirs[..., 2]))) < 20)
        & (dirs[..., 1] > -0.1)
        & (dirs[..., 1] < 0.3)
    )
    truth[box] = 3.0
    disp = 1.0 / truth
    image = np.repeat((disp / disp.max())[..., None], 3, axis=2).astype(np.float32)
    sky = np.zeros((h, 2 * h), bool)
    prior = prior_depth(h, radius=8.0)
    out = neural_pano_depth(
        image, prior, sky, net=(tiny_dpt_processor(), _OracleDepthNet(metric)), view_size=96
    )
    assert np.median(out[box]) < 4.0  # the object came forward
    away = ~box & (dirs[..., 1] > -0.5)
    rel_err = np.abs(out[away] - prior[away]) / prior[away]
    assert np.median(rel_err) < 0.1  # elsewhere it agrees with the prior
    floor = dirs[..., 1] < -0.88  # below -62° latitude
    np.testing.assert_allclose(out[floor], prior[floor], rtol=1e-4)  # walkable floor kept


@pytest.mark.slow
def test_world_with_tiny_random_depth_anything(
    tiny_depth_model: Path, tmp_path: Path, monkeypatch
) -> None:
    import cv2
    from skimage import data

    from generators.pano_world import world_from_photos

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    photo = tmp_path / "rocket.png"
    cv2.imwrite(str(photo), data.rocket()[..., ::-1])
    msgs: list[str] = []
    world, _, stages = world_from_photos(
        [photo],
        pano_height=128,
        depth_backend="neural",
        depth_model=tiny_depth_model,
        progress=lambda f, m: msgs.append(m),
    )
    cloud = world.layers[0].data
    cloud.validate()
    assert any("depth: view 10/10" in m for m in msgs)
    assert cloud.meta["depth_backend"] == "neural"
    near = (np.linalg.norm(cloud.means[:, [0, 2]], axis=1) < 1.0) & (cloud.means[:, 1] < 1.0)
    assert near.sum() > 50
    # on the floor: a merged 4×4 block of a smooth floor sits at its rays' mean depth, off
    # the plane by ~δ²/2 of the distance (δ: 1.5 rows; 1 mm at 128 rows, 0.03 mm at 768)
    np.testing.assert_allclose(cloud.means[near, 1], 0.0, atol=2e-3)


def test_missing_depth_model_says_what_to_download(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(ValueError, match="models download depth-anything-v2-small"):
        load_depth_model(None)
    with pytest.raises(ValueError, match="models download depth-anything-v2-large"):
        load_depth_model("depth-anything-v2-large")
    with pytest.raises(ValueError, match="no config.json"):
        load_depth_model(tmp_path)
    with pytest.raises(ValueError, match="neither a folder nor a known model"):
        load_depth_model("nobody/no-such-depth-model")
