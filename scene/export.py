"""Export a World (or one layer) to the formats other tools read.

Splats: 3DGS PLY (reference layout, every peer reads it), antimatter15 `.splat`,
Niantic `.spz` (v3, gzip). Meshes: GLB / OBJ (trimesh). Panoramas: equirect PNG plus
six cube faces. Cameras: COLMAP text model + JSON.

Whole-scene exports take the visible layers with their transforms baked
(`World.merged_cloud` rotates SH with the objects). Options: SH degree to keep, crop
to an axis-aligned box, drop near-transparent splats. Every file is written atomically
(temp file in the target folder, fsync, os.replace).
"""

from __future__ import annotations

import gzip
import logging
import json
import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .camera import Camera
from .errors import InvalidSceneError, SceneFormatError
from .gaussians import GaussianCloud, sigmoid
from .io._common import default_file_mode  # noqa: F401  (re-exported)
from .mesh import Mesh
from .rotations import normalize_quats
from .sh import C0
from .world import Layer, World

log = logging.getLogger(__name__)

SPLAT_FORMATS = ("ply", "splat", "spz", "ply_compressed")
MESH_FORMATS = ("glb", "obj")
FORMATS = SPLAT_FORMATS + MESH_FORMATS

SPZ_MAGIC = 0x5053474E  # "NGSP"
SPZ_FRACTIONAL_BITS = 12
SPZ_COLOR_SCALE = 0.15


# ----------------------------------------------------------------------- options
@dataclass
class ExportOptions:
    """What to keep in an exported cloud.

    sh_degree    SH degree to keep (0-3); None keeps the scene's degree.
    crop         ((x0, y0, z0), (x1, y1, z1)) world-space box; None keeps everything.
    min_opacity  drop splats whose activated opacity (0..1) is below this; 0 keeps all.
    """

    sh_degree: int | None = None
    crop: tuple[Sequence[float], Sequence[float]] | None = None
    min_opacity: float = 0.0

    def __post_init__(self) -> None:
        if self.sh_degree is not None and self.sh_degree not in (0, 1, 2, 3):
            raise ValueError(f"SH degree must be 0, 1, 2 or 3; got {self.sh_degree}")
        if not 0.0 <= float(self.min_opacity) < 1.0:
            raise ValueError(f"min opacity must be in [0, 1); got {self.min_opacity}")
        if self.crop is not None:
            lo, hi = (np.asarray(c, np.float64).reshape(-1) for c in self.crop)
            if lo.shape != (3,) or hi.shape != (3,) or not np.all(np.isfinite([lo, hi])):
                raise ValueError("crop box needs 6 finite numbers x0,y0,z0,x1,y1,z1")
            if np.any(lo > hi):
                raise ValueError(f"crop box min {lo.tolist()} exceeds max {hi.tolist()}")
            self.crop = (lo, hi)


def parse_crop(text: str) -> tuple[np.ndarray, np.ndarray]:
    """'x0,y0,z0,x1,y1,z1' -> (min corner, max corner)."""
    try:
        vals = [float(v) for v in text.replace(" ", "").split(",")]
    except ValueError:
        raise ValueError(f"crop box {text!r} is not 6 comma-separated numbers") from None
    if len(vals) != 6:
        raise ValueError(f"crop box {text!r} needs 6 numbers x0,y0,z0,x1,y1,z1")
    return np.array(vals[:3]), np.array(vals[3:])


def apply_options(cloud: GaussianCloud, options: ExportOptions | None) -> GaussianCloud:
    """Crop, drop transparent and non-finite splats, set SH degree (returns a copy)."""
    opts = options or ExportOptions()
    keep = np.ones(len(cloud), bool)
    for name in ("means", "scales", "quats", "sh0"):
        keep &= np.isfinite(getattr(cloud, name)).all(1)
    keep &= np.isfinite(cloud.opacities)
    if cloud.shN.size:
        keep &= np.isfinite(cloud.shN).reshape(len(cloud), -1).all(1)
    if opts.crop is not None:
        lo, hi = opts.crop
        keep &= np.all((cloud.means >= lo) & (cloud.means <= hi), axis=1)
    if opts.min_opacity > 0:
        keep &= cloud.opacity_values() >= opts.min_opacity
    out = cloud.subset(keep)
    if opts.sh_degree is not None and opts.sh_degree != out.sh_degree:
        out = out.with_sh_degree(opts.sh_degree)
    return out


