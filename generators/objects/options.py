"""Options of the object generator (`pipeline.generate_object`): a photo (or a mesh/splat
file) -> a 3D object. The `object` command and Insert > Object from Photo build these; the
object's provenance (PLY header comment, layer source) records them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generators.options import MAX_SEED, GeneratorOptions, OptionsError, check_weights, option

BACKENDS = ("classical", "multiview", "hunyuan3d", "import")
SEGMENTERS = ("classical", "neural")
#: most splats sampled on an imported mesh (beyond, memory runs out before anything is written)
MAX_SAMPLES = 10_000_000


def parse_point(text: str) -> tuple[float, float]:
    """'x,y' (pixels) -> (x, y); ValueError otherwise."""
    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError:
        raise ValueError("expected x,y pixels") from None
    return x, y


@dataclass
class ObjectOptions(GeneratorOptions):
    """Everything one object generation needs (checked by `check`)."""

    photo: Path | str | None = option(
        None, flag="--photo", help="photo of the object (PNG with alpha is used as the mask)"
    )
    image: np.ndarray | None = option(
        None, record=False, help="(H, W, 3|4) uint8 photo in memory, instead of `photo`"
    )
    backend: str = option(
        "classical",
        flag="--backend",
        choices=BACKENDS,
        label="object backend",
        help="classical: silhouette inflation, no weights; multiview: Zero123++ "
        "diffusion + space carving (`models download zero123plus`, or "
        "--model DIR); hunyuan3d: Hunyuan3D-2mini shape + photo texture "
        "(hy3dgen; `models download hunyuan3d-2mini`); import: an external "
        "mesh/splat file",
    )
    segmenter: str = option(
        "classical",
        flag="--segmenter",
        choices=SEGMENTERS,
        help="classical: GrabCut + matte; neural: SAM 2 (`models download "
        "sam2-tiny`) or the SAM given with --sam",
    )
    box: str | tuple[int, int, int, int] | None = option(
        None,
        flag="--box",
        unit="px",
        metavar="X0,Y0,X1,Y1",
        help="object box in the photo, x0,y0,x1,y1 (default: centred box)",
    )
    point: tuple[float, float] | None = option(
        None,
        flag="--point",
        metavar="X,Y",
        unit="px",
        parse=parse_point,
        help="a click on the object, x,y (with --box: a sure object pixel inside the box)",
    )
    mask: np.ndarray | None = option(
        None, record=False, help="(H, W) bool object mask: skips segmentation"
    )
    model: Path | str | None = option(
        None,
        flag="--model",
        metavar="DIR",
        label="multiview model folder",
        help="multiview: local diffusers pipeline folder (default: "
        "the model manager's zero123plus)",
    )
    sam: Path | str | None = option(
        None,
        flag="--sam",
        label="SAM model",
        help="neural segmenter: SAM .pth checkpoint, transformers folder "
        "or model name (default: sam2-tiny)",
    )
    input: Path | str | None = option(
        None, flag="--input", help="import: GLB/GLTF/OBJ/PLY mesh or splat file"
    )
    as_mesh: bool = option(
        False,
        flag="--keep-mesh",
        help="import: keep a mesh as a mesh (no splats; write it with --mesh or --into, not --out)",
    )
    with_mesh: bool = option(True, help="also build a mesh (classical, multiview, hunyuan3d)")
    height: float = option(
        1.0,
        flag="--height",
        unit="m",
        above=0.0,
        hi=1e6,
        label="object height",
        help="object height in world units",
    )
    resolution: int = option(
        320,
        flag="--resolution",
        unit="px",
        lo=16,
        hi=4096,
        help="classical: splat grid size along the object's longer side",
    )
    steps: int = option(
        28, flag="--steps", lo=1, hi=500, help="multiview, hunyuan3d: diffusion steps"
    )
    seed: int = option(0, flag="--seed", lo=0, hi=MAX_SEED, help="random seed")
    samples: int = option(
        200_000, flag="--samples", lo=100, hi=MAX_SAMPLES, help="import: splats sampled on a mesh"
    )
    device: str | None = option(
        None,
        flag="--device",
        help="neural backends' device: auto (default: cuda, else mps, else cpu), cpu, cuda, "
        "cuda:N or mps",
    )

    def check(self) -> None:
        """Options in range, the input the backend needs, and its weights here."""
        super().check()
        if self.backend == "import":
            if self.input is None:
                raise OptionsError("the import backend needs --input MESH_OR_SPLAT_FILE")
            return
        if self.input is not None:  # it was ignored without a word (a trial)
            raise OptionsError(
                f"--input is read by the import backend only (the {self.backend} backend makes "
                "the object from --photo): drop --input, or drop --photo and add "
                "--backend import"
            )
        if self.photo is None and self.image is None:
            raise OptionsError(f"the {self.backend} backend needs a photo (--photo P)")
        check_weights(
            "object",
            self.backend,
            self.model if self.backend == "multiview" else None,
            "--model DIR" if self.backend == "multiview" else "--backend classical or multiview",
        )
        check_weights("segmenter", self.segmenter, self.sam, "--sam PATH")
