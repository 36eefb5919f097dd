"""Hunyuan3D-2 shape generation (the `hy3dgen` package, Hunyuan3D-2mini weights) + photo texture.

Shape: `Hunyuan3DDiTFlowMatchingPipeline` (Tencent Hunyuan3D-2, Zhao et al. 2025) turns the
segmented photo (RGBA, object centred) into a watertight mesh. Texture: the photo is
projected onto the mesh along the viewing axis (orthographic, the conditioning view looks
along -Z at the object's +Z side, x right, y up), so each vertex takes the photo colour
where it lands in the object's box; hy3dgen's own texture pipeline needs compiled CUDA
extensions and is used only where `hy3dgen.texgen` imports.
The mesh is then normalised like every object (base centre at 0, height `height`) and
sampled into surfels.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from generators.jobs import CancelToken, ProgressFn, Stages, no_progress
from generators.models.hub import offline
from scene.gaussians import GaussianCloud
from scene.mesh import Mesh

from .segment_classical import Segmentation

log = logging.getLogger(__name__)
SUBFOLDER = "hunyuan3d-dit-v2-mini"


@offline()  # HF_HUB_OFFLINE for the load only (generators.models.hub)
def load_hunyuan3d(device: str | None = "auto") -> Any:
    """The shape pipeline from the model manager's `hunyuan3d-2mini` snapshot.

    Raises ModelMissing (one line naming the fix) when hy3dgen / torchvision are not
    installed or the weights are not downloaded; InputError when VRAM is short.
    """
    from generators.models.verify import prepare

    backend, paths, dev = prepare("hunyuan3d-2mini", device)
    from generators.models.device import pick_dtype
    from generators.models.hub import ModelMissing

    try:
        from hy3dgen.shapegen import Hunyuan3DDiTFlowMatchingPipeline
    except Exception as exc:  # noqa: BLE001 - a broken install raises anything at import
        raise ModelMissing(
            f"hunyuan3d-2mini: hy3dgen does not import ({type(exc).__name__}: {exc}); {backend.pip}"
        ) from None
    # an absolute path makes hy3dgen's loader use the snapshot as is (no download)
    return Hunyuan3DDiTFlowMatchingPipeline.from_pretrained(
        str(paths[0]), subfolder=SUBFOLDER, use_safetensors=True, device=dev, dtype=pick_dtype(dev)
    )


def project_photo_colors(vertices: np.ndarray, seg: Segmentation) -> np.ndarray:
    """Vertex colours (V, 3) float32 0..1 from the photo, projected along Z.

    vertices (V, 3) in the generator's frame (x right, y up); their x/y extent is mapped
    onto the segmentation box (aspect kept, centred), so the silhouette lines up with the
    photo's object. Vertices outside the mask take the nearest masked colour.
    """
    import cv2

    x0, y0, x1, y1 = seg.box
    rgb = seg.rgb[y0:y1, x0:x1].astype(np.float32) / 255.0
    mask = seg.mask[y0:y1, x0:x1] > 0
    h, w = mask.shape
    if mask.any():  # fill outside the mask with the nearest object colour
        _, lab = cv2.distanceTransformWithLabels(
            (~mask).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
        )
        ys, xs = np.nonzero(mask)
        src = np.zeros(lab.max() + 1, np.int64)
        src[lab[ys, xs]] = ys * w + xs
        rgb = rgb.reshape(-1, 3)[src[lab]].reshape(h, w, 3)
    lo, hi = vertices.min(0), vertices.max(0)
    ext = np.maximum(hi - lo, 1e-9)
    s = min(w / ext[0], h / ext[1])
    cx, cy = (lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2
    u = np.clip((vertices[:, 0] - cx) * s + w / 2, 0, w - 1)
    v = np.clip(h / 2 - (vertices[:, 1] - cy) * s, 0, h - 1)
    return rgb[v.round().astype(int), u.round().astype(int)].astype(np.float32)


def mesh_to_object(
    vertices: np.ndarray,
    faces: np.ndarray,
    seg: Segmentation,
    *,
    height: float = 1.0,
    samples: int = 200_000,
    with_mesh: bool = True,
) -> tuple[GaussianCloud, Mesh | None, dict[str, Any]]:
    """A generated mesh + the photo -> the coloured object (surfels + mesh) in the object frame."""
    from .mesh_to_splats import ColoredPart, normalizing_transform, parts_to_cloud, parts_to_mesh

    vertices = np.asarray(vertices, np.float64)
    faces = np.asarray(faces, np.int64)
    cols = project_photo_colors(vertices, seg)
    s, off = normalizing_transform(vertices.min(0), vertices.max(0), height)
    part = ColoredPart(vertices * s + off, faces, None, None, cols, np.ones(3, np.float32))
    cloud = parts_to_cloud([part], samples)
    mesh = parts_to_mesh([part]) if with_mesh else None
    lo, hi = cloud.bounds()
    return (
        cloud,
        mesh,
        {
            "size": [float(v) for v in hi - lo],
            "texture": "photo projection",
            "mesh_faces": int(len(faces)),
        },
    )


def lift_hunyuan3d(
    seg: Segmentation,
    *,
    steps: int = 30,
    seed: int = 0,
    height: float = 1.0,
    with_mesh: bool = True,
    device: str | None = "auto",
    samples: int = 200_000,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> tuple[GaussianCloud, Mesh | None, dict[str, Any]]:
    """Segmented photo -> Hunyuan3D-2mini mesh -> photo-textured Gaussian object (+ mesh)."""
    import torch
    from PIL import Image

    stages = Stages(progress, [("load model", 1), ("shape", 6), ("texture", 1)], cancel)
    with stages("load model"):
        pipe = load_hunyuan3d(device)
    with stages("shape"):
        x0, y0, x1, y1 = seg.box
        rgba = np.dstack([seg.rgb, (seg.alpha * seg.mask * 255).astype(np.uint8)])[y0:y1, x0:x1]
        out = pipe(
            image=Image.fromarray(rgba, "RGBA"),
            num_inference_steps=steps,
            generator=torch.manual_seed(int(seed)),
            output_type="trimesh",
        )
        tm = out[0]
        stages.cancel.check()
    with stages("texture"):
        return mesh_to_object(
            np.asarray(tm.vertices),
            np.asarray(tm.faces),
            seg,
            height=height,
            samples=samples,
            with_mesh=with_mesh,
        )


def verify_backend(backend: Any, paths: list[Path], device: str) -> Any:
    """`models verify hunyuan3d-2mini`: load, then generate a shape from a 64-px disc in 2 steps."""
    import torch
    from PIL import Image

    pipe = load_hunyuan3d(device)

    def run() -> str:
        yy, xx = np.mgrid[0:64, 0:64]
        a = (((xx - 32) ** 2 + (yy - 32) ** 2) < 500).astype(np.uint8) * 255
        rgba = np.dstack([np.full((64, 64, 3), 180, np.uint8), a])
        mesh = pipe(
            image=Image.fromarray(rgba, "RGBA"),
            num_inference_steps=2,
            generator=torch.manual_seed(0),
            output_type="trimesh",
        )[0]
        return f"a mesh of {len(mesh.vertices)} vertices, {len(mesh.faces)} faces"

    return run
