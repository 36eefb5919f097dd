"""Objects in a World: picking, insert / move / undo / redo / delete, snap, duplicate, light."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data

from generators.objects.light import exposure_gain, match_exposure
from generators.objects.pipeline import ObjectRequest, generate_object
from generators.objects.place import (
    duplicate_layer,
    insert_object,
    move_layer,
    pick_surface,
    placement_transform,
    rotate_layer,
    scale_layer,
    snap_to_ground,
)
from scene.gaussians import GaussianCloud
from scene.mesh import Mesh
from scene.world import Layer, World, similarity_matrix


def floor_world(y: float = 0.0, color: float = 0.5, n: int = 60) -> World:
    """A flat splat floor at height `y`, 12 x 12 units, plus nothing else."""
    g = np.linspace(-6, 6, n)
    xx, zz = np.meshgrid(g, g)
    pts = np.stack([xx.ravel(), np.full(xx.size, y), zz.ravel()], 1)
    step = g[1] - g[0]
    scales = np.tile([step * 0.6, 0.01, step * 0.6], (len(pts), 1))
    cloud = GaussianCloud.from_points(pts, np.full((len(pts), 3), color), scales, opacity=0.95)
    w = World()
    w.add_layer(Layer("floor", cloud, kind="world"))
    w.clear_history()
    return w


@pytest.fixture(scope="module")
def cup():
    return generate_object(
        ObjectRequest(image=skimage.data.coffee(), resolution=96, with_mesh=False)
    )


def test_pick_splat_floor_from_above() -> None:
    w = floor_world(y=-1.0)
    hit = pick_surface(w, [0.3, 2.0, 0.1], [0, -1, 0])
    assert hit is not None and abs(hit.point[1] + 1.0) < 0.05 and abs(hit.distance - 3.0) < 0.05
    assert hit.normal[1] > 0.9
    # an oblique ray hits where the plane says
    d = np.array([0.0, -1.0, -1.0]) / np.sqrt(2)
    hit = pick_surface(w, [0, 1.0, 0], d)
    assert hit is not None and np.allclose(hit.point, [0, -1, -2], atol=0.08)
    assert pick_surface(w, [0, 2, 0], [0, 1, 0]) is None  # looking up: nothing


def test_transparent_splats_are_not_surfaces() -> None:
    w = floor_world()
    glass = GaussianCloud.from_points([[0, 1, 0]], [[1, 1, 1]], 0.5, opacity=0.05)
    w.add_layer(Layer("glass", glass))
    hit = pick_surface(w, [0, 3, 0], [0, -1, 0])
    assert hit is not None and abs(hit.point[1]) < 0.05


def test_pick_mesh_respects_layer_transform() -> None:
    w = World()
    quad = Mesh([[-1, 0, -1], [1, 0, -1], [1, 0, 1], [-1, 0, 1]], [[0, 2, 1], [0, 3, 2]])
    m = np.eye(4)
    m[:3, 3] = [0, 0.5, 0]
    m[:3, :3] *= 2.0
    w.add_layer(Layer("quad", quad, kind="mesh", transform=m))
    hit = pick_surface(w, [1.5, 3, 1.5], [0, -1, 0])  # inside the scaled quad (±2)
    assert hit is not None and abs(hit.point[1] - 0.5) < 1e-9
    assert pick_surface(w, [2.5, 3, 0], [0, -1, 0]) is None


@pytest.mark.slow
def test_insert_move_undo_redo_delete_undo(cup) -> None:
    w = floor_world(y=-0.5)
    eye = np.array([0.0, 1.0, 4.0])
    target = np.array([0.0, -0.5, 0.0])
    m, hit = placement_transform(w, eye, target - eye, face_point=eye)
    assert hit is not None and np.allclose(m[:3, 3], target, atol=0.1)
    lay = insert_object(w, "coffee", cup.data, m, cup.meta)
    assert [x.name for x in w.layers] == ["floor", "coffee"] and lay.kind == "object"
    # the object faces the viewer: its local +Z maps toward the eye
    fwd = m[:3, :3] @ [0, 0, 1]
    assert fwd @ (eye - target) > 0
    # it rests on the floor: its lowest point is at the floor height
    lo, _ = lay.world_bounds()
    assert abs(lo[1] + 0.5) < 0.05

    before = lay.transform.copy()
    move_layer(w, lay.id, [1.0, 0, 0])
    assert np.allclose(lay.transform[:3, 3], before[:3, 3] + [1, 0, 0])
    assert w.undo() and np.allclose(lay.transform, before)
    assert w.redo() and np.allclose(lay.transform[:3, 3], before[:3, 3] + [1, 0, 0])

    w.remove_layer(lay.id)
    assert [x.name for x in w.layers] == ["floor"]
    assert w.undo()
    assert [x.name for x in w.layers] == ["floor", "coffee"] and w.layers[1] is lay
    assert w.undo() and w.undo()  # move, then insert
    assert [x.name for x in w.layers] == ["floor"]
    assert w.redo() and [x.name for x in w.layers] == ["floor", "coffee"]


def test_rotate_and_scale_keep_the_base(cup) -> None:
    w = floor_world()
    lay = insert_object(w, "cup", cup.data, np.eye(4))
    rotate_layer(w, lay.id, np.pi / 2)
    scale_layer(w, lay.id, 2.0)
    assert np.allclose(lay.transform[:3, 3], 0)
    lo, hi = lay.world_bounds()
    assert abs(lo[1]) < 0.03 and abs(hi[1] - 2.0) < 0.05
    with pytest.raises(ValueError, match="positive"):
        scale_layer(w, lay.id, -1)
    w.undo()
    w.undo()
    assert np.allclose(lay.transform, np.eye(4))


def test_snap_to_ground_and_duplicate(cup) -> None:
    w = floor_world(y=-2.0)
    m = np.eye(4)
    m[:3, 3] = [0.5, 1.0, 0.0]
    lay = insert_object(w, "cup", cup.data, m)
    hit = snap_to_ground(w, lay.id)
    assert hit is not None
    lo, _ = lay.world_bounds()
    assert abs(lo[1] + 2.0) < 0.05
    w.undo()
    assert abs(lay.world_bounds()[0][1] - 1.0) < 0.05
    dup = duplicate_layer(w, lay.id)
    assert dup.name == "cup 2" and dup.kind == "object" and dup.data is lay.data
    assert dup.transform[0, 3] > lay.transform[0, 3]
    assert [x.name for x in w.layers] == ["floor", "cup", "cup 2"]
    w.undo()
    assert [x.name for x in w.layers] == ["floor", "cup"]


def test_hide_and_rename_are_undoable(cup) -> None:
    w = floor_world()
    lay = insert_object(w, "cup", cup.data, np.eye(4))
    w.set_visible(lay.id, False)
    w.rename(lay.id, "espresso")
    assert not lay.visible and lay.name == "espresso"
    # a hidden object is not picked
    assert (
        pick_surface(w, [0, 0.5, 3], [0, 0, -1]) is None
        or pick_surface(w, [0, 0.5, 3], [0, 0, -1]).layer_id != lay.id
    )
    w.undo()
    w.undo()
    assert lay.visible and lay.name == "cup"
    hit = pick_surface(w, [0, 0.5, 3], [0, 0, -1])
    assert hit is not None and hit.layer_id == lay.id and 2.0 < hit.distance < 3.0


def test_light_matching_darkens_in_a_dark_world(cup) -> None:
    dark = floor_world(color=0.1)
    data, gain = match_exposure(cup.data, dark, np.eye(4))
    assert gain < 0.9
    assert data.base_colors().mean() < cup.data.base_colors().mean()
    bright = floor_world(color=0.95)
    _, gain_b = match_exposure(cup.data, bright, np.eye(4))
    assert gain_b > gain
    empty = World()
    same, g = match_exposure(cup.data, empty, np.eye(4))
    assert g == 1.0 and same is cup.data
    assert exposure_gain(0.5, 0.25) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        exposure_gain(0.5, 0.5, strength=2)


def test_bad_ray() -> None:
    with pytest.raises(ValueError, match="direction"):
        pick_surface(World(), [0, 0, 0], [0, 0, 0])


def test_imported_mesh_object_flow(tmp_path) -> None:
    """The import backend through the same insert / move / undo / redo / delete / undo flow."""
    import trimesh

    path = tmp_path / "crate.glb"
    trimesh.creation.box((0.5, 0.5, 0.5)).export(str(path))
    res = generate_object(ObjectRequest(backend="import", input=path, samples=2000))
    w = floor_world()
    m, hit = placement_transform(w, [0, 2, 2], [0, -1, -1])
    lay = insert_object(w, res.name, res.data, m, res.meta)
    assert [x.name for x in w.layers] == ["floor", "crate"] and abs(lay.world_bounds()[0][1]) < 0.05
    move_layer(w, lay.id, [0, 0, -1])
    w.undo()
    assert np.allclose(lay.transform, m)
    w.redo()
    assert np.allclose(lay.transform[:3, 3], m[:3, 3] + [0, 0, -1])
    w.remove_layer(lay.id)
    assert [x.name for x in w.layers] == ["floor"]
    w.undo()
    assert [x.name for x in w.layers] == ["floor", "crate"]


def level_grid(x: np.ndarray, z: np.ndarray, y: float = 0.0) -> np.ndarray:
    """Points (n, 3) on a level grid over `x` × `z` at height `y` (a floor, a shelf)."""
    xx, zz = np.meshgrid(x, z)
    return np.stack([xx.ravel(), np.full(xx.size, y), zz.ravel()], 1)


def upright_grid(x: np.ndarray, y: np.ndarray, z: float) -> np.ndarray:
    """Points (n, 3) on an upright grid over `x` × `y` at depth `z` (a wall, a facade)."""
    xx, yy = np.meshgrid(x, y)
    return np.stack([xx.ravel(), yy.ravel(), np.full(xx.size, z)], 1)


def _with_slab(w: World, name: str, pts: np.ndarray, scales: list[float]) -> None:
    cloud = GaussianCloud.from_points(
        pts, np.full((len(pts), 3), 0.3), np.tile(scales, (len(pts), 1)), opacity=0.95
    )
    w.add_layer(Layer(name, cloud, kind="world"))
    w.clear_history()


def test_snap_to_ground_drops_and_never_lifts_onto_what_passes_through_it() -> None:
    """A shelf at 1.5 passes through an object standing at 1.0-1.8: End lifted the object
    onto the shelf (the drop was cast from above its top); it now lands on the floor."""
    w = floor_world(y=0.0)
    g = np.linspace(-1, 1, 25)
    shelf = level_grid(g, g, 1.5)
    _with_slab(w, "shelf", shelf, [0.06, 0.01, 0.06])
    box = Mesh(
        np.array([[x, y, z] for x in (-0.2, 0.2) for y in (0.0, 0.8) for z in (-0.2, 0.2)]),
        np.array([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1]]),
    )
    lay = insert_object(w, "box", box, similarity_matrix((0.0, 1.0, 0.0)))
    hit = snap_to_ground(w, lay.id)
    assert hit is not None and w.layer(lay.id).transform[1, 3] == pytest.approx(0.0, abs=0.05)
    # sunk into the floor with nothing under it: it comes up onto the floor
    move_layer(w, lay.id, np.array([2.0, -1.2, 0.0]))
    snap_to_ground(w, lay.id)
    assert w.layer(lay.id).transform[1, 3] == pytest.approx(0.0, abs=0.05)


def test_an_object_inserted_at_a_wall_stands_on_the_floor_in_front() -> None:
    """Looking a little down at a wall, the inserted object hung on the wall at the height
    the view ray met it (1.1 m); a surface that does not face up is no place to stand."""
    from generators.objects.place import view_placement

    w = floor_world(y=0.0)
    wall = upright_grid(np.linspace(-4, 4, 60), np.linspace(0, 3, 25), -3.0)
    _with_slab(w, "wall", wall, [0.1, 0.1, 0.01])
    eye = np.array([0.0, 1.6, 0.0])
    d = np.array([0.0, 1.1, -3.0]) - eye  # down by ~9.5 degrees, onto the wall at 1.1 m
    lo, hi = np.array([-0.5, 0.0, -0.5]), np.array([0.5, 1.0, 0.5])
    m, hit = view_placement(w, eye, d, (lo, hi))
    assert hit is not None and hit.point[2] == pytest.approx(-3.0, abs=0.1)
    assert m[1, 3] == pytest.approx(0.0, abs=0.05) and m[2, 3] > -3.0  # floor, in front
    # sized by its distance (a quarter of ~3 m) unless a height is asked for
    assert np.linalg.norm(m[:3, 1]) * (hi[1] - lo[1]) == pytest.approx(0.75, abs=0.1)
    tall = (lo, np.array([0.5, 2.5, 0.5]))  # an imported mesh 2.5 units tall
    m2, _ = view_placement(w, eye, d, tall, height=1.8)
    assert np.linalg.norm(m2[:3, 1]) * 2.5 == pytest.approx(1.8)
    assert m2[1, 3] == pytest.approx(0.0, abs=0.05)  # still on the floor in front
    with pytest.raises(ValueError, match="positive"):
        view_placement(w, eye, d, tall, height=0.0)


def test_auto_height_is_a_quarter_of_the_distance_where_it_stands() -> None:
    """The ray meets a wall 3.2 m off behind a desk; the object steps in front of the desk
    to be seen, 2 m from the eye. Sized for the wall (0.8 m) it stood oversized where it
    landed (a trial: an extinguisher 0.64 m tall on a desk 1.6 m away); Auto is a quarter
    of the distance it stands at."""
    from generators.objects.place import view_placement

    w = floor_world(y=0.0)
    _with_slab(
        w,
        "wall",
        upright_grid(np.linspace(-3, 3, 50), np.linspace(0, 3, 25), -3.2),
        [0.1, 0.1, 0.01],
    )
    desk = np.concatenate(
        [
            level_grid(np.linspace(-1.5, 1.5, 40), np.linspace(-3.0, -2.2, 12), 0.75),
            upright_grid(np.linspace(-1.5, 1.5, 40), np.linspace(0.0, 0.75, 10), -2.2),
        ]
    )
    _with_slab(w, "desk", desk, [0.06, 0.06, 0.06])
    eye = np.array([0.0, 1.6, 0.0])
    d = np.array([0.0, 0.9, -3.2]) - eye  # over the desk, onto the wall
    lo, hi = np.array([-0.2, 0.0, -0.12]), np.array([0.2, 1.0, 0.12])
    m, hit = view_placement(w, eye, d, (lo, hi))
    assert hit is not None
    stands = float(np.linalg.norm(m[:3, 3] - eye))
    height = float(np.linalg.norm(m[:3, 1]))
    assert stands < 0.8 * float(np.linalg.norm(hit.point - eye))  # it moved nearer
    assert height == pytest.approx(0.25 * stands, rel=0.06)


def test_an_object_inserted_at_a_far_facade_stands_within_reach() -> None:
    """Looking level across a square at a facade 40 m off, the object stood at the facade,
    3 m tall (a quarter of the distance, capped) and far outside the area one can walk;
    it now stands on the floor a few metres ahead, sized for that distance, facing the
    viewer. With no floor there it keeps the far spot."""
    from generators.objects.place import NEAR_INSERT_M, view_placement

    w = World()
    g = np.linspace(-45, 45, 181)
    _with_slab(w, "square", level_grid(g, g), [0.35, 0.01, 0.35])
    facade = upright_grid(np.linspace(-20, 20, 161), np.linspace(0, 10, 41), -40.0)
    _with_slab(w, "facade", facade, [0.2, 0.2, 0.01])
    eye = np.array([0.0, 1.6, 0.0])
    lo, hi = np.array([-0.5, 0.0, -0.5]), np.array([0.5, 1.0, 0.5])
    m, hit = view_placement(w, eye, np.array([0.0, 0.0, -1.0]), (lo, hi))
    assert m[1, 3] == pytest.approx(0.0, abs=0.05)  # on the floor
    ahead = -m[2, 3]
    assert NEAR_INSERT_M - 0.2 < ahead < NEAR_INSERT_M + 0.2, m[:3, 3]
    assert np.linalg.norm(m[:3, 1]) == pytest.approx(0.25 * np.hypot(ahead, 1.6), rel=0.05)
    assert m[:3, 2] @ np.array([0.0, 0.0, 1.0]) > 0.9 * np.linalg.norm(m[:3, 2])  # faces us
    # a world that is only the facade (no floor ahead): the object stays at the facade
    only = World()
    _with_slab(only, "facade", facade, [0.2, 0.2, 0.01])
    m2, _ = view_placement(only, eye, np.array([0.0, 0.0, -1.0]), (lo, hi))
    assert m2[2, 3] == pytest.approx(-40.0, abs=0.5)
    # a view tilted up 10° to frame the facade, 31° tall (a photo's start view in a 16:9
    # render): no floor shows nearer than ~16 m, and an object 3 m ahead was out of sight
    # below the frame (a trial). Given the view's field of view, it stands where the
    # floor shows, its base inside the frame
    from scene.camera import forward_from_yaw_pitch

    up10 = forward_from_yaw_pitch(0.0, np.radians(10.0))
    m3, _ = view_placement(w, eye, up10, (lo, hi), height=0.9, fov_y_deg=31.0)
    base = m3[:3, 3] - eye
    below = np.degrees(np.arctan2(-base[1], -base[2]))  # the base's angle below level
    assert 10.0 + below < 15.5 and -base[2] <= 20.0 + 1e-6, m3[:3, 3]
    assert m3[1, 3] == pytest.approx(0.0, abs=0.05)
    # (level in a 75° view the floor 3 m ahead shows: unchanged)
    m4, _ = view_placement(w, eye, np.array([0.0, 0.0, -1.0]), (lo, hi), fov_y_deg=75.0)
    assert np.allclose(m4, m)


def test_snap_never_lifts_an_object_onto_the_wall_its_top_pokes_into() -> None:
    """An object sunk into the floor with its top in a wall: the drop cast from above its
    top met the wall's splats and lifted the object by its own height, onto nothing (seen
    in the office world). A surface that does not face up is no place to rest: it lands on
    the floor."""
    w = floor_world(y=0.0)
    wall = upright_grid(np.linspace(-3, 3, 50), np.linspace(0, 3, 25), -3.0)
    _with_slab(w, "wall", wall, [0.1, 0.1, 0.01])
    box = Mesh(
        np.array([[x, y, z] for x in (-0.2, 0.2) for y in (0.0, 0.8) for z in (-0.05, 0.05)]),
        np.array([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1]]),
    )
    lay = insert_object(w, "box", box, similarity_matrix((0.0, -0.3, -3.0)))
    hit = snap_to_ground(w, lay.id)
    assert hit is not None and w.layer(lay.id).transform[1, 3] == pytest.approx(0.0, abs=0.05)


def test_an_object_is_placed_past_the_photo_cameras_frusta(tmp_path) -> None:
    """A reconstruction's "Photo cameras" frusta are guides, not surfaces: an object
    inserted from a photo's own viewpoint lands on the floor it looks at, sized by that
    distance (before: on the current camera's own frustum 0.27 m from the eye, 7 cm tall),
    also after the project's round trip."""
    from generators.objects.place import view_placement
    from generators.reconstruct.preview import frusta_mesh
    from scene.camera import Camera
    from scene.project import load_project, save_project

    w = floor_world(y=0.0)
    cams = [Camera.look_at((x, 1.5, 3.0), (x, 0.0, -2.0), 60, 64, 48) for x in (-1.0, 0.0, 1.0)]
    w.add_layer(
        Layer(
            "Photo cameras",
            frusta_mesh(cams, 1.0),
            "mesh",
            source={"generator": "wander.reconstruct", "what": "camera frusta"},
        )
    )
    path = tmp_path / "r.wander"
    save_project(w, path)
    for world in (w, load_project(path)[0]):
        d = np.array([0.0, -1.5, -5.0])
        bounds = (np.array([-0.5, 0.0, -0.5]), np.array([0.5, 1.0, 0.5]))
        m, hit = view_placement(world, np.array([0.0, 1.5, 3.0]), d, bounds)
        assert hit is not None and world.layer(hit.layer_id).name == "floor"
        assert abs(m[1, 3]) < 0.05 and abs(m[2, 3] - (-2.0)) < 0.1
        assert m[1, 1] == pytest.approx(0.25 * hit.distance, rel=1e-6)


def test_an_object_inserted_at_a_wall_finds_a_sparse_floor_in_front() -> None:
    """A one-photo world's floor behind its desk is seen only past the desk: sparse splats
    with gaps between them. One ray straight down fell through a gap, and the object was
    left hanging on the wall at the view ray's height (the office world, 1.6 m up)."""
    from generators.objects.place import surface_below, view_placement

    g = np.arange(-4, 4, 0.2) + 0.1  # splat centres off x = 0: the ray down meets a gap
    floor = level_grid(g, np.arange(-3.0, 0.0, 0.2) + 0.1)
    w = World()
    _with_slab(w, "floor", floor, [0.04, 0.005, 0.04])
    wall = upright_grid(np.linspace(-4, 4, 60), np.linspace(0, 3, 25), -3.0)
    _with_slab(w, "wall", wall, [0.1, 0.1, 0.01])
    eye = np.array([0.0, 1.6, 0.0])
    lo, hi = np.array([-0.3, 0.0, -0.3]), np.array([0.3, 0.6, 0.3])
    m, hit = view_placement(w, eye, np.array([0.0, 0.0, -1.0]), (lo, hi))  # looking level
    assert hit is not None and hit.point[1] == pytest.approx(1.6, abs=0.05)  # the wall
    assert m[1, 3] == pytest.approx(0.0, abs=0.05) and -3.0 < m[2, 3] < -2.0  # on the floor
    assert pick_surface(w, m[:3, 3] + [0, 1.0, 0], [0, -1.0, 0]) is None  # in a gap, yet found
    assert surface_below(w, np.array([0.0, 1.0, -2.5]), 0.01) is None  # a thin probe: a gap
    # Object > Move to Where You Look (G) stands it on that floor too (it went back onto
    # the wall spot in mid-air)
    from types import SimpleNamespace

    from viewer.ext_objects import ObjectTools

    box = Mesh(
        np.array([[x, y, z] for x in (-0.3, 0.3) for y in (0.0, 0.6) for z in (-0.3, 0.3)]),
        np.array([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5]]),
    )
    lay = insert_object(w, "box", box, similarity_matrix((2.0, 0.0, -1.0)))
    tools = ObjectTools.__new__(ObjectTools)  # the method under test uses only the window
    tools.window = SimpleNamespace(
        world=w, show_status=lambda *a: None, pick_ray=lambda: (eye, np.array([0, 0, -1.0]))
    )
    tools.selected = lambda: lay
    assert tools.move_here()
    t = w.layer(lay.id).transform[:3, 3]
    assert t[1] == pytest.approx(0.0, abs=0.05) and -3.0 < t[2] < -2.0


