"""A reconstruction saved without Wander's sidecar keeps its sky sphere 1 km out, unmarked:
opening, framing, up-axis estimation and exporting must not take that shell for the scene
(a trial: the file opened upside down, `render` framed it as a blue ball)."""

from __future__ import annotations

import numpy as np

from scene.gaussians import GaussianCloud
from scene.world import Layer, World


def _ridge_under_sky(seed: int = 0) -> GaussianCloud:
    """A drone's view of a ridge (+Y up, metres): a flat-topped hill whose wide top at
    y = 15 holds the biggest plane, most of the hill below it, and a sky sphere 1 km out
    over the directions the photos saw (above the horizon, ahead: -Z)."""
    rng = np.random.default_rng(seed)
    top = np.c_[rng.uniform(-40, 40, 9000), np.full(9000, 15.0), rng.uniform(-40, 40, 9000)]
    r = rng.uniform(0, 1, 7000) ** 0.5
    a = rng.uniform(0, 2 * np.pi, 7000)
    slope = np.c_[
        (40 + 60 * r) * np.cos(a),
        15 - 15 * r * rng.uniform(0.6, 1, 7000),
        (40 + 60 * r) * np.sin(a),
    ]
    d = rng.normal(size=(400, 3))
    d[:, 1] = np.abs(d[:, 1])  # above the horizon
    d[:, 2] = -np.abs(d[:, 2])  # ahead
    sky = 1000.0 * d / np.linalg.norm(d, axis=1, keepdims=True)
    pts = np.concatenate([top, slope, sky]).astype(np.float32)
    return GaussianCloud.from_points(pts, np.full((len(pts), 3), 0.5), 0.3, 0.95)


def test_up_axis_of_a_ridge_under_its_sky_points_to_the_sky() -> None:
    """The floor fit alone reads the ridge's top as a ceiling (most of the scene under it)
    and turns the scene over; the sky above decides which side of that plane is up."""
    from viewer.up_axis import estimate_up, far_field_direction, up_from_points, world_dense_points

    world = World()
    world.add_layer(Layer("scene", _ridge_under_sky(), "world"))
    pts = world_dense_points(world, visible_only=False)
    assert np.abs(pts).max() < 200  # the sky sphere is no floor candidate
    n, _ = up_from_points(pts)
    assert n[1] < -0.9  # the plane is found, upside down
    sky = far_field_direction(world)
    assert sky is not None and sky[1] > 0.3
    up, source = estimate_up(world, pts)
    np.testing.assert_allclose(up, [0.0, 1.0, 0.0], atol=1e-6)
    assert source == "floor"


def test_a_room_without_sky_keeps_its_floor() -> None:
    from viewer.up_axis import estimate_up, far_field_direction, world_dense_points

    rng = np.random.default_rng(1)
    floor = np.c_[rng.uniform(-3, 3, 4000), np.zeros(4000), rng.uniform(-3, 3, 4000)]
    rest = rng.uniform([-3, 0.2, -3], [3, 2.5, 3], (2000, 3))
    pts = np.concatenate([floor, rest]).astype(np.float32)
    world = World()
    world.add_layer(
        Layer("room", GaussianCloud.from_points(pts, np.full((6000, 3), 0.5), 0.05, 0.9))
    )
    assert far_field_direction(world) is None
    up, source = estimate_up(world, world_dense_points(world))
    np.testing.assert_allclose(up, [0.0, 1.0, 0.0], atol=1e-6)
    assert source == "floor"


def test_render_frames_the_scene_inside_its_sky_sphere() -> None:
    from cli.cmd_render import default_view

    world = World()
    world.add_layer(Layer("scene", _ridge_under_sky(), "world"))
    eye, look = default_view(world)
    assert np.linalg.norm(eye) < 600  # inside the sphere, not outside it looking at a ball
    assert np.linalg.norm(look) < 100


def test_export_leaves_out_the_far_field_on_request(tmp_path) -> None:  # noqa: ANN001
    import scene.io as sio
    from scene.export import ExportOptions, apply_options

    cloud = _ridge_under_sky()
    n_near = 16000
    assert len(apply_options(cloud, ExportOptions())) == len(cloud)
    near = apply_options(cloud, ExportOptions(no_far_field=True))
    assert len(near) == n_near and np.abs(near.means).max() < 200
    marked = cloud.subset(np.arange(n_near))  # a marker drops splats however near they are
    marked.meta["far_field"] = {"count": 1000}
    assert len(apply_options(marked, ExportOptions(no_far_field=True))) == n_near - 1000

    from cli import run_cli

    src = tmp_path / "scene.ply"
    sio.save(cloud, src)
    out = tmp_path / "near.ply"
    assert run_cli(["export", str(src), "--out", str(out), "--no-far-field"]) == 0
    assert len(sio.load(out)) == n_near