def scene_cloud(world: World, layer: str | int | None = None,
                options: ExportOptions | None = None) -> GaussianCloud:
    """The cloud to export: all visible splat layers baked, or one layer (by name or id)."""
    if layer is None:
        cloud = world.merged_cloud(visible_only=True)
    else:
        lay = find_layer(world, layer)
        if lay.is_mesh:
            raise ValueError(f"layer {lay.name!r} is a mesh; export it as glb or obj")
        cloud = lay.baked()
    if len(cloud) == 0:  # e.g. every layer of a damaged project was skipped on load
        raise ValueError("nothing to export: the scene has no visible splat layer")
    out = apply_options(cloud, options)
    if len(out) == 0:
        raise ValueError("nothing to export: no visible splats left after the options "
                         "(check --crop / --min-opacity / layer visibility)")
    return out


def scene_mesh(world: World, layer: str | int | None = None) -> Mesh:
    """Visible mesh layers baked and joined, or one mesh layer."""
    if layer is not None:
        lay = find_layer(world, layer)
        if not lay.is_mesh:
            raise ValueError(f"layer {lay.name!r} holds splats; export it as ply, splat or spz")
        layers = [lay]
    else:
        layers = [lay for lay in world.visible_layers() if lay.is_mesh]
    meshes = [lay.baked() for lay in layers]
    meshes = [m for m in meshes if isinstance(m, Mesh) and m.n_faces]
    if not meshes:
        raise ValueError("nothing to export: the scene has no visible mesh layer")
    if len(meshes) == 1:
        return meshes[0]
    verts, faces, cols, off = [], [], [], 0
    for m in meshes:
        verts.append(m.vertices)
        faces.append(m.faces + off)
        cols.append(m.colors_or_default())
        off += m.n_vertices
    return Mesh(np.concatenate(verts), np.concatenate(faces), np.concatenate(cols))


def find_layer(world: World, key: str | int) -> Layer:
    """A layer by name, or by id when `key` is an int or a string of digits."""
    try:
        return world.find(str(key))
    except KeyError:
        pass
    if isinstance(key, int) or str(key).isdigit():
        try:
            return world.layer(int(key))
        except KeyError:
            pass
    names = ", ".join(repr(lay.name) for lay in world.layers) or "none"
    raise ValueError(f"no layer {key!r}; layers: {names}")


# ------------------------------------------------------------------- atomic write
def atomic_write(path: str | Path, write: Callable[[Any], None]) -> None:
    """Call `write(binary_file)` on a temp file beside `path`, fsync, then os.replace.

    If `write` raises, the previous file at `path` is untouched and the temp file removed.
    The temp follows `scene.io._common.temp_name`, so a killed run's temp is swept later.
    Raises FileNotFoundError when the folder does not exist, SceneFormatError when it
    cannot be written (naming `path`, not the temp).
    """
    from .io._common import atomic_write as _atomic

    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"folder {folder} does not exist")
    with _atomic(path) as fh:
        write(fh)


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    atomic_write(path, lambda fh: fh.write(data))


# ---------------------------------------------------------------------- 3DGS PLY
def ply_property_names(sh_degree: int) -> list[str]:
    """Reference 3DGS vertex properties, in order."""
    k = {0: 0, 1: 3, 2: 8, 3: 15}[sh_degree]
    return (["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"]
            + [f"f_rest_{i}" for i in range(3 * k)]
            + ["opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"])


def ply_bytes(cloud: GaussianCloud) -> bytes:
    """Binary little-endian float32 3DGS PLY (reference property names and order)."""
    n = len(cloud)
    names = ply_property_names(cloud.sh_degree)
    header = ["ply", "format binary_little_endian 1.0"]
    if cloud.meta.get("antialiased"):
        header.append("comment SplatRenderMode: mip")  # read back by scene.io.ply
    header.append(f"element vertex {n}")
    header += [f"property float {p}" for p in names] + ["end_header"]
    # f_rest is channel-major: all R coefficients, then G, then B.
    rest = cloud.shN.transpose(0, 2, 1).reshape(n, -1)  # (N, 3K)
    cols = [cloud.means, np.zeros((n, 3), np.float32), cloud.sh0, rest,
            cloud.opacities[:, None], cloud.scales, cloud.quats]
    data = np.concatenate(cols, axis=1).astype("<f4")  # (N, P)
    return ("\n".join(header) + "\n").encode("ascii") + data.tobytes()


