"""COLMAP sparse models: cameras / images / points3D as .txt, or .bin via pycolmap.

Cameras travel as PINHOLE models with OpenCV world-to-camera poses (COLMAP's own
convention, so no conversion), or as SIMPLE_RADIAL when a camera carries a radial k1 in
`Camera.meta["k1"]` (the photos as stored still hold their lens distortion). Used to hand
cameras to every 3DGS trainer.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..camera import Camera
from ..errors import SceneFormatError
from ..files import atomic_write

# COLMAP camera models whose first parameters are focal length(s) and principal point
_MODELS = {
    "SIMPLE_PINHOLE": "f",
    "PINHOLE": "ff",
    "SIMPLE_RADIAL": "f",
    "RADIAL": "f",
    "OPENCV": "ff",
    "OPENCV_FISHEYE": "ff",
    "FULL_OPENCV": "ff",
    "SIMPLE_RADIAL_FISHEYE": "f",
    "RADIAL_FISHEYE": "f",
    "THIN_PRISM_FISHEYE": "ff",
    "SIMPLE_FISHEYE": "f",
    "FISHEYE": "ff",
    "FOV": "ff",
    "SIMPLE_DIVISION": "f",
    "DIVISION": "ff",
    "RAD_TAN_THIN_PRISM_FISHEYE": "ff",
}


#: every file a COLMAP model folder may hold, text and binary
_MODEL_FILES = ("cameras", "images", "points3D", "rigs", "frames")
#: their file names: what a folder `write_colmap` wrote may hold
MODEL_FILE_NAMES = frozenset(f"{b}.{e}" for b in _MODEL_FILES for e in ("txt", "bin"))


def import_pycolmap() -> Any:
    """`import pycolmap`, leaving SIGTERM's handler as it was: pycolmap's import installs
    glog's failure handler for it, and a polite kill of the app printed a stack trace
    ("*** Aborted at …", a trial). The handler is put back through the C API's
    PyOS_getsig / PyOS_setsig, which any thread may call (`signal.signal` only the main
    one). Raises ImportError when pycolmap is missing."""
    import sys

    if "pycolmap" in sys.modules:
        return sys.modules["pycolmap"]
    import ctypes
    import signal

    api = ctypes.pythonapi
    api.PyOS_getsig.restype = api.PyOS_setsig.restype = ctypes.c_void_p
    api.PyOS_getsig.argtypes = [ctypes.c_int]
    api.PyOS_setsig.argtypes = [ctypes.c_int, ctypes.c_void_p]
    before = api.PyOS_getsig(int(signal.SIGTERM))
    try:
        import pycolmap
    finally:
        api.PyOS_setsig(int(signal.SIGTERM), before)
    return pycolmap


def _colours_u8(colors: np.ndarray | None, n: int) -> np.ndarray:
    """(n, 3) uint8 from float 0..1 or integer 0..255 colours (by dtype), grey when None."""
    if colors is None:
        return np.full((n, 3), 128, np.uint8)
    c = np.asarray(colors).reshape(-1, 3)
    if len(c) != n:
        raise ValueError(f"{len(c)} colours for {n} points")
    c = np.rint(c.astype(np.float64) * 255) if c.dtype.kind == "f" else c
    return np.clip(c, 0, 255).astype(np.uint8)


def _image_name(cam: Camera, i: int) -> str:
    name = cam.name or f"{i:05d}.png"
    if "\n" in name or "\r" in name or name != name.strip():
        raise ValueError(
            f"COLMAP image names cannot start or end with spaces or hold line breaks: {name!r}"
        )
    return name


def camera_k1(cam: Camera) -> float:
    """The radial distortion k1 (COLMAP SIMPLE_RADIAL / OpenCV `k1`, normalised image
    coordinates, scale-free) a camera carries in `meta["k1"]`; 0.0 for a pinhole camera."""
    try:
        k1 = float(cam.meta.get("k1", 0.0) or 0.0)
    except (TypeError, ValueError):
        raise ValueError(
            f"camera {cam.name!r}: meta['k1'] is not a number: {cam.meta.get('k1')!r}"
        ) from None
    if not np.isfinite(k1):
        raise ValueError(f"camera {cam.name!r}: meta['k1'] is not finite: {k1}")
    return k1


def colmap_camera_params(cam: Camera) -> tuple[str, list[float]]:
    """COLMAP model name and parameters that describe `cam`'s pixels: PINHOLE (fx, fy,
    cx, cy) when k1 = 0; SIMPLE_RADIAL (f, cx, cy, k1) when the focal lengths agree to
    0.5 % (f = their mean); else OPENCV (fx, fy, cx, cy, k1, 0, 0, 0). A camera that
    carries a whole COLMAP lens for its own size (meta "colmap_model", "colmap_params",
    "colmap_size" = [width, height], as `read_colmap` gives) keeps that lens as is."""
    fx, fy, cx, cy = float(cam.fx), float(cam.fy), float(cam.cx), float(cam.cy)
    lens = _kept_lens(cam)
    if lens is not None:
        return lens
    k1 = camera_k1(cam)
    if k1 == 0.0:
        return "PINHOLE", [fx, fy, cx, cy]
    if abs(fx - fy) <= 0.005 * max(fx, fy):
        return "SIMPLE_RADIAL", [0.5 * (fx + fy), cx, cy, k1]
    return "OPENCV", [fx, fy, cx, cy, k1, 0.0, 0.0, 0.0]


def _kept_lens(cam: Camera) -> tuple[str, list[float]] | None:
    model, params, size = (
        cam.meta.get(k) for k in ("colmap_model", "colmap_params", "colmap_size")
    )
    if model is None or params is None or size is None or model in ("PINHOLE", "SIMPLE_PINHOLE"):
        return None
    if [int(v) for v in size] != [int(cam.width), int(cam.height)] or model not in _MODELS:
        return None  # resized since it was read: its pinhole part and k1 describe it
    return str(model), [float(v) for v in params]


def text_safe_names(names: Sequence[str]) -> bool:
    """True when COLMAP's text reader gives every name back unchanged (it splits
    `images.txt` lines on spaces, so a name with whitespace becomes its first word)."""
    return not any(any(ch.isspace() for ch in n) for n in names)


def write_colmap(
    folder: str | Path,
    cameras: Sequence[Camera],
    points: np.ndarray | None = None,
    colors: np.ndarray | None = None,
    visible: Sequence[np.ndarray] | None = None,
    binary: bool | None = None,
) -> list[Path]:
    """Write a COLMAP sparse model into `folder` (created if needed): Wander's one writer.

    cameras: intrinsics in pixels and OpenCV world-to-camera poses (COLMAP's own
    convention); one COLMAP camera per image, PINHOLE, or SIMPLE_RADIAL (OPENCV when fx
    and fy differ) when `meta["k1"]` is non-zero (see `colmap_camera_params`); image names
    are `Camera.name` (else 00001.png...). points (P, 3) world positions; colors (P, 3) RGB,
    float 0..1 or integer 0..255 (scaled by dtype); visible[i] (optional): indices of the
    points seen by cameras[i], written as 2D observations (the projections inside the image)
    and tracks — points seen by no image are dropped when `visible` is given, as COLMAP does.

    binary: True writes `cameras/images/points3D.bin` through pycolmap, False the `.txt`
    files; None (default) writes text unless an image name holds whitespace, which
    COLMAP's text format cannot carry (pycolmap would read "IMG 0001.png" back as "IMG"),
    and then binary. Either way pycolmap and `read_colmap` read the same names back. Files
    of the other format left in `folder` are removed so no reader sees a stale model.
    Each file is replaced atomically. Returns the paths written. Raises ValueError for a
    name that no format keeps (line breaks, leading/trailing spaces) or mismatched arrays.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = [_image_name(c, i) for i, c in enumerate(cameras, start=1)]
    pts = np.zeros((0, 3)) if points is None else np.asarray(points, np.float64).reshape(-1, 3)
    cols = _colours_u8(colors, len(pts))
    if visible is not None and len(visible) != len(cameras):
        raise ValueError(f"{len(visible)} visibility lists for {len(cameras)} cameras")
    # observations: per image a list of (u, v, point index); per point its (image, 2D index)
    obs: list[list[tuple[float, float, int]]] = [[] for _ in cameras]
    tracks: list[list[tuple[int, int]]] = [[] for _ in range(len(pts))]
    if visible is not None and len(pts):
        for i, c in enumerate(cameras):
            vis = np.asarray(visible[i], np.int64).reshape(-1)
            vis = vis[(vis >= 0) & (vis < len(pts))]
            if not len(vis):
                continue
            uv, z = c.project(pts[vis])
            ok = (
                (z > 0)
                & (uv[:, 0] >= 0)
                & (uv[:, 0] < c.width)
                & (uv[:, 1] >= 0)
                & (uv[:, 1] < c.height)
            )
            for pid, (u, v) in zip(vis[ok].tolist(), uv[ok].tolist()):
                tracks[pid].append((i + 1, len(obs[i])))
                obs[i].append((u, v, pid))
    keep = np.ones(len(pts), bool) if visible is None else np.array([bool(t) for t in tracks], bool)
    if binary is None:
        binary = not text_safe_names(names)
    if binary:
        written = _write_binary(folder, cameras, names, pts, cols, obs, tracks, keep)
        stale = [folder / f"{b}.txt" for b in _MODEL_FILES]
    else:
        written = _write_text(folder, cameras, names, pts, cols, obs, tracks, keep)
        stale = [folder / f"{b}.bin" for b in _MODEL_FILES]
    for f in stale:
        f.unlink(missing_ok=True)
    return written