def _scene_with_near_sky(seed: int = 1) -> GaussianCloud:
    """A drone capture's scene (a 200 m wide terrain around the cameras) and a sky sphere
    only 360 m from the cameras' centroid: within FAR_FIELD_FACTOR × the scene's median
    distance, so only its marker tells it from the scene (the Great Wall's, a trial).
    The sphere's splats are last and marked as `add_sky` marks them."""
    rng = np.random.default_rng(seed)
    ground = np.c_[
        rng.uniform(-100, 100, 6000), rng.uniform(-5, 5, 6000), rng.uniform(-100, 100, 6000)
    ]
    d = rng.normal(size=(800, 3))
    d[:, 1] = np.abs(d[:, 1])
    sky = 360.0 * d / np.linalg.norm(d, axis=1, keepdims=True)
    pts = np.concatenate([ground, sky]).astype(np.float32)
    cloud = GaussianCloud.from_points(pts, np.full((len(pts), 3), 0.5), 0.3, 0.95)
    cloud.meta["far_field"] = {"count": 800, "center": [0.0, 0.0, 0.0], "radius": 360.0}
    return cloud


def test_the_far_field_marker_survives_optimisation_edits_and_a_ply(tmp_path) -> None:  # noqa: ANN001
    """An optimised reconstruction kept no far-field marker (densification reorders the
    splats), and a drone capture's sky sphere lies within FAR_FIELD_FACTOR × the scene's
    median distance: `export --no-far-field` dropped 2,392 of its ~8,000 sky splats. Now
    the marker is found again from the sphere's centre and radius, follows subsets,
    concatenations and appended splats, and a saved PLY carries it in a header comment."""
    import scene.io as sio
    from generators.reconstruct.sky import append_splats, mark_far_field
    from scene.export import ExportOptions, apply_options

    cloud = _scene_with_near_sky()
    assert (~cloud.near_field_mask()).sum() == 800
    # densification: splats shuffled, the marker stale
    shuffled = cloud.subset(np.random.default_rng(0).permutation(len(cloud)))
    assert "far_field" not in shuffled.meta  # the far splats are no longer last
    shuffled.meta["far_field"] = dict(cloud.meta["far_field"])
    marked = mark_far_field(shuffled)
    assert marked.meta["far_field"]["count"] == 800
    assert np.linalg.norm(marked.means[-800:], axis=1).min() > 300
    assert np.linalg.norm(marked.means[:-800], axis=1).max() < 200
    # a subset that keeps the far splats last recounts them; a crop drops some
    part = marked.subset(np.r_[0:100, len(marked) - 50 : len(marked)])
    assert part.meta["far_field"]["count"] == 50
    # ground discs go before the far field, dome splats join it
    extra = GaussianCloud.from_points(np.zeros((10, 3), np.float32), np.full((10, 3), 0.5), 0.1)
    grown = append_splats(marked, extra, far=False)
    assert grown.meta["far_field"]["count"] == 800 and np.all(grown.means[-800:] != 0)
    domed = append_splats(grown, extra, far=True)
    assert domed.meta["far_field"]["count"] == 810
    # a concatenation ending in a marked cloud keeps its marker; one ending unmarked not
    assert GaussianCloud.concatenate([extra, marked]).meta["far_field"]["count"] == 800
    assert "far_field" not in GaussianCloud.concatenate([marked, extra]).meta
    # the PLY keeps it; export leaves the whole sphere out
    path = tmp_path / "scene.ply"
    sio.save(marked, path)
    back = sio.load(path)
    assert back.meta["far_field"]["count"] == 800
    near = apply_options(back, ExportOptions(no_far_field=True))
    assert len(near) == len(marked) - 800 and np.abs(near.means).max() < 200


