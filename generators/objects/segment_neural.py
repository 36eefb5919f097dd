"""Neural object segmentation with Segment Anything, from local weights only.

`sam` may be a transformers SAM folder (SamModel + SamProcessor, e.g. facebook/sam-vit-base
downloaded) or a segment-anything checkpoint file (`sam_vit_b_01ec64.pth`, needs the
`segment-anything` package and torchvision). The prompt is a box, a click, or the default
centred box; of SAM's three candidate masks the one with the best predicted IoU wins, then it
is cleaned and feathered like the classical matte.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .segment_classical import Segmentation, default_box, mask_to_segmentation

HINT = ("download a SAM model: a transformers folder (facebook/sam-vit-base) or a segment-anything "
        "checkpoint (sam_vit_b_01ec64.pth), and pass its path with --sam")


def _device(device: str | None) -> str:
    import torch

    return device or ("cuda" if torch.cuda.is_available() else "cpu")


def sam_masks_transformers(rgb: np.ndarray, folder: Path, box: tuple[int, int, int, int] | None,
                           point: tuple[float, float] | None, device: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Candidate masks (K, H, W) bool and their predicted IoUs (K,) from a transformers SAM folder."""
    import torch
    from transformers import SamModel, SamProcessor

    try:
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
        out.pred_masks.cpu(), inputs["original_sizes"].cpu(), inputs["reshaped_input_sizes"].cpu())
    m = masks[0][0].numpy().astype(bool)               # (K, H, W)
    scores = out.iou_scores[0, 0].float().cpu().numpy()  # (K,)
    return m, scores


def sam_masks_checkpoint(rgb: np.ndarray, checkpoint: Path, box: tuple[int, int, int, int] | None,
                         point: tuple[float, float] | None, device: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Candidate masks and scores from a segment-anything checkpoint (model type from the name)."""
    try:
        from segment_anything import SamPredictor, sam_model_registry
    except ImportError as exc:
        raise ValueError(f"SAM checkpoint files need the segment-anything package and torchvision "
                         f"({exc}); or use a transformers SAM folder instead") from None
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
        box=None if box is None else np.array(box, np.float32), multimask_output=True)
    return masks.astype(bool), np.asarray(scores, np.float32)


def segment_neural(rgb: np.ndarray, sam: str | Path, box: tuple[int, int, int, int] | None = None,
                   point: tuple[float, float] | None = None, device: str | None = None) -> Segmentation:
    """Segment the object with SAM; raises ValueError for a missing model or no usable mask."""
    path = Path(sam)
    if not path.exists():
        raise FileNotFoundError(f"SAM weights {path} not found: {HINT}")
    rgb = np.ascontiguousarray(np.asarray(rgb, np.uint8)[:, :, :3])
    h, w = rgb.shape[:2]
    if box is None and point is None:
        box = default_box(w, h)
    if path.is_dir():
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
