"""Which splats a box, lasso or sphere selects, as seen through a camera (pure NumPy + OpenCV,
no Qt): the geometry behind Edit > Select Splats (viewer/ext_splats.py).

A splat is inside a box or lasso when its projected centre is (scene.camera.Camera, the
renderer's projection) and it lies in front of the camera; inside a sphere when its world
centre is. Selections combine as SuperSplat's do: replace, add (Shift), subtract (Ctrl).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from scene.camera import Camera
from scene.gaussians import GaussianCloud
from scene.splatting import NEAR_CULL  # the renderer draws nothing nearer

OPS = ("replace", "add", "subtract")


def world_centres(cloud: GaussianCloud, transform: np.ndarray) -> np.ndarray:
    """(N, 3) float64 splat centres in world coordinates."""
    m = np.asarray(transform, np.float64)
    return cloud.means.astype(np.float64) @ m[:3, :3].T + m[:3, 3]


def polygon_mask(cam: Camera, centres: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """(N,) bool: centres in front of `cam` whose projection falls inside `polygon` (K, 2)
    pixel vertices of `cam` (a box is a 4-vertex polygon). Rasterised with cv2.fillPoly at
    the camera's resolution, so the test is exact to the pixel."""
    poly = np.asarray(polygon, np.float64).reshape(-1, 2)
    if len(poly) < 3 or not len(centres):
        return np.zeros(len(centres), bool)
    uv, z = cam.project(centres)
    w, h = int(cam.width), int(cam.height)
    img = np.zeros((h, w), np.uint8)
    cv2.fillPoly(img, [np.round(poly).astype(np.int32)], 1)
    ok = (z > NEAR_CULL) & np.isfinite(uv).all(1)
    px = np.floor(uv).astype(np.int64, copy=False) if ok.any() else np.zeros((len(uv), 2), np.int64)
    ok &= (px[:, 0] >= 0) & (px[:, 0] < w) & (px[:, 1] >= 0) & (px[:, 1] < h)
    out = np.zeros(len(centres), bool)
    idx = np.flatnonzero(ok)
    out[idx] = img[px[idx, 1], px[idx, 0]] > 0
    return out


def box_polygon(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)


def sphere_mask(centres: np.ndarray, centre: np.ndarray, radius: float) -> np.ndarray:
    """(N,) bool: world centres within `radius` of `centre`."""
    if not len(centres):
        return np.zeros(0, bool)
    d2 = np.sum((centres - np.asarray(centre, np.float64)) ** 2, axis=1)
    return d2 <= float(radius) ** 2


def combine(old: np.ndarray | None, new: np.ndarray, op: str) -> np.ndarray:
    """Selection after applying `new` with `op` ('replace' | 'add' | 'subtract')."""
    if op not in OPS:
        raise ValueError(f"unknown selection operation {op!r} (use {', '.join(OPS)})")
    if old is None or op == "replace":
        return new.copy()
    return (old | new) if op == "add" else (old & ~new)


class SplatSelection:
    """Selected splats per Gaussian layer: {layer id: (N,) bool}. A mask is dropped when its
    layer's data object changes (deleted, separated, replaced), so it never points at the
    wrong splats."""

    def __init__(self) -> None:
        self.masks: dict[int, np.ndarray] = {}
        self._data_ids: dict[int, int] = {}

    def clear(self) -> None:
        self.masks.clear()
        self._data_ids.clear()

    def set(self, layer: Any, mask: np.ndarray) -> None:
        if mask.any():
            self.masks[layer.id] = mask
            self._data_ids[layer.id] = id(layer.data)
        else:
            self.masks.pop(layer.id, None)
            self._data_ids.pop(layer.id, None)

    def get(self, layer: Any) -> np.ndarray | None:
        m = self.masks.get(layer.id)
        if m is None or self._data_ids.get(layer.id) != id(layer.data) or len(m) != len(layer.data):
            return None
        return m

    def prune(self, world: Any) -> None:
        """Forget masks of layers that are gone or whose splats changed."""
        live = {lay.id: lay for lay in world.layers}
        for lid in list(self.masks):
            lay = live.get(lid)
            if lay is None or self.get(lay) is None:
                self.masks.pop(lid, None)
                self._data_ids.pop(lid, None)

    def count(self) -> int:
        return int(sum(int(m.sum()) for m in self.masks.values()))

    def __bool__(self) -> bool:
        return bool(self.masks)