def read_ply_bytes(data: bytes, source: str | Path | None = None) -> GaussianCloud:
    """Read a binary little-endian float32 3DGS PLY, the layout `ply_bytes` writes.

    Used for project layers (our own files); any property order is accepted.
    """
    end = data.find(b"end_header\n", 0, 65536)
    if not data.startswith(b"ply\n") or end < 0:
        raise SceneFormatError(source, "not a PLY file (no 'ply' magic or end_header)")
    lines = data[:end].decode("ascii", "replace").splitlines()
    if "format binary_little_endian 1.0" not in lines:
        raise SceneFormatError(source, "only binary little-endian PLY is supported here")
    count, props = None, []
    for line in lines:
        parts = line.split()
        if parts[:2] == ["element", "vertex"] and len(parts) == 3:
            count = int(parts[2])
        elif parts[:1] == ["property"]:
            if len(parts) != 3 or parts[1] not in ("float", "float32"):
                raise SceneFormatError(source, f"unsupported PLY property {line!r}")
            props.append(parts[2])
        elif parts[:1] == ["element"]:
            raise SceneFormatError(source, f"unexpected PLY element {line!r}")
    if count is None:
        raise SceneFormatError(source, "PLY has no vertex element")
    body = memoryview(data)[end + len(b"end_header\n"):]
    need = count * len(props) * 4
    if len(body) < need:
        raise SceneFormatError(source, f"PLY is truncated: header says {count} splats, "
                                       f"data holds {len(body) // max(4 * len(props), 1)}")
    arr = np.frombuffer(body[:need], "<f4").reshape(count, len(props)).astype(np.float32)
    col = {p: i for i, p in enumerate(props)}
    try:
        def take(names: list[str]) -> np.ndarray:
            return arr[:, [col[p] for p in names]]
        rest_names = sorted((p for p in props if p.startswith("f_rest_")),
                            key=lambda p: int(p[7:]))
        k = len(rest_names) // 3
        return GaussianCloud(
            means=take(["x", "y", "z"]),
            scales=take(["scale_0", "scale_1", "scale_2"]),
            quats=take(["rot_0", "rot_1", "rot_2", "rot_3"]),
            opacities=arr[:, col["opacity"]],
            sh0=take(["f_dc_0", "f_dc_1", "f_dc_2"]),
            shN=(take(rest_names).reshape(count, 3, k).transpose(0, 2, 1) if k
                 else np.zeros((count, 0, 3), np.float32)),
        )
    except KeyError as exc:
        raise SceneFormatError(source, f"PLY lacks splat property {exc.args[0]}") from None
    except InvalidSceneError as exc:
        raise SceneFormatError(source, str(exc)) from None


# ------------------------------------------------------------- antimatter15 .splat
SPLAT_DTYPE = np.dtype([("pos", "<f4", 3), ("scale", "<f4", 3), ("rgba", "u1", 4),
                        ("rot", "u1", 4)])  # 32 bytes a splat


def splat_bytes(cloud: GaussianCloud) -> bytes:
    """antimatter15 `.splat`: 32 bytes a splat, most important first (as its converter)."""
    c = cloud.subset(cloud.importance_order())
    n = len(c)
    out = np.zeros(n, SPLAT_DTYPE)
    out["pos"] = c.means
    out["scale"] = c.scale_values()
    rgba = np.concatenate([0.5 + C0 * c.sh0, sigmoid(c.opacities)[:, None]], 1)
    out["rgba"] = np.clip(np.round(rgba * 255), 0, 255).astype(np.uint8)
    q = normalize_quats(c.quats)
    out["rot"] = np.clip(np.round(q * 128 + 128), 0, 255).astype(np.uint8)
    return out.tobytes()


# ----------------------------------------------------------------- Niantic .spz v3
def _spz_quats(q_wxyz: np.ndarray) -> np.ndarray:
    """Smallest-three packing of unit quaternions (N, 4) wxyz -> (N,) uint32."""
    q = normalize_quats(q_wxyz).astype(np.float64)[:, [1, 2, 3, 0]]  # xyzw
    n = len(q)
    big = np.argmax(np.abs(q), axis=1)
    sign = np.where(q[np.arange(n), big] < 0, -1.0, 1.0)
    q *= sign[:, None]
    comp = big.astype(np.uint32)
    for i in range(4):
        keep = big != i
        mag = np.minimum((511 * np.abs(q[:, i]) / math.sqrt(0.5) + 0.5).astype(np.uint32), 511)
        neg = (q[:, i] < 0).astype(np.uint32)
        comp = np.where(keep, (comp << 10) | (neg << 9) | mag, comp)
    return comp.astype("<u4")


