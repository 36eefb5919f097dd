"""CPU differentiable rasterizer: matches its sequential reference twin, gradients are right."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from conftest import random_cloud  # noqa: E402
from generators.rasterize import cloud_tensors, rasterize, rasterize_dense, render_cloud  # noqa: E402
from scene.camera import Camera  # noqa: E402
from scene.gaussians import GaussianCloud  # noqa: E402


def _cam(w: int = 48, h: int = 36) -> Camera:
    return Camera.look_at([0.5, 0.3, 6.0], [0, 0, 0], 50, w, h)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_reference_twin(seed: int) -> None:
    p = cloud_tensors(random_cloud(60, seed=seed), torch.float64)
    cam = _cam()
    a = rasterize(**p, cam=cam, background=(0.1, 0.2, 0.3))
    b = rasterize_dense(**p, cam=cam, background=(0.1, 0.2, 0.3))
    assert a.shape == (36, 48, 3)
    assert torch.allclose(a, b, atol=1e-9)
    assert float(a.std()) > 0.01  # something was drawn


def test_single_splat_centre_colour_and_position() -> None:
    c = GaussianCloud.from_points([[0.0, 0.0, 0.0]], [[1.0, 0.0, 0.0]], 0.2, opacity=0.99)
    cam = Camera.look_at([0, 0, 3.0], [0, 0, 0], 60, 41, 41)
    img = render_cloud(c, cam)
    y, x = np.unravel_index(np.argmax(img[..., 0]), img.shape[:2])
    assert (y, x) == (20, 20)            # projected centre (20.5, 20.5) -> pixel 20
    assert img[20, 20, 0] >= 250 and img[20, 20, 1] == 0
    assert img[0, 0].max() == 0          # background far from the splat


def test_gradients_match_finite_differences() -> None:
    p = cloud_tensors(random_cloud(12, seed=4), torch.float64)
    cam = _cam(24, 18)
    target = torch.rand(18, 24, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    for k in p:
        p[k].requires_grad_(True)

    def loss() -> torch.Tensor:
        return ((rasterize(**p, cam=cam) - target) ** 2).sum()

    loss().backward()
    for name in ("colors", "opacity_logits", "means"):
        g = p[name].grad.reshape(-1)
        i = int(torch.argmax(g.abs()))
        eps = 1e-6
        with torch.no_grad():
            flat = p[name].view(-1)
            flat[i] += eps
            up = loss().item()
            flat[i] -= 2 * eps
            down = loss().item()
            flat[i] += eps
        fd = (up - down) / (2 * eps)
        assert abs(fd - g[i].item()) <= 1e-4 * max(1.0, abs(fd)), name


def test_fitting_reduces_error() -> None:
    """A few Adam steps on colours pull a render towards a target image."""
    p = cloud_tensors(random_cloud(80, seed=5))
    cam = _cam(32, 24)
    q = dict(p)
    q["colors"] = torch.rand(80, 3, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        target = rasterize(**q, cam=cam)   # reachable: same splats, other colours
    p["colors"].requires_grad_(True)
    opt = torch.optim.Adam([p["colors"]], lr=0.05)
    errs = []
    for _ in range(15):
        loss = (rasterize(**p, cam=cam) - target).abs().mean()
        errs.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert errs[-1] < 0.6 * errs[0]


def test_empty_and_behind_camera() -> None:
    c = GaussianCloud.from_points([[0.0, 0.0, 10.0]], [[1.0, 1.0, 1.0]], 0.2)
    cam = Camera.look_at([0, 0, 3.0], [0, 0, 0], 60, 16, 12)   # the splat is behind it
    img = render_cloud(c, cam, background=(0.0, 0.0, 1.0))
    assert (img[..., 2] == 255).all() and (img[..., :2] == 0).all()
    empty = render_cloud(GaussianCloud.empty(), cam)
    assert empty.shape == (12, 16, 3) and empty.max() == 0
