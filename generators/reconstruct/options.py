"""Options of the reconstruction (`pipeline.reconstruct`): photos taken while moving ->
cameras, depth maps and a Gaussian scene. The `reconstruct` command and Create > New Scene
build these; the scene's report, layer source and splat provenance record them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from generators.options import GeneratorOptions, OptionsError, option

from .align import CAPTURE_TYPES

BACKENDS = ("sfm", "feedforward", "auto")
DEVICES = ("auto", "cpu", "cuda")
DEFAULT_REFINE_STEPS = 3000
#: the optimisation's share of a run budget is never cut below this (a budget the earlier
#: stages already spent still gets a short optimisation instead of none)
MIN_REFINE_S = 45.0
#: kept back from a run budget for what follows the optimisation (writing the scene,
#: cameras and depth maps)
RESERVE_S = 10.0


def parse_intrinsics(text: str) -> tuple[float, float, float, float]:
    """'fx,fy,cx,cy' (pixels) -> four floats; ValueError otherwise."""
    try:
        vals = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise ValueError("expected four numbers fx,fy,cx,cy") from None
    if len(vals) != 4:
        raise ValueError("expected four numbers fx,fy,cx,cy")
    return vals  # type: ignore[return-value]


@dataclass
class ReconstructOptions(GeneratorOptions):
    """Options of the reconstruction (all have working defaults)."""

    refine_steps: int = option(
        DEFAULT_REFINE_STEPS,
        flag="--refine",
        metavar="N",
        lo=0,
        label="optimisation steps",
        help="3DGS optimisation steps at most (0 = off): gsplat on CUDA, "
        "else the compiled CPU rasterizer; needs PyTorch (without it "
        "the default skips this step with a warning)",
    )
    refine_seconds: float = option(
        240.0,
        unit="s",
        flag="--refine-seconds",
        lo=0.0,
        label="optimisation time",
        help="time budget of the optimisation at most (0 = no limit); "
        "the report says when it stopped the run",
    )
    run_seconds: float = option(
        270.0,
        unit="s",
        flag="--time-budget",
        lo=0.0,
        label="run time budget",
        help="wall-clock budget of the whole run (0 = none): the optimisation gets what "
        f"the earlier stages leave (at least {MIN_REFINE_S:.0f} s), up to --refine-seconds",
    )
    intrinsics: tuple[float, float, float, float] | None = option(
        None,
        flag="--intrinsics",
        metavar="fx,fy,cx,cy",
        parse=parse_intrinsics,
        unit="px",
        help="known pinhole intrinsics at the photos' size",
    )
    colmap_dir: Path | None = option(
        None, flag="--colmap", metavar="DIR", help="existing COLMAP model: skip SfM"
    )
    sequential: bool = option(False, help="sequential matching (video frames)")
    max_image_size: int = option(
        1600,
        unit="px",
        lo=64,
        flag="--sfm-size",
        label="SfM working size",
        help="photos are matched and registered (SfM) at most this big (long side); "
        "smaller is faster, larger finds more matches in detailed photos",
    )
    depth_size: int = option(
        400,
        unit="px",
        flag="--depth-size",
        lo=32,
        label="depth size",
        help="dense depth working size (long side)",
    )
    planes: int = option(96, lo=8, help="plane-sweep depth hypotheses")
    max_points: int = option(
        400_000, flag="--max-splats", lo=1, label="splat budget", help="splat budget after fusion"
    )
    fill_gaps: bool = option(
        True,
        flag="--no-fill-gaps",
        negate=True,
        label="fill single-view surfaces",
        help="leave out the splats made where only one photo's depth knows the surface "
        "(default: made there, for foliage, ground near a camera and rarely seen parts, each "
        "kept when no other photo sees through it and its colour agrees; fuse.fill_gaps)",
    )
    ray_fill: bool = option(
        True,
        flag="--no-ray-fill",
        negate=True,
        label="place what stereo missed",
        help="leave out the splats made for photo pixels without stereo depth (default: "
        "made there, for trees and near things, each on its ray where no other photo sees "
        "through it or sees another colour; ray_fill.fill_depthless)",
    )
    backdrop: bool = option(
        True,
        flag="--no-backdrop",
        negate=True,
        label="continue sky and ground",
        help="leave the sky sphere and the ground as the photos and the optimisation made "
        "them (default: where no photo looked, continue the sky above the horizon and the "
        "ground plane below it, so turning away from the photos shows sky and ground, not "
        "a black void, and shorten the sky's needle-like splats, which streak across it)",
    )
    refine_size: int = option(
        320, unit="px", lo=16, help="CPU optimisation render size (long side)"
    )
    depth_weight: float = option(
        0.2,
        flag="--depth-weight",
        lo=0.0,
        label="depth term weight",
        help="weight of the optimisation's depth term: the renders' expected disparity is "
        "pulled to the stereo depth the photos agree on, so floaters in front of the "
        "surfaces they saw fade (0 = off)",
    )
    refine_device: str = option(
        "auto",
        flag="--device",
        choices=DEVICES,
        label="refinement device",
        help="the optimisation's device: auto (cuda when there is one, else the CPU "
        "rasterizer), cpu or cuda",
    )
    target_depth: float = option(
        2.0, above=0.0, help="median camera-to-point distance in output units"
    )
    eye_height: float = option(
        1.5, unit="m", lo=0.0, help="walk-through with a floor: the cameras this high above y = 0"
    )
    capture: str = option(
        "auto",
        flag="--capture",
        choices=("auto", *CAPTURE_TYPES),
        label="capture type",
        help="capture type, which sets the assumed scale: walk (eye height "
        "1.5 m above the floor), orbit (object, cameras 0.6 m away), "
        "aerial (cameras 30 m up); auto detects it from the camera layout",
    )
    orbit_radius: float = option(
        0.6, unit="m", above=0.0, help="object orbit: assumed camera-to-object distance"
    )
    aerial_height: float = option(
        30.0, unit="m", above=0.0, help="aerial: assumed camera height above the ground"
    )
    threads: int = option(-1, help="SfM threads (-1: all cores)")
    holdout: int = option(
        0,
        flag="--holdout",
        metavar="K",
        lo=0,
        help="hold out every K-th registered photo (sorted names: 0, K, 2K..., "
        "the 3DGS/Mip-NeRF 360 llffhold convention) from depth, fusion "
        "and refinement; their cameras are still written, for `evaluate` "
        "(0 = off)",
    )
    backend: str = option(
        "sfm",
        flag="--backend",
        choices=BACKENDS,
        help="cameras and depth: sfm (COLMAP-style, no weights); feedforward "
        "(Depth Anything 3 in one pass: `models download "
        "depth-anything-3`); auto (feedforward when it is ready and a GPU "
        "is present, else sfm)",
    )

    def check(self) -> None:
        """Options in range, and intrinsics four finite numbers with fx, fy > 0."""
        if isinstance(self.holdout, int) and (self.holdout < 0 or self.holdout == 1):
            # one message for every value it refuses (-3 said ">= 0", then 1 said ">= 2")
            raise OptionsError(f"--holdout must be 0 (off) or >= 2, got {self.holdout}")
        super().check()
        if self.intrinsics is not None:
            if (
                len(self.intrinsics) != 4
                or not all(math.isfinite(v) for v in self.intrinsics)
                or min(self.intrinsics[:2]) <= 0
            ):
                raise OptionsError(
                    "intrinsics must be four finite numbers fx,fy,cx,cy, fx and fy > 0"
                )

    def refine_budget(self, elapsed: float) -> tuple[float, str]:
        """(seconds, why) for the optimisation after `elapsed` s of earlier stages:
        `refine_seconds`, cut to what `run_seconds` leaves after `elapsed` and RESERVE_S,
        never below MIN_REFINE_S; 0 = no limit (both budgets 0)."""
        cap = self.refine_seconds if self.refine_seconds > 0 else math.inf
        left = math.inf
        if self.run_seconds > 0:
            left = max(MIN_REFINE_S, self.run_seconds - elapsed - RESERVE_S)
        if math.isinf(cap) and math.isinf(left):
            return 0.0, "no time budget"
        if left < cap:
            kept = f"{elapsed:.0f} s of earlier stages and {RESERVE_S:.0f} s kept for writing"
            raw = self.run_seconds - elapsed - RESERVE_S
            if left <= MIN_REFINE_S and raw < MIN_REFINE_S:
                # (a trial read "spent by 21 s ... and 10 s" of a 60 s budget)
                return left, (
                    f"the shortest optimisation ({MIN_REFINE_S:.0f} s), more than the "
                    f"{max(raw, 0.0):.0f} s the {self.run_seconds:.0f} s run budget left "
                    f"after {kept}: the run takes longer than its budget"
                )
            return left, f"what the {self.run_seconds:.0f} s run budget left after {kept}"
        return cap, f"the optimisation's own {cap:.0f} s budget"
