"""Neural object segmentation with Segment Anything, from local weights only.

`sam` may be None (the model manager's default, SAM 2.1 Hiera-Tiny), a registry name
(`sam2-tiny`, `sam-vit-base`), a transformers SAM or SAM 2 folder (SamModel + SamProcessor,
or Sam2Model), or a segment-anything checkpoint file (`sam_vit_b_01ec64.pth`, needs the
`segment-anything` package and torchvision). SAM 2 runs through transformers' `Sam2Model`
with its preprocessing done here (resize to the model's square input, ImageNet
normalisation; Ravi et al. 2024, "SAM 2"), since transformers' SAM 2 image processor
needs torchvision. The prompt is a box, a click, or the default
centred box; of SAM's three candidate masks the one with the best predicted IoU wins, then it
is cleaned and feathered like the classical matte.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from generators.models.hub import offline

from .segment_classical import Segmentation, default_box, mask_to_segmentation

HINT = (
    "run `python main.py models download sam2-tiny` (then --sam is not needed), or pass --sam "
    "with a transformers SAM folder (facebook/sam-vit-base) or a segment-anything checkpoint "
    "(sam_vit_b_01ec64.pth)"
)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _device(device: str | None) -> str:
    from generators.models.device import pick_device

    return pick_device(device)


def is_sam2_folder(folder: Path) -> bool:
    """True for a transformers SAM 2 folder (config model_type sam2...)."""
    import json

    cfg = folder / "config.json"
    try:
        return cfg.is_file() and str(json.loads(cfg.read_text()).get("model_type", "")).startswith(
            "sam2"
        )
    except (OSError, ValueError):
        return False


@offline()  # HF_HUB_OFFLINE for the load only (generators.models.hub)
def load_sam2(folder: Path, device: str | None = None) -> Any:
    """transformers Sam2Model from a local folder, fp16 on accelerators."""
    from transformers import Sam2Model

    from generators.models.device import pick_dtype

    try:
        model = Sam2Model.from_pretrained(str(folder), local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ValueError(
            f"could not load SAM 2 from {folder}: {str(exc).splitlines()[0]}. {HINT}"
        ) from None
    dev = _device(device)
    return model.to(dev, pick_dtype(dev)).eval()


def sam2_masks(
    rgb: np.ndarray,
    model: Any,
    box: tuple[int, int, int, int] | None,
    point: tuple[float, float] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate masks (K, H, W) bool and predicted IoUs (K,) from a loaded Sam2Model.

    The photo (H, W, 3) uint8 is resized to the model's S x S input (no padding, as SAM 2's
    own transform does); the box x0,y0,x1,y1 / click x,y in photo pixels are scaled to it;
    the low-resolution mask logits are resized back to (H, W) and thresholded at 0.
    """
    import cv2
    import torch

    h, w = rgb.shape[:2]
    size = model.config.vision_config.backbone_config.image_size
    S = int(size[0] if isinstance(size, (list, tuple)) else size)
    x = cv2.resize(rgb, (S, S), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255.0
    x = (x - np.array(IMAGENET_MEAN, np.float32)) / np.array(IMAGENET_STD, np.float32)
    p = next(model.parameters())
    pix = torch.from_numpy(x).permute(2, 0, 1)[None].to(p.device, p.dtype)
    sx, sy = S / w, S / h
    kwargs: dict[str, Any] = {}
    if box is not None:
        x0, y0, x1, y1 = (float(v) for v in box)
        kwargs["input_boxes"] = torch.tensor(
            [[[x0 * sx, y0 * sy, x1 * sx, y1 * sy]]], dtype=p.dtype, device=p.device
        )
    if point is not None:
        kwargs["input_points"] = torch.tensor(
            [[[[point[0] * sx, point[1] * sy]]]], dtype=p.dtype, device=p.device
        )
        kwargs["input_labels"] = torch.tensor([[[1]]], dtype=torch.long, device=p.device)
    with torch.no_grad():
        out = model(pixel_values=pix, multimask_output=True, **kwargs)
    logits = out.pred_masks[0, 0].float().cpu().numpy()  # (K, h', w')
    masks = np.stack([cv2.resize(m, (w, h), interpolation=cv2.INTER_LINEAR) > 0 for m in logits])
    scores = out.iou_scores[0, 0].float().cpu().numpy()
    return masks, scores


def sam_masks_transformers(
    rgb: np.ndarray,
    folder: Path,
    box: tuple[int, int, int, int] | None,
    point: tuple[float, float] | None,
    device: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate masks (K, H, W) bool and their predicted IoUs (K,) from a transformers SAM
    folder."""
    import torch
    from transformers import SamModel, SamProcessor

    try:
        with offline():  # HF_HUB_OFFLINE for the load only
            model = SamModel.from_pretrained(str(folder), local_files_only=True)
            processor = SamProcessor.from_pretrained(str(folder), local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ValueError(f"could not load SAM from {folder}: {exc}. {HINT}") from None
    dev = _device(device)
    model = model.to(dev).eval()
    kwargs: dict[str, Any] = {}
    if box is not None:
        kwargs["input_boxes"] = [[[float(v) for v in box]]]
    if point is not None:
        kwargs["input_points"] = [[[[float(point[0]), float(point[1])]]]]
        kwargs["input_labels"] = [[[1]]]
    inputs = processor(images=rgb, return_tensors="pt", **kwargs).to(dev)
    with torch.no_grad():
        out = model(**inputs, multimask_output=True)
    masks = processor.image_processor.post_process_masks(
        out.pred_masks.cpu(), inputs["original_sizes"].cpu(), inputs["reshaped_input_sizes"].cpu()
    )
    m = masks[0][0].numpy().astype(bool)  # (K, H, W)
    scores = out.iou_scores[0, 0].float().cpu().numpy()  # (K,)
    return m, scores


def sam_masks_checkpoint(
    rgb: np.ndarray,
    checkpoint: Path,
    box: tuple[int, int, int, int] | None,
    point: tuple[float, float] | None,
    device: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate masks and scores from a segment-anything checkpoint (model type from the name)."""
    try:
        from segment_anything import SamPredictor, sam_model_registry
    except ImportError as exc:
        raise ValueError(
            f"SAM checkpoint files need the segment-anything package and torchvision "
            f"({exc}); or use a transformers SAM folder instead"
        ) from None
    name = checkpoint.name.lower()
    kind = next((k for k in ("vit_h", "vit_l", "vit_b") if k in name), "vit_b")
    try:
        sam = sam_model_registry[kind](checkpoint=str(checkpoint))
    except Exception as exc:  # noqa: BLE001 - torch.load raises many types
        raise ValueError(f"could not load SAM checkpoint {checkpoint}: {exc}. {HINT}") from None
    sam.to(_device(device))
    pred = SamPredictor(sam)
    pred.set_image(rgb)
    masks, scores, _ = pred.predict(
        point_coords=None if point is None else np.array([point], np.float32),
        point_labels=None if point is None else np.array([1]),
        box=None if box is None else np.array(box, np.float32),
        multimask_output=True,
    )
    return masks.astype(bool), np.asarray(scores, np.float32)


def segment_neural(
    rgb: np.ndarray,
    sam: str | Path | None = None,
    box: tuple[int, int, int, int] | None = None,
    point: tuple[float, float] | None = None,
    device: str | None = None,
) -> Segmentation:
    """Segment the object with SAM / SAM 2; raises ValueError for a missing model or no usable mask
    (ModelMissing, naming `models download ...`, when the manager's model is not downloaded)."""
    from generators.models.registry import is_backend_name

    if sam is None or (not Path(sam).exists() and is_backend_name(str(sam))):
        from generators.models.hub import resolve_model_arg

        sam = resolve_model_arg(sam, "sam2-tiny")
    path = Path(sam)
    if not path.exists():
        raise FileNotFoundError(f"SAM weights {path} not found: {HINT}")
    rgb = np.ascontiguousarray(np.asarray(rgb, np.uint8)[:, :, :3])
    h, w = rgb.shape[:2]
    if box is None and point is None:
        box = default_box(w, h)
    if path.is_dir() and is_sam2_folder(path):
        masks, scores = sam2_masks(rgb, load_sam2(path, device), box, point)
    elif path.is_dir():
        masks, scores = sam_masks_transformers(rgb, path, box, point, device)
    else:
        masks, scores = sam_masks_checkpoint(rgb, path, box, point, device)
    if masks.ndim != 3 or masks.shape[1:] != (h, w):
        raise ValueError(f"SAM returned masks of shape {masks.shape} for a {w}x{h} photo")
    order = np.argsort(-scores)
    last: ValueError | None = None
    for k in order:  # best-scored mask that is a usable object
        try:
            seg = mask_to_segmentation(rgb, masks[k], "sam")
        except ValueError as exc:
            last = exc
            continue
        seg.meta["sam_score"] = float(scores[k])
        return seg
    raise ValueError(f"Segment Anything found no clear object: {last}")


def verify_backend(backend: Any, paths: list[Path], device: str) -> Any:
    """`models verify sam2-tiny / sam-vit-base`: load, then segment a 64x64 image from a box."""
    folder = paths[0]
    sam2 = is_sam2_folder(folder)
    model = load_sam2(folder, device) if sam2 else None

    def run() -> str:
        yy, xx = np.mgrid[0:64, 0:64]
        rgb = np.where(((xx - 32) ** 2 + (yy - 32) ** 2 < 200)[..., None], 220, 30).astype(np.uint8)
        rgb = np.repeat(rgb, 3, axis=2)
        box = (16, 16, 48, 48)
        if sam2:
            masks, scores = sam2_masks(rgb, model, box, None)
        else:
            masks, scores = sam_masks_transformers(rgb, folder, box, None, device)
        if masks.shape[1:] != (64, 64):
            raise ValueError(f"masks of shape {masks.shape} for a 64x64 image")
        return f"{len(masks)} candidate masks, best predicted IoU {float(scores.max()):.2f}"

    return run
