"""Draws Mesh layers (inserted objects, colliders) with depth test + depth write."""

from __future__ import annotations

import ctypes

import numpy as np
from OpenGL import GL

from scene.mesh import Mesh
from scene.world import Layer

from .gl_util import compile_program

#: the share of the shading a mesh coloured from photos takes (see shaders/mesh.frag): a
#: front-facing face keeps 98 % of its colour, one seen edge-on 85 %
PHOTO_SHADING = 0.25


class _GpuMesh:
    def __init__(self, mesh: Mesh) -> None:
        normals = mesh.vertex_normals()  # (V, 3)
        colors = mesh.colors_or_default()  # (V, 3)
        photo = mesh.vertex_colors is not None or mesh.texture is not None
        #: how much of shaders/mesh.frag's shading the mesh takes: its colours are lit
        #: already when they came from photos; a plain grey mesh shows its shape by it
        self.shading = PHOTO_SHADING if photo else 1.0
        inter = np.ascontiguousarray(
            np.concatenate([mesh.vertices, normals, colors], axis=1).astype(np.float32)
        )  # (V, 9)
        idx = np.ascontiguousarray(mesh.faces.astype(np.uint32).reshape(-1))
        self.count = int(idx.size)
        from generators.reconstruct.preview import frusta_apexes

        self.frusta = frusta_apexes(mesh)  # photo-camera frusta: (apex, edge length)
        self.vao = GL.glGenVertexArrays(1)
        self.vbo, self.ebo = GL.glGenBuffers(2)
        GL.glBindVertexArray(self.vao)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self.vbo)
        GL.glBufferData(GL.GL_ARRAY_BUFFER, inter.nbytes, inter, GL.GL_STATIC_DRAW)
        for loc in range(3):
            GL.glEnableVertexAttribArray(loc)
            GL.glVertexAttribPointer(
                loc, 3, GL.GL_FLOAT, GL.GL_FALSE, 36, ctypes.c_void_p(12 * loc)
            )
        GL.glBindBuffer(GL.GL_ELEMENT_ARRAY_BUFFER, self.ebo)
        GL.glBufferData(GL.GL_ELEMENT_ARRAY_BUFFER, idx.nbytes, idx, GL.GL_STATIC_DRAW)
        GL.glBindVertexArray(0)

    def release(self) -> None:
        GL.glDeleteBuffers(2, [self.vbo, self.ebo])
        GL.glDeleteVertexArrays(1, [self.vao])


def _frusta_runs(gpu: _GpuMesh, model: np.ndarray, view: np.ndarray) -> list[tuple[int, int]]:
    """(first index, index count) runs of a frusta mesh to draw (`shown_frusta`)."""
    eye_world = np.linalg.inv(np.asarray(view, np.float64))[:3, 3]
    from generators.reconstruct.preview import shown_frusta

    keep = shown_frusta(gpu.frusta, model, eye_world)
    per = gpu.count // len(keep)
    runs: list[tuple[int, int]] = []
    for i in np.flatnonzero(keep):
        if runs and runs[-1][0] + runs[-1][1] == i * per:
            runs[-1] = (runs[-1][0], runs[-1][1] + per)
        else:
            runs.append((int(i) * per, per))
    return runs


class MeshRenderer:
    """Uploads each mesh layer once (keyed by layer id and data identity) and draws them."""

    def __init__(self) -> None:
        self._prog: int | None = None
        self._loc: dict[str, int] = {}
        self._gpu: dict[tuple[int, int], _GpuMesh] = {}

    def draw(
        self, layers: list[Layer], view: np.ndarray, proj: np.ndarray, depth_out: int = 0
    ) -> int:
        """Draw the visible mesh layers; view/proj are row-major 4×4. `depth_out` as the
        splats' DEPTH_OUT (shaders/mesh.frag): 0 colour; 1 inverse depth and its square
        instead; 2 colour, and inverse depth at location 1. Returns triangles drawn."""
        if self._prog is None:
            self._prog = compile_program("mesh.vert", "mesh.frag")
            self._loc = {
                n: GL.glGetUniformLocation(self._prog, n)
                for n in ("u_model", "u_view", "u_proj", "u_shading", "u_depth_out")
            }
        live = {(lay.id, id(lay.data)) for lay in layers}
        for key in [k for k in self._gpu if k not in live]:
            self._gpu.pop(key).release()
        GL.glUseProgram(self._prog)
        GL.glUniformMatrix4fv(self._loc["u_view"], 1, GL.GL_TRUE, np.asarray(view, np.float32))
        GL.glUniformMatrix4fv(self._loc["u_proj"], 1, GL.GL_TRUE, np.asarray(proj, np.float32))
        GL.glUniform1i(self._loc["u_depth_out"], int(depth_out))
        tris = 0
        for lay in layers:
            if not lay.visible or not isinstance(lay.data, Mesh) or lay.data.n_faces == 0:
                continue
            key = (lay.id, id(lay.data))
            gpu = self._gpu.get(key)
            if gpu is None:
                gpu = self._gpu[key] = _GpuMesh(lay.data)
            runs = (
                [(0, gpu.count)] if gpu.frusta is None else _frusta_runs(gpu, lay.transform, view)
            )
            if not runs:
                continue
            GL.glUniformMatrix4fv(
                self._loc["u_model"], 1, GL.GL_TRUE, np.asarray(lay.transform, np.float32)
            )
            GL.glUniform1f(self._loc["u_shading"], gpu.shading)
            GL.glBindVertexArray(gpu.vao)
            for first, count in runs:
                GL.glDrawElements(
                    GL.GL_TRIANGLES, count, GL.GL_UNSIGNED_INT, ctypes.c_void_p(4 * first)
                )
                tris += count // 3
        GL.glBindVertexArray(0)
        return tris

    def release(self) -> None:
        for gpu in self._gpu.values():
            gpu.release()
        self._gpu.clear()
        if self._prog is not None:
            GL.glDeleteProgram(self._prog)
            self._prog = None
