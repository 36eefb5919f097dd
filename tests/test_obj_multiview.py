"""Objects: the `multiview` backend's real loading + inference path on a tiny random pipeline."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data
from models_tiny import build_tiny_multiview

from generators.jobs import Cancelled, CancelToken

pytestmark = pytest.mark.slow  # importing diffusers + transformers takes several seconds here

VIEW = 32


@pytest.fixture(scope="module")
def tiny_pipeline_dir(tmp_path_factory):
    """A WanderMultiViewPipeline with tiny random components, saved like a downloaded model."""
    return build_tiny_multiview(tmp_path_factory.mktemp("tiny_multiview"), VIEW)


@pytest.fixture(scope="module")
def cup_seg():
    from generators.objects.segment_classical import segment_classical

    return segment_classical(skimage.data.coffee())


def test_loads_and_generates_a_zero123pp_grid(tiny_pipeline_dir, cup_seg) -> None:
    from generators.objects.multiview import (
        conditioning_image,
        generate_views,
        load_multiview_pipeline,
    )

    pipe = load_multiview_pipeline(tiny_pipeline_dir, "cpu")
    cond = conditioning_image(cup_seg, VIEW)
    assert cond.shape == (VIEW, VIEW, 3)
    assert np.all(cond[0, 0] == 128)  # gray background around the object
    seen: list[float] = []
    a = generate_views(pipe, cond, steps=2, seed=1, progress=lambda f, m: seen.append(f))
    b = generate_views(pipe, cond, steps=2, seed=1)
    c = generate_views(pipe, cond, steps=2, seed=2)
    assert a.shape == (3 * VIEW, 2 * VIEW, 3) and a.dtype == np.float32
    assert 0 <= a.min() and a.max() <= 1 and a.std() > 0
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert seen and seen[-1] == pytest.approx(1.0)


def test_multiview_backend_end_to_end(tiny_pipeline_dir) -> None:
    from generators.objects.pipeline import ObjectRequest, generate_object

    res = generate_object(
        ObjectRequest(
            image=skimage.data.coffee(), backend="multiview", model=tiny_pipeline_dir, steps=2
        )
    )
    cloud = res.cloud
    assert res.meta["backend"] == "multiview" and res.meta["views_shape"] == [3 * VIEW, 2 * VIEW, 3]
    lo, hi = cloud.bounds()
    assert abs(lo[1]) < 1e-4 and abs(hi[1] - 1.0) < 1e-4  # object frame: base at 0, height 1
    assert len(cloud) > 100 and res.mesh is not None and res.mesh.n_faces > 0
    cloud.validate()


def test_cancel_during_diffusion(tiny_pipeline_dir, cup_seg) -> None:
    from generators.objects.multiview import lift_multiview

    tok = CancelToken()

    def progress(f: float, msg: str) -> None:
        if "step 1/" in msg:
            tok.cancel()

    with pytest.raises(Cancelled):
        lift_multiview(cup_seg, tiny_pipeline_dir, steps=4, progress=progress, cancel=tok)


def test_missing_or_wrong_model_folder(tmp_path, cup_seg) -> None:
    from generators.objects.multiview import load_multiview_pipeline

    with pytest.raises(FileNotFoundError, match="zero123plus"):
        load_multiview_pipeline(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="model_index.json"):
        load_multiview_pipeline(tmp_path)
    (tmp_path / "model_index.json").write_text('{"_class_name": "Zero123PlusPipeline"}')
    with pytest.raises(ValueError, match="pipeline.py"):
        load_multiview_pipeline(tmp_path)


def test_views_without_background_fail_clearly() -> None:
    from generators.objects.multiview import views_to_object

    noise = np.random.default_rng(0).uniform(0, 1, (96, 64, 3)).astype(np.float32)
    flat = np.full((96, 64, 3), 0.5, np.float32)
    with pytest.raises(ValueError, match="no object"):
        views_to_object(flat)
    with pytest.raises(ValueError):
        views_to_object(noise)
