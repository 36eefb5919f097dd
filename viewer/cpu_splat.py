"""Splat frames on the CPU: a tile rasteriser with early termination (numba).

Full-quality frames, and moving frames (a cut through the viewer's coarse level: fine
splats from the full payloads, merged ones from the coarse level's, or a grown subset),
with the depth viewer/reproject.py tests the kept frame against.

Why: on a machine without a GPU the GL path runs on Mesa's llvmpipe, which shades every
fragment of every splat's footprint, also behind surfaces that are already opaque: in the
bench room (bench/render.py) a still frame at 1280x720 shades ~50 fragments per pixel, and
even fragments rejected by an early depth test cost two thirds of a shaded one. Composited
front to back per 16x16 tile, as the 3DGS CUDA rasteriser (Kerbl et al. 2023) and gsplat's
`rasterize_to_pixels` do, a pixel stops once its transmittance falls below T_MIN and a
tile once all its pixels have, so the work follows what is visible.

Same semantics as the GL path (shaders/prep.frag, shaders/splat.frag), which it takes its
inputs from: the packed texture payloads (`viewer.renderer.pack_splats`: mean, opacity,
3D covariance, layer slot, antialiased flag; SH coefficients as float16), the layer slots'
model matrices and the back-to-front order of the splats in view. EWA projection with
x/z, y/z clamped to 1.3 tan(fov/2), +0.3 px² low-pass (mip-splatting opacity compensation
for antialiased clouds), footprints cut where opacity·exp(-½ d²) reaches 1/255, alpha
capped at 0.99, SH colour evaluated in the layer's frame and clamped at 0. Pixel centres
at integer + 0.5. The result differs from the GL frame only where a pixel stopped early
(what is left there weighs < T_MIN) and by the GL target's 8-bit rounding at every blend.

The kernels compile on first use (~10 s; `cache=True` keeps them on disk; `warm_up`)
and run on numba's thread pool, which must not run two parallel kernels at once: callers
hold `generators.splat_cpu.KERNEL_LOCK`, as the optimiser does.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time

import numba
import numpy as np
from llvmlite import binding as llvm_binding
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from generators.splat_cpu import KERNEL_LOCK  # the lock; numba's threading layer
from generators.splat_ellipse import row_span
from scene import sh, splatting

log = logging.getLogger(__name__)

TILE = 16
T_MIN = 1e-4  # a pixel stops when its transmittance would fall below this (3DGS)
#: a projected splat's row, one cache line (the compositor reads a tile's splats at
#: scattered rows; seven arrays cost seven cache misses a splat): pixel centre u, v; conic
#: (inverse 2D covariance) a, b, c; opacity; R, G, B; 1 / depth; the squared Mahalanobis
#: radius where alpha ends; the pixel box x0, x1, y0, y1 (x1 < x0: culled); one spare
ATTR = 16
BOX_X0, BOX_X1, BOX_Y0, BOX_Y1 = 11, 12, 13, 14  # attr columns

warm = False  # the kernels are compiled or loaded in this process (`warm_up`)
_HALF = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16).astype(np.float32)
NEAR_CULL = np.float32(splatting.NEAR_CULL)
ALPHA_MIN = np.float32(splatting.ALPHA_MIN)
ALPHA_MAX = np.float32(splatting.ALPHA_MAX)
C0 = np.float32(sh.C0)
C1 = np.float32(sh.C1)
C2 = np.asarray(sh.C2, np.float32)
C3 = np.asarray(sh.C3, np.float32)


#: llvm.prefetch's name for an i8 pointer (typed pointers before LLVM 17)
_PREFETCH = "llvm.prefetch.p0" if llvm_binding.llvm_version_info[0] >= 17 else "llvm.prefetch.p0i8"
PREFETCH_AHEAD = 4  # a tile's splats ahead whose attr rows are fetched into the cache
#: splats ahead whose attr rows the projection fetches for writing (each splat's row is
#: at its place front to back, scattered: a moving frame's 160k-splat cut, 11 -> 8 ms)
PREFETCH_AHEAD_W = 8


def _prefetch_intrinsic(write: int):  # noqa: ANN202
    """A numba intrinsic (arr, row) asking the CPU to fetch row `row` of the 2D array `arr`
    into the cache (llvm.prefetch, kept in all levels; `write`: for writing), without
    waiting for it; a prefetch never faults, whatever the row."""

    @intrinsic
    def prefetch_row(typingctx, arr, row):  # noqa: ANN001, ANN202
        def codegen(context, builder, signature, args):  # noqa: ANN001, ANN202
            aryty = signature.args[0]
            ary = context.make_array(aryty)(context, builder, args[0])
            zero = context.get_constant(types.intp, 0)
            ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1], zero])
            i8p = ir.IntType(8).as_pointer()
            i32 = ir.IntType(32)
            fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
            fn = cgutils.get_or_insert_function(builder.module, fnty, _PREFETCH)
            flags = [ir.Constant(i32, write), ir.Constant(i32, 3), ir.Constant(i32, 1)]
            builder.call(fn, [builder.bitcast(ptr, i8p), *flags])
            return context.get_dummy_value()

        return types.void(arr, types.intp), codegen

    return prefetch_row


#: the compositor reads each tile's splats at scattered rows of attr: fetching a few
#: splats ahead hides the cache misses (10 % of a moving frame's compositing)
_prefetch_row = _prefetch_intrinsic(0)
#: the projection writes each splat at its place front to back, scattered over attr
_prefetch_row_w = _prefetch_intrinsic(1)


@njit(inline="always", fastmath=True)
def _splat(
    i,
    j,
    G,
    C,
    half,
    texels,
    degree,
    models,
    vm,
    view,
    campos,
    fx,
    fy,
    cx,
    cy,
    size,
    lim_x0,
    lim_x1,
    lim_y0,
    lim_y1,
    r2_max,
    op_cap,
    attr,
):  # noqa: ANN001, ANN202
    """`_project`'s work for one splat: splat i of the payloads G, C to row j of attr (see
    ATTR). size: (W, H, dilation, pixel filter) (see `render`); op_cap: the opacity from
    which alpha reaches 1/255 beyond r2_max (no logarithm needed: most of a moving
    frame's splats, whose footprints end at 2 sigma)."""
    w, h = size[0], size[1]
    dil, filt = size[2], size[3]
    attr[j, BOX_X0] = 1.0
    attr[j, BOX_X1] = 0.0  # culled until placed
    g = 3 * i
    slot = int(G[g + 2, 2])
    M = models[slot]
    mx, my, mz = G[g, 0], G[g, 1], G[g, 2]
    px = M[0, 0] * mx + M[0, 1] * my + M[0, 2] * mz + M[0, 3]
    py = M[1, 0] * mx + M[1, 1] * my + M[1, 2] * mz + M[1, 3]
    pz = M[2, 0] * mx + M[2, 1] * my + M[2, 2] * mz + M[2, 3]
    tx = view[0, 0] * px + view[0, 1] * py + view[0, 2] * pz + view[0, 3]
    ty = view[1, 0] * px + view[1, 1] * py + view[1, 2] * pz + view[1, 3]
    tz = view[2, 0] * px + view[2, 1] * py + view[2, 2] * pz + view[2, 3]
    if tz <= NEAR_CULL:
        return
    u = fx * tx / tz + cx
    v = fy * ty / tz + cy
    one, two, lim = np.float32(1.0), np.float32(2.0), np.float32(1.3)
    if abs(two * u / w - one) > lim or abs(two * v / h - one) > lim:
        return
    V = vm[slot]  # camera-from-layer linear part; Sc = V S V^T
    iz = np.float32(1.0) / tz
    txc = tz * min(max(tx * iz, lim_x0), lim_x1)
    tyc = tz * min(max(ty * iz, lim_y0), lim_y1)
    # J (2x3) = [[fx/z, 0, -fx tx/z²], [0, fy/z, -fy ty/z²]]; rows of J V: w0, w1
    j00 = fx * iz
    j02 = -fx * txc * iz * iz
    j11 = fy * iz
    j12 = -fy * tyc * iz * iz
    w00 = j00 * V[0, 0] + j02 * V[2, 0]
    w01 = j00 * V[0, 1] + j02 * V[2, 1]
    w02 = j00 * V[0, 2] + j02 * V[2, 2]
    w10 = j11 * V[1, 0] + j12 * V[2, 0]
    w11 = j11 * V[1, 1] + j12 * V[2, 1]
    w12 = j11 * V[1, 2] + j12 * V[2, 2]
    s00 = G[g + 1, 0]
    s01 = G[g + 1, 1]
    s02 = G[g + 1, 2]
    s11 = G[g + 1, 3]
    s12 = G[g + 2, 0]
    s22 = G[g + 2, 1]
    # cov2d = (J V) S (J V)^T
    u0 = s00 * w00 + s01 * w01 + s02 * w02
    u1 = s01 * w00 + s11 * w01 + s12 * w02
    u2 = s02 * w00 + s12 * w01 + s22 * w02
    v0 = s00 * w10 + s01 * w11 + s02 * w12
    v1 = s01 * w10 + s11 * w11 + s12 * w12
    v2 = s02 * w10 + s12 * w11 + s22 * w12
    a0 = w00 * u0 + w01 * u1 + w02 * u2
    b0 = w10 * u0 + w11 * u1 + w12 * u2
    c_ = w10 * v0 + w11 * v1 + w12 * v2
    a = a0 + dil + filt
    c = c_ + dil + filt
    det = a * c - b0 * b0
    op = G[g, 3]
    if G[g + 2, 3] > 0.5:  # antialiased: compensate the dilation
        det0 = a0 * c_ - b0 * b0
        op *= math.sqrt(max(det0 / max(det, np.float32(1e-12)), np.float32(0.0)))
    elif filt > 0.0:  # a reduced frame's pixel filter keeps the splat's weight
        det0 = (a0 + dil) * (c_ + dil) - b0 * b0
        op *= math.sqrt(max(det0 / max(det, np.float32(1e-12)), np.float32(0.0)))
    if det <= 0.0 or op < ALPHA_MIN:
        return
    r2 = r2_max if op >= op_cap else min(np.float32(2.0) * math.log(op / ALPHA_MIN), r2_max)
    # the pixels whose centres (integer + 0.5) lie in the ellipse's bounding box, at the
    # squared radius the compositor's rows use (r2 + 1e-4, with its 1e-3 px of slack):
    # a box to the pixel edges had a row or column more on each side, whose rows the
    # compositor visited for nothing (a third of a moving frame's rows)
    k2 = r2 + np.float32(1e-4)
    hx = math.sqrt(k2 * a) + np.float32(1e-3)
    hy = math.sqrt(k2 * c) + np.float32(1e-3)
    ctr = np.float32(0.5)
    x0 = max(int(math.ceil(u - hx - ctr)), 0)
    x1 = min(int(math.floor(u + hx - ctr)), int(w) - 1)
    y0 = max(int(math.ceil(v - hy - ctr)), 0)
    y1 = min(int(math.floor(v + hy - ctr)), int(h) - 1)
    if x1 < x0 or y1 < y0:
        return
    attr[j, BOX_X0] = x0
    attr[j, BOX_X1] = x1
    attr[j, BOX_Y0] = y0
    attr[j, BOX_Y1] = y1
    idet = np.float32(1.0) / det
    attr[j, 0] = u
    attr[j, 1] = v
    attr[j, 2] = c * idet
    attr[j, 3] = -b0 * idet
    attr[j, 4] = a * idet
    attr[j, 5] = op
    attr[j, 10] = r2
    attr[j, 9] = iz
    base = 4 * texels * i
    if degree == 0:  # a colour without view dependence: no view direction to work out
        for ch in range(3):
            attr[j, 6 + ch] = max(np.float32(0.5) + C0 * half[C[base + ch]], np.float32(0.0))
        return
    # view direction in the layer's own frame (inverse rotation of the model)
    dx, dy, dz = px - campos[0], py - campos[1], pz - campos[2]
    nrm = math.sqrt(dx * dx + dy * dy + dz * dz)
    nrm = np.float32(1.0) / max(nrm, np.float32(1e-12))
    dx, dy, dz = dx * nrm, dy * nrm, dz * nrm
    lx = M[0, 0] * dx + M[1, 0] * dy + M[2, 0] * dz
    ly = M[0, 1] * dx + M[1, 1] * dy + M[2, 1] * dz
    lz = M[0, 2] * dx + M[1, 2] * dy + M[2, 2] * dz
    nrm = math.sqrt(lx * lx + ly * ly + lz * lz)
    nrm = np.float32(1.0) / max(nrm, np.float32(1e-12))
    x, y, z = lx * nrm, ly * nrm, lz * nrm
    for ch in range(3):
        k = base + ch
        col = np.float32(0.5) + C0 * half[C[k]]
        if degree >= 1:
            col += -C1 * y * half[C[k + 3]] + C1 * z * half[C[k + 6]] - C1 * x * half[C[k + 9]]
        if degree >= 2:
            xx, yy, zz = x * x, y * y, z * z
            col += (
                C2[0] * x * y * half[C[k + 12]]
                + C2[1] * y * z * half[C[k + 15]]
                + C2[2] * (2.0 * zz - xx - yy) * half[C[k + 18]]
                + C2[3] * x * z * half[C[k + 21]]
                + C2[4] * (xx - yy) * half[C[k + 24]]
            )
        if degree >= 3:
            xx, yy, zz = x * x, y * y, z * z
            col += (
                C3[0] * y * (3.0 * xx - yy) * half[C[k + 27]]
                + C3[1] * x * y * z * half[C[k + 30]]
                + C3[2] * y * (4.0 * zz - xx - yy) * half[C[k + 33]]
                + C3[3] * z * (2.0 * zz - 3.0 * xx - 3.0 * yy) * half[C[k + 36]]
                + C3[4] * x * (4.0 * zz - xx - yy) * half[C[k + 39]]
                + C3[5] * z * (xx - yy) * half[C[k + 42]]
                + C3[6] * x * (xx - 3.0 * yy) * half[C[k + 45]]
            )
        attr[j, 6 + ch] = max(col, np.float32(0.0))


@njit(parallel=True, fastmath=True, nogil=True, cache=True)
def _project(
    src,
    dst,
    geom,
    color,
    geom2,
    color2,
    split,
    half,
    texels,
    degree,
    models,
    vm,
    view,
    campos,
    intr,
    size,
    r2_max,
    op_cap,
    attr,
):  # noqa: ANN001, ANN202
    """prep.frag's projection and colour of packed splat i = src[q] (i = q when src is
    empty), written at j = dst[q], its place front to back (dst[q] < 0: not drawn). A whole
    frame passes no src and dst = each splat's place: the payloads are read in memory
    order, the writes scattered (3x faster than reading them in depth order, 1M splats on
    2 cores); a frame of a few of them passes them front to back. Splats i >= split are
    splat i - split of the second payloads (geom2, color2: a coarse level beside the full
    set). vm (slots, 3, 3): view rotation × each slot's linear part. Writes row j of attr
    (ATTR: the pixel centre, conic, opacity, RGB, 1 / depth, the squared Mahalanobis radius
    where alpha ends, the pixel box; x1 < x0: culled)."""
    fx, fy, cx, cy = intr[0], intr[1], intr[2], intr[3]
    w, h = size[0], size[1]
    tanx = np.float32(0.5) * w / fx
    tany = np.float32(0.5) * h / fy
    lim_x0 = -(cx / fx + np.float32(0.3) * tanx)
    lim_x1 = (w - cx) / fx + np.float32(0.3) * tanx
    lim_y0 = -(cy / fy + np.float32(0.3) * tany)
    lim_y1 = (h - cy) / fy + np.float32(0.3) * tany
    # src, geom2 and color2 may be None (numba compiles one variant per case: the None
    # branches vanish; selecting the payloads per splat inside the loop cost 15 % at 1M)
    if geom2 is None and src is None:
        n = dst.shape[0]
        for q in prange(n):
            if q + PREFETCH_AHEAD_W < n:
                _prefetch_row_w(attr, max(dst[q + PREFETCH_AHEAD_W], 0))
            j = dst[q]
            if j >= 0:
                _splat(
                    q, j, geom, color, half, texels, degree, models, vm, view, campos,
                    fx, fy, cx, cy, size, lim_x0, lim_x1, lim_y0, lim_y1, r2_max, op_cap,
                    attr,
                )  # fmt: skip
    elif geom2 is None:
        for q in prange(dst.shape[0]):
            _splat(
                src[q], dst[q], geom, color, half, texels, degree, models, vm, view, campos,
                fx, fy, cx, cy, size, lim_x0, lim_x1, lim_y0, lim_y1, r2_max, op_cap,
                attr,
            )  # fmt: skip
    else:
        n = dst.shape[0]
        for q in prange(n):  # (a cut's places front to back are scattered)
            if q + PREFETCH_AHEAD_W < n:
                _prefetch_row_w(attr, dst[q + PREFETCH_AHEAD_W])
            i = src[q]
            if i < split:
                _splat(
                    i, dst[q], geom, color, half, texels, degree, models, vm, view, campos,
                    fx, fy, cx, cy, size, lim_x0, lim_x1, lim_y0, lim_y1, r2_max, op_cap,
                    attr,
                )  # fmt: skip
            else:
                _splat(
                    i - split, dst[q], geom2, color2, half, texels, degree, models, vm, view,
                    campos, fx, fy, cx, cy, size, lim_x0, lim_x1, lim_y0, lim_y1, r2_max, op_cap,
                    attr,
                )  # fmt: skip


@njit(parallel=True, nogil=True, cache=True)
def _bin_tiles(attr, tw, th, k):  # noqa: ANN001, ANN202
    """Per 16x16 tile (row-major) its splats front to back: (offsets (T+1,), ids (pairs,)
    rows of attr (ATTR), the splats' front-to-back order). The splats are split into `k`
    contiguous shares (k: numba's threads), each counted and listed by its own thread; a
    tile lists the first share's splats, then the second's, so the lists keep attr's order
    (a 200k-splat moving frame on this 2-core machine: 4.4 ms on one thread, 2.7-3.9 ms
    on two)."""
    n = attr.shape[0]
    nt = tw * th
    share = (n + k - 1) // k
    counts = np.zeros((k, nt), np.int64)
    for c in prange(k):
        for j in range(c * share, min(n, (c + 1) * share)):
            x0, x1 = int(attr[j, BOX_X0]), int(attr[j, BOX_X1])
            if x1 < x0:
                continue
            for ty in range(int(attr[j, BOX_Y0]) // TILE, int(attr[j, BOX_Y1]) // TILE + 1):
                row = ty * tw
                for tx in range(x0 // TILE, x1 // TILE + 1):
                    counts[c, row + tx] += 1
    offsets = np.empty(nt + 1, np.int64)
    cursor = np.empty((k, nt), np.int64)
    total = 0
    for t in range(nt):
        offsets[t] = total
        for c in range(k):
            cursor[c, t] = total
            total += counts[c, t]
    offsets[nt] = total
    ids = np.empty(total, np.int32)
    for c in prange(k):
        for j in range(c * share, min(n, (c + 1) * share)):
            x0, x1 = int(attr[j, BOX_X0]), int(attr[j, BOX_X1])
            if x1 < x0:
                continue
            for ty in range(int(attr[j, BOX_Y0]) // TILE, int(attr[j, BOX_Y1]) // TILE + 1):
                row = ty * tw
                for tx in range(x0 // TILE, x1 // TILE + 1):
                    t = row + tx
                    ids[cursor[c, t]] = j
                    cursor[c, t] += 1
    return offsets, ids


@njit(inline="always", fastmath=True)
def _exp_neg(x):  # noqa: ANN001, ANN202
    """exp(x) for x in [-8, 0] (clamped there), relative error < 1.4e-4 (alpha off by under
    a twentieth of an 8-bit level): a degree-4 polynomial of exp(x/8), fitted for least
    relative error on [-1, 0] (near-minimax), raised to the 8th power by squaring. Plain
    multiply-adds, so the pixel loop vectorises (numba has no vector exp without Intel's
    SVML); the loop's speed goes with their number (a degree-7 Taylor polynomial, error
    5e-7, cost a moving frame's compositing 10 % more)."""
    y = max(x, np.float32(-8.0)) * np.float32(0.125)
    p = np.float32(0.025010058656334877)
    p = p * y + np.float32(0.15266506373882294)
    p = p * y + np.float32(0.4948616921901703)
    p = p * y + np.float32(0.9993051886558533)
    p = p * y + np.float32(0.9999838471412659)
    p = p * p
    p = p * p
    return p * p


@njit(parallel=True, fastmath=True, nogil=True, cache=True)
def _raster(tiles, offsets, ids, attr, bg, W, H, t_min, out, dout):  # noqa: ANN001, ANN202
    """Front-to-back compositing per tile into out (H, W, 4) float32, bottom row first
    (a GL texture's layout); alpha 1 (as the GL path's target keeps it). When dout
    (H, W, 2) is given (not None) it gets (sum of w / depth, sum of w), w the compositing weights
    (splat.frag's DEPTH_OUT 2, for viewer/reproject.py). Every splat row
    is evaluated over the tile's 16 columns, masked to the ellipse's span: a fixed trip
    count the compiler turns into SIMD vectors with no branches (four of 4 floats on this
    machine's Zen; evaluating only the span, or one half of the row, measured 15-35 %
    slower: LLVM leaves loops of under 16 trips scalar). The row's cost goes with its
    vector operations (a moving frame of 200k tile-splat pairs: 29 -> 21 ms on 2 cores
    with the exp's polynomial 3 multiply-adds shorter, the blend 3 operations shorter
    and the next splats' rows prefetched)."""
    tw = (W + TILE - 1) // TILE
    nt = offsets.shape[0] - 1
    for q in prange(nt):
        t = tiles[q]
        ty = t // tw
        tx = t - ty * tw
        X0 = tx * TILE
        Y0 = ty * TILE
        X1 = min(W, X0 + TILE) - 1
        Y1 = min(H, Y0 + TILE) - 1
        Tr = np.ones((TILE, TILE), np.float32)
        ar = np.zeros((TILE, TILE), np.float32)
        ag = np.zeros((TILE, TILE), np.float32)
        ab = np.zeros((TILE, TILE), np.float32)
        az = np.zeros((TILE, TILE), np.float32)
        xs = np.empty(TILE, np.float32)
        for lx in range(TILE):
            xs[lx] = np.float32(X0 + lx) + np.float32(0.5)
        row_open = np.zeros(TILE, np.int64)
        for ly in range(Y1 - Y0 + 1):
            row_open[ly] = X1 - X0 + 1
        n_open = (X1 - X0 + 1) * (Y1 - Y0 + 1)
        k_end = offsets[t + 1]
        for k in range(offsets[t], k_end):
            if n_open == 0:
                break
            j = ids[k]
            if k + PREFETCH_AHEAD < k_end:
                _prefetch_row(attr, ids[k + PREFETCH_AHEAD])
            mx = attr[j, 0]
            my = attr[j, 1]
            ca = attr[j, 2]
            cb = attr[j, 3]
            cc = attr[j, 4]
            op = attr[j, 5]
            cr = attr[j, 6]
            cg = attr[j, 7]
            cbl = attr[j, 8]
            cz = attr[j, 9]
            k2 = attr[j, 10] + np.float32(1e-4)
            bx0 = max(X0, int(attr[j, BOX_X0]))
            bx1 = min(X1, int(attr[j, BOX_X1]))
            ha = np.float32(-0.5) * ca
            for py in range(max(Y0, int(attr[j, BOX_Y0])), min(Y1, int(attr[j, BOX_Y1])) + 1):
                ly = py - Y0
                if row_open[ly] == 0:
                    continue
                dy = np.float32(py) + np.float32(0.5) - my
                lo, hi = row_span(ca, cb, cc, k2, mx, dy, bx0, bx1)  # the ellipse's columns
                if hi < lo:
                    continue
                lo -= X0
                hi -= X0
                qy = np.float32(-0.5) * cc * dy * dy
                by = cb * dy
                trow = Tr[ly]
                rrow = ar[ly]
                grow = ag[ly]
                brow = ab[ly]
                zrow = az[ly]
                closed = 0
                for lx in range(TILE):
                    dx = xs[lx] - mx
                    power = dx * (ha * dx - by) + qy  # -q/2, q the Mahalanobis distance²
                    al = min(ALPHA_MAX, op * _exp_neg(power))
                    Tp = trow[lx]
                    live = (lx >= lo) & (lx <= hi) & (al >= ALPHA_MIN)
                    w = al * Tp if live else np.float32(0.0)
                    nT = Tp - w
                    # a pixel stops where this splat would take it below t_min, without it
                    # (3DGS); a pixel already stopped (T 0) stays so, counted once
                    stop = nT < t_min
                    wgt = np.float32(0.0) if stop else w
                    rrow[lx] += wgt * cr
                    grow[lx] += wgt * cg
                    brow[lx] += wgt * cbl
                    if dout is not None:  # None: compiled without it
                        zrow[lx] += wgt * cz
                    trow[lx] = np.float32(0.0) if stop else nT
                    closed += 1 if (stop & (Tp > 0.0)) else 0
                row_open[ly] -= closed
                n_open -= closed
        for py in range(Y0, Y1 + 1):
            ly = py - Y0
            orow = H - 1 - py
            for px in range(X0, X1 + 1):
                lx = px - X0
                Tp = Tr[ly, lx]
                out[orow, px, 0] = ar[ly, lx] + Tp * bg[0]
                out[orow, px, 1] = ag[ly, lx] + Tp * bg[1]
                out[orow, px, 2] = ab[ly, lx] + Tp * bg[2]
                out[orow, px, 3] = 1.0
        if dout is not None:
            for py in range(Y0, Y1 + 1):
                ly = py - Y0
                orow = H - 1 - py
                for px in range(X0, X1 + 1):
                    lx = px - X0
                    dout[orow, px, 0] = az[ly, lx]
                    dout[orow, px, 1] = np.float32(1.0) - Tr[ly, lx]


def _interleaved(nt: int) -> np.ndarray:
    """Tile numbers dealt round-robin to numba's threads (prange gives each a contiguous
    share of the loop): every thread gets tiles from the whole frame, not one band of it
    (a band of sky next to a band of dense wall left one core idle)."""
    k = max(1, numba.get_num_threads())
    return np.concatenate([np.arange(r, nt, k) for r in range(k)]).astype(np.int64)


def render(
    order: np.ndarray,
    geom: np.ndarray,
    color: np.ndarray,
    texels: int,
    degree: int,
    models: np.ndarray,
    view: np.ndarray,
    campos: np.ndarray,
    intrinsics: tuple[float, float, float, float],
    size: tuple[int, int],
    background: tuple[float, float, float] = (0.0, 0.0, 0.0),
    sigma_max: float = 1e3,
    out: np.ndarray | None = None,
    stats: dict | None = None,
    locked: bool = False,
    coarse: tuple[np.ndarray, np.ndarray, int] | None = None,
    depth: np.ndarray | None = None,
    grow: float = 1.0,
    scale: float = 1.0,
    ranks: np.ndarray | None = None,
) -> np.ndarray:
    """One frame of packed splats, composited front to back on the CPU.

    order (M,) uint32: packed splat indices in view, back to front (the GL path's order
    buffer); geom (≥3N, 4) float32 and color (≥texels·N, 4) float16: `pack_splats`'
    payloads (SH `degree` 0-3, `texels` RGBA texels per splat); models (MAX_LAYERS, 4, 4):
    world-from-layer per slot; view (4, 4): world → OpenCV camera (x right, y down, z
    forward); campos (3,) world; intrinsics (fx, fy, cx, cy) px for `size` = (W, H);
    `sigma_max`: footprints end at most this many standard deviations out.
    Returns (H, W, 4) float32 RGBA, bottom row first (GL's row order), unclamped colour over
    `background` (RGB 0..1), alpha 1; `out`, when given, is filled. `stats` gets per-stage
    milliseconds and the (tile, splat) pairs.
    `locked`: the caller holds KERNEL_LOCK (else it is taken here).
    `coarse` = (geom2, color2, split): indices >= split in `order` are splats i - split of
    these payloads (packed alike: the viewer's coarse level, drawn with fine splats in a
    moving frame's cut); split <= the splats in geom. `depth` (H, W, 2) float32, when
    given, gets (sum of w / depth, sum of w) per pixel, bottom row first, w the colour's
    compositing weights (what the GL path's DEPTH_OUT 2 writes for viewer/reproject.py).
    `grow`: every splat's axes scaled by it (prep.frag's u_grow: a frame of a subset
    covering for the splats left out). `scale`: the frame's size as a share of the frame
    it stands for (a reduced moving frame): its low-pass is `splatting.reduced_lowpass`'s
    (prep.frag's u_lowpass). `ranks` (M,) int: when given, `order` lists the splats in any
    order and ranks[q] is order[q]'s place front to back (0 = nearest); given in ascending
    index order, the projection streams through the payloads instead of missing the cache
    at nearly every splat (a moving frame's cut of 200k of 1M splats on this 2-core
    machine: 39-43 -> 27-31 ms).
    Raises ValueError for a non-positive size or a depth array of another size."""
    w, h = int(size[0]), int(size[1])
    if w <= 0 or h <= 0:
        raise ValueError(f"frame size must be positive, got {size}")
    models = np.ascontiguousarray(models, np.float32)
    view = np.ascontiguousarray(view, np.float32)
    if depth is not None and depth.shape != (h, w, 2):
        raise ValueError(f"depth must be ({h}, {w}, 2), got {depth.shape}")
    order = np.asarray(order)
    m = len(order)
    geom2, color2, split = coarse if coarse is not None else (None, None, len(geom) // 3)
    total = int(split) + (len(geom2) // 3 if geom2 is not None else 0)
    if ranks is not None:
        if len(ranks) != m:
            raise ValueError(f"ranks must match order: {len(ranks)} for {m} splats")
        src = np.ascontiguousarray(order, np.int64)
        dst = np.ascontiguousarray(ranks, np.int64)
    elif 4 * m >= total and geom2 is None:  # most splats: memory order, each to its place
        src = None
        dst = np.full(total, -1, np.int64)
        dst[order] = np.arange(m - 1, -1, -1)
    else:  # a few: read them front to back
        src = np.ascontiguousarray(order[::-1], np.int64)
        dst = np.arange(m, dtype=np.int64)
    buf = np.empty(m * ATTR + 16, np.float32)  # rows on 64-byte cache lines
    at = (-buf.ctypes.data % 64) // 4
    attr = buf[at : at + m * ATTR].reshape(m, ATTR)
    if out is None:
        out = np.empty((h, w, 4), np.float32)
    tw, th = (w + TILE - 1) // TILE, (h + TILE - 1) // TILE
    with contextlib.nullcontext() if locked else KERNEL_LOCK:
        t0 = time.perf_counter()
        _project(
            src,
            dst,
            np.asarray(geom, np.float32),
            np.asarray(color).view(np.uint16).reshape(-1),
            None if geom2 is None else np.asarray(geom2, np.float32),
            None if color2 is None else np.asarray(color2).view(np.uint16).reshape(-1),
            int(split),
            _HALF,
            int(texels),
            int(degree),
            models,
            # grow folds into the covariance's projection: (g V) S (g V)^T = g² V S V^T
            np.ascontiguousarray(np.float32(grow) * (view[:3, :3] @ models[:, :3, :3]), np.float32),
            view,
            np.asarray(campos, np.float32),
            np.asarray(intrinsics, np.float32),
            np.array([w, h, *splatting.reduced_lowpass(scale)], np.float32),
            np.float32(min(float(sigma_max) ** 2, 1e30)),
            # alpha = op exp(-r2 / 2) reaches 1/255 beyond r2_max from this opacity on
            np.float32(float(splatting.ALPHA_MIN) * math.exp(min(0.5 * sigma_max**2, 60.0))),
            attr,
        )
        t1 = time.perf_counter()
        offsets, ids = _bin_tiles(attr, tw, th, max(1, numba.get_num_threads()))
        t2 = time.perf_counter()
        _raster(
            _interleaved(tw * th),
            offsets,
            ids,
            attr,
            np.asarray(background, np.float32).reshape(3),
            w,
            h,
            np.float32(T_MIN),
            out,
            depth,
        )
    t3 = time.perf_counter()
    if stats is not None:
        stats.update(
            project_ms=(t1 - t0) * 1e3,
            bin_ms=(t2 - t1) * 1e3,
            raster_ms=(t3 - t2) * 1e3,
            pairs=int(len(ids)),
        )
    return out


def warm_up() -> float:
    """Compile (or load from numba's disk cache) the kernels by rendering an 8-splat,
    32×24 px frame in every variant a real call takes (a whole frame, a few splats, a cut
    through a coarse level with and without depth), and the cut's ordering
    (viewer/cut_order.py) and choice (viewer/lod_cut.py); returns the seconds taken (a fresh
    install: ~30 s; `tools/install.sh` calls it)."""
    global warm
    if warm:  # loaded in this process: nothing to do (and numba's pool is left alone: a
        # renderer's late loader thread ran these frames again, holding KERNEL_LOCK while
        # another renderer's frame found it busy and drew with GL)
        return 0.0
    t0 = time.perf_counter()
    n = 8
    geom = np.zeros((3 * n, 4), np.float32)
    geom[0::3, :2] = np.linspace(-0.1, 0.1, 2 * n, dtype=np.float32).reshape(n, 2)
    geom[0::3, 2] = np.linspace(2.0, 3.5, n, dtype=np.float32)
    geom[0::3, 3] = 0.8
    geom[1::3] = [0.01, 0.0, 0.0, 0.01]  # cxx cxy cxz cyy
    geom[2::3] = [0.0, 0.01, 0.0, 0.0]  # cyz czz slot aa
    color = np.zeros((n, 4), np.float16)
    args = (
        geom,
        color,
        1,
        0,
        np.tile(np.eye(4, dtype=np.float32), (2, 1, 1)),
        np.eye(4),
        np.zeros(3),
        (30.0, 30.0, 16.0, 12.0),
        (32, 24),
    )
    back_to_front = np.arange(n, dtype=np.uint32)[::-1]
    render(back_to_front, *args)  # whole
    render(back_to_front[:1], *args)  # a few
    both = np.arange(2 * n, dtype=np.uint32)[::-1]
    render(both, *args, coarse=(geom, color, n))
    render(both, *args, coarse=(geom, color, n), depth=np.empty((24, 32, 2), np.float32))
    from .cut_order import cut_order  # the moving frames' cut, ordered for these kernels

    means = np.ascontiguousarray(geom[0::3, :3])
    for voxel_means in (None, means):  # memory order, and voxel-ordered centres
        cut_order(
            np.array([0]),
            np.array([0, n]),
            np.arange(n, dtype=np.uint32),
            means,
            [(0, n, np.array([0.0, 0.0, 1.0], np.float32), 0.0)],
            0.01,
            np.zeros(0, np.int64),
            np.zeros(0, np.float32),
            n,
            voxel_means,
        )
    from .lod_cut import tree_cut_compiled  # the cut through the merged levels
    from .sorting import Frustum, layer_depth

    # two top splats over four middle ones over the 8 splats
    tree = np.concatenate([means[:2], means[:4]])
    top = layer_depth(np.eye(4), np.eye(3), np.zeros(3), 0, 2)
    mid = layer_depth(np.eye(4), np.eye(3), np.zeros(3), 2, 6)
    for frustum in (Frustum(-1.0, 1.0, -1.0, 1.0), None):
        tree_cut_compiled(
            tree,
            np.full(6, 0.5, np.float32),
            np.array([0, 0, 0, 2, 4, 6, 8]),
            np.array([2, 4, 6]),
            np.array([-1, -1, 0, 0, 1, 1]),
            [top],
            [mid],
            frustum,
            0.01,
            30.0,
            6,
        )
    warm = True
    return time.perf_counter() - t0
