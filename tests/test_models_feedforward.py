"""Feed-forward scenes: a Depth-Anything-3-shaped prediction (cameras, depth, confidence) of a
synthetic room becomes DepthViews that the SfM route's fusion turns into points on the true
surfaces. (The DA3 package itself does not install here; `load_da3` then says how to fix it.)"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from generators.reconstruct.feedforward import load_da3, nearest_neighbours, prediction_to_views
from generators.reconstruct.fuse import fuse_views
from generators.reconstruct.synthetic import make_photo_set, orbit_cameras, render, room_scene


def test_da3_prediction_fuses_onto_the_true_surfaces() -> None:
    cams = orbit_cameras(4, width=96, height=72)
    quads = room_scene()
    imgs, depths = zip(*(render(quads, c) for c in cams))
    K = np.stack([c.K for c in cams])
    ext = np.stack([np.hstack([c.R, c.t[:, None]]) for c in cams])
    conf = np.stack([np.where(d > 0, 1.0 + d, 0.0) for d in depths]).astype(np.float32)
    pred = SimpleNamespace(
        depth=np.stack(depths),
        conf=conf,
        extrinsics=ext,
        intrinsics=K,
        processed_images=np.stack(imgs),
    )
    names = [c.name for c in cams]
    views = prediction_to_views(pred, names)
    assert list(views) == names
    v0 = views[names[0]]
    np.testing.assert_allclose(v0.camera.position, cams[0].position, atol=1e-9)
    neigh = nearest_neighbours(views, k=2)
    assert all(len(v) == 2 and n not in v for n, v in neigh.items())
    fused = fuse_views(views, neigh, max_points=50_000)
    assert len(fused.points) > 1000
    # every fused point lies on the room's surfaces: re-render its depth from camera 0
    c = cams[0]
    pc = fused.points @ c.R.T + c.t
    inside = pc[:, 2] > 0.1
    u = (c.fx * pc[inside, 0] / pc[inside, 2] + c.cx).astype(int)
    v = (c.fy * pc[inside, 1] / pc[inside, 2] + c.cy).astype(int)
    ok = (u >= 0) & (u < c.width) & (v >= 0) & (v < c.height)
    z_true = depths[0][v[ok], u[ok]]
    z = pc[inside][ok, 2]
    front = z_true > 0
    err = np.abs(z[front] - z_true[front]) / z_true[front]
    assert front.sum() > 500 and np.median(err) < 0.02


def test_bad_prediction_and_missing_package(tmp_path, monkeypatch) -> None:
    pred = SimpleNamespace(
        depth=np.ones((2, 4, 4)),
        conf=None,
        extrinsics=np.zeros((2, 3, 4)),
        intrinsics=np.zeros((2, 3, 3)),
        processed_images=np.zeros((2, 4, 4, 3), np.uint8),
    )
    with pytest.raises(ValueError, match="2 depth maps for 3 photos"):
        prediction_to_views(pred, ["a", "b", "c"])
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(ValueError, match="depth-anything-3"):
        load_da3("cpu")


class _FakeDA3:
    """Stands in for the DA3 network only: answers `inference(paths)` with the synthetic room's
    true cameras and depth (what a perfect DA3 would predict), at the photos' size."""

    def __init__(self, cams, imgs, depths) -> None:
        self.cams, self.imgs, self.depths = cams, imgs, depths
        self.asked: list[str] = []

    def inference(self, paths):
        from pathlib import Path

        self.asked = [Path(p).name for p in paths]
        idx = [[c.name for c in self.cams].index(n) for n in self.asked]
        cams = [self.cams[i] for i in idx]
        return SimpleNamespace(
            depth=np.stack([self.depths[i] for i in idx]),
            conf=np.stack([(self.depths[i] > 0).astype(np.float32) + 1 for i in idx]),
            extrinsics=np.stack([np.hstack([c.R, c.t[:, None]]) for c in cams]),
            intrinsics=np.stack([c.K for c in cams]),
            processed_images=np.stack([self.imgs[i] for i in idx]),
        )


def test_feedforward_route_builds_a_saved_scene(tmp_path) -> None:
    from generators.reconstruct.feedforward import reconstruct_feedforward
    from generators.reconstruct.pipeline import ReconstructOptions, save_result

    cams, imgs, depths = make_photo_set(
        tmp_path / "photos", n=4, width=96, height=72, supersample=1
    )
    paths = sorted((tmp_path / "photos").glob("*.png"))
    fake = _FakeDA3(cams, imgs, depths)
    msgs: list[str] = []
    res = reconstruct_feedforward(
        paths,
        ReconstructOptions(refine_steps=0, backend="feedforward"),
        lambda f, m: msgs.append(m),
        model=fake,
    )
    assert fake.asked == [p.name for p in paths]
    assert res.cloud.meta["backend"] == "feedforward" and len(res.cloud) > 1000
    assert set(res.status.values()) == {"registered"} and len(res.cameras) == 4
    assert res.cameras[0].width == 96 and res.capture["type"] in ("walk", "orbit", "aerial")
    # the relative layout survives the similarity: camera distances keep their ratios
    d_true = np.linalg.norm(cams[0].position - cams[3].position) / np.linalg.norm(
        cams[0].position - cams[1].position
    )
    d_out = np.linalg.norm(res.cameras[0].position - res.cameras[3].position) / np.linalg.norm(
        res.cameras[0].position - res.cameras[1].position
    )
    assert abs(d_out - d_true) < 1e-6 * max(1.0, d_true)
    written = save_result(res, tmp_path / "scene.ply")
    assert written["scene"].is_file()


def test_feedforward_backend_without_da3_is_one_line(tmp_path, monkeypatch) -> None:
    from generators.reconstruct.pipeline import ReconstructOptions, reconstruct

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    make_photo_set(tmp_path / "p", n=2, width=64, height=48, supersample=1)
    with pytest.raises(ValueError, match="depth-anything-3") as exc:
        reconstruct(
            sorted((tmp_path / "p").glob("*.png")), ReconstructOptions(backend="feedforward")
        )
    assert "\n" not in str(exc.value)
