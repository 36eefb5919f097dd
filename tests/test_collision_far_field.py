"""Walk collision leaves a reconstruction's far field (sky sphere) out: it is no wall."""

from __future__ import annotations

import numpy as np

from scene.gaussians import GaussianCloud


def _room_and_sky(n_room: int = 2000, n_sky: int = 500) -> tuple[GaussianCloud, int]:
    rng = np.random.default_rng(0)
    room = rng.uniform(-3, 3, (n_room, 3))
    d = rng.normal(size=(n_sky, 3))
    sky = 90.0 * d / np.linalg.norm(d, axis=1, keepdims=True)
    pts = np.concatenate([room, sky]).astype(np.float32)
    return GaussianCloud.from_points(pts, np.full((len(pts), 3), 0.5), 0.05, 0.9), n_room


def test_sky_sphere_is_found_by_distance_without_a_marker() -> None:
    cloud, n_room = _room_and_sky()
    keep = cloud.near_field_mask()
    assert keep[:n_room].all() and not keep[n_room:].any()


def test_marker_drops_the_last_splats_even_when_near() -> None:
    cloud, n_room = _room_and_sky(n_sky=0)
    cloud.meta["far_field"] = {"count": 100}
    keep = cloud.near_field_mask()
    assert keep[: n_room - 100].all() and not keep[n_room - 100 :].any()


def test_collision_cloud_has_no_far_splats() -> None:
    from scene.world import Layer, World
    from viewer.collision import collision_cloud

    cloud, n_room = _room_and_sky()
    world = World()
    world.add_layer(Layer("scene", cloud, "world"))
    col = collision_cloud(world)
    assert col is not None and len(col) == n_room
    assert np.abs(col.means).max() <= 3.0 + 1e-5


def test_info_gives_scene_bounds_without_the_far_field(tmp_path) -> None:  # noqa: ANN001
    from scene.io import file_info, save

    cloud, n_room = _room_and_sky()
    save(cloud, tmp_path / "s.ply")
    info = file_info(tmp_path / "s.ply")
    assert info["near_count"] == n_room
    assert max(abs(v) for v in info["near_bounds_min"] + info["near_bounds_max"]) <= 3.0 + 1e-4
    assert max(abs(v) for v in info["bounds_min"] + info["bounds_max"]) > 80


def test_info_counts_the_marked_far_field_as_the_viewer_does(tmp_path) -> None:  # noqa: ANN001
    """`info` read a PLY's positions without its far-field marker and counted the far field
    by distance alone: 9,291 far splats where a reconstruction marked 10,213 (a trial)."""
    from scene.io import file_info, load, save

    cloud, n_room = _room_and_sky(n_sky=0)
    cloud.meta["far_field"] = {"count": 100}  # near ones, marked: distance cannot find them
    save(cloud, tmp_path / "s.ply")
    info = file_info(tmp_path / "s.ply")
    assert info["near_count"] == int(load(tmp_path / "s.ply").near_field_mask().sum())
    assert info["near_count"] == n_room - 100


def test_info_of_an_exported_spz_counts_its_records_far_field(tmp_path, capsys) -> None:  # noqa: ANN001
    """A .spz has no place for the far-field marker; its export writes it in the record
    beside it, which opening adopts. `info` did not: 8,144 far splats for the .spz of a
    scene whose PLY said 11,913 (a trial). It counts as the PLY does and names the record."""
    from cli import run_cli as main
    from scene.io import file_info, save
    from scene.world import Layer, World

    cloud, n_room = _room_and_sky(n_sky=0)
    cloud.meta["far_field"] = {"count": 100}
    cloud.means[:5] = (4e3, 0.0, 0.0)  # far beyond the room, not in the marked far field
    save(cloud, tmp_path / "s.ply")
    w = World()
    w.add_layer(Layer("scene", cloud, "world"))
    w.meta["units"] = "m"  # a scene in Wander's frame (a reconstruction's)
    from scene.export import export_world

    export_world(w, tmp_path / "s.spz")
    assert (tmp_path / "s.spz.json").is_file()
    ply = file_info(tmp_path / "s.ply")
    assert file_info(tmp_path / "s.spz")["near_count"] > ply["near_count"]  # the file alone
    assert main(["info", str(tmp_path / "s.spz")]) == 0
    out = capsys.readouterr().out
    far = len(cloud) - ply["near_count"]
    assert f"without {far:,} far splats" in out
    assert "record:    s.spz.json beside it" in out and "far field (100 splats)" in out
    # the two counts are told apart (a trial read 12,022 and 12,683 as a contradiction)
    split = f"100 of the far field (sky or distant background) and {far - 100:,} more far out"
    assert (split in out) == (far > 100), out


def test_a_subset_recounts_the_backdrop_ground_discs() -> None:
    """The walk collider finds a reconstruction's backdrop ground discs by place (just before
    the far field): deleting splats kept the old count, which then reached into the scene
    (a review). The count is recounted like the far-field marker, or zero when the picked
    discs no longer sit there."""
    import numpy as np

    from scene.gaussians import GaussianCloud

    pts = np.random.default_rng(0).normal(size=(100, 3)).astype(np.float32)
    c = GaussianCloud.from_points(pts, np.full((100, 3), 0.5), 0.1)
    c.meta["backdrop"] = {"ground_discs": 20, "radius": 5.0}
    c.meta["far_field"] = {"count": 10, "kind": "sky sphere"}
    keep = np.ones(100, bool)
    keep[[3, 75, 76, 95]] = False  # a scene splat, two discs, a sky splat
    s = c.subset(keep)
    assert s.meta["backdrop"] == {"ground_discs": 18, "radius": 5.0}
    assert s.meta["far_field"]["count"] == 9
    assert c.subset(np.arange(100)[::-1]).meta["backdrop"]["ground_discs"] == 0  # reordered


def test_the_backdrop_disc_count_is_read_one_way() -> None:
    """`GaussianCloud.backdrop_discs`, the one reading of `meta["backdrop"]["ground_discs"]`
    for the collider, `subset` and the PLY writer (each had its own rules: the collider
    took a float, the others an int only): a positive int that fits before the far field,
    else 0."""
    import numpy as np

    from scene.gaussians import GaussianCloud
    from viewer.collision import _backdrop_span

    pts = np.random.default_rng(0).normal(size=(100, 3)).astype(np.float32)
    c = GaussianCloud.from_points(pts, np.full((100, 3), 0.5), 0.1)
    c.meta["far_field"] = {"count": 10}
    for raw, want in (
        (20, 20),
        (90, 90),
        (91, 0),
        (0, 0),
        (-3, 0),
        (20.0, 0),
        (True, 0),
        ("20", 0),
    ):
        c.meta["backdrop"] = {"ground_discs": raw}
        assert c.backdrop_discs() == want, raw
        assert _backdrop_span(c) == ((90 - want, 90) if want else None), raw
    del c.meta["backdrop"]
    assert c.backdrop_discs() == 0