def test_a_second_object_inserted_at_the_same_spot_stands_beside_the_first(cup) -> None:
    """Insert Object twice without moving the view: the second landed inside the first (a
    trial: a chair 0.4 m in front of the extinguisher's centre, through it; the view ray
    met the first object, and the second stood on the floor just in front of that). It
    now stands beside it, across the view, on the floor, its footprint clear of the
    first's; a third goes to the other side."""
    from generators.objects.place import OBJECT_GAP, insert_object, view_placement

    w = floor_world(y=0.0)
    eye = np.array([0.0, 1.6, 0.0])
    d = np.array([0.0, -1.6, -3.0])  # down onto the floor 3 m ahead
    bounds = cup.cloud.bounds()
    placed = []
    for name in ("a", "b", "c"):
        m, _ = view_placement(w, eye, d, bounds, height=0.5)
        lay = insert_object(w, name, cup.cloud, m)
        placed.append(lay)
        assert m[1, 3] == pytest.approx(0.0, abs=0.05), name  # on the floor
    xs = [float(lay.transform[0, 3]) for lay in placed]
    assert abs(xs[0]) < 0.05 and xs[1] > 0.2 and xs[2] < -0.2, xs  # centre, right, left
    for i in range(3):
        for j in range(i):
            lo_i, hi_i = placed[i].world_bounds()
            lo_j, hi_j = placed[j].world_bounds()
            apart = max(lo_i[0] - hi_j[0], lo_j[0] - hi_i[0], lo_i[2] - hi_j[2], lo_j[2] - hi_i[2])
            assert apart > 0.5 * OBJECT_GAP, (i, j, apart)