def _write_text(
    folder: Path,
    cameras: Sequence[Camera],
    names: list[str],
    pts: np.ndarray,
    cols: np.ndarray,
    obs: list,
    tracks: list,
    keep: np.ndarray,
) -> list[Path]:
    cam_lines = [
        "# Camera list with one line of data per camera:",
        "#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]",
        f"# Number of cameras: {len(cameras)}",
    ]
    img_lines = [
        "# Image list with two lines of data per image:",
        "#   IMAGE_ID, QW, QX, QY, QZ, TX, TY, TZ, CAMERA_ID, NAME",
        "#   POINTS2D[] as (X, Y, POINT3D_ID)",
        f"# Number of images: {len(cameras)}",
    ]
    for i, (cam, name) in enumerate(zip(cameras, names), start=1):
        model, prm = colmap_camera_params(cam)
        cam_lines.append(
            f"{i} {model} {int(cam.width)} {int(cam.height)} " + " ".join(f"{v!r}" for v in prm)
        )
        q = [float(v) for v in rotation_to_quat(cam.R)]
        t = [float(v) for v in np.asarray(cam.t, np.float64).reshape(3)]
        img_lines.append(
            f"{i} {q[0]!r} {q[1]!r} {q[2]!r} {q[3]!r} {t[0]!r} {t[1]!r} {t[2]!r} {i} {name}"
        )
        img_lines.append(" ".join(f"{u:.3f} {v:.3f} {pid + 1}" for u, v, pid in obs[i - 1]))
    pts_lines = [
        "# 3D point list with one line of data per point:",
        "#   POINT3D_ID, X, Y, Z, R, G, B, ERROR, TRACK[] as (IMAGE_ID, POINT2D_IDX)",
        f"# Number of points: {int(keep.sum())}",
    ]
    for j in np.flatnonzero(keep).tolist():
        x, y, z = pts[j].tolist()
        r, g, b = cols[j].tolist()
        tr = "".join(f" {a} {k}" for a, k in tracks[j])
        pts_lines.append(f"{j + 1} {x!r} {y!r} {z!r} {r} {g} {b} 0{tr}")
    out = []
    for name, lines in (
        ("cameras.txt", cam_lines),
        ("images.txt", img_lines),
        ("points3D.txt", pts_lines),
    ):
        with atomic_write(folder / name) as f:
            f.write(("\n".join(lines) + "\n").encode())
        out.append(folder / name)
    return out


