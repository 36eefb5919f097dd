"""Objects: the `import` backend (meshes with textures / vertex colours, splat files, bad files)."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from conftest import random_cloud
from PIL import Image

from generators.objects.files import write_cloud
from generators.objects.mesh_to_splats import import_object, sample_texture
from generators.objects.pipeline import ObjectRequest, generate_object
from scene.errors import SceneFormatError


def _two_tone_box(tmp_path, fmt: str = "glb"):
    """A 1x2x1 box whose texture is red on the left half, blue on the right (by UV u)."""
    box = trimesh.creation.box((1.0, 2.0, 1.0))
    box = box.subdivide().subdivide()
    v = box.vertices
    uv = np.stack([(v[:, 0] + 0.5) * 0.98 + 0.01, (v[:, 1] + 1) / 2 * 0.98 + 0.01], 1)
    tex = np.zeros((8, 8, 3), np.uint8)
    tex[:, :4] = (220, 20, 20)
    tex[:, 4:] = (20, 20, 220)
    mat = trimesh.visual.material.PBRMaterial(
        baseColorTexture=Image.fromarray(tex), baseColorFactor=[255, 255, 255, 255]
    )
    if fmt == "obj":
        mat = trimesh.visual.material.SimpleMaterial(
            image=Image.fromarray(tex), diffuse=[255, 255, 255, 255]
        )
    box.visual = trimesh.visual.TextureVisuals(uv=uv, material=mat)
    path = tmp_path / f"box.{fmt}"
    box.export(str(path))
    return path


def test_textured_glb_becomes_coloured_splats(tmp_path) -> None:
    cloud, mesh, warnings, info = import_object(_two_tone_box(tmp_path), samples=4000, height=1.0)
    assert not warnings
    assert len(cloud) == pytest.approx(4000, abs=5)
    lo, hi = cloud.bounds()
    assert abs(lo[1]) < 1e-3 and abs(hi[1] - 1.0) < 1e-3 and abs(lo[0] + hi[0]) < 0.01
    assert info["source_size"] == pytest.approx([1, 2, 1], abs=1e-6)
    c = cloud.base_colors()
    left, right = cloud.means[:, 0] < -0.1, cloud.means[:, 0] > 0.1
    assert c[left, 0].mean() > 0.6 and c[left, 2].mean() < 0.3
    assert c[right, 2].mean() > 0.6 and c[right, 0].mean() < 0.3
    # splats lie on the surface: on one of the box faces
    half = np.array([0.25, 0.5, 0.25])
    d = np.abs(cloud.means - [0, 0.5, 0]) / half
    assert np.all(np.abs(d.max(1) - 1) < 1e-3)
    assert mesh.n_faces > 0 and mesh.vertex_colors is not None


def test_area_weighting() -> None:
    """Twice the area gets twice the samples (two separate quads in one mesh file)."""
    import tempfile
    from pathlib import Path

    a = trimesh.Trimesh([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], [[0, 1, 2], [0, 2, 3]])
    b = trimesh.Trimesh([[3, 0, 0], [5, 0, 0], [5, 1, 0], [3, 1, 0]], [[0, 1, 2], [0, 2, 3]])
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "two.ply"
        trimesh.util.concatenate([a, b]).export(str(p))
        cloud, *_ = import_object(p, samples=30000, height=1.0)
    x = cloud.means[:, 0]
    mid = (x.min() + x.max()) / 2
    ratio = (x > mid).sum() / (x < mid).sum()
    assert 1.85 < ratio < 2.15


def test_missing_texture_warns_and_falls_back(tmp_path) -> None:
    path = _two_tone_box(tmp_path, "obj")
    for png in tmp_path.glob("*.png"):
        png.write_bytes(b"broken png")
    cloud, mesh, warnings, _ = import_object(path, samples=2000)
    assert warnings and "texture" in warnings[0]
    assert np.isfinite(cloud.sh0).all() and len(cloud) > 1000


def test_keep_as_mesh(tmp_path) -> None:
    cloud, mesh, _, _ = import_object(_two_tone_box(tmp_path), as_mesh=True)
    assert cloud is None and mesh.n_faces > 0
    res = generate_object(
        ObjectRequest(backend="import", input=_two_tone_box(tmp_path), as_mesh=True)
    )
    assert res.data is res.mesh


def test_splat_file_import(tmp_path) -> None:
    src = random_cloud(500)
    p = tmp_path / "obj.ply"
    write_cloud(src, p)
    res = generate_object(ObjectRequest(backend="import", input=p, height=2.0))
    lo, hi = res.cloud.robust_bounds(0.002)
    assert abs(hi[1] - lo[1] - 2.0) < 1e-3
    assert len(res.cloud) == 500 and res.meta["backend"] == "import"


def test_bad_mesh_files(tmp_path) -> None:
    no_faces = tmp_path / "pts.obj"
    no_faces.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\n")
    with pytest.raises(SceneFormatError, match="no faces"):
        import_object(no_faces)
    garbage = tmp_path / "junk.glb"
    garbage.write_bytes(b"\x00\x01garbage" * 10)
    with pytest.raises(SceneFormatError):
        import_object(garbage)
    for name in ("empty.glb", "empty.ply"):  # the .ply said "no 'ply' magic" (Open: empty)
        empty = tmp_path / name
        empty.write_bytes(b"")
        with pytest.raises(SceneFormatError, match="file is empty"):
            import_object(empty)
    with pytest.raises(ValueError, match="cannot import"):
        import_object(tmp_path / "x.txt" if (tmp_path / "x.txt").write_text("x") else None)
    with pytest.raises(FileNotFoundError):
        import_object(tmp_path / "missing.glb")


def test_sample_texture_bilinear() -> None:
    tex = np.zeros((2, 2, 3), np.float32)
    tex[0, 0] = 1  # top-left texel (v = 1 in glTF convention)
    got = sample_texture(tex, np.array([[0.25, 0.75], [0.75, 0.25], [0.5, 0.5]]))
    assert np.allclose(got[0], 1) and np.allclose(got[1], 0) and np.allclose(got[2], 0.25)
