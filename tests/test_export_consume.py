"""Export of a world nobody uses afterwards (the CLI) bakes transforms in place, without a
copy of the scene (issue 18 item 4), and writes the same bytes as the copying path."""

from __future__ import annotations

import numpy as np
from conftest import random_cloud

from scene import export as ex
from scene.world import Layer, World, similarity_matrix

FIELDS = ("means", "scales", "quats", "opacities", "sh0", "shN")
MOVE = similarity_matrix((1.0, 0.5, -2.0), yaw=0.7, scale=0.8)
MIRROR = MOVE @ np.diag([1.0, -1.0, 1.0, 1.0])  # a reflection: one local axis flipped


def _same_bytes(a, b) -> None:
    for f in FIELDS:
        assert getattr(a, f).tobytes() == getattr(b, f).tobytes(), f


def test_bake_in_place_gives_the_transformed_values_without_a_copy(monkeypatch):
    monkeypatch.setattr(ex, "BAKE_BLOCK", 1000)  # several blocks and a partial last one
    for m, deg in ((MOVE, 3), (MIRROR, 1)):
        c = random_cloud(2500, sh_degree=deg, seed=deg)
        ref = c.transformed(m)
        lay = Layer("a", c, transform=m)
        means = c.means
        got = ex.bake_in_place(lay)
        assert got is c and got.means is means  # the layer's own arrays
        _same_bytes(got, ref)
        assert np.array_equal(lay.transform, np.eye(4))


def test_read_only_arrays_are_baked_into_a_copy():
    c = random_cloud(50, sh_degree=1)
    c.means.flags.writeable = False
    ref = c.transformed(MOVE)
    got = ex.bake_in_place(Layer("a", c, transform=MOVE))
    assert got is not c
    _same_bytes(got, ref)


def _world() -> World:
    w = World()
    w.add_layer(Layer("a", random_cloud(3000, sh_degree=3, seed=1), transform=MOVE))
    w.add_layer(Layer("b", random_cloud(200, sh_degree=1, seed=2), transform=MIRROR))
    w.add_layer(Layer("c", random_cloud(40, sh_degree=2, seed=3)))
    hidden = Layer("d", random_cloud(10, seed=4), visible=False)
    w.add_layer(hidden)
    return w


def test_consumed_export_writes_the_same_files(tmp_path):
    for fmt in ("ply", "spz"):
        a, b = tmp_path / f"copy.{fmt}", tmp_path / f"consumed.{fmt}"
        ex.export_world(_world(), a)
        ex.export_world(_world(), b, consume=True)
        assert a.read_bytes() == b.read_bytes(), fmt
    for layer in ("a", "c"):  # one layer, moved or not
        a, b = tmp_path / f"copy_{layer}.ply", tmp_path / f"consumed_{layer}.ply"
        ex.export_world(_world(), a, layer=layer)
        ex.export_world(_world(), b, layer=layer, consume=True)
        assert a.read_bytes() == b.read_bytes(), layer
    one = World()  # one visible moved layer: baked in place, no join
    one.add_layer(Layer("a", random_cloud(300, sh_degree=3, seed=5), transform=MOVE))
    ref = one.merged_cloud()
    _same_bytes(ex.scene_cloud(one, consume=True), ref)


def test_consumed_join_matches_merged_cloud():
    ref = _world().merged_cloud()
    got = ex.scene_cloud(_world(), consume=True)
    _same_bytes(got, ref)
    assert got.meta == ref.meta
