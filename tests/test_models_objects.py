"""Hunyuan3D-2 objects: the generated mesh is textured by projecting the photo and normalised
like every object; without hy3dgen (it needs a torchvision matching torch) the backend says
how to fix it."""

from __future__ import annotations

import numpy as np
import pytest

from generators.objects.hunyuan3d import load_hunyuan3d, mesh_to_object, project_photo_colors
from generators.objects.segment_classical import mask_to_segmentation


def _box_mesh() -> tuple[np.ndarray, np.ndarray]:
    import trimesh

    m = trimesh.creation.box(extents=(1.0, 2.0, 0.6)).subdivide().subdivide()
    return np.asarray(m.vertices), np.asarray(m.faces)


def _two_colour_photo():
    rgb = np.full((120, 160, 3), 40, np.uint8)
    mask = np.zeros((120, 160), bool)
    mask[20:100, 60:100] = True  # 40 x 80 px: the box's 1 x 2 front
    rgb[20:100, 60:80] = (220, 30, 30)  # left half red
    rgb[20:100, 80:100] = (30, 30, 220)  # right half blue
    return mask_to_segmentation(rgb, mask, "given")


def test_photo_projection_colours_the_matching_side() -> None:
    v, f = _box_mesh()
    seg = _two_colour_photo()
    col = project_photo_colors(v, seg)
    left, right = v[:, 0] < -0.2, v[:, 0] > 0.2
    assert col[left, 0].mean() > 0.7 and col[left, 2].mean() < 0.3
    assert col[right, 2].mean() > 0.7 and col[right, 0].mean() < 0.3


def test_mesh_to_object_is_normalised_and_coloured() -> None:
    v, f = _box_mesh()
    cloud, mesh, info = mesh_to_object(v, f, _two_colour_photo(), height=1.5, samples=5000)
    cloud.validate()
    lo, hi = cloud.bounds()
    assert abs((hi[1] - lo[1]) - 1.5) < 0.1 and abs(lo[1]) < 0.05
    assert mesh is not None and mesh.n_faces == len(f)
    assert info["texture"] == "photo projection"


def test_missing_hy3dgen_or_weights_is_one_line(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(ValueError, match="hunyuan3d-2mini") as exc:
        load_hunyuan3d("cpu")
    assert "\n" not in str(exc.value)
