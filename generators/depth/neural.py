"""Neural panorama depth: a transformers depth-estimation model on perspective crops, fused.

The panorama is cut into 10 overlapping 90° views (8 around the horizon every 45°, plus
straight up and down). The model (Depth Anything / DPT: relative inverse depth; metric
depth models are detected by their ordering and inverted) runs on each; each view's output
is scale/shift-aligned in disparity to the geometric prior (robust least squares on non-sky
pixels), so all views share the prior's metric scale and agree with each other; the
aligned views are feather-blended back onto the sphere. Sky keeps the far dome and the
floor under the viewer blends back to the prior's exact plane (y = 0), so the result stays
walkable.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from generators.jobs import CancelToken, ProgressFn, no_progress
from generators.models.hub import offline

DOWNLOAD_HINT = (
    "Run `python main.py models download depth-anything-v2-small` (then --depth-model is not "
    "needed), or pass --depth-model DIR: a transformers depth-estimation folder with "
    "config.json, preprocessor_config.json and the weights."
)
MIN_DEPTH = 0.3


@offline()  # HF_HUB_OFFLINE for the load only (generators.models.hub)
def load_depth_model(model: str | Path | None, device: str | None = None) -> tuple[Any, Any]:
    """(image processor, model) from a local folder, or through the model manager: None means
    Depth Anything V2 Small, a registry name (`depth-anything-v2-large`) its cached snapshot;
    ModelMissing names the download command. Never contacts the hub."""
    from generators.models.hub import resolve_model_arg

    if model is not None and str(model) == "moge" and not Path(model).exists():
        from generators.models.device import check_backend_memory, pick_device
        from generators.models.hub import resolve

        from .moge import load_moge

        snap = resolve("moge")[0]  # ModelMissing names the package / download fix
        dev = pick_device(device)
        check_backend_memory("moge", dev)
        return load_moge(snap, dev)
    managed = None
    if model is None or not Path(model).exists():
        managed = str(model) if model is not None else "depth-anything-v2-small"
        model = resolve_model_arg(model, "depth-anything-v2-small")
    path = Path(model)
    local = path.exists()
    if local and not (path / "config.json").is_file():
        raise ValueError(
            f"{path} is not a transformers model folder (no config.json).\n" + DOWNLOAD_HINT
        )
    try:
        import torch  # noqa: F401 - checks torch is installed and imports
        from transformers import AutoImageProcessor, AutoModelForDepthEstimation
    except ImportError as exc:  # pragma: no cover
        raise ValueError(f"neural depth needs torch and transformers ({exc})") from None
    src = str(path) if local else str(model)
    try:
        proc = AutoImageProcessor.from_pretrained(src, local_files_only=True)
        net = AutoModelForDepthEstimation.from_pretrained(src, local_files_only=True)
    except (OSError, ValueError) as exc:
        where = f"folder {path}" if local else f"{model!r} in the Hugging Face cache"
        raise ValueError(
            f"cannot load a depth model from {where}: {exc}\n" + DOWNLOAD_HINT
        ) from None
    from generators.models.device import pick_device

    dev = pick_device(device)
    if managed:
        from generators.models.device import check_backend_memory

        check_backend_memory(managed, dev)
    if dev != "cpu":
        net = net.half()  # fp16 halves memory; outputs are aligned to the prior in fp32 anyway
    return proc, net.to(dev).eval()


def view_cameras(size: int) -> list[Any]:
    """10 overlapping 90° views: 8 on the horizon every 45°, then up and down."""
    from generators.panorama.projection import perspective_camera

    cams = [perspective_camera(size, size, 90.0, yaw=math.radians(45 * i)) for i in range(8)]
    cams += [
        perspective_camera(size, size, 90.0, pitch=math.pi / 2),
        perspective_camera(size, size, 90.0, pitch=-math.pi / 2),
    ]
    return cams


def align_disparity(
    rel: np.ndarray, target_disp: np.ndarray, valid: np.ndarray
) -> tuple[float, float] | None:
    """Scale/shift (a, b) with a·rel + b ≈ target on valid pixels (trimmed least squares).

    Returns None when the fit is degenerate or has the wrong sign (the model disagrees
    with the prior's near/far ordering): the caller then trusts the prior.
    """
    x = rel[valid].astype(np.float64)
    y = target_disp[valid].astype(np.float64)
    if x.size < 32 or np.ptp(x) < 1e-9:
        return None
    keep = np.ones(x.size, bool)
    a = b = 0.0
    for _ in range(3):
        A = np.column_stack([x[keep], np.ones(keep.sum())])
        (a, b), *_ = np.linalg.lstsq(A, y[keep], rcond=None)
        r = np.abs(a * x + b - y)
        keep = r <= np.quantile(r, 0.8) + 1e-12
    if not np.isfinite([a, b]).all() or a <= 0:
        return None
    return float(a), float(b)


def neural_pano_depth(
    image: np.ndarray,
    prior: np.ndarray,
    sky: np.ndarray,
    *,
    model: str | Path | None = None,
    net: tuple[Any, Any] | None = None,
    view_size: int | None = None,
    device: str | None = None,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Metric depth (H, 2H) for an equirect image, fused from per-view model predictions.

    prior (H, 2H): the classical depth (sets scale, fills where the model is unusable);
    sky (H, 2H) bool: kept at the prior's far dome.
    """
    import cv2
    import torch

    from generators.panorama.projection import (
        equirect_to_perspective,
        pano_lonlat,
        perspective_to_equirect,
    )

    cancel = cancel or CancelToken()
    H, W = prior.shape
    # a 90° view spans H/2 panorama rows: sample it at about that resolution
    view_size = view_size or int(np.clip(H // 2, 64, 518))
    progress(0.02, "loading the depth model")
    proc, mdl = net if net is not None else load_depth_model(model, device)
    dev = next(mdl.parameters()).device
    cams = view_cameras(view_size)
    prior_disp = (1.0 / prior).astype(np.float32)
    num = np.zeros((H, W), np.float32)
    den = np.zeros((H, W), np.float32)
    yy, xx = np.mgrid[0:view_size, 0:view_size]
    c = (view_size - 1) / 2
    feather = np.clip(1.0 - np.maximum(np.abs(xx - c), np.abs(yy - c)) / (c + 1), 0, 1) ** 2
    feather = (feather + 1e-4).astype(np.float32)
    used = 0
    for k, cam in enumerate(cams):
        cancel.check()
        progress(0.05 + 0.85 * k / len(cams), f"depth: view {k + 1}/{len(cams)}")
        view = equirect_to_perspective(image, cam)
        u8 = (np.clip(view, 0, 1) * 255 + 0.5).astype(np.uint8)
        inputs = proc(images=u8, return_tensors="pt")
        with torch.no_grad():
            dt = next(mdl.parameters()).dtype
            pred = mdl(
                **{
                    k2: v.to(dev, dt) if v.is_floating_point() else v.to(dev)
                    for k2, v in inputs.items()
                }
            ).predicted_depth
        rel = pred[0].float().cpu().numpy()
        rel = cv2.resize(rel, (view_size, view_size), interpolation=cv2.INTER_LINEAR)
        tgt = equirect_to_perspective(prior_disp, cam)
        sky_v = equirect_to_perspective(sky.astype(np.float32), cam) > 0.5
        fit = align_disparity(rel, tgt, ~sky_v)
        if fit is None and float(rel.min()) > 0:
            # metric-depth models (ZoeDepth, Depth Pro...) predict depth, not disparity
            rel = 1.0 / rel
            fit = align_disparity(rel, tgt, ~sky_v)
        if fit is None:
            continue
        disp = np.clip(fit[0] * rel + fit[1], 1.0 / (prior.max() * 1.5), 1.0 / MIN_DEPTH)
        d_p, cov = perspective_to_equirect(disp.astype(np.float32), cam, H)
        w_p, _ = perspective_to_equirect(feather, cam, H)
        w_p = w_p * (cov > 0.5)
        num += d_p * w_p
        den += w_p
        used += 1
    progress(0.92, f"depth: fusing {used} views")
    fused = np.where(den > 1e-6, num / np.maximum(den, 1e-6), prior_disp)
    depth = 1.0 / np.maximum(fused, 1e-6)
    # walkable floor under the viewer and sky at the dome: back to the prior there
    _, lat = pano_lonlat(H, W)
    t = np.clip((np.radians(-35) - lat) / np.radians(25), 0, 1)[:, None]
    w_floor = (t * t * (3 - 2 * t)).astype(np.float32)
    depth = depth * (1 - w_floor) + prior * w_floor
    depth = np.where(
        sky,
        prior,
        np.clip(
            depth, MIN_DEPTH, float(prior[~sky].max()) * 1.5 if (~sky).any() else float(prior.max())
        ),
    )
    progress(1.0, "depth done")
    return depth.astype(np.float32)


def verify_backend(backend: Any, paths: list[Path], device: str) -> Any:
    """`models verify depth-anything-v2-* / moge`: load, then predict depth for one 64x64 image."""
    import torch

    proc, net = load_depth_model("moge" if backend.name == "moge" else paths[0], device)

    def run() -> str:
        yy, xx = np.mgrid[0:64, 0:64]
        img = np.stack([xx * 4, yy * 4, np.full_like(xx, 128)], -1).astype(np.uint8)
        inputs = proc(images=img, return_tensors="pt")
        p = next(net.parameters())
        with torch.no_grad():
            pred = net(
                **{
                    k: v.to(p.device, p.dtype) if v.is_floating_point() else v.to(p.device)
                    for k, v in inputs.items()
                }
            ).predicted_depth
        d = pred[0].float().cpu().numpy()
        if not np.isfinite(d).all():
            raise ValueError("the depth model produced non-finite values")
        return f"depth map {d.shape[1]}x{d.shape[0]}, range {d.min():.3g}..{d.max():.3g}"

    return run