def _write_binary(
    folder: Path,
    cameras: Sequence[Camera],
    names: list[str],
    pts: np.ndarray,
    cols: np.ndarray,
    obs: list,
    tracks: list,
    keep: np.ndarray,
) -> list[Path]:
    try:
        pycolmap = import_pycolmap()
    except ImportError:
        raise ValueError(
            "image names with spaces need the binary COLMAP format, which is "
            "written through pycolmap: pip install pycolmap"
        ) from None
    import os
    import shutil
    import tempfile

    rec = pycolmap.Reconstruction()
    for i, (cam, name) in enumerate(zip(cameras, names), start=1):
        model, prm = colmap_camera_params(cam)
        rec.add_camera_with_trivial_rig(
            pycolmap.Camera(
                model=model, width=int(cam.width), height=int(cam.height), params=prm, camera_id=i
            )
        )
        im = pycolmap.Image(name=name, camera_id=i, image_id=i)
        im.points2D = pycolmap.Point2DList(
            [pycolmap.Point2D(np.array([u, v], np.float64)) for u, v, _ in obs[i - 1]]
        )
        pose = pycolmap.Rigid3d(
            pycolmap.Rotation3d(np.asarray(cam.R, np.float64).reshape(3, 3)),
            np.asarray(cam.t, np.float64).reshape(3),
        )
        rec.add_image_with_trivial_frame(im, pose)
    for j in np.flatnonzero(keep).tolist():
        tr = pycolmap.Track()
        for a, k in tracks[j]:
            tr.add_element(a, k)
        rec.add_point3D(pts[j], tr, cols[j])
    tmp = Path(tempfile.mkdtemp(prefix=".colmap-", dir=folder))
    try:
        rec.write(str(tmp))
        out = []
        for f in sorted(tmp.iterdir()):
            os.replace(f, folder / f.name)
            out.append(folder / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def write_colmap_text(
    folder: str | Path,
    cameras: Sequence[Camera],
    points: np.ndarray | None = None,
    colors: np.ndarray | None = None,
) -> None:
    """`write_colmap` with text preferred (binary only when an image name holds
    whitespace); kept for callers of the earlier name."""
    write_colmap(folder, cameras, points, colors)


def rotation_to_quat(r: np.ndarray) -> np.ndarray:
    """3×3 rotation -> unit quaternion (w, x, y, z), w >= 0, in float64 (COLMAP precision)."""
    m = np.asarray(r, np.float64).reshape(3, 3)
    # eigenvector of the symmetric 4×4 K matrix (Bar-Itzhack): robust for any rotation
    k = (
        np.array(
            [
                [
                    m[0, 0] - m[1, 1] - m[2, 2],
                    m[1, 0] + m[0, 1],
                    m[2, 0] + m[0, 2],
                    m[2, 1] - m[1, 2],
                ],
                [
                    m[1, 0] + m[0, 1],
                    m[1, 1] - m[0, 0] - m[2, 2],
                    m[2, 1] + m[1, 2],
                    m[0, 2] - m[2, 0],
                ],
                [
                    m[2, 0] + m[0, 2],
                    m[2, 1] + m[1, 2],
                    m[2, 2] - m[0, 0] - m[1, 1],
                    m[1, 0] - m[0, 1],
                ],
                [
                    m[2, 1] - m[1, 2],
                    m[0, 2] - m[2, 0],
                    m[1, 0] - m[0, 1],
                    m[0, 0] + m[1, 1] + m[2, 2],
                ],
            ]
        )
        / 3.0
    )
    w, v = np.linalg.eigh(k)
    x, y, z, qw = v[:, np.argmax(w)]
    q = np.array([qw, x, y, z])
    return q if qw >= 0 else -q


def quat_to_rotation(q: np.ndarray) -> np.ndarray:
    """Quaternion (w, x, y, z) -> 3×3 rotation in float64."""
    w, x, y, z = np.asarray(q, np.float64) / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


def read_colmap(folder: str | Path) -> tuple[list[Camera], np.ndarray, np.ndarray]:
    """Read a COLMAP model (text, or binary through pycolmap) from `folder`.

    Returns (cameras, points (P, 3) float64, colours (P, 3) float32 in 0..1). Each camera
    is the pinhole part of its lens; the lens is recorded in its meta: "colmap_model",
    "colmap_params" (all parameters, COLMAP's order), "colmap_size" ([w, h] they are for)
    and, for the
    radial models (SIMPLE_RADIAL, RADIAL, OPENCV, FULL_OPENCV), "k1". Callers that compare
    with the stored photos must undo the distortion first.
    """
    folder = Path(folder)
    kind = colmap_model_kind(folder)
    if kind == "text":
        return _read_text(folder)
    if kind == "binary":
        return _read_binary(folder)
    raise SceneFormatError(folder, "no COLMAP model here (cameras + images .txt or .bin)")


def colmap_model_kind(folder: str | Path) -> str | None:
    """ "text" or "binary" for the COLMAP model in `folder` (cameras + images, .txt first),
    None when there is none."""
    folder = Path(folder)
    for ext, kind in (("txt", "text"), ("bin", "binary")):
        if (folder / f"cameras.{ext}").exists() and (folder / f"images.{ext}").exists():
            return kind
    return None


def _data_lines(path: Path) -> list[list[str]]:
    try:
        text = path.read_text(errors="strict")
    except (OSError, UnicodeDecodeError) as exc:
        raise SceneFormatError(path, f"cannot read: {exc}") from None
    return [
        ln.split() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")
    ]


def _intrinsics(path: Path, model: str, params: list[float]) -> tuple[float, float, float, float]:
    kind = _MODELS.get(model)
    if kind is None:
        raise SceneFormatError(path, f"unsupported COLMAP camera model {model}")
    if kind == "f":
        if len(params) < 3:
            raise SceneFormatError(path, f"{model} needs at least 3 parameters")
        return params[0], params[0], params[1], params[2]
    if len(params) < 4:
        raise SceneFormatError(path, f"{model} needs at least 4 parameters")
    return params[0], params[1], params[2], params[3]


#: the index of the radial k1 among the parameters of the Brown-Conrady models
_K1_INDEX = {"SIMPLE_RADIAL": 3, "RADIAL": 3, "OPENCV": 4, "FULL_OPENCV": 4}


def _lens_meta(model: str, params: list[float], width: int, height: int) -> dict:
    meta: dict = {
        "colmap_model": model,
        "colmap_params": [float(v) for v in params],
        "colmap_size": [int(width), int(height)],
    }
    k = _K1_INDEX.get(model)
    if k is not None and len(params) > k:
        meta["k1"] = float(params[k])
    return meta


def _read_text(folder: Path) -> tuple[list[Camera], np.ndarray, np.ndarray]:
    intr: dict[int, tuple[str, int, int, tuple[float, float, float, float]]] = {}
    lens: dict[int, dict] = {}
    cpath = folder / "cameras.txt"
    try:
        for w in _data_lines(cpath):
            params = [float(x) for x in w[4:]]
            intr[int(w[0])] = (w[1], int(w[2]), int(w[3]), _intrinsics(cpath, w[1], params))
            lens[int(w[0])] = _lens_meta(w[1], params, int(w[2]), int(w[3]))
    except (ValueError, IndexError):
        raise SceneFormatError(cpath, "malformed camera line") from None
    ipath = folder / "images.txt"
    cams: list[Camera] = []
    try:
        text = ipath.read_text(errors="replace").splitlines()
    except OSError as exc:
        raise SceneFormatError(ipath, f"cannot read: {exc}") from None
    lines = [ln for ln in text if not ln.lstrip().startswith("#")]
    # images.txt has two lines per image: the pose, then the (possibly empty) 2D points
    for k in range(0, len(lines) - 1 + (len(lines) % 2), 2):
        w = lines[k].split()
        if not w:
            continue
        try:
            image_id = int(w[0])
            qw, qx, qy, qz, tx, ty, tz = (float(x) for x in w[1:8])
            cid, name = int(w[8]), " ".join(w[9:])
        except (ValueError, IndexError):
            raise SceneFormatError(ipath, f"malformed image line {lines[k]!r}") from None
        if cid not in intr:
            raise SceneFormatError(ipath, f"image {name} uses unknown camera {cid}")
        model, wd, ht, (fx, fy, cx, cy) = intr[cid]
        r = quat_to_rotation(np.array([qw, qx, qy, qz]))
        cams.append(
            Camera(
                wd, ht, fx, fy, cx, cy, r, [tx, ty, tz], name, {**lens[cid], "image_id": image_id}
            )
        )
    pts, cols = np.zeros((0, 3)), np.zeros((0, 3), np.float32)
    ppath = folder / "points3D.txt"
    if ppath.exists():
        rows = _data_lines(ppath)
        try:
            arr = np.array([[float(x) for x in w[1:7]] for w in rows], np.float64).reshape(-1, 6)
        except ValueError:
            raise SceneFormatError(ppath, "malformed point line") from None
        pts, cols = arr[:, :3], (arr[:, 3:6] / 255.0).astype(np.float32)
    return cams, pts, cols


def _read_binary(folder: Path) -> tuple[list[Camera], np.ndarray, np.ndarray]:
    try:
        pycolmap = import_pycolmap()
    except ImportError:
        raise SceneFormatError(
            folder, "binary COLMAP models need pycolmap: pip install pycolmap"
        ) from None
    try:
        rec = pycolmap.Reconstruction(str(folder))
    except Exception as exc:
        raise SceneFormatError(folder, f"cannot read binary COLMAP model: {exc}") from None
    cams: list[Camera] = []
    for image_id in sorted(rec.images):
        img = rec.images[image_id]
        cam = rec.cameras[img.camera_id]
        model = cam.model.name if hasattr(cam.model, "name") else str(cam.model)
        params = list(map(float, cam.params))
        fx, fy, cx, cy = _intrinsics(folder, model, params)
        pose = img.cam_from_world() if callable(img.cam_from_world) else img.cam_from_world
        m = np.asarray(pose.matrix(), np.float64)
        cams.append(
            Camera(
                cam.width,
                cam.height,
                fx,
                fy,
                cx,
                cy,
                m[:, :3],
                m[:, 3],
                img.name,
                {**_lens_meta(model, params, cam.width, cam.height), "image_id": int(image_id)},
            )
        )
    pts = np.array([p.xyz for p in rec.points3D.values()], np.float64).reshape(-1, 3)
    cols = np.array([p.color for p in rec.points3D.values()], np.float32).reshape(-1, 3) / 255.0
    return cams, pts, cols


def write_cameras_json(path: str | Path, cameras: Sequence[Camera]) -> Path:
    """Wander's `cameras.json` (atomic): {"cameras": [{id, name, width, height, fx, fy, cx,
    cy, world_to_camera (4x4), position, convention: "opencv"}]}, ids from 1 in order, the
    same names as the COLMAP model written beside it. Returns `path`."""
    import json

    js = [
        {
            "id": i,
            "name": c.name,
            "width": c.width,
            "height": c.height,
            "fx": c.fx,
            "fy": c.fy,
            "cx": c.cx,
            "cy": c.cy,
            "world_to_camera": c.world_to_camera().tolist(),
            "position": c.position.tolist(),
            "convention": "opencv",
        }
        for i, c in enumerate(cameras, start=1)
    ]
    with atomic_write(path) as f:
        f.write(json.dumps({"cameras": js}, indent=1).encode())
    return Path(path)