def test_a_far_field_comment_that_does_not_fit_the_file_is_ignored(tmp_path) -> None:  # noqa: ANN001
    """A crafted header claiming more far-field splats than the file holds is ignored."""
    import scene.io as sio
    from scene.io.ply import FAR_FIELD_COMMENT, write_ply

    cloud = _scene_with_near_sky()
    cloud.meta.pop("far_field")
    # (5000 digits: past Python's int() digit limit, which raised a bare ValueError)
    for i, bad in enumerate((str(len(cloud)), str(len(cloud) + 5), "-3", "1e9", "x", "9" * 5000)):
        path = tmp_path / f"bad_{i}.ply"
        write_ply(cloud, path, comments=[FAR_FIELD_COMMENT.format(bad)])
        assert "far_field" not in sio.load(path).meta


def test_a_reconstructions_ply_keeps_its_backdrop_ground_discs(tmp_path) -> None:  # noqa: ANN001
    """`reconstruct --out scene.ply` reopened lost which splats are the backdrop's ground
    discs (`meta["backdrop"]["ground_discs"]`): Walk landed on them far out, and the app
    could not tell the photographed part from the backdrop (a trial). The PLY's header
    says how many there are, before the far field; a count that does not fit is ignored."""
    import scene.io as sio
    from scene.io.ply import BACKDROP_COMMENT, write_ply

    cloud = _scene_with_near_sky()
    far = cloud.far_field_marked()
    cloud.meta["backdrop"] = {"ground_discs": 120, "radius": 300.0}
    path = tmp_path / "scene.ply"
    sio.save(cloud, path)
    back = sio.load(path)
    assert back.meta["far_field"]["count"] == far
    assert back.meta["backdrop"] == {"ground_discs": 120}
    plain = cloud.subset(np.arange(len(cloud)))
    plain.meta.pop("backdrop", None)
    for i, bad in enumerate(
        (str(len(cloud)), str(len(cloud) - far + 1), "0", "-3", "x", "9" * 5000)
    ):
        path = tmp_path / f"bad_{i}.ply"
        write_ply(plain, path, comments=[BACKDROP_COMMENT.format(bad)])
        assert "backdrop" not in sio.load(path).meta, bad
    # ... and only with a far field
    none = plain.subset(np.arange(len(plain)))
    none.meta.pop("far_field", None)
    write_ply(none, tmp_path / "nf.ply", comments=[BACKDROP_COMMENT.format(10)])
    assert "backdrop" not in sio.load(tmp_path / "nf.ply").meta


def test_a_converted_reconstruction_keeps_its_far_field(tmp_path) -> None:  # noqa: ANN001
    """.spz and .splat have no place for the far-field marker, and .splat and compressed
    PLY reorder the splats: a drone capture converted to .spz opened walking under its
    terrain, its sky sphere taken for a floor (a trial). The far field now stays last in
    every written order, the frame record beside the file counts it, and opening the file
    marks the same splats again. A record whose count does not fit is ignored."""
    import json

    import scene.io as sio
    from cli import run_cli
    from scene.io import load_world
    from viewer.up_axis import adopt_file_context

    cloud = _scene_with_near_sky()
    src = tmp_path / "scene.ply"
    sio.save(cloud, src)
    (tmp_path / "scene.ply.json").write_text(
        json.dumps({"generator": "wander.export", "units": "m", "up_axis": [0, 1, 0]})
    )
    for ext in (".spz", ".splat", ".compressed.ply"):
        out = tmp_path / f"out{ext}"
        assert run_cli(["convert", str(src), str(out)]) == 0
        rec = json.loads((tmp_path / f"out{ext}.json").read_text())
        assert rec["far_field"] == {"count": 800}, ext
        world, _ = load_world(out)
        adopt_file_context(world, out)
        back = world.layers[0].data
        assert back.far_field_marked() == 800, ext
        # the marked ones are the sky sphere's, the rest the scene's
        assert np.linalg.norm(back.means[-800:], axis=1).min() > 300, ext
        assert np.linalg.norm(back.means[:-800], axis=1).max() < 200, ext
        assert not back.near_field_mask()[-800:].any()
    # a crafted record: ignored
    for bad in (len(cloud), len(cloud) + 5, -3, "800", True, 1e9):
        (tmp_path / "out.spz.json").write_text(
            json.dumps(
                {
                    "generator": "wander.export",
                    "units": "m",
                    "up_axis": [0, 1, 0],
                    "far_field": {"count": bad},
                }
            )
        )
        world, _ = load_world(tmp_path / "out.spz")
        adopt_file_context(world, tmp_path / "out.spz")
        assert world.layers[0].data.far_field_marked() == 0, bad