def _spz_sh(shN: np.ndarray, degree: int) -> np.ndarray:
    """Quantised SH (N, K, 3) -> uint8, coefficient-major with RGB fastest."""
    bits = 5 if degree == 1 else 4
    bucket = 1 << (8 - bits)
    q = np.round(shN.astype(np.float64) * 128 + 128)
    q = np.floor((q + bucket / 2) / bucket) * bucket
    return np.clip(q, 0, 255).astype(np.uint8).reshape(len(shN), -1)


def spz_bytes(cloud: GaussianCloud, antialiased: bool | None = None) -> bytes:
    """Niantic `.spz` version 3 (gzip container), quantised as the reference library, in
    the PLY frame (see scene.io.spz). antialiased: the 0x1 flag; None (default) takes it
    from `cloud.meta["antialiased"]`."""
    if antialiased is None:
        antialiased = bool(cloud.meta.get("antialiased"))
    n = len(cloud)
    deg = cloud.sh_degree
    header = struct.pack("<IIIBBBB", SPZ_MAGIC, 3, n, deg, SPZ_FRACTIONAL_BITS,
                         1 if antialiased else 0, 0)
    fixed = np.round(cloud.means.astype(np.float64) * (1 << SPZ_FRACTIONAL_BITS))
    if np.any(np.abs(fixed) >= 1 << 23):
        raise ValueError("scene too large for .spz (positions beyond ±2048 units)")
    fixed = fixed.astype(np.int64) & 0xFFFFFF  # 24-bit two's complement
    pos = np.stack([fixed & 0xFF, (fixed >> 8) & 0xFF, (fixed >> 16) & 0xFF], -1)
    alpha = np.clip(np.round(sigmoid(cloud.opacities).astype(np.float64) * 255), 0, 255)
    color = np.clip(np.round(cloud.sh0.astype(np.float64) * (SPZ_COLOR_SCALE * 255) + 127.5),
                    0, 255)
    scale = np.clip(np.round((cloud.scales.astype(np.float64) + 10) * 16), 0, 255)
    parts = [header, pos.astype(np.uint8).tobytes(), alpha.astype(np.uint8).tobytes(),
             color.astype(np.uint8).tobytes(), scale.astype(np.uint8).tobytes(),
             _spz_quats(cloud.quats).tobytes()]
    if deg:
        parts.append(_spz_sh(cloud.shN, deg).tobytes())
    return gzip.compress(b"".join(parts), compresslevel=6, mtime=0)


# ---------------------------------------------------------------------- meshes
def mesh_to_trimesh(mesh: Mesh):  # -> trimesh.Trimesh
    """A trimesh with the texture (if any) or the vertex colours."""
    import trimesh

    tm = trimesh.Trimesh(vertices=mesh.vertices, faces=mesh.faces, process=False)
    if mesh.texture is not None and mesh.uvs is not None:
        from PIL import Image

        tex = np.asarray(mesh.texture, np.uint8)
        tm.visual = trimesh.visual.TextureVisuals(uv=mesh.uvs, image=Image.fromarray(tex))
    else:
        cols = np.clip(np.round(mesh.colors_or_default() * 255), 0, 255).astype(np.uint8)
        tm.visual = trimesh.visual.ColorVisuals(tm, vertex_colors=cols)
    return tm


def mesh_bytes(mesh: Mesh, fmt: str) -> bytes:
    """GLB (binary glTF) or OBJ text for one mesh."""
    tm = mesh_to_trimesh(mesh)
    if fmt == "glb":
        return tm.export(file_type="glb")
    if fmt == "obj":
        # Vertex colours travel as the common `v x y z r g b` extension.
        txt = tm.export(file_type="obj", include_color=True, include_texture=False)
        return txt.encode() if isinstance(txt, str) else txt
    raise ValueError(f"unknown mesh format {fmt!r}; use glb or obj")


