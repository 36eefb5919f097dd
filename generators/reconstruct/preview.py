"""Preview images of a reconstruction: the splats rendered from a viewpoint behind the
photo cameras, with each camera's frustum drawn as lines (no GL needed).

A library module (the pipeline imports it; it imports nothing of the pipeline): the docs
image is made by
`python tools/reconstruct_overview.py --photos DIR --out docs/reconstruct-room.png`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from scene.camera import Camera
from scene.gaussians import GaussianCloud

ORBIT_FORWARD = 0.35  # cameras whose mean view direction is shorter than this look inwards


def overview_camera(
    cams: Sequence[Camera], width: int = 960, height: int = 540, back: float = 0.5, up: float = 0.2
) -> Camera:
    """A camera behind and a little above the photo cameras, looking where they look
    (Wander frame, +Y up; `back` and `up` are shares of the cameras' spread).

    Low, so it sees the scene much as the photos did: from 0.9 × the spread up (29 m over
    Sceaux's courtyard) the view was the tops of things no photo saw — floaters over the
    castle, a black band above the sky's seen part — and the castle small in the middle.
    Cameras looking inwards (an orbit round an object: their view directions cancel out)
    are seen from outside the orbit, behind the first camera and above it, looking at the
    point nearest to all their optical axes."""
    pos = np.array([c.position for c in cams], np.float64)
    fwd_all = np.array([c.forward for c in cams], np.float64)
    centre = pos.mean(0)
    spread = max(float(np.ptp(pos, axis=0).max()), 1e-3)
    fwd = fwd_all.mean(0)
    if np.linalg.norm(fwd) >= ORBIT_FORWARD or len(cams) < 3:
        fwd = fwd / max(float(np.linalg.norm(fwd)), 1e-9)
        eye = centre - fwd * back * spread + np.array([0.0, up * spread, 0.0])
        return Camera.look_at(eye, centre + fwd * 1.6 * spread, 70, width, height)
    # the least-squares meeting point of the optical axes: sum (I - d d^T) (x - p) = 0
    eye_m = np.eye(3)[None] - fwd_all[:, :, None] * fwd_all[:, None, :]
    try:
        target = np.linalg.solve(eye_m.sum(0), np.einsum("nij,nj->i", eye_m, pos))
    except np.linalg.LinAlgError:
        target = centre
    if not np.all(np.isfinite(target)) or np.linalg.norm(target - centre) > 2 * spread:
        target = centre
    out = pos[0] - target
    eye = target + out * 1.5 + np.array([0.0, 0.35 * max(float(np.linalg.norm(out)), 1e-3), 0.0])
    return Camera.look_at(eye, target, 70, width, height)


def frustum_corners(c: Camera, depth: float) -> np.ndarray:
    """(5, 3) world points: the camera centre, then its image corners at `depth`
    (top-left, top-right, bottom-right, bottom-left)."""
    corners = np.array([[0, 0], [c.width, 0], [c.width, c.height], [0, c.height]], np.float64)
    rays = np.stack([(corners[:, 0] - c.cx) / c.fx, (corners[:, 1] - c.cy) / c.fy, np.ones(4)], 1)
    return np.vstack([c.position, (rays * depth) @ c.R + c.position])  # camera -> world


FRUSTUM_EDGES = 8  # apex to each corner, and the image rectangle
FACES_PER_FRUSTUM = FRUSTUM_EDGES * 6  # each edge a triangular tube: 6 vertices, 6 triangles


def frusta_apexes(mesh) -> tuple[np.ndarray, np.ndarray] | None:  # noqa: ANN001 - Mesh
    """(apex (N, 3), edge length (N,)) of each camera of a `frusta_mesh` (layer-local), or
    None for any other mesh (or one whose layout is not a whole number of frusta)."""
    meta = mesh.meta if isinstance(mesh.meta, dict) else {}
    n = mesh.n_faces // FACES_PER_FRUSTUM
    if (
        meta.get("what") != "camera frusta"
        or n == 0
        or mesh.n_faces != n * FACES_PER_FRUSTUM
        or mesh.n_vertices != n * FACES_PER_FRUSTUM
    ):
        return None
    v = np.asarray(mesh.vertices, np.float64).reshape(n, FACES_PER_FRUSTUM, 3)
    apex = v[:, 0:3].mean(1)  # the first edge's start ring: around the camera centre
    corner = v[:, 3:6].mean(1)  # ... and its end ring: around the first image corner
    return apex, np.linalg.norm(corner - apex, axis=1)


AT_CAMERA = 0.25  # the eye within this share of a frustum's edge length of its apex


NEAR_FRUSTUM = 3.0  # a frustum whose apex is within this many edge lengths of the eye


def shown_frusta(
    frusta: tuple[np.ndarray, np.ndarray], model: np.ndarray, eye_world: np.ndarray
) -> np.ndarray:
    """(N,) bool: which of a frusta mesh's cameras (`frusta_apexes`: apex (N, 3) layer-local,
    edge length (N,)) are drawn for an eye at `eye_world` (3,), the layer placed by `model`
    (4, 4). The viewer draws these (viewer/mesh_renderer.py), and a click hits only them
    (viewer/picking.py).

    None from one of its cameras (the eye within AT_CAMERA edge lengths of an apex: a
    photo's bookmark shows the photo; its own frustum's edges start at the eye and filled
    the view with a yellow wedge, its neighbours' stood in front of it like bars), else
    every frustum but those near the eye (within NEAR_FRUSTUM edge lengths: walking among
    a reconstruction's cameras, their tubes filled a tenth of the window at 1-2 m and
    walls of yellow beams when turning; seen from farther, an overview, all show)."""
    apex, length = frusta
    eye = (np.linalg.inv(np.asarray(model, np.float64)) @ np.append(eye_world, 1.0))[:3]
    dist = np.linalg.norm(apex - eye, axis=1)
    if (dist < AT_CAMERA * length).any():
        return np.zeros(len(dist), bool)
    return dist >= NEAR_FRUSTUM * length


#: the frusta's tubes are this share of their depth across: at 0.025 a reconstruction's row of
#: drone cameras, seen from behind and above it, stood as a thick yellow fence over the wall
#: it photographed (a trial); at 0.012 they read as lines
TUBE_WIDTH = 0.012


def frusta_mesh(
    cams: Sequence[Camera],
    depth: float,
    width: float | None = None,
    color: tuple[float, float, float] = (1.0, 0.85, 0.15),
):  # noqa: ANN201
    """A `scene.mesh.Mesh` of camera frusta drawn as thin triangular tubes (8 edges per
    camera, top edge red), so any mesh renderer shows them as wireframes."""
    from scene.mesh import Mesh

    w = width if width is not None else depth * TUBE_WIDTH
    verts: list[np.ndarray] = []
    faces: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    edges = [(0, 1), (0, 2), (0, 3), (0, 4), (1, 2), (2, 3), (3, 4), (4, 1)]
    for c in cams:
        p = frustum_corners(c, depth)
        for a, b in edges:
            d = p[b] - p[a]
            n = np.linalg.norm(d)
            if n < 1e-12:
                continue
            d /= n
            u = np.cross(d, [0.0, 1.0, 0.0] if abs(d[1]) < 0.9 else [1.0, 0.0, 0.0])
            u /= np.linalg.norm(u)
            v = np.cross(d, u)
            ring = [w * (np.cos(k) * u + np.sin(k) * v) for k in (0.0, 2.094, 4.189)]
            base = sum(len(x) for x in verts)
            verts.append(np.array([p[a] + r for r in ring] + [p[b] + r for r in ring]))
            f = []
            for k in range(3):
                k2 = (k + 1) % 3
                f += [[base + k, base + k2, base + 3 + k], [base + k2, base + 3 + k2, base + 3 + k]]
            faces.append(np.array(f))
            col = (1.0, 0.25, 0.2) if (a, b) == (1, 2) else color
            cols.append(np.tile(col, (6, 1)))
    if not verts:
        return Mesh(np.zeros((0, 3), np.float32), np.zeros((0, 3), np.int64))
    return Mesh(
        np.concatenate(verts).astype(np.float32),
        np.concatenate(faces).astype(np.int64),
        vertex_colors=np.concatenate(cols).astype(np.float32),
        meta={"generator": "wander.reconstruct", "what": "camera frusta"},
    )


def draw_frusta(
    img: np.ndarray,
    view: Camera,
    cams: Sequence[Camera],
    depth: float,
    color: tuple[int, int, int] = (255, 220, 40),
) -> np.ndarray:
    """Draw each camera's frustum (apex + image rectangle at `depth`) into RGB `img`."""
    import cv2

    out = img.copy()
    for c in cams:
        uv, z = view.project(frustum_corners(c, depth))
        if (z <= 1e-3).any():
            continue
        p = [tuple(int(round(v)) for v in q) for q in uv]
        for k in range(4):
            cv2.line(out, p[0], p[k + 1], color, 1, cv2.LINE_AA)
            cv2.line(out, p[k + 1], p[(k + 1) % 4 + 1], color, 1, cv2.LINE_AA)
        cv2.line(out, p[1], p[2], (255, 80, 80), 2, cv2.LINE_AA)  # top edge marks "up"
    return out


def preview(
    cloud: GaussianCloud, cams: Sequence[Camera], width: int = 960, height: int = 540
) -> np.ndarray:
    """(H, W, 3) uint8 overview render with frusta."""
    from generators.rasterize import render_cloud

    view = overview_camera(cams, width, height)
    img = render_cloud(cloud, view, background=(0.08, 0.08, 0.1))
    spread = max(float(np.ptp(np.array([c.position for c in cams]), axis=0).max()), 1e-3)
    return draw_frusta(img, view, cams, 0.1 * spread)
