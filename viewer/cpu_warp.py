"""The kept frame's reprojection drawn on the CPU (numba), where frames are composited on
the CPU (viewer/cpu_splat.py on a software GL).

`FrameReprojector` (viewer/reproject.py) moves the last full-quality frame to the moving
camera as a mesh: one vertex per depth-grid texel, textured with the frame's colour. On
llvmpipe that draw took 12-40 ms a frame at half the window's size (every fragment of a
textured mesh with a depth texture lookup), most of a moving frame's budget for the first
half second of every walk. Here the same mesh is rasterised on the CPU into a buffer of
the moving frame's scaled-up colour, with the same rules as shaders/reproject.frag:

- triangles projected with the current camera (pinhole, pixel centres at integer + 0.5),
  perspective-correct texture coordinates, the nearest surface kept (a depth buffer);
  a triangle with a corner behind the near plane is left out (GL clips it);
- left out where the moving frame under it holds something clearly nearer: its inverse
  depth (sum of w / depth over sum of w, `SplatRenderer.draw(with_depth=True)`) over
  `nearer` × the reprojected surface's, where its coverage is over one half;
- the kept colour sampled bilinearly (clamped at its edges), blended at `alpha`, faded
  over the kept frame's outermost `feather` share of each side.

At 640x360 (1280x720 at half size) with the 160x90-texel mesh of `warp_mesh` this takes
~9 ms on this 2-core machine: rasterising 4.4, sample places and weights 1.1, the colour
sampled by cv2.remap 1.4, blending 1.8. The numba kernels run on the calling thread (no
numba thread pool: no lock to take); `warm_up` compiles them (numba's disk cache keeps
them) and the reprojection takes this path only once they are warm (`warm`), else GL
draws it.
"""

from __future__ import annotations

import time

import cv2
import numpy as np
from numba import njit

warm = False  # the kernels are compiled or loaded in this process (`warm_up`)