# -------------------------------------------------------------------- front door
def format_from_path(path: str | Path, fmt: str | None = None) -> str:
    """Format name from an explicit option or the file extension."""
    if fmt:
        f = fmt.lower().lstrip(".")
        if f not in FORMATS:
            raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
        return f
    if Path(path).name.lower().endswith(".compressed.ply"):
        return "ply_compressed"
    ext = Path(path).suffix.lower().lstrip(".")
    if ext not in FORMATS:
        raise ValueError(f"cannot tell the format from {Path(path).name!r}; "
                         f"pass --format ({', '.join(FORMATS)})")
    return ext


def export_world(world: World, path: str | Path, fmt: str | None = None, *,
                 layer: str | int | None = None, options: ExportOptions | None = None) -> dict:
    """Export the scene (or one layer) to `path`; returns a summary dict.

    Splat formats take the visible splat layers (transforms baked, SH rotated); mesh
    formats the visible mesh layers. Atomic: a failure leaves any old file intact.
    """
    f = format_from_path(path, fmt)
    if f in MESH_FORMATS:
        mesh = scene_mesh(world, layer)
        write_bytes_atomic(path, mesh_bytes(mesh, f))
        return {"format": f, "path": str(path), "vertices": mesh.n_vertices, "faces": mesh.n_faces}
    cloud = scene_cloud(world, layer, options)
    write_cloud(cloud, path, f)
    return {"format": f, "path": str(path), "splats": len(cloud), "sh_degree": cloud.sh_degree}


def write_cloud(cloud: GaussianCloud, path: str | Path, fmt: str | None = None) -> None:
    """Write one cloud as ply, splat, spz or SuperSplat's compressed PLY (atomic)."""
    f = format_from_path(path, fmt)
    if f == "ply_compressed":  # PlayCanvas layout: scene.io's writer
        from .io import save

        save(cloud, path, "ply_compressed")
        return
    enc = {"ply": ply_bytes, "splat": splat_bytes, "spz": spz_bytes}.get(f)
    if enc is None:
        raise ValueError(f"{f} is a mesh format; splats export as ply, splat, spz or "
                         "ply_compressed")
    write_bytes_atomic(path, enc(cloud))


# ------------------------------------------------------------------- panoramas
def cube_face_directions(size: int) -> dict[str, np.ndarray]:
    """World-space unit view directions (size, size, 3) for the six cube faces.

    Faces as seen from the centre with +Y up: front looks along −Z (longitude 0),
    right +X, back +Z, left −X, up +Y (top edge towards back), down −Y (top edge front):
    the 'dice' layout, where up sits above front and down below it.
    """
    a = (np.arange(size) + 0.5) / size * 2 - 1  # −1..1 across the face
    u, v = np.meshgrid(a, a)  # u right, v down
    one = np.ones_like(u)
    dirs = {
        "front": np.stack([u, -v, -one], -1),
        "right": np.stack([one, -v, u], -1),
        "back": np.stack([-u, -v, one], -1),
        "left": np.stack([-one, -v, -u], -1),
        "up": np.stack([u, one, -v], -1),
        "down": np.stack([u, -one, v], -1),
    }
    return {k: d / np.linalg.norm(d, axis=-1, keepdims=True) for k, d in dirs.items()}


