"""Options of the world generator (`pano_world.generate_world`): photo(s) or a panorama ->
walkable Gaussian world. The CLI's `world` command and Create > New World build these."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generators.depth import BACKENDS as DEPTH_BACKENDS
from generators.options import GeneratorOptions, OptionsError, check_weights, option
from generators.panorama.options import (
    BACKENDS as PANO_BACKENDS,
)
from generators.panorama.options import (
    DEFAULT_HEIGHT,
    OUTPAINT_HELP,
    PHOTO_HELP,
    PanoramaOptions,
    fov_option,
    height_option,
    model_option,
    prompt_option,
    seed_option,
    steps_option,
)
from scene.units import EYE_HEIGHT

#: splat panorama height of a world from photos: ~1 M splats (smooth invented regions take
#: a splat per 2×2 or 4×4 pixels, `pano_world.invented_splats`; the photo's own pixels add
#: their own splats)
DEFAULT_RESOLUTION = 768
#: ... of a world from a panorama file, all of it photographed: ~1.2 M splats, as many as a
#: photo's world (at 768 rows, 0.67 M: the Jordan Pond world was soft at full screen, a trial)
DEFAULT_PANORAMA_RESOLUTION = 1024


def check_equirect_shape(path: Path) -> None:
    """Raise OptionsError when the image at `path` is readable but not 2:1 (an
    equirectangular panorama's shape, as `panorama.load_panorama` requires), before any
    work: a photo picked as a panorama in the app failed only at the job's end. Unreadable
    files are left to the loader's own error."""
    from scene.io.images import image_size

    try:
        w, h = image_size(path)
    except (OSError, ValueError):
        return
    from generators.panorama import not_equirect

    problem = not_equirect(path.name, w, h)
    if problem is not None:
        raise OptionsError(problem)


@dataclass
class WorldOptions(GeneratorOptions):
    """Photo(s) from one spot, or a 360° panorama file -> a walkable world.

    The panorama options (fov .. seed) are those of `PanoramaOptions`, used when the world
    starts from photos; the rest shape the depth and the splats.
    """

    photos: list[Path] = option(
        default_factory=list, help=PHOTO_HELP, flag="--photo", metavar="P", group="source"
    )
    panorama: Path | None = option(
        None,
        help="an equirectangular 360° panorama image (width = 2 x height)",
        flag="--panorama",
        metavar="PANO",
        group="source",
    )
    fov: float | None = fov_option()
    pano_backend: str = option(
        "classical",
        help=OUTPAINT_HELP,
        flag="--outpaint",
        choices=PANO_BACKENDS,
        label="outpainting backend",
    )
    pano_model: Path | None = model_option()
    prompt: str = prompt_option()
    steps: int = steps_option()
    pano_height: int = height_option(
        "panorama height; its width is twice that (with --panorama: the rows read from the file)"
    )
    seed: int = seed_option()
    depth_backend: str = option(
        "classical",
        flag=("--depth", "--backend"),
        choices=DEPTH_BACKENDS,
        label="depth backend",
        help="depth: classical geometric prior or neural (Depth Anything "
        "V2: `models download depth-anything-v2-small`, or "
        "--depth-model)",
    )
    depth_model: Path | None = option(
        None,
        flag="--depth-model",
        metavar="DIR|NAME",
        label="depth model folder",
        help="neural depth: a transformers depth-estimation folder "
        "(Depth Anything / DPT) or a model name from `models` "
        "(default: depth-anything-v2-small)",
    )
    resolution: int | None = option(
        None,
        unit="px",
        flag="--resolution",
        lo=64,
        hi=8192,
        label="splat resolution",
        help=f"panorama height used for the splats (default: the panorama's, at most "
        f"{DEFAULT_PANORAMA_RESOLUTION} for a panorama file, ~1.2 M splats; at most "
        f"{DEFAULT_RESOLUTION} for photos, ~1 M with the photos' own pixels)",
    )
    eye_height: float = option(
        EYE_HEIGHT,
        help="camera height above the floor",
        unit="m",
        flag="--eye-height",
        lo=0.2,
        hi=10.0,
    )
    radius: float | None = option(
        None,
        unit="m",
        flag="--radius",
        lo=1.0,
        hi=1000.0,
        label="room radius",
        help="distance to the walls/far field (default: from the photo's ground line, else 8)",
    )
    level: bool = option(
        True,
        flag="--no-level",
        negate=True,
        help="use the photo or panorama as given (default: a photo's pitch and a "
        "panorama's tilt from their vertical lines, so walls and horizon come out level)",
    )

    def check(self) -> None:
        """Options in range, one source, and the weights of the chosen backends here."""
        super().check()
        if bool(self.photos) == (self.panorama is not None):
            raise OptionsError("give either photos or a panorama (not both)")
        if self.panorama is not None:
            check_equirect_shape(Path(self.panorama))
        if self.photos:
            check_weights("outpainting", self.pano_backend, self.pano_model, "--model DIR")
        check_weights("depth", self.depth_backend, self.depth_model, "--depth-model DIR")

    def used_pano_height(self) -> int:
        """The panorama height a world from photos is made at: `pano_height`, at most
        what its splats use (2 × the splat resolution, at least the default 1024 rows).
        The photos' own pixels are placed from the photos themselves, at their size."""
        res = self.resolution or DEFAULT_RESOLUTION
        return min(self.pano_height, max(DEFAULT_HEIGHT, 2 * res))

    def panorama_options(self) -> PanoramaOptions:
        """The options of the panorama made from the photos (`used_pano_height` rows: an
        8192-row panorama took 82 s and 16 GB for the same splats as 1024 rows)."""
        return PanoramaOptions(
            photos=list(self.photos),
            fov=self.fov,
            backend=self.pano_backend,
            model=self.pano_model,
            prompt=self.prompt,
            steps=self.steps,
            height=self.used_pano_height(),
            seed=self.seed,
            level=self.level,
        )