@njit(cache=True, nogil=True)
def _raster(points, uv, index, count, rot, trans, fx, fy, cx, cy, near, q_buf, uv_buf):  # noqa: ANN001, ANN202
    """Rasterise triangles index[:count] (vertex numbers into points (V, 3), the kept
    camera's space, and uv (V, 2)) seen by the camera x' = rot @ x + trans, intrinsics
    fx, fy, cx, cy (OpenCV: y down), into q_buf (h, w) inverse depth (0: nothing; the
    largest wins) and uv_buf (h, w, 2), both top row first. Each vertex is projected once
    (a grid mesh shares it among six triangles); edge functions step along the rows."""
    h, w = q_buf.shape
    nv = points.shape[0]
    vx = np.empty(nv, np.float64)
    vy = np.empty(nv, np.float64)
    vq = np.empty(nv, np.float64)
    vu = np.empty(nv, np.float64)  # u / z and v / z: interpolated linearly on screen
    vv = np.empty(nv, np.float64)
    for i in range(nv):
        p0, p1, p2 = points[i, 0], points[i, 1], points[i, 2]
        z = rot[2, 0] * p0 + rot[2, 1] * p1 + rot[2, 2] * p2 + trans[2]
        if not z > near:
            vq[i] = -1.0  # behind the near plane: its triangles are left out
            continue
        q = 1.0 / z
        vx[i] = fx * (rot[0, 0] * p0 + rot[0, 1] * p1 + rot[0, 2] * p2 + trans[0]) * q + cx
        vy[i] = fy * (rot[1, 0] * p0 + rot[1, 1] * p1 + rot[1, 2] * p2 + trans[1]) * q + cy
        vq[i] = q
        vu[i] = uv[i, 0] * q
        vv[i] = uv[i, 1] * q
    for t in range(count // 3):
        ia, ib, ic = index[3 * t], index[3 * t + 1], index[3 * t + 2]
        if vq[ia] < 0.0 or vq[ib] < 0.0 or vq[ic] < 0.0:
            continue
        ax, ay, bx, by, qx, qy = vx[ia], vy[ia], vx[ib], vy[ib], vx[ic], vy[ic]
        area = (bx - ax) * (qy - ay) - (qx - ax) * (by - ay)
        if abs(area) < 1e-12:
            continue
        inv = 1.0 / area
        x0 = max(0, int(np.floor(min(ax, bx, qx) - 0.5)))
        x1 = min(w - 1, int(np.ceil(max(ax, bx, qx) - 0.5)))
        y0 = max(0, int(np.floor(min(ay, by, qy) - 0.5)))
        y1 = min(h - 1, int(np.ceil(max(ay, by, qy) - 0.5)))
        if x1 < x0 or y1 < y0:
            continue
        # barycentric weights of a, b, c as affine functions of the pixel centre
        da_x, da_y = (by - qy) * inv, (qx - bx) * inv
        db_x, db_y = (qy - ay) * inv, (ax - qx) * inv
        da_0 = (bx * qy - qx * by) * inv
        db_0 = (qx * ay - ax * qy) * inv
        qa, qb, qc = vq[ia], vq[ib], vq[ic]
        ua, ub, uc = vu[ia], vu[ib], vu[ic]
        wa, wb, wc = vv[ia], vv[ib], vv[ic]
        for py in range(y0, y1 + 1):
            cyp = py + 0.5
            cxp = x0 + 0.5
            b0 = da_0 + da_x * cxp + da_y * cyp
            b1 = db_0 + db_x * cxp + db_y * cyp
            for px in range(x0, x1 + 1):
                b2 = 1.0 - b0 - b1
                if b0 >= -1e-9 and b1 >= -1e-9 and b2 >= -1e-9:
                    q = b0 * qa + b1 * qb + b2 * qc
                    if q > q_buf[py, px]:
                        q_buf[py, px] = q
                        uv_buf[py, px, 0] = (b0 * ua + b1 * ub + b2 * uc) / q
                        uv_buf[py, px, 1] = (b0 * wa + b1 * wb + b2 * wc) / q
                b0 += da_x
                b1 += db_x


@njit(cache=True, nogil=True)
def _sample_places(
    q_buf, uv_buf, kw, kh, mdepth, nearer, alpha, feather_u, feather_v, map_x, map_y, a_out
):  # noqa: ANN001, ANN202
    """Per pixel of the rasterised mesh (q_buf (h, w), uv_buf (h, w, 2), top row first):
    where to sample the kept colour (kw × kh texels, bottom row first), map_x / map_y
    (h, w) float32 in texels, and its blending weight a_out (h, w) float32 (0: not drawn),
    all bottom row first; mdepth (sh, sw, 2) float32 bottom row first, the moving frame's
    (sum of w / depth, sum of w), or (0, 0, 2): none."""
    h, w = q_buf.shape
    sh, sw = mdepth.shape[0], mdepth.shape[1]
    one = np.float32(1.0)
    zero = np.float32(0.0)
    mxs = np.empty(w, np.int64)  # the moving frame's texel under each column
    for x in range(w):
        mxs[x] = min(int((x + 0.5) * sw / w), sw - 1) if sw > 0 else 0
    for y in range(h):
        row = h - 1 - y
        my = min(int((row + 0.5) * sh / h), sh - 1) if sh > 0 else 0
        for x in range(w):
            q = q_buf[y, x]
            u = uv_buf[y, x, 0]
            v = uv_buf[y, x, 1]
            a = zero
            if q > zero:
                e = min(min(u, one - u) * feather_u, min(v, one - v) * feather_v)
                a = alpha * min(max(e, zero), one)
                if sh > 0:
                    mg = mdepth[my, mxs[x], 1]
                    if mg > np.float32(0.5) and mdepth[my, mxs[x], 0] > nearer * q * mg:
                        a = zero
            a_out[row, x] = a
            map_x[row, x] = u * kw - np.float32(0.5)
            map_y[row, x] = v * kh - np.float32(0.5)


@njit(cache=True, nogil=True)
def _blend(src, a_buf, out):  # noqa: ANN001, ANN202
    """out = src · a + out · (1 − a) per pixel, (h, w, 4) uint8 each, rounded."""
    h, w = a_buf.shape
    for y in range(h):
        for x in range(w):
            a = a_buf[y, x]
            if a <= np.float32(0.0):
                continue
            b = np.float32(1.0) - a
            for c in range(4):
                val = np.float32(src[y, x, c]) * a + np.float32(out[y, x, c]) * b
                out[y, x, c] = np.uint8(min(val + np.float32(0.5), np.float32(255.0)))


def warp_onto(
    out: np.ndarray,
    points: np.ndarray,
    uv: np.ndarray,
    index: np.ndarray,
    count: int,
    rel: np.ndarray,
    intrinsics: tuple[float, float, float, float],
    color: np.ndarray,
    moving_depth: np.ndarray | None,
    *,
    nearer: float,
    alpha: float,
    feather: tuple[float, float],
    near: float,
) -> None:
    """Draw the kept frame's mesh over `out` in place, as `FrameReprojector.draw` draws it
    with GL.

    out (h, w, 4) uint8 RGBA, bottom row first: the moving frame at the size it is drawn
    over; points (V, 3) float32 the mesh's vertices in the kept camera's space (OpenCV
    axes, metres), uv (V, 2) float32 their places in `color` (bottom row first), index
    (≥ count,) uint32 its triangles, the first `count` indices drawn; rel (4, 4) the kept
    camera's space to the current one's; intrinsics (fx, fy, cx, cy) px of the current
    camera at w × h; color (kh, kw, 4) uint8 the kept frame, bottom row first;
    moving_depth (sh, sw, 2) float32, bottom row first, the moving frame's (sum of
    w / depth, sum of w), or None; nearer, alpha, feather (1 / the faded border's width
    in texture units, each way) and near (metres) as reproject.py's NEARER, `opacity`,
    FEATHER and NEAR. Raises ValueError for arrays of the wrong shape or type."""
    if out.ndim != 3 or out.shape[2] != 4 or out.dtype != np.uint8:
        raise ValueError(f"out must be (h, w, 4) uint8, got {out.shape} {out.dtype}")
    if color.ndim != 3 or color.shape[2] != 4 or color.dtype != np.uint8:
        raise ValueError(f"color must be (kh, kw, 4) uint8, got {color.shape} {color.dtype}")
    h, w = out.shape[:2]
    q_buf = np.zeros((h, w), np.float32)
    uv_buf = np.zeros((h, w, 2), np.float32)
    rel = np.asarray(rel, np.float64)
    fx, fy, cx, cy = (float(v) for v in intrinsics)
    _raster(
        np.ascontiguousarray(points, np.float32),
        np.ascontiguousarray(uv, np.float32),
        np.ascontiguousarray(index, np.uint32),
        int(min(count, len(index))),
        np.ascontiguousarray(rel[:3, :3]),
        np.ascontiguousarray(rel[:3, 3]),
        fx,
        fy,
        cx,
        cy,
        float(near),
        q_buf,
        uv_buf,
    )
    md = (
        np.zeros((0, 0, 2), np.float32)
        if moving_depth is None
        else np.ascontiguousarray(moving_depth, np.float32)
    )
    kh, kw = color.shape[:2]
    map_x = np.empty((h, w), np.float32)
    map_y = np.empty((h, w), np.float32)
    a_buf = np.empty((h, w), np.float32)
    _sample_places(
        q_buf,
        uv_buf,
        np.float32(kw),
        np.float32(kh),
        md,
        np.float32(nearer),
        np.float32(alpha),
        np.float32(feather[0]),
        np.float32(feather[1]),
        map_x,
        map_y,
        a_buf,
    )
    # the kept colour sampled bilinearly (as GL's linear texture, clamped at its edges)
    src = cv2.remap(color, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    _blend(src, a_buf, out)


def warm_up() -> float:
    """Compile (or load from numba's cache) the kernels on a tiny mesh; returns seconds."""
    global warm
    t0 = time.perf_counter()
    out = np.zeros((4, 4, 4), np.uint8)
    pts = np.array([[-1, -1, 2], [1, -1, 2], [-1, 1, 2]], np.float32)
    uv = np.array([[0, 1], [1, 1], [0, 0]], np.float32)
    warp_onto(
        out,
        pts,
        uv,
        np.arange(3, dtype=np.uint32),
        3,
        np.eye(4),
        (2.0, 2.0, 2.0, 2.0),
        np.full((2, 2, 4), 255, np.uint8),
        np.zeros((2, 2, 2), np.float32),
        nearer=1.15,
        alpha=1.0,
        feather=(50.0, 50.0),
        near=0.02,
    )
    warm = True
    return time.perf_counter() - t0