def direction_to_equirect(d: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit directions (..., 3) -> continuous equirect pixel coords (x, y).

    Longitude 0 is −Z, increasing towards +X (to the right); latitude +π/2 at row 0.
    """
    lon = np.arctan2(d[..., 0], -d[..., 2])
    lat = np.arcsin(np.clip(d[..., 1], -1, 1))
    x = (lon / (2 * np.pi) + 0.5) * width - 0.5
    y = (0.5 - lat / np.pi) * height - 0.5
    return x, y


def sample_equirect(pano: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bilinear sample with longitude wrap-around; returns pano.dtype."""
    h, w = pano.shape[:2]
    img = pano.astype(np.float32).reshape(h, w, -1)
    x0 = np.floor(x).astype(np.int64)
    y0 = np.floor(y).astype(np.int64)
    fx = (x - x0)[..., None]
    fy = (y - y0)[..., None]
    ya, yb = np.clip(y0, 0, h - 1), np.clip(y0 + 1, 0, h - 1)
    xa, xb = x0 % w, (x0 + 1) % w
    top = img[ya, xa] * (1 - fx) + img[ya, xb] * fx
    bot = img[yb, xa] * (1 - fx) + img[yb, xb] * fx
    out = top * (1 - fy) + bot * fy
    if np.issubdtype(pano.dtype, np.integer):
        out = np.clip(np.round(out), np.iinfo(pano.dtype).min, np.iinfo(pano.dtype).max)
    return out.astype(pano.dtype).reshape(x.shape + pano.shape[2:])


#: largest cube face: its float64 direction grid alone is 1.6 GB at this size
MAX_FACE_SIZE = 8192


def equirect_to_cube(pano: np.ndarray, face_size: int | None = None) -> dict[str, np.ndarray]:
    """Six cube faces (face_size², same dtype/channels) from an equirect panorama."""
    pano = np.asarray(pano)
    if pano.ndim not in (2, 3) or pano.shape[1] != 2 * pano.shape[0]:
        raise ValueError(f"panorama must be an image with width = 2 x height; got {pano.shape}")
    size = int(face_size or pano.shape[0] // 2)
    if not 1 <= size <= MAX_FACE_SIZE:
        raise ValueError(f"cube face size must be 1..{MAX_FACE_SIZE} pixels, got {size}")
    h, w = pano.shape[:2]
    faces = {}
    for name, d in cube_face_directions(size).items():
        x, y = direction_to_equirect(d, w, h)
        faces[name] = sample_equirect(pano, x, y)
    return faces


def _png_bytes(img: np.ndarray) -> bytes:
    import cv2

    a = np.asarray(img)
    if a.ndim == 3 and a.shape[2] == 3:
        a = a[..., ::-1]
    elif a.ndim == 3 and a.shape[2] == 4:
        a = a[..., [2, 1, 0, 3]]
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(a))
    if not ok:
        raise ValueError("could not encode PNG")
    return buf.tobytes()


def export_panorama(pano: np.ndarray | str | Path, out_png: str | Path,
                    face_size: int | None = None) -> list[Path]:
    """Write the equirect PNG and six cube faces `<stem>_<face>.png` beside it."""
    if Path(out_png).suffix.lower() != ".png":
        raise ValueError(f"the panorama is written as PNG: name it .png, got {out_png}")
    if isinstance(pano, (str, Path)):
        from .io.images import load_image_u8

        pano, _alpha = load_image_u8(pano, max_side=None)  # the one image front door
    pano = np.asarray(pano)
    if pano.dtype != np.uint8:
        pano = np.clip(np.round(pano.astype(np.float64) * (255 if pano.max() <= 1.0 else 1)),
                       0, 255).astype(np.uint8)
    out = Path(out_png)
    faces = equirect_to_cube(pano, face_size)
    written = [out]
    write_bytes_atomic(out, _png_bytes(pano))
    for name, img in faces.items():
        p = out.with_name(f"{out.stem}_{name}.png")
        write_bytes_atomic(p, _png_bytes(img))
        written.append(p)
    return written


#: cube faces in the order `equirect_to_cube` returns them
CUBE_FACES = ("front", "right", "back", "left", "up", "down")


def cube_face_paths(out_png: str | Path) -> list[Path]:
    """The six cube-face PNGs `export_panorama` writes beside `out_png`: `<stem>_<face>.png`."""
    out = Path(out_png)
    return [out.with_name(f"{out.stem}_{name}.png") for name in CUBE_FACES]


# --------------------------------------------------------------------- cameras
def bookmark_cameras(world: World, width: int = 1280, height: int = 720) -> list[Camera]:
    """The world's bookmarks as pinhole cameras (named after them), level about the
    world's up axis as the viewer shows them."""
    from .camera import forward_from_yaw_pitch

    cams = []
    for b in world.bookmarks:
        pos = np.asarray(b.position, np.float64)
        c = Camera.look_at(pos, pos + forward_from_yaw_pitch(b.yaw, b.pitch), b.fov_y_deg,
                           width, height, up=world.up_axis)
        c.name = b.name
        cams.append(c)
    return cams


def scene_cameras(world: World, width: int = 1920, height: int = 1080) -> list[Camera]:
    """Cameras to export with the scene, in the exported (baked) frame.

    The photo cameras a reconstruction recorded in `world.meta['cameras']` (their own
    intrinsics; moved with the transform of the layer they came from), else the
    bookmarks at width×height.
    """
    recs = world.meta.get("cameras") if isinstance(world.meta, dict) else None
    if not recs:
        return bookmark_cameras(world, width, height)
    owner = next((lay for lay in world.layers
                  if "reconstruct" in str(lay.source.get("generator", ""))), None)
    m = owner.transform if owner is not None else np.eye(4)
    from .rotations import decompose_similarity

    s, r, t = decompose_similarity(m)
    cams = []
    for i, c in enumerate(recs):
        try:
            if isinstance(c, Camera):
                cam = Camera(c.width, c.height, c.fx, c.fy, c.cx, c.cy, c.R, c.t, c.name)
            else:
                cam = Camera(int(c["width"]), int(c["height"]), float(c["fx"]), float(c["fy"]),
                             float(c["cx"]), float(c["cy"]), c["R"], c["t"], str(c.get("name", "")))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"camera {i + 1} in the scene's metadata is unreadable ({exc})") from None
        # x_cam = Rc x + tc with x = Rᵀ(x' − t)/s; scaling camera coordinates by s keeps the
        # projection, so R' = Rc Rᵀ and t' = s tc − Rc Rᵀ t.
        rc = cam.R @ r.T
        cam.R, cam.t = rc, s * cam.t - rc @ t
        cams.append(cam)
    return cams