def test_a_second_object_stands_where_the_view_shows_its_base(cup) -> None:
    """`object --into` twice, looking 17° down with a 46° field of view (the office
    world's start): the second stepped in front of the first and stood 1.4 m from the
    eye, below the frame's lower edge (only its nozzle showed, a trial). Given the
    view's field of view its base stays inside the view's lower edge."""
    import math

    from generators.objects.place import IN_VIEW, insert_object, view_placement

    w = World()
    _with_slab(
        w, "floor", level_grid(np.arange(-4, 4, 0.1), np.arange(-6, 1, 0.1)), [0.06, 0.005, 0.06]
    )
    desk = np.concatenate(  # its top 0.75 m up from 2.2 to 3.2 m ahead, and its front
        [
            level_grid(np.arange(-0.8, 0.8, 0.05), np.arange(-3.2, -2.2, 0.05), 0.75),
            upright_grid(np.arange(-0.8, 0.8, 0.05), np.arange(0.0, 0.75, 0.05), -2.2),
        ]
    )
    _with_slab(w, "desk", desk, [0.04, 0.04, 0.04])
    eye = np.array([0.0, 1.6, 0.0])
    pitch = math.radians(-17.0)
    d = np.array([0.0, math.sin(pitch), -math.cos(pitch)])
    fov = 46.0
    lower = IN_VIEW * math.radians(fov) / 2 - pitch  # the lower edge's angle below level
    for name in ("a", "b", "c"):
        m, _ = view_placement(w, eye, d, cup.cloud.bounds(), height=0.6, fov_y_deg=fov)
        insert_object(w, name, cup.cloud, m)
        base = m[:3, 3]
        below = math.atan2(eye[1] - base[1], math.hypot(base[0], base[2]))
        assert below <= lower + 1e-6, (name, base, math.degrees(below), math.degrees(lower))


