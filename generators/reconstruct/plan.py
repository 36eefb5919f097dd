"""Working sizes of the stages before the optimisation, sized to the run budget.

Feature extraction and depth cost about the same per pixel on every photo, and exhaustive
matching grows with the number of photo pairs, so with the sizes that suit Sceaux's 11
photos a set of 24 spends the whole run budget before the optimisation starts. Measured on
this 2-core machine (`reconstruct --holdout 8`, 24 renders of Sceaux at 2832×2128 as the
photos, 1600 px SfM, 8192 features, 400 px depth): read 16 s, features 91 s, matching
62 s, mapping 43 s, depth 73 s, fusion 11 s — 298 s before the optimisation, which then got
its minimum 45 s (77 steps, training views 21.2 dB at 320 px) and the run took 6 min.

Per unit on that machine: SIFT at 1600 px about 3 s a photo (∝ pixels), matching 0.29 s a
pair at 8192 features and half that at 4096 (mapping halves too), plane-sweep depth about
3 s a view at 400 px (∝ pixels). So above `FULL_PHOTOS` photos, when a run budget applies
and the sizes are the defaults:

* features per photo 8192 -> 4096 (matching and mapping about halve; 4096 SIFT features
  still register every Sceaux photo);
* the SfM size shrinks as 1/sqrt(photos), so extraction costs what `FULL_PHOTOS` photos
  cost, not below `MIN_SFM_SIZE`;
* the depth size shrinks the same way, not below `MIN_DEPTH_SIZE`.

Sizes the user set (any value but the default) are kept; `--time-budget 0` keeps the
defaults at any count. What was changed is recorded in the report (`working_sizes`) and
printed, never applied silently.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .options import ReconstructOptions

#: up to this many photos the default sizes fit the run budget
FULL_PHOTOS = 12
#: SIFT features per photo: the default, and above FULL_PHOTOS under a budget
FEATURES = 8192
FEATURES_MANY = 4096
#: without a budget, beyond this many photos exhaustive matching at 8192 features is
#: too slow anyway
FEATURES_UNBUDGETED_LIMIT = 40
MIN_SFM_SIZE = 1024
MIN_DEPTH_SIZE = 320


@dataclass
class StagePlan:
    """Working sizes for one run: SfM long side (px), SIFT features per photo, depth
    long side (px), and `note` saying what was reduced and why ('' = the options as given)."""

    sfm_size: int
    features: int
    depth_size: int
    note: str = ""

    def as_dict(self) -> dict:
        return {
            "sfm_size": self.sfm_size,
            "features": self.features,
            "depth_size": self.depth_size,
            **({"note": self.note} if self.note else {}),
        }


def _shrunk(size: int, photos: int, floor: int, step: int) -> int:
    """`size` × sqrt(FULL_PHOTOS / photos), down to a multiple of `step`, at least `floor`
    (and never above `size`)."""
    s = size * math.sqrt(FULL_PHOTOS / photos)
    return min(size, max(floor, int(s // step) * step))


def plan_stages(photos: int, opts: ReconstructOptions) -> StagePlan:
    """The working sizes for `photos` photos under `opts` (see the module docstring).

    Raises ValueError for fewer than one photo."""
    if photos < 1:
        raise ValueError(f"need at least one photo to plan for, got {photos}")
    defaults = ReconstructOptions()
    budget = opts.run_seconds > 0
    many = photos > FULL_PHOTOS
    if not budget:
        feats = FEATURES if photos <= FEATURES_UNBUDGETED_LIMIT else FEATURES_MANY
        return StagePlan(opts.max_image_size, feats, opts.depth_size)
    if not many:
        return StagePlan(opts.max_image_size, FEATURES, opts.depth_size)
    sfm = opts.max_image_size
    if sfm == defaults.max_image_size:
        sfm = _shrunk(sfm, photos, MIN_SFM_SIZE, 32)
    depth = opts.depth_size
    if depth == defaults.depth_size:
        depth = _shrunk(depth, photos, MIN_DEPTH_SIZE, 16)
    changed = [f"{FEATURES_MANY} features a photo"]
    if sfm != opts.max_image_size:
        changed.insert(0, f"SfM at {sfm} px")
    if depth != opts.depth_size:
        changed.append(f"depth at {depth} px")
    note = (
        f"{photos} photos: {', '.join(changed)} so the earlier stages leave the "
        f"optimisation its share of the {opts.run_seconds:.0f} s run budget "
        "(--time-budget 0 keeps the full sizes)"
    )
    return StagePlan(sfm, FEATURES_MANY, depth, note)