def export_cameras(cameras: Sequence[Camera], folder: str | Path,
                   points: np.ndarray | None = None, colors: np.ndarray | None = None) -> list[Path]:
    """COLMAP model (cameras, images, points3D) + cameras.json in `folder`.

    Poses are world-to-camera in the OpenCV convention, the same frame as the scene
    exported beside them. Each camera gets its own PINHOLE intrinsics entry. Written by
    `scene.io.colmap.write_colmap`: text files, or `.bin` when a camera name holds a space
    (names are kept as they are, the same in cameras.json). Returns the files written.
    """
    from .io.colmap import write_colmap

    if not cameras:
        raise ValueError("no cameras to export (add bookmarks or a camera path)")
    out = Path(folder)
    named, js = [], []
    for i, c in enumerate(cameras, start=1):
        name = (c.name or f"view_{i:04d}").strip() or f"view_{i:04d}"
        if not name.lower().endswith((".png", ".jpg", ".jpeg")):
            name += ".png"
        named.append(Camera(c.width, c.height, c.fx, c.fy, c.cx, c.cy, c.R, c.t, name))
        js.append({"id": i, "name": name, "width": c.width, "height": c.height,
                   "fx": c.fx, "fy": c.fy, "cx": c.cx, "cy": c.cy,
                   "world_to_camera": c.world_to_camera().tolist(),
                   "position": c.position.tolist(), "convention": "opencv"})
    written = write_colmap(out, named, points, colors)
    write_bytes_atomic(out / "cameras.json", json.dumps({"cameras": js}, indent=1).encode())
    return [*written, out / "cameras.json"]


def find_panorama(world: World) -> np.ndarray | Path | None:
    """The equirect panorama a world came from, else None: an (H, 2H[, C]) array or a 2:1
    image file found under a '*pano*' key (at any depth) in world.meta, a layer's source
    or its data's meta."""
    def is_equirect_file(p: Path) -> bool:
        from .io.images import image_size

        try:
            w, h = image_size(p)  # header only, through the one image front door
        except SceneFormatError as exc:  # unreadable: not a usable panorama
            log.info("not using %s as the panorama: %s", p, exc)
            return False
        return w == 2 * h

    def search(v: Any, in_pano: bool) -> np.ndarray | Path | None:
        if isinstance(v, dict):
            for k, x in v.items():
                got = search(x, in_pano or "pano" in str(k).lower())
                if got is not None:
                    return got
            return None
        if isinstance(v, (list, tuple)):
            for x in v:
                got = search(x, in_pano)
                if got is not None:
                    return got
            return None
        if not in_pano:
            return None
        if isinstance(v, np.ndarray) and v.ndim in (2, 3) and v.shape[1] == 2 * v.shape[0]:
            return v
        if isinstance(v, (str, Path)) and len(str(v)) < 4096 and Path(v).suffix.lower() in (
                ".png", ".jpg", ".jpeg", ".exr", ".hdr", ".webp", ".tif", ".tiff"):
            p = Path(v)
            return p if p.is_file() and is_equirect_file(p) else None
        return None

    for src in [world.meta] + [lay.source for lay in world.layers] + \
               [lay.data.meta for lay in world.layers]:
        got = search(src, False)
        if got is not None:
            return got
    return None