def test_a_second_object_put_before_a_wall_stands_on_the_floor_not_on_the_first(cup) -> None:
    """Looking level at a wall, an object stands on the floor in front of it; a second one
    found the first one's head as "the floor in front" and hung 0.5 m up beside it (a
    trial: `object --into` twice into the office world, where the desk's upright layer
    hid the floor beside the first, so the sideways step kept its height)."""
    from generators.objects.place import insert_object, view_placement

    w = World()
    # the floor captured only in a strip in front of the view: none found beside the first
    floor = level_grid(np.arange(-0.3, 0.3, 0.05), np.arange(-3.0, 0.0, 0.1))
    _with_slab(w, "floor", floor, [0.06, 0.005, 0.06])
    wall = upright_grid(np.linspace(-4, 4, 60), np.linspace(0, 3, 25), -3.0)
    _with_slab(w, "wall", wall, [0.1, 0.1, 0.01])
    eye = np.array([0.0, 1.6, 0.0])
    for name in ("a", "b"):
        m, _ = view_placement(w, eye, np.array([0.0, 0.0, -1.0]), cup.cloud.bounds(), height=0.5)
        insert_object(w, name, cup.cloud, m)
        assert m[1, 3] == pytest.approx(0.0, abs=0.05), (name, m[:3, 3])


