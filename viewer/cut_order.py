"""A moving frame's cut put in order, compiled (numba): the CPU frames' twin of the numpy
steps in `SplatRenderer._cut_order`.

Given the merged splats kept and those expanded into their fine splats (sorting.lod_cut),
it lists the fine splats, takes their depths, and sorts everything back to front by the
same 16-bit depth keys as `sorting.depth_keys_u16` with a stable counting sort (what
numpy's radix sort of uint16 keys does), equal keys in full-set order as a full frame's
sort leaves them. In numpy these were a dozen passes over arrays of the cut's size, with
fancy indexing and two sorts: 6-11 ms a frame for a 200k-splat cut of bench/render.py's
1M room on this 2-core machine, a quarter of the moving frame's budget; compiled, ~4.5 ms.

The fine splats are listed voxel by voxel when the payloads were copied in that order
(`renderer.pack_lod(voxel_order=True)`): the CPU compositor then reads each expanded
voxel's splats as one run. Otherwise they are listed in memory order (a mask's scan).

The kernel compiles with the CPU compositor's (`cpu_splat.warm_up`), and the renderer
calls it only once those are loaded; before that the numpy steps run.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .sorting import depth_keys_u16

KEYS = 65536  # 16-bit depth keys, as sorting.depth_keys_u16


@njit(cache=True, nogil=True)
def _cut_order(
    expand,
    child_start,
    children,
    means,
    by_place,
    lay_start,
    lay_stop,
    lay_w,
    lay_b,
    near,
    keep,
    keep_depth,
    split,
):  # noqa: ANN001, ANN202
    cap = keep.shape[0]
    for c in expand:
        cap += child_start[c + 1] - child_start[c]
    full = np.empty(cap, np.int64)  # full-set index (the GL order's)
    place = np.empty(cap, np.int64)  # place in `children` (the voxel-ordered payloads')
    dep = np.empty(cap, np.float32)
    m = 0
    if not by_place:  # full-set indices ascending: a mask, then the layers' ranges in order
        chosen = np.zeros(children.shape[0], np.uint8)
        for c in expand:
            for p in range(child_start[c], child_start[c + 1]):
                chosen[children[p]] = 1
        for L in np.argsort(lay_start):
            for i in range(lay_start[L], lay_stop[L]):
                if chosen[i]:
                    d = means[i, 0] * lay_w[L, 0] + means[i, 1] * lay_w[L, 1]
                    d += means[i, 2] * lay_w[L, 2] + lay_b[L]
                    if d > near:
                        full[m] = i
                        place[m] = i
                        dep[m] = d
                        m += 1
        expand = expand[:0]
    L = -1
    for c in expand:
        for p in range(child_start[c], child_start[c + 1]):
            i = np.int64(children[p])
            if L < 0 or i < lay_start[L] or i >= lay_stop[L]:
                L = -1
                for q in range(lay_start.shape[0]):
                    if lay_start[q] <= i < lay_stop[q]:
                        L = q
                        break
                if L < 0:
                    continue
            d = means[p, 0] * lay_w[L, 0] + means[p, 1] * lay_w[L, 1] + means[p, 2] * lay_w[L, 2]
            d += lay_b[L]
            if d > near:
                full[m] = i
                place[m] = p
                dep[m] = d
                m += 1
    for q in range(keep.shape[0]):
        full[m] = split + keep[q]
        place[m] = split + keep[q]
        dep[m] = keep_depth[q]
        m += 1
    order = np.empty(m, np.uint32)
    rank = np.empty(m, np.int64)
    if m == 0:
        return order, place[:0], rank
    lo = dep[0]
    hi = dep[0]
    for q in range(m):
        lo = min(lo, dep[q])
        hi = max(hi, dep[q])
    scale = np.float32(65535.0) / (hi - lo) if hi > lo else np.float32(0.0)
    key = np.empty(m, np.int32)
    start = np.zeros(KEYS + 1, np.int64)
    for q in range(m):
        kq = int(min(max((hi - dep[q]) * scale, np.float32(0.0)), np.float32(65535.0)))
        key[q] = kq
        start[kq + 1] += 1
    for k in range(KEYS):
        start[k + 1] += start[k]
    at = np.empty(m, np.int64)  # entry at each place back to front
    for q in range(m):  # stable
        p = start[key[q]]
        start[key[q]] = p + 1
        at[p] = q
    if by_place:
        # equal keys in full-set order, as a full frame's sort leaves them (the entries
        # came voxel by voxel): on a wall facing the camera, whose splats share a key, a
        # different blending order is a different picture. start[k] now ends key k's run.
        lo_p = 0
        for k in range(KEYS):
            hi_p = start[k]
            if hi_p - lo_p > 32:
                run = at[lo_p:hi_p].copy()
                at[lo_p:hi_p] = run[np.argsort(full[run])]
            else:
                for a in range(lo_p + 1, hi_p):  # insertion sort
                    q = at[a]
                    b = a - 1
                    while b >= lo_p and full[at[b]] > full[q]:
                        at[b + 1] = at[b]
                        b -= 1
                    at[b + 1] = q
            lo_p = hi_p
    for p in range(m):
        q = at[p]
        order[p] = full[q]
        rank[q] = m - 1 - p  # 0 = nearest
    return order, place[:m], rank


def _layer_arrays(layers: list[tuple[int, int, np.ndarray, float]]) -> tuple:
    return (
        np.array([t[0] for t in layers], np.int64),
        np.array([t[1] for t in layers], np.int64),
        np.array([np.asarray(t[2], np.float32) for t in layers], np.float32).reshape(-1, 3),
        np.array([t[3] for t in layers], np.float32),
    )


def cut_order(
    expand: np.ndarray,
    child_start: np.ndarray,
    children: np.ndarray,
    means: np.ndarray,
    layers: list[tuple[int, int, np.ndarray, float]],
    near: float,
    keep: np.ndarray,
    keep_depth: np.ndarray,
    split: int,
    voxel_means: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cut of a moving frame in order.

    expand (E,) int: merged splats replaced by their children (children[child_start[j]:
    child_start[j + 1]], full-set indices; `children` lists every fine splat voxel by
    voxel); means (n, 3) float32 layer-local centres of the full set, or, when
    `voxel_means` (n, 3) is given, these are read instead (voxel_means[p] is the centre of
    children[p]: read in that order, one stream); layers: (start, stop, w (3,), b) per
    visible layer of full-set ranges, a fine splat's depth being its centre @ w + b (camera
    z, layer units folded in); fine splats at depth <= `near` are left out; keep (K,) int
    merged splats drawn as they are, at keep_depth (K,) float32, indexed split + j. Fine
    splats outside every layer's range are left out.
    Returns (order (m,) uint32: full-set indices back to front; place (m,) int64: the same
    splats for payloads read in memory order: with `voxel_means`, the fine splats' places
    in `children` (ascending: the expanded voxels in ascending order, each its children's
    run), else their full-set indices (ascending), then split + j for the merged ones;
    rank (m,) int64 of each place, 0 = nearest). Ties in the 16-bit keys keep full-set
    order, as a full frame's stable sort of the same keys does."""
    return _cut_order(
        np.sort(np.asarray(expand, np.int64)),
        np.ascontiguousarray(child_start, np.int64),
        children,
        means if voxel_means is None else voxel_means,
        voxel_means is not None,
        *_layer_arrays(layers),
        np.float32(near),
        np.ascontiguousarray(keep, np.int64),
        np.ascontiguousarray(keep_depth, np.float32),
        int(split),
    )


