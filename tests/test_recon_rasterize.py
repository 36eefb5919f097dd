"""CPU differentiable rasterizer: matches its sequential reference twin, gradients are right."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is optional (torch extra)")

from conftest import random_cloud  # noqa: E402

from generators.rasterize import cloud_tensors, rasterize, rasterize_dense, render_cloud  # noqa: E402
from scene.camera import Camera  # noqa: E402
from scene.gaussians import GaussianCloud  # noqa: E402


def _cam(w: int = 48, h: int = 36) -> Camera:
    return Camera.look_at([0.5, 0.3, 6.0], [0, 0, 0], 50, w, h)


@pytest.mark.slow
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
    assert (y, x) == (20, 20)  # projected centre (20.5, 20.5) -> pixel 20
    assert img[20, 20, 0] >= 250 and img[20, 20, 1] == 0
    assert img[0, 0].max() == 0  # background far from the splat


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


@pytest.mark.slow
def test_fitting_reduces_error() -> None:
    """A few Adam steps on colours pull a render towards a target image."""
    p = cloud_tensors(random_cloud(80, seed=5))
    cam = _cam(32, 24)
    q = dict(p)
    q["colors"] = torch.rand(80, 3, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        target = rasterize(**q, cam=cam)  # reachable: same splats, other colours
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
    cam = Camera.look_at([0, 0, 3.0], [0, 0, 0], 60, 16, 12)  # the splat is behind it
    img = render_cloud(c, cam, background=(0.0, 0.0, 1.0))
    assert (img[..., 2] == 255).all() and (img[..., :2] == 0).all()
    empty = render_cloud(GaussianCloud.empty(), cam)
    assert empty.shape == (12, 16, 3) and empty.max() == 0


# ---------------------------------------------------------------- compiled CPU rasterizer
# generators.splat_cpu: numba kernels (forward and backward) in a torch autograd Function;
# rasterize_dense above is its reference twin too.
from generators.splat_cpu import rasterize_cpu  # noqa: E402


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_compiled_matches_reference_twin(seed: int) -> None:
    p = cloud_tensors(random_cloud(60, seed=seed), torch.float64)
    cam = _cam()
    ref = rasterize_dense(**p, cam=cam, background=(0.1, 0.2, 0.3))
    exact = rasterize_cpu(**p, cam=cam, background=(0.1, 0.2, 0.3), t_min=0.0)
    assert exact.shape == (36, 48, 3) and exact.dtype == torch.float64
    assert float((exact - ref).abs().max()) < 1e-10
    # the default stops a pixel at transmittance 1e-4 (as 3DGS): float32, tiny difference
    p32 = {k: v.float() for k, v in p.items()}
    fast = rasterize_cpu(**p32, cam=cam, background=(0.1, 0.2, 0.3))
    assert fast.dtype == torch.float32
    assert float((fast.double() - ref).abs().max()) < 1e-3
    assert float(ref.std()) > 0.01


def test_compiled_off_centre_principal_point_and_wide_splats() -> None:
    """A principal point off the centre (clamp limits differ per side) and splats partly
    off screen, some huge: still the reference image."""
    c = random_cloud(40, seed=7)
    c.scales[:5] += 2.0  # a few splats much larger than the image
    p = cloud_tensors(c, torch.float64)
    cam = Camera(
        R=_cam(40, 30).R, t=_cam(40, 30).t, fx=30.0, fy=34.0, cx=12.0, cy=20.0, width=40, height=30
    )
    ref = rasterize_dense(**p, cam=cam)
    out = rasterize_cpu(**p, cam=cam, t_min=0.0)
    assert float((out - ref).abs().max()) < 1e-10


def _grads(fn, p: dict, cam: Camera, target: torch.Tensor, **kw) -> dict:  # noqa: ANN001
    q = {k: v.clone().requires_grad_(True) for k, v in p.items()}
    loss = ((fn(**q, cam=cam, background=(0.1, 0.2, 0.3), **kw) - target) ** 2).sum()
    loss.backward()
    return {k: v.grad for k, v in q.items()}


@pytest.mark.parametrize("seed", [3, 4])
def test_compiled_gradients_match_autograd_through_reference(seed: int) -> None:
    p = cloud_tensors(random_cloud(40, seed=seed), torch.float64)
    cam = _cam(40, 30)
    target = torch.rand(
        30, 40, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(seed)
    )
    ga = _grads(rasterize_cpu, p, cam, target, t_min=0.0)
    gb = _grads(rasterize_dense, p, cam, target)
    for k in p:
        scale = float(gb[k].abs().max())
        assert scale > 0, k
        assert float((ga[k] - gb[k]).abs().max()) <= 1e-9 * max(1.0, scale), k


def test_compiled_extra_channels_depth_and_alpha() -> None:
    """Colours with extra channels (camera z and ones: gsplat's "RGB+ED" and alpha) render
    and differentiate as the reference twin does; the ones channel is 1 - transmittance
    and z / alpha lies between the nearest and farthest splat."""
    p = cloud_tensors(random_cloud(40, seed=6), torch.float64)
    cam = _cam(40, 30)
    z = (p["means"] @ torch.as_tensor(cam.R, dtype=torch.float64).T)[:, 2] + float(cam.t[2])
    p["colors"] = torch.cat([p["colors"], z[:, None], torch.ones(40, 1, dtype=torch.float64)], 1)
    target = torch.rand(30, 40, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    out = rasterize_cpu(**p, cam=cam, background=(0.1, 0.2, 0.3), t_min=0.0)
    ref = rasterize_dense(**p, cam=cam, background=(0.1, 0.2, 0.3, 0.0, 0.0))
    assert out.shape == (30, 40, 5) and float((out - ref).abs().max()) < 1e-10
    from generators.splat_cpu import render_numpy

    opac = torch.sigmoid(p["opacity_logits"]).numpy()
    args = (p["means"].numpy(), p["quats"].numpy(), p["log_scales"].numpy(), opac)
    img, t_final = render_numpy(*args, p["colors"].numpy(), cam, t_min=0.0)
    assert np.abs(img[..., 4] - (1.0 - t_final)).max() < 1e-12
    covered = img[..., 4] > 0.5
    ed = img[..., 3][covered] / img[..., 4][covered]
    assert covered.any() and float(z.min()) - 1e-9 <= ed.min() and ed.max() <= float(z.max())
    ga = _grads(rasterize_cpu, p, cam, target, t_min=0.0)
    gb = _grads(rasterize_dense, p, cam, target)
    for k in p:
        scale = float(gb[k].abs().max())
        assert scale > 0 and float((ga[k] - gb[k]).abs().max()) <= 1e-9 * max(1.0, scale), k
    with pytest.raises(ValueError, match="background"):
        rasterize_cpu(**p, cam=cam, background=(0.1, 0.2))


def test_compiled_gradients_match_finite_differences() -> None:
    p = cloud_tensors(random_cloud(10, seed=8), torch.float64)
    cam = _cam(20, 16)
    target = torch.rand(16, 20, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(2))

    def loss(q: dict) -> float:
        return float(((rasterize_cpu(**q, cam=cam, t_min=0.0) - target) ** 2).sum())

    q = {k: v.clone().requires_grad_(True) for k, v in p.items()}
    ((rasterize_cpu(**q, cam=cam, t_min=0.0) - target) ** 2).sum().backward()
    g = {k: v.grad for k, v in q.items()}
    for name in ("means", "quats", "log_scales", "opacity_logits", "colors"):
        flat = g[name].reshape(-1)
        for i in torch.topk(flat.abs(), 2).indices.tolist():
            eps = 1e-6
            up = {k: v.clone() for k, v in p.items()}
            dn = {k: v.clone() for k, v in p.items()}
            up[name].view(-1)[i] += eps
            dn[name].view(-1)[i] -= eps
            fd = (loss(up) - loss(dn)) / (2 * eps)
            assert abs(fd - flat[i].item()) <= 1e-5 * max(1.0, abs(fd)), (
                name,
                i,
                fd,
                flat[i].item(),
            )


def test_compiled_mean2d_probe_is_the_screen_space_gradient() -> None:
    """The probe's gradient is dL/d(2D mean): moving every splat by the same pixel offset
    is a pure screen-space shift, so its directional derivative is Σ probe-grad · offset."""
    p = cloud_tensors(random_cloud(30, seed=9), torch.float64)
    cam = _cam(40, 30)
    target = torch.rand(30, 40, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    probe = torch.zeros((30, 2), dtype=torch.float64, requires_grad=True)
    stats: dict = {}
    (
        (rasterize_cpu(**p, cam=cam, t_min=0.0, mean2d_probe=probe, stats=stats) - target) ** 2
    ).sum().backward()
    assert stats["visible"] > 0 and (probe.grad[torch.as_tensor(stats["radius"] == 0)] == 0).all()
    # shift the camera's principal point: every 2D mean moves by (+h, 0), conics unchanged
    h = 1e-6

    def shifted(dx: float) -> float:
        c = Camera(
            R=cam.R,
            t=cam.t,
            fx=cam.fx,
            fy=cam.fy,
            cx=cam.cx + dx,
            cy=cam.cy,
            width=cam.width,
            height=cam.height,
        )
        return float(((rasterize_cpu(**p, cam=c, t_min=0.0) - target) ** 2).sum())

    fd = (shifted(h) - shifted(-h)) / (2 * h)
    assert abs(fd - float(probe.grad[:, 0].sum())) <= 1e-5 * max(1.0, abs(fd))


def test_render_numpy_is_the_compiled_forward_without_torch() -> None:
    """`render_numpy` (the forward alone, no torch: what a world's photo fit renders with)
    gives rasterize_cpu's image, and its final transmittance composites a background."""
    from generators.splat_cpu import render_numpy

    cloud = random_cloud(60, seed=4)
    p = cloud_tensors(cloud, torch.float64)
    cam = _cam()
    ref = rasterize_cpu(**p, cam=cam, background=(0.1, 0.2, 0.3), t_min=0.0).numpy()
    opac = torch.sigmoid(p["opacity_logits"]).numpy()
    args = (p["means"].numpy(), p["quats"].numpy(), p["log_scales"].numpy(), opac)
    img, t_final = render_numpy(*args, p["colors"].numpy(), cam, (0.1, 0.2, 0.3), t_min=0.0)
    assert np.abs(img - ref).max() < 1e-12
    black, t2 = render_numpy(*args, p["colors"].numpy(), cam, t_min=0.0)
    assert np.abs(black + t2[..., None] * np.array([0.1, 0.2, 0.3]) - ref).max() < 1e-12
    assert 0.0 < t_final.min() and t_final.max() <= 1.0 and float(ref.std()) > 0.01


def test_depth_order_is_a_stable_sort_of_float32_depths() -> None:
    """The radix sort orders splats near → far exactly as a stable sort of their float32
    depths (ties, also from float64 depths equal in float32, keep index order)."""
    from generators.splat_cpu import _depth_order

    rng = np.random.default_rng(0)
    depth = rng.uniform(0.01, 1e4, 5000)
    depth[100:200] = 3.0  # ties
    depth[300:400] = 7.0 + rng.uniform(0, 1e-9, 100)  # equal once in float32
    vis = np.sort(rng.choice(5000, 3000, replace=False)).astype(np.int64)
    keys = depth[vis].astype(np.float32)
    got = _depth_order(vis, keys.view(np.uint32))
    assert np.array_equal(got, vis[np.argsort(keys, kind="stable")])
    assert _depth_order(vis[:0], keys[:0].view(np.uint32)).shape == (0,)


@pytest.mark.parametrize("shares", [1, 2, 3])
def test_tile_lists_keep_the_depth_order_whatever_the_shares(shares: int) -> None:
    """Binned by several threads' shares, each tile lists its splats in the given order,
    the same lists as one thread makes."""
    from generators.splat_cpu import TILE, _bin_tiles

    rng = np.random.default_rng(shares)
    n, W, H = 400, 70, 50
    x0 = rng.integers(-5, W, n)
    y0 = rng.integers(-5, H, n)
    boxes = np.stack(
        [x0.clip(0), (x0 + rng.integers(-2, 30, n)).clip(max=W - 1), y0.clip(0), y0 + 9], 1
    ).astype(np.int32)
    boxes[:, 3] = boxes[:, 3].clip(max=H - 1)
    order = rng.permutation(n).astype(np.int64)
    offsets, ids = _bin_tiles(order, boxes, W, H, shares)
    tw = (W + TILE - 1) // TILE
    for t in range(len(offsets) - 1):
        ty, tx = divmod(t, tw)
        want = [
            i
            for i in order
            if boxes[i, 0] <= boxes[i, 1]
            and boxes[i, 2] <= boxes[i, 3]
            and boxes[i, 0] // TILE <= tx <= boxes[i, 1] // TILE
            and boxes[i, 2] // TILE <= ty <= boxes[i, 3] // TILE
        ]
        assert ids[offsets[t] : offsets[t + 1]].tolist() == want
    assert offsets[-1] == len(ids) > 0


@pytest.mark.parametrize("channels", [3, 5])
def test_float32_kernels_follow_the_float64_reference(channels: int) -> None:
    """float32 inputs (the optimiser's) go through generators.splat_cpu32: the image
    within float32 rounding of the exact float64 kernels, every gradient pointing the same
    way within 1 % (t_min and float32 depth ties may move a pixel's last contributor)."""
    p = cloud_tensors(random_cloud(300, seed=11), torch.float64)
    cam = _cam(64, 48)
    if channels == 5:  # camera z and ones: depth and alpha ride along
        z = (p["means"] @ torch.as_tensor(cam.R, dtype=torch.float64).T)[:, 2] + float(cam.t[2])
        ones = torch.ones(300, 1, dtype=torch.float64)
        p["colors"] = torch.cat([p["colors"], z[:, None], ones], 1)
    bg = (0.1, 0.2, 0.3) + (0.0,) * (channels - 3)
    gen = torch.Generator().manual_seed(1)
    target = torch.rand(48, 64, channels, dtype=torch.float64, generator=gen)
    ref_img = rasterize_cpu(**p, cam=cam, background=bg)
    g64 = _grads(rasterize_cpu, p, cam, target, t_min=1e-4)
    p32 = {k: v.float() for k, v in p.items()}
    img = rasterize_cpu(**p32, cam=cam, background=bg)
    assert img.dtype == torch.float32
    assert float((img.double() - ref_img).abs().max()) < 1e-4 * max(1.0, float(ref_img.abs().max()))
    q = {k: v.clone().requires_grad_(True) for k, v in p32.items()}
    loss = ((rasterize_cpu(**q, cam=cam, background=bg) - target.float()) ** 2).sum()
    loss.backward()
    for k in p:
        a, b = q[k].grad.double().reshape(-1), g64[k].reshape(-1)
        assert float(b.norm()) > 0, k
        assert float((a - b).norm() / b.norm()) < 1e-2, k