def test_the_cli_inserts_an_object_into_a_project(tmp_path, capsys) -> None:
    """The README's "photo of a thing -> 3D object, placed in the world" had no headless
    way: `object ... --into WORLD.wander` inserts it as Insert Object does (on the floor
    ahead of the start view, beside an object already there), or where `--at` says, as
    its mesh with `--insert-as mesh`, and saves the project; `info` shows where each
    layer stands. A missing project or a stray --at is one line, exit 2, nothing written."""
    import cv2

    from cli import run_cli
    from scene.project import load_project, save_project
    from scene.world import Bookmark

    w = floor_world(y=0.0)
    w.bookmarks.append(Bookmark("Start", (0.0, 1.6, 0.0), 0.0, -0.4))
    proj = tmp_path / "room.wander"
    save_project(w, proj)
    photo = tmp_path / "cup.png"
    cv2.imwrite(str(photo), skimage.data.coffee()[:, :, ::-1])
    args = ["object", "--photo", str(photo), "--resolution", "64", "--into", str(proj)]
    assert run_cli([*args, "--height", "0.4"]) == 0
    assert run_cli([*args, "--height", "0.4", "--insert-as", "mesh"]) == 0
    assert run_cli([*args, "--at", "2,0.5,-1"]) == 0
    cap = capsys.readouterr()
    assert "mid-air" not in cap.err  # the floor is below it
    out = cap.out
    assert out.count(f"into {proj}") == 3 and "(mesh, 0.40 m tall)" in out
    world, _ = load_project(proj)
    objs = [lay for lay in world.layers if lay.kind == "object"]
    assert len(objs) == 3 and isinstance(objs[1].data, Mesh)
    first, second, third = (lay.transform[:3, 3] for lay in objs)
    assert abs(first[1]) < 0.05 and -5.0 < first[2] < -1.0  # on the floor, ahead
    assert abs(second[1]) < 0.05 and abs(second[0] - first[0]) > 0.3  # beside it
    assert np.allclose(third, [2.0, 0.0, -1.0], atol=0.05)  # on the floor below --at
    assert run_cli(["info", str(proj)]) == 0
    assert "at (+2.00, +0.00, -1.00)" in capsys.readouterr().out
    before = proj.read_bytes()
    assert run_cli(["object", "--photo", str(photo), "--into", str(tmp_path / "no.wander")]) == 2
    assert (
        run_cli(
            ["object", "--photo", str(photo), "--at", "1,2,3", "--out", str(tmp_path / "o.ply")]
        )
        == 2
    )
    assert run_cli([*args, "--at", "1,2"]) == 2
    err = capsys.readouterr().err
    assert "no such project" in err and "--into WORLD.wander" in err and "three numbers" in err
    assert proj.read_bytes() == before and not (tmp_path / "o.ply").exists()
    assert run_cli([*args, "--at", "100,100,100"]) == 0  # off the floor: said, still done
    assert "nothing the world holds lies below --at 100,100,100" in capsys.readouterr().err
    # a spot named on the floor itself, or a hair under it, stands on it (a trial's
    # --at 0.5,0,-1.5 on the office floor at y = 0 was "in mid-air")
    for y in ("0", "-0.01"):
        assert run_cli([*args, "--at", f"2,{y},-1"]) == 0
        assert "mid-air" not in capsys.readouterr().err
        world, _ = load_project(proj)
        assert abs(world.layers[-1].transform[1, 3]) < 0.05  # as --at 2,0.5,-1 above
    # an imported mesh kept as a mesh goes in as one, and says so (it said "splats")
    mesh = tmp_path / "m.obj"
    mesh.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    imp = ["object", "--backend", "import", "--input", str(mesh), "--into", str(proj)]
    assert run_cli([*imp, "--keep-mesh", "--height", "0.3"]) == 0
    assert "(mesh, 0.30 m tall)" in capsys.readouterr().out
    world, _ = load_project(proj)
    assert isinstance(world.layers[-1].data, Mesh)
    # --input with a photo backend was ignored without a word
    n = len(world.layers)
    assert run_cli([*args, "--input", str(mesh)]) == 2
    assert "--input is read by the import backend only" in capsys.readouterr().err
    assert len(load_project(proj)[0].layers) == n  # nothing inserted


