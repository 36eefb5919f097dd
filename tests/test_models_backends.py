"""Neural backends resolved through the model manager: tiny random-weight models saved in a
temporary Hugging Face cache, then `models verify` and the commands' real loading and
inference path on the CPU (FLUX.1-Fill + PanoDiT LoRA, Depth Anything V2, SAM 2)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is optional (torch extra)")

pytestmark = pytest.mark.slow  # building the tiny backends takes half a minute here

from models_tiny import (  # noqa: E402
    build_tiny_depth_anything,
    build_tiny_flux_fill,
    build_tiny_sam2,
    put_in_cache,
)

from generators.models.hub import ModelMissing, backend_state  # noqa: E402
from generators.models.registry import get_backend  # noqa: E402
from generators.models.verify import verify  # noqa: E402


@pytest.fixture(scope="module")
def hub_cache(tmp_path_factory) -> Path:
    """One temporary cache with tiny flux-pano, depth-anything-v2-small and sam2-tiny."""
    root = tmp_path_factory.mktemp("tiny-models")
    cache = root / "hub"
    flux = get_backend("flux-pano")
    fill, lora = build_tiny_flux_fill(root / "flux")
    put_in_cache(fill, flux.repos[0].id, cache)
    put_in_cache(lora, flux.repos[1].id, cache)
    put_in_cache(
        build_tiny_depth_anything(root / "depth"),
        get_backend("depth-anything-v2-small").repos[0].id,
        cache,
    )
    put_in_cache(build_tiny_sam2(root / "sam2"), get_backend("sam2-tiny").repos[0].id, cache)
    return cache


@pytest.fixture
def cache(hub_cache: Path, monkeypatch) -> Path:
    monkeypatch.setenv("HF_HUB_CACHE", str(hub_cache))
    return hub_cache


def test_blend_seam_joins_the_two_ends() -> None:
    from generators.panorama.outpaint_flux import blend_seam

    W, E = 64, 8
    img = np.zeros((4, W + E, 3), np.float32)
    img[:, :W] = np.linspace(0, 1, W)[None, :, None]  # a ramp: a hard jump at the seam
    img[:, W:] = 1.0  # the model's continuation past 180°
    out = blend_seam(img, E)
    assert out.shape == (4, W, 3)
    # the first column equals the continuation (right after the last column), then fades in
    assert abs(out[0, 0, 0] - 1.0) < 1e-6
    np.testing.assert_allclose(out[0, E:, 0], img[0, E:W, 0])
    jump_before = abs(img[0, W - 1, 0] - img[0, 0, 0])
    jump_after = abs(out[0, W - 1, 0] - out[0, 0, 0])
    assert jump_after < 0.05 < jump_before


@pytest.mark.slow
def test_flux_pano_verify_and_panorama_with_lora(cache: Path, tmp_path: Path) -> None:
    from generators.panorama import panorama_from_photos
    from generators.panorama.outpaint_flux import load_flux_pano

    assert backend_state("flux-pano").ready
    res = verify("flux-pano", device="cpu")
    assert res["device"] == "cpu" and "filled a 128x64 panorama" in res["summary"]
    pipe = load_flux_pano(None, "cpu")
    assert "default_0" in str(pipe.get_list_adapters())  # the PanoDiT LoRA is active
    import cv2
    from skimage import data

    photo = tmp_path / "coffee.png"
    cv2.imwrite(str(photo), data.coffee()[::4, ::4, ::-1])
    msgs: list[str] = []
    pano = panorama_from_photos(
        [photo], fov=70, backend="flux", height=64, steps=2, progress=lambda f, m: msgs.append(m)
    )
    assert pano.image.shape == (64, 128, 3) and np.isfinite(pano.image).all()
    assert pano.meta["backend"] == "flux" and pano.meta["model"] == "flux-pano"
    assert any("FLUX fill: step 2/2" in m for m in msgs)
    k = pano.known > 0.99
    assert k.any() and (~k).any()


def test_flux_pano_missing_names_the_command(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    from generators.panorama.outpaint_flux import load_flux_pano

    with pytest.raises(ModelMissing, match="run `python main.py models download flux-pano`"):
        load_flux_pano(None, "cpu")


@pytest.mark.slow
def test_depth_anything_from_the_manager(cache: Path, tmp_path: Path) -> None:
    from generators.depth.neural import load_depth_model

    res = verify("depth-anything-v2-small", device="cpu")
    assert "depth map" in res["summary"]
    proc, net = load_depth_model(None, "cpu")  # default neural depth = the manager's model
    assert type(net).__name__ == "DepthAnythingForDepthEstimation"
    # the world command's path: --depth neural without --depth-model
    import cv2
    from skimage import data

    from generators.pano_world import world_from_photos

    photo = tmp_path / "rocket.png"
    cv2.imwrite(str(photo), data.rocket()[::4, ::4, ::-1])
    world, _, _ = world_from_photos([photo], pano_height=64, resolution=64, depth_backend="neural")
    cloud = world.layers[0].data
    cloud.validate()
    assert cloud.meta["depth_backend"] == "neural"


@pytest.mark.slow
def test_sam2_click_and_box_segmentation(cache: Path) -> None:
    from generators.models.hub import resolve
    from generators.objects.segment_neural import load_sam2, sam2_masks, segment_neural

    res = verify("sam2-tiny", device="cpu")
    assert "3 candidate masks" in res["summary"]
    model = load_sam2(resolve("sam2-tiny")[0], "cpu")
    rgb = np.zeros((90, 120, 3), np.uint8)
    for box, point in (
        ((10, 10, 80, 70), None),
        (None, (40.0, 50.0)),
        ((10, 10, 80, 70), (40.0, 50.0)),
    ):
        masks, scores = sam2_masks(rgb, model, box, point)
        assert masks.shape == (3, 90, 120) and masks.dtype == bool and scores.shape == (3,)
    from skimage import data

    try:  # random weights: a usable object or the clear 'no clear object' error, nothing else
        seg = segment_neural(data.coffee()[::4, ::4], None, box=(20, 20, 120, 100))
        assert seg.mask.shape == (100, 150)
    except ValueError as exc:
        assert "no clear object" in str(exc)


@pytest.mark.slow
def test_cli_verify_and_commands_use_the_cached_tiny_models(cache: Path, tmp_path: Path) -> None:
    """`models verify` and `panorama --backend flux` as a user runs them."""
    import os
    import subprocess
    import sys

    import cv2
    from skimage import data

    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, HF_HUB_CACHE=str(cache))
    r = subprocess.run(
        [
            sys.executable,
            "main.py",
            "models",
            "verify",
            "depth-anything-v2-small",
            "--device",
            "cpu",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "depth-anything-v2-small: OK on cpu (float32): depth map" in r.stdout
    photo = tmp_path / "rocket.png"
    cv2.imwrite(str(photo), data.rocket()[::4, ::4, ::-1])
    out = tmp_path / "pano.png"
    r = subprocess.run(
        [
            sys.executable,
            "main.py",
            "panorama",
            "--photo",
            str(photo),
            "--backend",
            "flux",
            "--height",
            "64",
            "--steps",
            "2",
            "--out",
            str(out),
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert cv2.imread(str(out)).shape == (64, 128, 3)


def test_object_request_checks_the_managers_sam2_first(
    hub_cache: Path, tmp_path: Path, monkeypatch
) -> None:
    from generators.objects.pipeline import ObjectRequest

    img = np.zeros((40, 60, 3), np.uint8)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    with pytest.raises(ValueError, match=r"models download sam2-tiny.*\(or pass --sam PATH\)"):
        ObjectRequest(image=img, segmenter="neural").check()
    with pytest.raises(ValueError, match="models download zero123plus"):
        ObjectRequest(image=img, backend="multiview").check()
    monkeypatch.setenv("HF_HUB_CACHE", str(hub_cache))
    ObjectRequest(image=img, segmenter="neural").check()  # the tiny SAM 2 is there: accepted