def cut_order_numpy(
    expand: np.ndarray,
    child_start: np.ndarray,
    children: np.ndarray,
    means: np.ndarray,
    layers: list[tuple[int, int, np.ndarray, float]],
    near: float,
    keep: np.ndarray,
    keep_depth: np.ndarray,
    split: int,
    voxel_means: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`cut_order` in numpy (its reference twin, and the path before the kernels load):
    the same arguments and results."""
    expand = np.sort(np.asarray(expand, np.int64))
    lens = child_start[expand + 1] - child_start[expand]
    starts = np.repeat(child_start[expand] - np.cumsum(lens) + lens, lens)
    place = (starts + np.arange(int(lens.sum()))).astype(np.int64)
    full = children[place].astype(np.int64)
    if voxel_means is None:  # full-set indices ascending (layers hold ascending ranges)
        full = place = np.sort(full)
    pts = means[full] if voxel_means is None else voxel_means[place]
    dep = np.full(len(place), -np.inf, np.float32)
    done = np.zeros(len(place), bool)
    for start, stop, w, b in layers:  # the first layer holding a splat gives its depth
        sel = ~done & (full >= start) & (full < stop)
        dep[sel] = pts[sel] @ np.asarray(w, np.float32) + np.float32(b)
        done |= sel
    ok = done & (dep > np.float32(near))
    keep = np.asarray(keep, np.int64)
    full = np.concatenate([full[ok], keep + split])
    place = np.concatenate([place[ok], keep + split])
    dep = np.concatenate([dep[ok], np.asarray(keep_depth, np.float32)])
    # back to front; equal keys in full-set order (the fine splats, then the merged ones)
    order = np.lexsort((full, depth_keys_u16(dep)))
    m = len(order)
    rank = np.empty(m, np.int64)
    rank[order] = np.arange(m - 1, -1, -1)
    return np.ascontiguousarray(full[order], dtype=np.uint32), place, rank