def test_an_object_inserted_behind_a_chair_steps_forward_into_sight() -> None:
    """A one-photo world's desk stands as one upright layer with the chair's in front of
    it: an object inserted at the desk stood on the floor just in front of the desk, behind
    the chair, and seemed to grow out of the desk (a trial: the office world). It now
    steps back towards the eye until its footprint is seen, on the floor; with nothing in
    the way it stands where it was."""
    from generators.objects.place import in_sight, view_placement

    w = floor_world(y=0.0)
    desk = upright_grid(np.linspace(-1.5, 1.5, 40), np.linspace(0.0, 0.9, 12), -3.2)
    _with_slab(w, "desk", desk, [0.05, 0.05, 0.01])
    chair = upright_grid(np.linspace(-0.4, 0.4, 12), np.linspace(0.0, 0.8, 12), -2.2)
    _with_slab(w, "chair", chair, [0.05, 0.05, 0.01])
    eye = np.array([0.0, 1.6, 0.0])
    d = np.array([0.0, 0.6, -3.2]) - eye  # looking down at the desk's front
    lo, hi = np.array([-0.2, 0.0, -0.2]), np.array([0.2, 1.0, 0.2])
    m, hit = view_placement(w, eye, d, (lo, hi))
    assert hit is not None and hit.point[2] == pytest.approx(-3.2, abs=0.1)
    base = m[:3, 3]
    assert base[1] == pytest.approx(0.0, abs=0.05)  # on the floor
    reach = 0.2 * np.linalg.norm(m[:3, 0]) * np.sqrt(2)
    assert -2.2 + reach < base[2] < -1.0  # in front of the chair, not between it and the desk
    # the footprint's far edge is seen from the eye
    far = base + [0.0, 0.05, -reach]
    h = pick_surface(w, eye, far - eye)
    assert h is None or h.distance >= np.linalg.norm(far - eye) - 0.05
    # in plain sight: the spot is kept
    spot = np.array([1.2, 0.0, -2.6])
    assert np.allclose(in_sight(w, eye, spot, 0.2), spot)


