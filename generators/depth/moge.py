"""MoGe (Wang et al. 2025, "MoGe-2"; the depth model HunyuanWorld-1.0 uses) behind the same
`(processor, model)` interface as a transformers depth model, so `neural_pano_depth` runs it
on the panorama's perspective views and merges them as for Depth Anything.

MoGe predicts metric depth (not disparity); `neural_pano_depth` detects that by the sign of
its fit to the prior's disparity and inverts it. Needs the `moge` package (installed from
its source repository; it is not on the package index) and the `moge` weights from
`python main.py models download moge`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from generators.models.hub import offline

CHECKPOINT = "model.pt"


class _Processor:
    """images (H, W, 3) uint8 -> {"pixel_values": (1, 3, H, W) float 0..1} (MoGe's input)."""

    def __call__(self, images: np.ndarray, return_tensors: str = "pt") -> dict[str, Any]:
        import torch

        x = torch.from_numpy(np.asarray(images, np.float32) / 255.0).permute(2, 0, 1)[None]
        return {"pixel_values": x}


class _Output:
    def __init__(self, depth: Any) -> None:
        self.predicted_depth = depth


class MoGeDepth:
    """Wraps a MoGe model: `forward(pixel_values)` -> `.predicted_depth` (1, H, W) metric depth,
    invalid pixels (MoGe's mask) set to the view's largest valid depth."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def parameters(self) -> Any:
        return self.model.parameters()

    def __call__(self, pixel_values: Any) -> _Output:
        import torch

        out = self.model.infer(pixel_values[0])
        depth = out["depth"].float()
        mask = out.get("mask")
        valid = torch.isfinite(depth) & (depth > 0)
        if mask is not None:
            valid &= mask.bool()
        far = depth[valid].max() if valid.any() else torch.tensor(1.0, device=depth.device)
        return _Output(torch.where(valid, depth, far)[None])


@offline()  # HF_HUB_OFFLINE for the load only (generators.models.hub)
def load_moge(snapshot: Path, device: str) -> tuple[Any, Any]:
    """(processor, model) for `neural_pano_depth` from the manager's `moge` snapshot."""
    from generators.models.hub import ModelMissing

    try:
        from moge.model.v2 import MoGeModel
    except Exception as exc:  # noqa: BLE001 - a partial install raises anything at import
        raise ModelMissing(
            f"moge does not import ({type(exc).__name__}: {exc}): install MoGe from its "
            "source repository (microsoft/MoGe)"
        ) from None
    model = MoGeModel.from_pretrained(str(Path(snapshot) / CHECKPOINT)).to(device).eval()
    return _Processor(), MoGeDepth(model)
