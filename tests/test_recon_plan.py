"""Working sizes by photo count (generators.reconstruct.plan): a 24-photo set spent the
whole 270 s run budget before the optimisation (298 s of earlier stages, 77 steps)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from generators.reconstruct.options import ReconstructOptions
from generators.reconstruct.plan import (
    FEATURES,
    FEATURES_MANY,
    FULL_PHOTOS,
    MIN_DEPTH_SIZE,
    MIN_SFM_SIZE,
    plan_stages,
)


def test_a_small_set_keeps_the_default_sizes() -> None:
    o = ReconstructOptions()
    for n in (2, 11, FULL_PHOTOS):
        p = plan_stages(n, o)
        assert (p.sfm_size, p.features, p.depth_size) == (o.max_image_size, FEATURES, o.depth_size)
        assert p.note == "" and "note" not in p.as_dict()


def test_many_photos_under_a_budget_shrink_the_earlier_stages_and_say_so() -> None:
    o = ReconstructOptions()
    p = plan_stages(24, o)
    # extraction at 24 photos costs what 12 cost: pixels per photo halve
    assert MIN_SFM_SIZE <= p.sfm_size < o.max_image_size
    assert p.sfm_size == pytest.approx(o.max_image_size / np.sqrt(2), abs=32)
    assert p.features == FEATURES_MANY
    assert MIN_DEPTH_SIZE <= p.depth_size < o.depth_size
    assert "24 photos" in p.note and "--time-budget 0" in p.note
    assert f"SfM at {p.sfm_size} px" in p.note and f"depth at {p.depth_size} px" in p.note
    assert p.as_dict()["note"] == p.note
    # sizes shrink with the count, never below their floors
    many = plan_stages(300, o)
    assert (many.sfm_size, many.depth_size) == (MIN_SFM_SIZE, MIN_DEPTH_SIZE)
    assert plan_stages(16, o).sfm_size >= p.sfm_size >= many.sfm_size


def test_sizes_the_user_chose_are_kept() -> None:
    p = plan_stages(30, ReconstructOptions(max_image_size=2000, depth_size=640))
    assert (p.sfm_size, p.depth_size) == (2000, 640)
    assert p.features == FEATURES_MANY and "SfM at" not in p.note and "depth at" not in p.note
    small = plan_stages(30, ReconstructOptions(max_image_size=800, depth_size=240))
    assert (small.sfm_size, small.depth_size) == (800, 240)


def test_without_a_budget_the_sizes_are_the_options() -> None:
    o = ReconstructOptions(run_seconds=0)
    p = plan_stages(30, o)
    assert (p.sfm_size, p.features, p.depth_size, p.note) == (
        o.max_image_size,
        FEATURES,
        o.depth_size,
        "",
    )
    # exhaustive matching of very many photos at 8192 features is too slow in any case
    assert plan_stages(41, o).features == FEATURES_MANY
    with pytest.raises(ValueError):
        plan_stages(0, o)


def test_the_pipeline_reads_and_extracts_at_the_planned_sizes(tmp_path: Path, monkeypatch) -> None:
    import cv2

    import generators.reconstruct.pipeline as pipeline
    import generators.reconstruct.sfm as sfm

    rng = np.random.default_rng(0)
    folder = tmp_path / "photos"
    folder.mkdir()
    n = FULL_PHOTOS + 6
    for i in range(n):
        cv2.imwrite(str(folder / f"p{i:02d}.png"), rng.integers(0, 255, (48, 64, 3), np.uint8))
    seen: dict[str, int] = {}
    real_ingest = pipeline.ingest_photos

    def ingest(paths, img_dir, size, *a, **k):  # noqa: ANN001, ANN002, ANN003, ANN202
        seen["sfm_size"] = size
        return real_ingest(paths, img_dir, size, *a, **k)

    class Stop(Exception):
        pass

    def extract(*a, max_features: int, **k):  # noqa: ANN002, ANN003, ANN202
        seen["features"] = max_features
        raise Stop

    monkeypatch.setattr(pipeline, "ingest_photos", ingest)
    monkeypatch.setattr(sfm, "sfm_extract", extract)
    with pytest.raises(Stop):
        pipeline.reconstruct(sorted(folder.iterdir()), ReconstructOptions())
    planned = plan_stages(n, ReconstructOptions())
    assert seen == {"sfm_size": planned.sfm_size, "features": planned.features}
    assert planned.sfm_size < ReconstructOptions().max_image_size


def test_the_optimisation_gets_the_share_of_the_progress_bar_its_time_budget_gives_it() -> None:
    """A trial's 12-photo run reached 70 % in 72 s of 265: the optimisation, three
    quarters of the run under the default budget, had a fixed sixth of the bar."""
    from generators.reconstruct.options import ReconstructOptions
    from generators.reconstruct.pipeline import _refine_weight

    opts = ReconstructOptions()
    share = lambda n: _refine_weight(opts, n, 14.5) / (_refine_weight(opts, n, 14.5) + 14.5)  # noqa: E731
    assert 0.7 < share(12) < 0.9  # measured: 214 of 265 s
    assert share(100) < share(30) < share(12)  # more photos, longer earlier stages
    assert _refine_weight(ReconstructOptions(refine_steps=0), 12, 14.5) < 0.1
    free = ReconstructOptions(refine_seconds=0, run_seconds=0)
    assert _refine_weight(free, 12, 14.5) == 14.5


def test_the_scene_records_the_sizes_the_run_used() -> None:
    from generators.reconstruct.pipeline import _ran_options
    from generators.reconstruct.plan import plan_stages

    opts = ReconstructOptions()
    plan = plan_stages(25, opts)
    assert plan.sfm_size < opts.max_image_size and plan.depth_size < opts.depth_size
    rec = _ran_options(opts, plan)
    assert rec["max_image_size"] == plan.sfm_size and rec["depth_size"] == plan.depth_size
    assert rec == {**opts.record(), "max_image_size": plan.sfm_size, "depth_size": plan.depth_size}