def test_an_object_inserted_from_an_aerial_view_stands_where_the_view_meets_the_scene() -> None:
    """A trial, the Great Wall reconstruction (drone frames): at a bookmark 38 m above the
    ground, looking at a tower, Insert Object put the object on the ground straight below
    the view, out of sight (the rule for a walker looking at a far facade: the floor 3 m
    ahead). From high above, the floor 3 m ahead is no walker's: the object stands where
    the view ray meets the scene."""
    from generators.objects.place import view_placement

    w = World()
    g = np.linspace(-45, 45, 181)
    _with_slab(w, "ground", level_grid(g, g), [0.35, 0.01, 0.35])
    tower_top = level_grid(np.linspace(-5, 5, 41), np.linspace(-35, -25, 41), y=30.0)
    _with_slab(w, "tower top", tower_top, [0.2, 0.01, 0.2])
    eye = np.array([0.0, 38.0, 0.0])
    look = np.array([0.0, 30.0, -30.0]) - eye
    lo, hi = np.array([-0.5, 0.0, -0.5]), np.array([0.5, 1.0, 0.5])
    m, hit = view_placement(w, eye, look / np.linalg.norm(look), (lo, hi))
    assert hit is not None
    assert m[1, 3] == pytest.approx(30.0, abs=0.3), m[:3, 3]  # on the tower, not the ground
    assert -35.0 < m[2, 3] < -25.0


