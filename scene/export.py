"""Export a World (or one layer): what is not a file format.

Whole-scene exports take the visible layers with their transforms baked
(`World.merged_cloud` rotates SH with the objects), then apply the export options (SH
degree to keep, crop to an axis-aligned box, drop near-transparent splats) and hand the
cloud or mesh to `scene.io.save`, the one registry of formats and encoders. Also here:
panoramas (equirect PNG + six cube faces) and cameras (COLMAP model + JSON), both
written through scene.io's atomic helpers.

Every export takes `progress` (scene/progress.py: a `Progress`, a `report(fraction,
message)` callable or None) and reports real progress (baking, then the bytes written);
when it is cancelled it raises `Cancelled` and writes nothing: no file, no temp, any old
file untouched.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .camera import Camera
from .equirect import CUBE_FACES, cube_face_directions, dirs_to_pano_pixels
from .errors import SceneFormatError
from .files import sidecar_path, write_bytes_atomic
from .gaussians import GaussianCloud
from .mesh import Mesh, is_camera_frusta
from .progress import Progress, ProgressFn, as_progress
from .world import Layer, World

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------- options
@dataclass
class ExportOptions:
    """What to keep in an exported cloud.

    sh_degree    SH degree to keep (0-3); None keeps the scene's degree.
    crop         ((x0, y0, z0), (x1, y1, z1)) world-space box; None keeps everything.
    min_opacity  drop splats whose activated opacity (0..1) is below this; 0 keeps all.
    no_far_field drop the far field (`GaussianCloud.near_field_mask`): a reconstruction's sky
                 sphere and backdrop ground hundreds of metres out, which a viewer that
                 frames a file by its bounds shows from outside, as a ball.
    """

    sh_degree: int | None = None
    crop: tuple[Sequence[float], Sequence[float]] | None = None
    min_opacity: float = 0.0
    no_far_field: bool = False

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
    """Crop, drop transparent and non-finite splats, set SH degree. Returns a new cloud, or
    `cloud` itself when the options keep every splat as it is (no copy of a big scene)."""
    opts = options or ExportOptions()
    n = len(cloud)
    keep = np.ones(n, bool)
    for name in ("means", "scales", "quats", "sh0"):
        keep &= np.isfinite(getattr(cloud, name)).all(1)
    keep &= np.isfinite(cloud.opacities)
    for r0 in range(0, n, 65536):  # SH in blocks: no N x K x 3 temporary
        sh = cloud.shN[r0 : r0 + 65536]
        if sh.size:
            keep[r0 : r0 + 65536] &= np.isfinite(sh).reshape(len(sh), -1).all(1)
    if opts.crop is not None:
        lo, hi = opts.crop
        keep &= np.all((cloud.means >= lo) & (cloud.means <= hi), axis=1)
    if opts.min_opacity > 0:
        keep &= cloud.opacity_values() >= opts.min_opacity
    if opts.no_far_field:
        keep &= cloud.near_field_mask()
    out = cloud if keep.all() else cloud.subset(keep)
    if opts.sh_degree is not None and opts.sh_degree != out.sh_degree:
        from .io import with_sh_degree

        out = with_sh_degree(out, opts.sh_degree)
    return out


def scene_cloud(
    world: World,
    layer: str | int | None = None,
    options: ExportOptions | None = None,
    *,
    consume: bool = False,
) -> GaussianCloud:
    """The cloud to export: all visible splat layers baked, or one layer (by name or id).

    One visible splat layer without a transform is used as it is, without a copy: the
    result may share arrays with the layer, so treat it as read-only.
    consume=True: `world` is not used afterwards (the CLI's freshly read project), so
    transforms are baked into the layers' own arrays block by block and several layers
    are joined while each is released: no second copy of the scene. The world's layers
    are left emptied or moved; do not use it again.
    """
    clouds = [lay for lay in world.visible_layers() if isinstance(lay.data, GaussianCloud)]
    if layer is None and len(clouds) == 1 and np.array_equal(clouds[0].transform, np.eye(4)):
        cloud = clouds[0].data
    elif layer is None and consume and len(clouds) == 1:
        cloud = bake_in_place(clouds[0])
    elif layer is None and consume:
        cloud = _join_consumed(clouds)
    elif layer is None and len(clouds) == 1:  # no concatenation copy of the baked layer
        cloud = clouds[0].baked()
    elif layer is None:
        cloud = world.merged_cloud(visible_only=True)
    else:
        lay = find_layer(world, layer)
        if lay.is_mesh:
            raise ValueError(f"layer {lay.name!r} is a mesh; export it as glb or obj")
        cloud = bake_in_place(lay) if consume else lay.baked()
    if len(cloud) == 0:  # e.g. every layer of a damaged project was skipped on load
        raise ValueError("nothing to export: the scene has no visible splat layer")
    out = apply_options(cloud, options)
    if len(out) == 0:
        raise ValueError(
            "nothing to export: no visible splats left after the options "
            "(check --crop / --min-opacity / layer visibility)"
        )
    return out


#: rows baked at a time by `bake_in_place` (a few MB of temporaries for SH degree 3)
BAKE_BLOCK = 16384


def bake_in_place(layer: Layer) -> GaussianCloud:
    """`layer.baked()` without a copy: the transform is applied to the layer's own
    arrays, BAKE_BLOCK rows at a time (each block through `GaussianCloud.transformed`,
    so the values are the same), and the layer's transform becomes the identity.
    Returns the layer's cloud. For a layer nobody else uses (an export from a file)."""
    cloud = layer.data
    if not isinstance(cloud, GaussianCloud):
        raise TypeError(f"layer {layer.name!r} holds no splats")
    m = np.asarray(layer.transform, np.float64)
    if np.allclose(m, np.eye(4)):
        return cloud
    names = ("means", "scales", "quats", "opacities", "sh0", "shN")
    if not all(getattr(cloud, f).flags.writeable for f in names):
        return layer.baked()  # arrays we may not change (a mapped file): a baked copy
    for r0 in range(0, len(cloud), BAKE_BLOCK):
        part = GaussianCloud(*(getattr(cloud, f)[r0 : r0 + BAKE_BLOCK] for f in names))
        moved = part.transformed(m)
        for f in names:
            getattr(cloud, f)[r0 : r0 + BAKE_BLOCK] = getattr(moved, f)
    layer.transform = np.eye(4)
    return cloud


def _join_consumed(layers: Sequence[Layer]) -> GaussianCloud:
    """`World.merged_cloud` of `layers` (same values, SH zero-padded to the highest
    degree, meta of the first), baking each in place and releasing it once it is copied
    into the joined arrays: memory is the result plus the largest layer, not twice the
    scene."""
    if not layers:
        return GaussianCloud.empty()
    from .sh import REST_COEFFS

    deg = max(lay.data.sh_degree for lay in layers)
    k = REST_COEFFS[deg]
    n = sum(len(lay.data) for lay in layers)
    meta = dict(layers[0].data.meta)
    out = {
        "means": np.empty((n, 3), np.float32),
        "scales": np.empty((n, 3), np.float32),
        "quats": np.empty((n, 4), np.float32),
        "opacities": np.empty(n, np.float32),
        "sh0": np.empty((n, 3), np.float32),
        "shN": np.zeros((n, k, 3), np.float32),
    }
    r0 = 0
    for lay in layers:
        c = bake_in_place(lay)
        r1 = r0 + len(c)
        for f, arr in out.items():
            src = getattr(c, f)
            if f == "shN":
                arr[r0:r1, : src.shape[1]] = src
            else:
                arr[r0:r1] = src
        r0 = r1
        lay.data = GaussianCloud.empty(c.sh_degree)  # released: the world is consumed
        del c
    return GaussianCloud(**out, meta=meta)


def content_meshes(world: World) -> list[Layer]:
    """The visible mesh layers that are part of the scene: a reconstruction's photo-camera
    frusta are a guide drawn in the viewport, left out of every export (a GLB of a
    reconstruction held only its camera pyramids)."""
    return [lay for lay in world.visible_layers() if lay.is_mesh and not is_camera_frusta(lay)]


def scene_mesh(world: World, layer: str | int | None = None) -> Mesh:
    """The visible mesh layers of the scene (`content_meshes`) baked and joined, or one
    mesh layer (named, it is exported whatever it is)."""
    if layer is not None:
        lay = find_layer(world, layer)
        if not lay.is_mesh:
            raise ValueError(f"layer {lay.name!r} holds splats; export it as ply, splat or spz")
        layers = [lay]
    else:
        layers = content_meshes(world)
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


def _meshes_only(world: World, layer: str | int | None) -> bool:
    """True when what an export takes (`layer`, else the visible layers) holds meshes and
    no splats."""
    if layer is not None:
        return find_layer(world, layer).is_mesh
    vis = world.visible_layers()
    return any(lay.is_mesh for lay in vis) and not any(
        len(lay.data) for lay in vis if not lay.is_mesh
    )


# -------------------------------------------------------------------- front door
def export_world(
    world: World,
    path: str | Path,
    fmt: str | None = None,
    *,
    layer: str | int | None = None,
    options: ExportOptions | None = None,
    progress: Progress | ProgressFn | None = None,
    consume: bool = False,
    **format_options: Any,
) -> dict:
    """Export the scene (or one layer) to `path`; returns a summary dict.

    Splat formats take the visible splat layers (transforms baked, SH rotated; the summary's
    'meshes_left_out' names the visible mesh layers they cannot hold); mesh formats the
    visible mesh layers ('splats_left_out' counts the splats they cannot hold). The format
    comes from `fmt` or the file name, through the scene.io registry; `format_options` go
    to its writer (e.g. spz `version`, `axes`, `antialiased`). Atomic: a failure leaves any
    old file intact. Raises ValueError for an unknown format or option, or nothing to
    export; `Cancelled` (nothing written) when `progress` is cancelled. consume=True:
    `world` is not used afterwards (see `scene_cloud`): transforms are baked in place,
    without a copy of the scene.
    """
    from . import io as sio

    prog = as_progress(progress)
    bake, write = prog.split([1.0, 3.0])

    try:
        f = sio.output_format(path, fmt)
    except ValueError as exc:
        raise ValueError(f"cannot export {Path(path).name!r}: {exc}") from None
    if f == "ply" and _meshes_only(world, layer):
        f = "mesh_ply"  # PLY holds meshes too: what `convert` writes for a mesh
    if sio.FORMATS[f].kind == "mesh":
        if options is not None and (
            options.crop is not None
            or options.min_opacity
            or options.sh_degree is not None
            or options.no_far_field
        ):
            log.info(
                "export options (SH degree, crop, opacity, far field) apply to splats, not meshes"
            )
        bake.update(0.0, "Baking meshes")
        mesh = scene_mesh(world, layer)
        bake.update(1.0)
        sio.save(mesh, path, f, progress=write, **format_options)
        left = 0
        if layer is None:  # splats a mesh format cannot hold: the caller says so
            left = sum(len(lay.data) for lay in world.visible_layers() if not lay.is_mesh)
        return {
            "format": f,
            "path": str(path),
            "vertices": mesh.n_vertices,
            "faces": mesh.n_faces,
            "splats_left_out": left,
        }
    # named before `consume` empties the world
    meshes = (
        [lay.name for lay in content_meshes(world) if lay.data.n_faces] if layer is None else []
    )
    bake.update(0.0, "Baking the visible layers")
    cloud = scene_cloud(world, layer, options, consume=consume)
    bake.update(1.0)
    sio.save(cloud, path, f, progress=write, **format_options)
    deg = 0 if f == "splat" else cloud.sh_degree
    out = {"format": f, "path": str(path), "splats": len(cloud), "sh_degree": deg}
    if deg < cloud.sh_degree:  # the format holds no SH: the caller says what was dropped
        out["sh_dropped"] = cloud.sh_degree
    if meshes:  # meshes a splat format cannot hold: the caller says so
        out["meshes_left_out"] = meshes
    axes = format_options.get("axes") if f == "spz" else None
    side = write_frame_record(world, path, layer, cloud, spz_axes=axes)
    if side is not None:
        out["frame_record"] = str(side)
        out["frame_record_start"] = start_bookmark(world, layer) is not None
    return out


def _made_by_wander(world: World) -> bool:
    """The world is in Wander's frame: +Y up, in metres (made or opened as Wander's)."""
    if not np.allclose(np.asarray(world.up_axis, np.float64), [0.0, 1.0, 0.0], atol=1e-6):
        return False
    if isinstance(world.meta, dict) and world.meta.get("units") == "m":
        return True
    return any(
        str((getattr(lay.data, "meta", None) or {}).get("generator", "")).startswith("wander.")
        for lay in world.layers
    )


def start_bookmark(world: World, layer: str | int | None = None) -> Any:
    """The view an export's frame record starts at (a Bookmark): the world's first
    bookmark, or None when it has none or one `layer` that is not a world layer (an
    object) is exported alone (it opens framed whole)."""
    if not world.bookmarks:
        return None
    if layer is not None and find_layer(world, layer).kind != "world":
        return None
    return world.bookmarks[0]


def write_frame_record(
    world: World,
    path: str | Path,
    layer: str | int | None = None,
    cloud: GaussianCloud | None = None,
    spz_axes: str | None = None,
) -> Path | None:
    """Beside an exported splat file, its name + `.json` (`scene.spz.json`): that it is
    +Y up in metres and where the scene starts (its first bookmark), as `world` writes for
    its own files, so Wander opens
    the export upright at the same view (an object's base or a far sky sphere is no floor
    to guess the up axis from). No paths or other provenance. Only for a world in Wander's
    frame; returns the file written, or None. An export of one `layer` that is not a world
    layer (an object) gets no start view: opened, it is framed whole (the world's start
    view showed an exported object cut off at the bottom of the frame). `cloud`: the
    splats written; when their last N are marked as the far field (a reconstruction's
    sky), the record says so (`far_field.count`): .spz and .splat have no place for it,
    and without it a converted drone capture opened walking under its terrain.
    `spz_axes`: the frame a .spz was written in; "rub" is recorded (`spz_axes`), so
    Wander reads its own RUB file back upright (`scene.io.spz.read_spz`). A generated
    world's walkable area (`meta['walkable']`) and its estimates (`meta['estimates']`,
    each value and source) go with its start view, and its hidden
    layers' places (`GaussianCloud.hidden_range`: `hidden`) beside a format that keeps
    the splats' order (`scene.io.ORDER_KEEPING`)."""
    if not _made_by_wander(world):
        return None
    rec: dict[str, Any] = {"generator": "wander.export", "units": "m", "up_axis": [0, 1, 0]}
    b = start_bookmark(world, layer)
    if b is not None:
        rec["start"] = {
            "position": [round(float(v), 6) for v in b.position],
            "yaw": round(float(b.yaw), 6),
            "pitch": round(float(b.pitch), 6),
            "fov_y_deg": round(float(b.fov_y_deg), 4),
        }
        fov_x = float(getattr(b, "fov_x_deg", 0.0) or 0.0)
        if fov_x > 0:  # a photo's bookmark frames its photo; 0 is "not set", left out
            rec["start"]["fov_x_deg"] = round(fov_x, 4)
    walk = world.meta.get("walkable") if isinstance(world.meta, dict) else None
    if b is not None and isinstance(walk, dict):
        # where the world holds up (viewer/walk_area.py): the export opened without its
        # ring on the floor or the hint at its rim (a trial)
        rec["walkable"] = {
            k: walk[k] for k in ("centre", "radius", "source", "invented") if k in walk
        }
    est = world.meta.get("estimates") if isinstance(world.meta, dict) else None
    if b is not None and isinstance(est, dict):
        # what a generated world estimated and from what (radius, ceiling, field of view,
        # ...), as `world --out` writes beside its own files: `info` on an export listed none
        scalar = (int, float, str, bool, type(None))
        rec["estimates"] = {
            str(k): {
                f: v[f]
                for f in ("value", "applied", "source")
                if f in v and isinstance(v[f], scalar)
            }
            for k, v in est.items()
            if isinstance(v, dict) and "value" in v and isinstance(v["value"], scalar)
        }
    if cloud is not None and 0 < cloud.far_field_marked() < len(cloud):
        rec["far_field"] = {"count": cloud.far_field_marked()}
    hidden = None if cloud is None else cloud.hidden_range()
    if hidden is not None:
        from .io import ORDER_KEEPING, output_format

        if output_format(path) in ORDER_KEEPING:  # (elsewhere the places are reordered)
            rec["hidden"] = {"start": hidden[0], "count": hidden[1] - hidden[0]}
    if spz_axes == "rub":
        rec["spz_axes"] = "rub"
    side = sidecar_path(path)
    write_bytes_atomic(side, json.dumps(rec, indent=1).encode())
    return side


def write_cloud(
    cloud: GaussianCloud, path: str | Path, fmt: str | None = None, **format_options: Any
) -> None:
    """`scene.io.save` for a cloud (kept for callers of the old exporter)."""
    from . import io as sio

    sio.save(cloud, path, fmt, **format_options)


# ------------------------------------------------------------------- panoramas
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
    for name, d in cube_face_directions(size).items():  # the scene's one equirect mapping
        x, y = dirs_to_pano_pixels(d, h, w)
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


def export_panorama(
    pano: np.ndarray | str | Path,
    out_png: str | Path,
    face_size: int | None = None,
    progress: Progress | ProgressFn | None = None,
) -> list[Path]:
    """Write the equirect PNG and six cube faces `<stem>_<face>.png` beside it.

    Every image is encoded before the first file is written, so a cancel (`Cancelled`
    from `progress`) writes none of them."""
    prog = as_progress(progress)
    prog.update(0.0, "Reading the panorama")
    if Path(out_png).suffix.lower() != ".png":
        raise ValueError(f"the panorama is written as PNG: name it .png, got {out_png}")
    if isinstance(pano, (str, Path)):
        from .io.images import load_image_u8

        pano, _alpha = load_image_u8(pano, max_side=None)  # the one image front door
    pano = np.asarray(pano)
    if pano.dtype != np.uint8:
        pano = np.clip(
            np.round(pano.astype(np.float64) * (255 if pano.max() <= 1.0 else 1)), 0, 255
        ).astype(np.uint8)
    out = Path(out_png)
    prog.update(0.1, "Projecting cube faces")
    faces = equirect_to_cube(pano, face_size)
    prog.update(0.3, f"Encoding {out.name}")
    encoded = [(out, _png_bytes(pano))]
    for i, (name, img) in enumerate(faces.items()):
        prog.update(0.45 + 0.45 * i / len(faces), f"Encoding the {name} face")
        encoded.append((out.with_name(f"{out.stem}_{name}.png"), _png_bytes(img)))
    prog.update(0.9, f"Writing {out.name}")
    prog.raise_if_cancelled()  # last cancel point: nothing written yet
    for p, data in encoded:
        write_bytes_atomic(p, data)
    prog.finish(f"Wrote {out.name}")
    return [p for p, _ in encoded]


#: cube face names in the order `equirect_to_cube` returns them (scene.equirect.CUBE_FACES)
CUBE_FACE_NAMES = tuple(name for name, *_ in CUBE_FACES)


def cube_face_paths(out_png: str | Path) -> list[Path]:
    """The six cube-face PNGs `export_panorama` writes beside `out_png`: `<stem>_<face>.png`."""
    out = Path(out_png)
    return [out.with_name(f"{out.stem}_{name}.png") for name in CUBE_FACE_NAMES]


# --------------------------------------------------------------------- cameras
def bookmark_cameras(world: World, width: int = 1280, height: int = 720) -> list[Camera]:
    """The world's bookmarks as pinhole cameras (named after them), level about the
    world's up axis as the viewer shows them."""
    from .camera import forward_from_yaw_pitch

    cams = []
    for b in world.bookmarks:
        pos = np.asarray(b.position, np.float64)
        c = Camera.look_at(
            pos,
            pos + forward_from_yaw_pitch(b.yaw, b.pitch),
            b.view_fov_y(width / height),  # a photo's view keeps framing the photo
            width,
            height,
            up=world.up_axis,
        )
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
    owner = next(
        (lay for lay in world.layers if "reconstruct" in str(lay.source.get("generator", ""))), None
    )
    m = owner.transform if owner is not None else np.eye(4)
    from .rotations import decompose_similarity

    s, r, t = decompose_similarity(m)
    cams = []
    for i, c in enumerate(recs):
        try:
            cam = Camera.from_record(c)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(
                f"camera {i + 1} in the scene's metadata is unreadable ({exc})"
            ) from None
        if isinstance(c, dict) and isinstance(c.get("colmap_params"), list):
            # the photo's lens (SIMPLE_RADIAL k1 from reconstruct...) travels with it; the
            # similarity below scales camera coordinates, not pixels
            cam.meta.update(
                colmap_model=str(c.get("colmap_model")),
                colmap_params=list(c["colmap_params"]),
                colmap_size=[cam.width, cam.height],
            )
        # x_cam = Rc x + tc with x = Rᵀ(x' − t)/s; scaling camera coordinates by s keeps the
        # projection, so R' = Rc Rᵀ and t' = s tc − Rc Rᵀ t.
        rc = cam.R @ r.T
        cam.R, cam.t = rc, s * cam.t - rc @ t
        cams.append(cam)
    return cams


def image_file_name(name: str, fallback: str) -> str:
    """A camera's image name for a COLMAP model: one plain file name (path separators and
    control characters become '_'; no leading dot; a photo's own name, punctuation and
    any script included, stays as it is so it still matches the photo), ending
    .png/.jpg/.jpeg (else '.png' is added); `fallback` when nothing is left. A bookmark
    named '../../x.png' would send a tool that reads the model outside its images
    folder; a line break breaks images.txt."""
    import re

    clean = re.sub(r"[/\\\x00-\x1f\x7f]", "_", str(name or "")).strip().lstrip(".").strip()
    clean = clean[:120] or fallback
    if not clean.lower().endswith((".png", ".jpg", ".jpeg")):
        clean += ".png"
    return clean


def export_cameras(
    cameras: Sequence[Camera],
    folder: str | Path,
    points: np.ndarray | None = None,
    colors: np.ndarray | None = None,
    progress: Progress | ProgressFn | None = None,
) -> list[Path]:
    """COLMAP model (cameras, images, points3D) + cameras.json in `folder`.

    Poses are world-to-camera in the OpenCV convention, the same frame as the scene
    exported beside them. Each camera gets its own intrinsics entry: PINHOLE, or the
    photo's own lens model (a reconstruction's SIMPLE_RADIAL k1) where it has one
    (`scene.io.colmap.colmap_camera_params`). Written by
    `scene.io.colmap.write_colmap`: text files, or `.bin` when a camera name holds a space.
    Image names are plain, unique file names (`image_file_name`; a photo's own name stays
    as it is), the same in cameras.json. Returns the files written.
    """
    from .io.colmap import write_cameras_json, write_colmap

    if not cameras:
        raise ValueError("no cameras to export (add bookmarks or a camera path)")
    prog = as_progress(progress)
    prog.update(0.0, "Writing cameras")  # small files: cancel is checked before the first
    out = Path(folder)
    named, used = [], set()
    for i, c in enumerate(cameras, start=1):
        name = image_file_name(c.name, f"view_{i:04d}")
        stem, _, ext = name.rpartition(".")
        k = 2
        while name.lower() in used:  # two bookmarks called the same: two images
            name = f"{stem}_{k}.{ext}"
            k += 1
        used.add(name.lower())
        cam = Camera(c.width, c.height, c.fx, c.fy, c.cx, c.cy, c.R, c.t, name)
        cam.meta.update(c.meta)  # a photo's lens, if it has one
        named.append(cam)
    written = write_colmap(out, named, points, colors)
    files = [*written, write_cameras_json(out / "cameras.json", named)]
    prog.finish("Wrote cameras")
    return files


def find_panorama(world: World) -> np.ndarray | Path | None:
    """The equirect panorama a world came from, else None: an (H, 2H[, C]) array or a 2:1
    image file found under a '*pano*' key (at any depth) in world.meta, a layer's source
    or its data's meta.

    A path text that came from an opened project (`world.untrusted_paths`) is never
    followed: a crafted project naming any 2:1 image on the machine had it copied into
    the exported panorama and its cube faces. A panorama stored in the project (its
    array, or its input unpacked into Wander's cache) is found as before."""
    untrusted = frozenset(getattr(world, "untrusted_paths", ()) or ())

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
        if (
            isinstance(v, (str, Path))
            and len(str(v)) < 4096
            and Path(v).suffix.lower()
            in (".png", ".jpg", ".jpeg", ".exr", ".hdr", ".webp", ".tif", ".tiff")
        ):
            if str(v) in untrusted:
                log.info("not following the panorama path %s named by an opened project", v)
                return None
            p = Path(v)
            return p if p.is_file() and is_equirect_file(p) else None
        return None

    for src in (
        [world.meta]
        + [lay.source for lay in world.layers]
        + [lay.data.meta for lay in world.layers]
    ):
        got = search(src, False)
        if got is not None:
            return got
    return None
