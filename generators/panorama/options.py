"""Options of the panorama generator (`generate_panorama`): photo(s) -> 360° equirect."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generators.options import MAX_SEED, GeneratorOptions, OptionsError, check_weights, option

BACKENDS = ("classical", "diffusion", "flux")
DEFAULT_HEIGHT = 1024
#: the photo's field of view used when neither the option nor EXIF gives one
DEFAULT_FOV = 65.0

#: shared help lines (the world generator offers the same options)
FOV_HELP = "horizontal field of view of the photo(s) (default: from EXIF, else 65)"
OUTPAINT_HELP = (
    "outpainting: classical (no weights); diffusion (Stable Diffusion inpainting: "
    "`models download sd-inpaint` or --model DIR); flux (HunyuanWorld-1 style "
    "FLUX.1-Fill + PanoDiT LoRA, GPU: `models download flux-pano`)"
)
MODEL_HELP = (
    "diffusion: local diffusers inpainting pipeline folder (default: sd-inpaint from "
    "the model manager)"
)
PROMPT_HELP = "diffusion, flux: text prompt describing the scene"
STEPS_HELP = "diffusion, flux: denoising steps"
HEIGHT_HELP = "panorama height; its width is twice that"
SEED_HELP = "random seed"
PHOTO_HELP = (
    "the photo; several overlapping photos from one spot (or a folder of them) are stitched"
)


# The panorama options the world generator offers too (same flag, range and words; the
# field names differ): one definition each, a dataclass field from `option`.
def fov_option() -> Any:
    return option(
        None,
        help=FOV_HELP,
        unit="deg",
        flag="--fov",
        metavar="DEG",
        lo=1.0,
        hi=179.0,
        label="field of view",
    )


def model_option() -> Any:
    return option(
        None, help=MODEL_HELP, flag="--model", metavar="DIR", label="inpainting model folder"
    )


def prompt_option() -> Any:
    return option("", help=PROMPT_HELP, flag="--prompt")


def steps_option() -> Any:
    return option(30, help=STEPS_HELP, flag="--steps", lo=1, hi=1000)


def height_option(help: str = HEIGHT_HELP) -> Any:  # noqa: A002 - the option's help text
    return option(
        DEFAULT_HEIGHT,
        help=help,
        unit="px",
        flag="--height",
        lo=64,
        hi=8192,
        label="panorama height",
    )


def seed_option() -> Any:
    return option(0, help=SEED_HELP, flag="--seed", lo=0, hi=MAX_SEED)


@dataclass
class PanoramaOptions(GeneratorOptions):
    """Photo(s) taken from one spot -> a full 360° panorama (`generate_panorama`)."""

    photos: list[Path] = option(
        default_factory=list, help=PHOTO_HELP, flag="--photo", metavar="P", required=True
    )
    fov: float | None = fov_option()
    backend: str = option(
        "classical",
        help=OUTPAINT_HELP,
        # --outpaint as in `world` (whose --backend picks its depth); --backend as before
        flag=("--outpaint", "--backend"),
        choices=BACKENDS,
        label="panorama backend",
    )
    model: Path | None = model_option()
    prompt: str = prompt_option()
    steps: int = steps_option()
    height: int = height_option()
    seed: int = seed_option()
    level: bool = option(
        True,
        flag="--no-level",
        negate=True,
        help="place the photo as if level (default: its pitch from its vertical lines, "
        "so the horizon and upright things come out level)",
    )

    def check(self) -> None:
        """Options in range and, for a backend needing weights, the weights here."""
        super().check()
        if not self.photos:
            raise OptionsError("give at least one photo")
        check_weights("outpainting", self.backend, self.model, "--model DIR")
