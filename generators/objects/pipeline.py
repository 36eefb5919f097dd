"""The object job: photo (or mesh file) -> Gaussian object (+ mesh), by backend.

Backends: `classical` (silhouette inflation, no weights), `multiview` (Zero123++-style
diffusion views + space carving), `import` (a mesh/splat file from an external generator).
Segmenters: `classical` (GrabCut + matte) and `neural` (Segment Anything, local weights).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from generators.jobs import CancelToken, ProgressFn, Stages, no_progress
from scene.gaussians import GaussianCloud
from scene.mesh import Mesh

from .options import BACKENDS, MAX_SAMPLES, SEGMENTERS, ObjectOptions  # noqa: F401 - re-exported
from .segment_classical import (
    Segmentation,
    box_clip_note,
    load_image,
    parse_box,
    segment_classical,
    split_alpha,
)

log = logging.getLogger(__name__)

#: photos larger than this on their long side are segmented at this size (px): the object
#: is lifted at a few hundred pixels (`ObjectOptions.resolution`), the neural backends at
#: about 1024
SEGMENT_MAX_SIDE = 3072

#: the options' older name (one class: `ObjectOptions`)
ObjectRequest = ObjectOptions


@dataclass
class ObjectResult:
    """A generated object in its own frame (base centre at the origin, +Y up, facing +Z)."""

    name: str
    cloud: GaussianCloud | None
    mesh: Mesh | None
    meta: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    segmentation: Segmentation | None = None

    @property
    def data(self) -> GaussianCloud | Mesh:
        """What becomes the layer: the splats, or the mesh when there are none."""
        if self.cloud is not None:
            return self.cloud
        assert self.mesh is not None
        return self.mesh


def segment(
    req: ObjectOptions, progress: ProgressFn = no_progress, cancel: CancelToken | None = None
) -> Segmentation:
    """Load the photo and segment its object with the requested segmenter."""
    if req.image is not None:
        rgb, alpha = split_alpha(req.image)
    else:
        rgb, alpha = load_image(req.photo)  # type: ignore[arg-type]
    h, w = rgb.shape[:2]
    box = parse_box(req.box, w, h) if req.box is not None else None
    box_note = box_clip_note(req.box, box, w, h) if box is not None else None  # type: ignore[arg-type]
    mask = None
    if req.mask is not None:
        mask = np.asarray(req.mask, bool)
        if mask.shape != (h, w):
            raise ValueError(f"mask has shape {mask.shape}, photo is {(h, w)}")
    point = req.point
    photo_size = (w, h)
    k = SEGMENT_MAX_SIDE / max(h, w)
    if k < 1.0:
        # segmented at a working size: a 12000x9000 photo peaked at 6.3 GB in 26 s (a
        # trial), and an object is lifted at a few hundred pixels anyway. The box, the
        # click and a given mask come in the photo's pixels and are scaled alike
        import cv2

        size = (max(8, round(w * k)), max(8, round(h * k)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        if alpha is not None:
            alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA)
        if mask is not None:
            mask = cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
        if box is not None:
            box = parse_box([v * k for v in box], *size)
        if point is not None:
            point = (point[0] * k, point[1] * k)
        log.info("segmenting the %dx%d photo at %dx%d", w, h, *size)
    if mask is not None:
        from .segment_classical import mask_to_segmentation

        return mask_to_segmentation(rgb, mask, "given")
    try:
        if alpha is not None or req.segmenter == "classical":
            seg = segment_classical(rgb, alpha, box=box, point=point)
        else:
            from .segment_neural import segment_neural

            seg = segment_neural(rgb, req.sam, box=box, point=point, device=req.device)  # type: ignore[arg-type]
        seg.meta["photo_size"] = list(photo_size)
        if box_note:
            seg.meta["box_clipped"] = box_note
        return seg
    except ValueError as exc:
        if req.photo is None or type(exc) is not ValueError:  # ModelMissing, a bad file...
            raise
        # which photo (a trial: "no object found: the mask is empty", alone of the errors
        # without the file's name)
        raise ValueError(f"{Path(str(req.photo)).name}: {exc}") from None


def generate_object(
    req: ObjectOptions, progress: ProgressFn = no_progress, cancel: CancelToken | None = None
) -> ObjectResult:
    """Run the whole job. `req` is checked first (`ObjectOptions.check`: OptionsError, or
    ModelMissing when a backend's weights are not here); SceneFormatError for unreadable
    files. The result's meta records the options (`meta["options"]`)."""
    req.check()
    cancel = cancel or CancelToken()
    name = (
        Path(str(req.input if req.backend == "import" else (req.photo or "object"))).stem
        or "object"
    )
    meta: dict[str, Any] = {
        "generator": "wander.objects",
        "backend": req.backend,
        "options": req.record(),
    }
    if req.backend == "import":
        from .mesh_to_splats import import_object

        cloud, mesh, warnings, info = import_object(
            req.input,
            as_mesh=req.as_mesh,
            samples=req.samples,
            height=req.height,
            progress=progress,
            cancel=cancel,
        )
        meta.update(info)
        return _finish(name, cloud, mesh, meta, warnings, None)

    stages = Stages(
        progress, [("segment", 2), ("lift", 2 if req.backend == "classical" else 6)], cancel
    )
    with stages("segment"):
        seg = segment(req, progress, cancel)
    meta["segmentation"] = dict(seg.meta, box=list(seg.box))
    with stages("lift") as report:
        sub = lambda f, m: report(f, m)  # noqa: E731 - nested progress onto this stage
        if req.backend == "classical":
            from .inflate import InflateOptions, lift_classical

            opts = InflateOptions(resolution=req.resolution, height=req.height)
            cloud, mesh, info = lift_classical(
                seg, opts, with_mesh=req.with_mesh, progress=sub, cancel=cancel
            )
        elif req.backend == "hunyuan3d":  # model manager: hunyuan3d-2mini (hy3dgen)
            from .hunyuan3d import lift_hunyuan3d

            cloud, mesh, info = lift_hunyuan3d(
                seg,
                steps=req.steps,
                seed=req.seed,
                height=req.height,
                with_mesh=req.with_mesh,
                device=req.device,
                progress=sub,
                cancel=cancel,
            )
        else:
            from .multiview import lift_multiview

            cloud, mesh, info = lift_multiview(
                seg,
                req.model,
                steps=req.steps,
                seed=req.seed,  # type: ignore[arg-type]
                height=req.height,
                with_mesh=req.with_mesh,
                device=req.device,
                progress=sub,
                cancel=cancel,
            )
    meta.update(info)
    from generators.images import SMALL_OBJECT_SIDE, photo_warnings

    shown = Path(str(req.photo)).name if req.photo is not None else "the photo"
    size = seg.meta.get("photo_size")
    warnings = photo_warnings(
        shown,
        seg.rgb,
        seg.mask.astype(np.float32),
        tuple(size) if size else None,
        small_side=SMALL_OBJECT_SIDE,
    )
    if seg.meta.get("box_clipped"):
        warnings.insert(0, seg.meta["box_clipped"])
    return _finish(name, cloud, mesh, meta, warnings, seg)


def _finish(
    name: str,
    cloud: GaussianCloud | None,
    mesh: Mesh | None,
    meta: dict[str, Any],
    warnings: list[str],
    seg: Segmentation | None,
) -> ObjectResult:
    from .files import _jsonable

    meta = _jsonable(meta)  # type: ignore[assignment] - provenance must survive JSON (projects, PLY)
    if cloud is not None:
        cloud.validate()
        cloud.meta = dict(cloud.meta, **meta)
    if mesh is not None:
        mesh.meta = dict(mesh.meta, **meta)
    return ObjectResult(name, cloud, mesh, meta, warnings, seg)
