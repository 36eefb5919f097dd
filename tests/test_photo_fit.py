"""generators/photo_fit.py: the photo's splats recoloured so the start view is the photo."""

from __future__ import annotations

import math

import numpy as np
import pytest

from generators.jobs import Cancelled, CancelToken
from generators.pano_world import photo_grid, photo_splats
from generators.photo_fit import fit_photo_colours
from generators.splat_cpu import render_numpy
from scene.gaussians import GaussianCloud


def _photo(h: int = 60, w: int = 90) -> np.ndarray:
    """Fine texture and hard edges (what the splats' overlap blurs)."""
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:h, 0:w]
    img = 0.5 + 0.3 * np.sin(x * 0.7)[..., None] * np.array([1.0, 0.6, 0.2])
    img = img + 0.03 * rng.standard_normal((h, w, 3))
    img[(x // 12 + y // 12) % 2 == 0] *= 0.5
    return np.clip(img, 0, 1).astype(np.float32)


def _render(cloud: GaussianCloud, cam, under: np.ndarray | None = None) -> np.ndarray:  # noqa: ANN001
    op = 1 / (1 + np.exp(-cloud.opacities.reshape(-1).astype(np.float64)))
    from scene.gaussians import sh0_to_rgb

    img, t = render_numpy(cloud.means, cloud.quats, cloud.scales, op, sh0_to_rgb(cloud.sh0), cam)
    return img if under is None else img + t[..., None] * under


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return 10 * math.log10(1 / float(np.mean((a - b) ** 2)))


def _wall_world(photo: np.ndarray) -> tuple[GaussianCloud, GaussianCloud, object]:
    """The photo's splats on a wall 3 m off (a panorama depth of 3 m everywhere), and
    something behind them (a dark sheet at 6 m)."""
    H = 64
    depth = np.full((H, 2 * H), 3.0, np.float32)
    sky = np.zeros((H, 2 * H), bool)
    cloud = photo_splats(photo, 60.0, depth, sky, eye_height=1.6, sky_radius=30.0)
    behind = photo_splats(
        np.full_like(photo, 0.1), 60.0, depth * 2, sky, eye_height=1.6, sky_radius=30.0
    )
    grid, _, cam = photo_grid(photo, 60.0, None, 0.0, 1.6)
    return cloud, behind, cam


def test_the_fit_makes_the_start_view_the_photo() -> None:
    photo = _photo()
    cloud, behind, cam = _wall_world(photo)
    under = _render(behind, cam)
    before = _psnr(_render(cloud, cam, under), photo)
    fitted = fit_photo_colours(
        cloud, behind, photo, cam, np.arange(photo.shape[0] * photo.shape[1])
    )
    after = _psnr(_render(fitted, cam, under), photo)
    # the overlap of 0.5 px splats plus the 0.3 px² low-pass blurs the photo; the fit
    # undoes most of it
    assert after > before + 3.0, (before, after)  # 23.5 -> 28.0 dB
    assert np.array_equal(fitted.means, cloud.means) and np.array_equal(fitted.scales, cloud.scales)
    from scene.gaussians import sh0_to_rgb

    rgb = sh0_to_rgb(fitted.sh0)
    assert rgb.min() >= -1e-6 and rgb.max() <= 1 + 1e-6  # every reader shows these


def test_the_fit_maps_each_splat_to_its_own_pixel() -> None:
    """With an alpha mask only the kept pixels have splats: `pixels` says which."""
    photo = _photo()
    cloud, behind, cam = _wall_world(photo)
    keep = np.zeros(photo.shape[:2], bool)
    keep[:, 30:] = True  # the left third transparent
    sub = cloud.subset(np.nonzero(keep.reshape(-1))[0])
    fitted = fit_photo_colours(sub, behind, photo, cam, np.nonzero(keep.reshape(-1))[0])
    under = _render(behind, cam)
    inner = np.zeros_like(keep)
    inner[3:-3, 34:-3] = True
    before = _psnr(_render(sub, cam, under)[inner], photo[inner])
    after = _psnr(_render(fitted, cam, under)[inner], photo[inner])
    assert after > before + 3.0, (before, after)  # 23.2 -> 27.5 dB


def test_a_mismatched_photo_is_refused_and_cancel_stops_the_fit() -> None:
    photo = _photo()
    cloud, behind, cam = _wall_world(photo)
    with pytest.raises(ValueError):
        fit_photo_colours(cloud, behind, photo[:-1], cam, np.arange(len(cloud.means)))
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        fit_photo_colours(cloud, behind, photo, cam, np.arange(len(cloud.means)), cancel=token)
