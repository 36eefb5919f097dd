"""GaussianCloud operations: selection, concatenation, bounds, importance, similarity
transforms (covariances and view-dependent SH colour must move with the splats)."""

import math

import numpy as np
import pytest
from conftest import random_cloud
from scipy.spatial.transform import Rotation

from scene.errors import InvalidSceneError
from scene.gaussians import GaussianCloud
from scene.sh import eval_color, rotation_matrix
from scene.world import similarity_matrix


def test_shapes_and_degree() -> None:
    for deg, k in [(0, 0), (1, 3), (2, 8), (3, 15)]:
        c = random_cloud(10, deg)
        assert c.sh_degree == deg and c.shN.shape == (10, k, 3)
        assert c.means.dtype == np.float32


def test_bad_shapes_rejected() -> None:
    with pytest.raises(InvalidSceneError):
        GaussianCloud(
            np.zeros((3, 3)), np.zeros((2, 3)), np.zeros((3, 4)), np.zeros(3), np.zeros((3, 3))
        )
    with pytest.raises(InvalidSceneError):
        GaussianCloud(
            np.zeros((3, 3)),
            np.zeros((3, 3)),
            np.zeros((3, 4)),
            np.zeros(3),
            np.zeros((3, 3)),
            np.zeros((3, 5, 3)),
        )


def test_validate_finds_nan() -> None:
    c = random_cloud(10)
    c.means[3, 1] = np.nan
    with pytest.raises(InvalidSceneError, match="1 splats have non-finite means"):
        c.validate()


def test_subset_concat_crop() -> None:
    a, b = random_cloud(50, 0, 1), random_cloud(30, 2, 2)
    ab = GaussianCloud.concatenate([a, b])
    assert len(ab) == 80 and ab.sh_degree == 2
    np.testing.assert_array_equal(ab.shN[:50], 0)
    np.testing.assert_array_equal(ab.subset(slice(50, 80)).means, b.means)
    mask = a.opacities > 0
    assert len(a.subset(mask)) == mask.sum()
    cropped = ab.crop([-1, -1, -1], [1, 1, 1])
    assert np.all(np.abs(cropped.means) <= 1)
    assert len(cropped) == np.all(np.abs(ab.means) <= 1, axis=1).sum()


def test_bounds_and_importance() -> None:
    c = random_cloud(200)
    lo, hi = c.bounds()
    np.testing.assert_allclose(lo, c.means.min(0))
    order = c.importance_order()
    imp = c.importance()[order]
    assert np.all(np.diff(imp) <= 0)
    expected = 1 / (1 + np.exp(-c.opacities)) * np.prod(np.exp(c.scales), 1)
    np.testing.assert_allclose(c.importance(), expected, rtol=1e-4)
    with pytest.raises(InvalidSceneError):
        GaussianCloud.empty().bounds()


def _random_similarity(seed: int, reflect: bool = False) -> np.ndarray:
    r = Rotation.random(random_state=seed).as_matrix()
    if reflect:
        r = r @ np.diag([1, 1, -1])
    return similarity_matrix(np.random.default_rng(seed).normal(size=3), rotation=r, scale=1.7)


@pytest.mark.parametrize("reflect", [False, True])
def test_transform_moves_covariances(reflect: bool) -> None:
    c = random_cloud(100, 3)
    m = _random_similarity(4, reflect)
    t = c.transformed(m)
    a = m[:3, :3]
    np.testing.assert_allclose(t.means, c.means @ a.T + m[:3, 3], atol=1e-5)
    expected = np.einsum("ij,njk,lk->nil", a, c.covariances().astype(np.float64), a)
    np.testing.assert_allclose(t.covariances(), expected, rtol=1e-3, atol=1e-7)
    np.testing.assert_allclose(np.linalg.norm(t.quats, axis=1), 1, atol=1e-5)


@pytest.mark.parametrize("degree", [1, 2, 3])
@pytest.mark.parametrize("reflect", [False, True])
def test_transform_rotates_sh_colour(degree: int, reflect: bool) -> None:
    """Colour seen along d before == colour seen along R d after, for every splat."""
    c = random_cloud(64, degree)
    m = _random_similarity(7, reflect)
    s = np.cbrt(abs(np.linalg.det(m[:3, :3])))
    r = m[:3, :3] / s
    t = c.transformed(m)
    dirs = np.random.default_rng(1).normal(size=(64, 3))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    before = eval_color(c.sh0, c.shN, dirs)
    after = eval_color(t.sh0, t.shN, dirs @ r.T)
    np.testing.assert_allclose(after, before, atol=1e-4)


def test_sh_rotation_is_orthogonal_and_composes() -> None:
    r1 = Rotation.random(random_state=1).as_matrix()
    r2 = Rotation.random(random_state=2).as_matrix()
    d1, d2, d12 = (rotation_matrix(r, 3) for r in (r1, r2, r2 @ r1))
    np.testing.assert_allclose(d1 @ d1.T, np.eye(15), atol=1e-9)
    np.testing.assert_allclose(d2 @ d1, d12, atol=1e-9)


def test_non_similarity_rejected() -> None:
    m = np.diag([1.0, 2.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="not a similarity"):
        random_cloud(5).transformed(m)


def test_from_points_roundtrip_colour() -> None:
    rgb = np.random.default_rng(0).uniform(0, 1, (20, 3))
    c = GaussianCloud.from_points(np.zeros((20, 3)), rgb, 0.1, 0.5)
    np.testing.assert_allclose(c.base_colors(), rgb, atol=1e-5)
    np.testing.assert_allclose(c.opacity_values(), 0.5, atol=1e-5)
    np.testing.assert_allclose(c.scale_values(), 0.1, rtol=1e-5)
    assert math.isclose(
        float(GaussianCloud.from_points(np.zeros((0, 3)), np.zeros((0, 3)), 0.1).count), 0
    )


def test_a_hidden_marker_is_read_checked_and_recounted_by_subset() -> None:
    """`meta["hidden"]` marks a generated world's hidden splats by place (start,
    count): read only when it fits; `subset` keeps it where the picked hidden splats are
    still one run, and drops it where they are not."""
    rng = np.random.default_rng(0)
    n = 10
    cloud = GaussianCloud(
        rng.normal(size=(n, 3)).astype(np.float32),
        np.zeros((n, 3), np.float32),
        np.tile([1.0, 0, 0, 0], (n, 1)).astype(np.float32),
        np.zeros(n, np.float32),
        np.zeros((n, 3), np.float32),
    )
    assert cloud.hidden_range() is None
    for bad in (
        {"start": 8, "count": 3},
        {"start": -1, "count": 2},
        {"start": 2, "count": 0},
        {"start": 2.0, "count": 3},
        {"start": True, "count": 3},
        [4, 3],
    ):
        cloud.meta["hidden"] = bad
        assert cloud.hidden_range() is None, bad
    cloud.meta["hidden"] = {"start": 4, "count": 3}
    assert cloud.hidden_range() == (4, 7)
    kept = cloud.subset(np.array([0, 2, 4, 5, 6, 9]))
    assert kept.hidden_range() == (2, 5)
    np.testing.assert_array_equal(kept.means[2:5], cloud.means[4:7])
    assert cloud.subset(np.array([1, 2, 3])).hidden_range() is None
    assert "hidden" not in cloud.subset(np.array([1, 4, 3, 5])).meta  # no longer one run
    assert cloud.copy().hidden_range() == (4, 7)