def test_an_object_stepped_into_sight_never_drops_off_a_tower() -> None:
    """A trial, the Great Wall reconstruction: the view met a tower whose top a parapet hid,
    so the object was stepped back towards the eye into sight; past the tower's edge the
    floor straight down was the ground 30 m below, and the object went there, under the
    tower and out of sight. A step into sight is a step up or down (SIGHT_MAX_STEP), so it
    stays on the tower."""
    from generators.objects.place import SIGHT_MAX_STEP, in_sight

    w = World()
    g = np.linspace(-45, 45, 181)
    _with_slab(w, "ground", level_grid(g, g), [0.35, 0.01, 0.35])
    top = level_grid(np.linspace(-5, 5, 41), np.linspace(-35, -25, 41), y=30.0)
    _with_slab(w, "tower top", top, [0.2, 0.01, 0.2])
    parapet = upright_grid(np.linspace(-5, 5, 41), np.linspace(30.0, 31.5, 7), -25.0)
    _with_slab(w, "parapet", parapet, [0.2, 0.2, 0.01])
    eye = np.array([0.0, 38.0, 0.0])
    spot = np.array([0.0, 30.0, -30.0])  # behind the parapet, seen from the eye
    got = in_sight(w, eye, spot, 0.3)
    assert abs(got[1] - 30.0) <= SIGHT_MAX_STEP, got  # on the tower, not the ground


def test_object_into_a_project_nothing_of_which_opens_says_so(tmp_path, capsys) -> None:
    """`object --into` a damaged project said "open it in the app and save it before
    inserting into it", but the app refused that project: none of its layers could be
    restored (a trial). That case now says so; a project with a layer that still opens
    keeps the advice."""
    import cv2
    from project_craft import cloud_ply, layer_entry, manifest, project

    from cli import run_cli

    photo = tmp_path / "cup.png"
    cv2.imwrite(str(photo), skimage.data.coffee()[::4, ::4, ::-1])
    good = cloud_ply()
    for name, files, said in (
        ("none.wander", {"layers/1.ply": b"ply\nformat binary_little_endian 1.0\n"}, "none of its"),
        ("some.wander", {"layers/1.ply": good}, "open it in the app and save it"),
    ):
        man = manifest(layers=[layer_entry(1), layer_entry(2, "layers/2.ply")])
        proj = project(tmp_path / name, man, files)
        before = proj.read_bytes()
        assert run_cli(["object", "--photo", str(photo), "--into", str(proj)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and said in err[0], err
        assert proj.read_bytes() == before
