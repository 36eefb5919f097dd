"""The object job: photo (or mesh file) -> Gaussian object (+ mesh), by backend.

Backends: `classical` (silhouette inflation, no weights), `multiview` (Zero123++-style
diffusion views + space carving), `import` (a mesh/splat file from an external generator).
Segmenters: `classical` (GrabCut + matte) and `neural` (Segment Anything, local weights).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from generators.jobs import CancelToken, ProgressFn, Stages, no_progress
from scene.gaussians import GaussianCloud
from scene.mesh import Mesh

from .segment_classical import Segmentation, load_image, parse_box, segment_classical, split_alpha

BACKENDS = ("classical", "multiview", "hunyuan3d", "import")
SEGMENTERS = ("classical", "neural")
#: most splats sampled on an imported mesh (beyond, memory runs out before anything is written)
MAX_SAMPLES = 10_000_000


@dataclass
class ObjectRequest:
    """Everything one object generation needs (options validated by `check`)."""

    photo: str | Path | None = None
    image: np.ndarray | None = None              # (H, W, 3|4) uint8, instead of `photo`
    backend: str = "classical"
    segmenter: str = "classical"
    box: str | tuple[int, int, int, int] | None = None   # x0,y0,x1,y1 pixels
    point: tuple[float, float] | None = None     # click x, y pixels
    mask: np.ndarray | None = None               # (H, W) bool, skips segmentation
    model: str | Path | None = None              # multiview pipeline folder (None: model manager)
    sam: str | Path | None = None                # SAM file/folder (None: model manager's sam2-tiny)
    input: str | Path | None = None              # import: mesh or splat file
    as_mesh: bool = False                        # import: keep a mesh as a mesh layer
    with_mesh: bool = True                       # also build a mesh (classical/multiview)
    height: float = 1.0
    resolution: int = 320
    steps: int = 28
    seed: int = 0
    samples: int = 200_000                       # import: splats sampled on a mesh
    device: str | None = None

    def check(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown object backend {self.backend!r}; choose one of {', '.join(BACKENDS)}")
        if self.segmenter not in SEGMENTERS:
            raise ValueError(f"unknown segmenter {self.segmenter!r}; choose one of {', '.join(SEGMENTERS)}")
        if self.backend == "import":
            if self.input is None:
                raise ValueError("the import backend needs --input MESH_OR_SPLAT_FILE")
        elif self.photo is None and self.image is None:
            raise ValueError(f"the {self.backend} backend needs a photo (--photo P)")
        if self.backend == "multiview" and self.model is None:  # the manager's Zero123++
            from generators.models.hub import require

            require("zero123plus", "--model DIR")
        if self.segmenter == "neural" and self.sam is None and self.backend != "import":
            from generators.models.hub import require

            require("sam2-tiny", "--sam PATH")  # SAM 2 from the model manager
        if self.backend == "hunyuan3d":
            from generators.models.hub import require

            require("hunyuan3d-2mini", "--backend classical or multiview")
        if not 0 < self.height < 1e6:
            raise ValueError(f"height must be more than 0 and less than 1e6, got {self.height}")
        if not 1 <= self.steps <= 500:
            raise ValueError(f"steps must be 1..500, got {self.steps}")
        if not 100 <= self.samples <= MAX_SAMPLES:
            raise ValueError(f"samples must be 100..{MAX_SAMPLES}, got {self.samples}")

    def options(self) -> dict[str, Any]:
        """JSON-able options recorded in the object's provenance."""
        d = asdict(self)
        for k in ("image", "mask"):
            d.pop(k)
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in d.items()}


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


def segment(req: ObjectRequest, progress: ProgressFn = no_progress,
            cancel: CancelToken | None = None) -> Segmentation:
    """Load the photo and segment its object with the requested segmenter."""
    if req.image is not None:
        rgb, alpha = split_alpha(req.image)
    else:
        rgb, alpha = load_image(req.photo)  # type: ignore[arg-type]
    h, w = rgb.shape[:2]
    box = parse_box(req.box, w, h) if req.box is not None else None
    if req.mask is not None:
        from .segment_classical import mask_to_segmentation

        m = np.asarray(req.mask, bool)
        if m.shape != (h, w):
            raise ValueError(f"mask has shape {m.shape}, photo is {(h, w)}")
        return mask_to_segmentation(rgb, m, "given")
    if alpha is not None or req.segmenter == "classical":
        return segment_classical(rgb, alpha, box=box, point=req.point)
    from .segment_neural import segment_neural

    return segment_neural(rgb, req.sam, box=box, point=req.point, device=req.device)  # type: ignore[arg-type]


def generate_object(req: ObjectRequest, progress: ProgressFn = no_progress,
                    cancel: CancelToken | None = None) -> ObjectResult:
    """Run the whole job. Raises ValueError / SceneFormatError with a clear message on bad input."""
    req.check()
    cancel = cancel or CancelToken()
    name = Path(str(req.input if req.backend == "import" else (req.photo or "object"))).stem or "object"
    meta: dict[str, Any] = {"generator": "wander.objects", "backend": req.backend,
                            "options": req.options()}
    if req.backend == "import":
        from .mesh_to_splats import import_object

        cloud, mesh, warnings, info = import_object(req.input, as_mesh=req.as_mesh, samples=req.samples,
                                                    height=req.height, progress=progress, cancel=cancel)
        meta.update(info)
        return _finish(name, cloud, mesh, meta, warnings, None)

    stages = Stages(progress, [("segment", 2), ("lift", 2 if req.backend == "classical" else 6)], cancel)
    with stages("segment"):
        seg = segment(req, progress, cancel)
    meta["segmentation"] = dict(seg.meta, box=list(seg.box))
    with stages("lift") as report:
        sub = lambda f, m: report(f, m)  # noqa: E731 - nested progress onto this stage
        if req.backend == "classical":
            from .inflate import InflateOptions, lift_classical

            opts = InflateOptions(resolution=req.resolution, height=req.height)
            cloud, mesh, info = lift_classical(seg, opts, with_mesh=req.with_mesh, progress=sub, cancel=cancel)
        elif req.backend == "hunyuan3d":  # model manager: hunyuan3d-2mini (hy3dgen)
            from .hunyuan3d import lift_hunyuan3d

            cloud, mesh, info = lift_hunyuan3d(seg, steps=req.steps, seed=req.seed, height=req.height,
                                               with_mesh=req.with_mesh, device=req.device,
                                               progress=sub, cancel=cancel)
        else:
            from .multiview import lift_multiview

            cloud, mesh, info = lift_multiview(seg, req.model, steps=req.steps, seed=req.seed,  # type: ignore[arg-type]
                                               height=req.height, with_mesh=req.with_mesh,
                                               device=req.device, progress=sub, cancel=cancel)
    meta.update(info)
    return _finish(name, cloud, mesh, meta, [], seg)


def _finish(name: str, cloud: GaussianCloud | None, mesh: Mesh | None, meta: dict[str, Any],
            warnings: list[str], seg: Segmentation | None) -> ObjectResult:
    from .files import _jsonable

    meta = _jsonable(meta)  # type: ignore[assignment] - provenance must survive JSON (projects, PLY)
    if cloud is not None:
        cloud.validate()
        cloud.meta = dict(cloud.meta, **meta)
    if mesh is not None:
        mesh.meta = dict(mesh.meta, **meta)
    return ObjectResult(name, cloud, mesh, meta, warnings, seg)
