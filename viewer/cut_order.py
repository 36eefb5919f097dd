"""A moving frame's cut put in order, compiled (numba): the CPU frames' twin of the numpy
steps in `SplatRenderer._cut_order`.

Given the merged splats kept and those expanded into their fine splats (sorting.lod_cut),
it lists the fine splats in memory order, takes their depths, and sorts everything back to
front by the same 16-bit depth keys as `sorting.depth_keys_u16` with a stable counting
sort (what numpy's radix sort of uint16 keys does). In numpy these were a dozen passes
over arrays of the cut's size, with fancy indexing and two sorts: 6-11 ms a frame for a
200k-splat cut of bench/render.py's 1M room on this 2-core machine, a quarter of the
moving frame's budget; compiled, one pass over a mask and a counting sort.

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
    n,
    expand,
    child_start,
    children,
    means,
    lay_start,
    lay_stop,
    lay_w,
    lay_b,
    near,
    keep,
    keep_depth,
    split,
):  # noqa: ANN001, ANN202
    chosen = np.zeros(n, np.uint8)
    for c in expand:
        for k in range(child_start[c], child_start[c + 1]):
            chosen[children[k]] = 1
    cap = 0
    for c in expand:
        cap += child_start[c + 1] - child_start[c]
    m_max = cap + keep.shape[0]
    idx = np.empty(m_max, np.int64)
    dep = np.empty(m_max, np.float32)
    m = 0
    for L in range(lay_start.shape[0]):  # layers in ascending ranges: fine splats ascending
        w0, w1, w2, b = lay_w[L, 0], lay_w[L, 1], lay_w[L, 2], lay_b[L]
        for i in range(lay_start[L], lay_stop[L]):
            if chosen[i]:
                d = means[i, 0] * w0 + means[i, 1] * w1 + means[i, 2] * w2 + b
                if d > near:
                    idx[m] = i
                    dep[m] = d
                    m += 1
    for q in range(keep.shape[0]):
        idx[m] = split + keep[q]
        dep[m] = keep_depth[q]
        m += 1
    order = np.empty(m, np.uint32)
    rank = np.empty(m, np.int64)
    if m == 0:
        return order, idx[:0], rank
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
    for q in range(m):  # stable: equal keys keep their memory order
        p = start[key[q]]
        start[key[q]] = p + 1
        order[p] = idx[q]
        rank[q] = m - 1 - p  # 0 = nearest
    return order, idx[:m], rank


def cut_order(
    n: int,
    expand: np.ndarray,
    child_start: np.ndarray,
    children: np.ndarray,
    means: np.ndarray,
    layers: list[tuple[int, int, np.ndarray, float]],
    near: float,
    keep: np.ndarray,
    keep_depth: np.ndarray,
    split: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cut of a moving frame in order.

    n: splats in the full set; expand (E,) int: merged splats replaced by their children
    (children[child_start[j]:child_start[j + 1]], full-set indices); means (n, 3) float32
    layer-local centres; layers: (start, stop, w (3,), b) per visible layer, a fine splat's
    depth being means[i] @ w + b (camera z, layer units folded in); fine splats at depth <=
    `near` are left out; keep (K,) int merged splats drawn as they are, at keep_depth (K,)
    float32, indexed split + j. Fine splats outside every layer's range are left out.
    Returns (order (m,) uint32 back to front; the same indices in memory order (m,) int64,
    fine splats ascending then the merged ones; rank (m,) int64 of each, 0 = nearest).
    Ties in the 16-bit keys keep memory order, as np.argsort(kind="stable") does."""
    lays = sorted(layers, key=lambda t: t[0])
    return _cut_order(
        int(n),
        np.ascontiguousarray(expand, np.int64),
        np.ascontiguousarray(child_start, np.int64),
        children,
        means,
        np.array([t[0] for t in lays], np.int64),
        np.array([t[1] for t in lays], np.int64),
        np.array([np.asarray(t[2], np.float32) for t in lays], np.float32).reshape(-1, 3),
        np.array([t[3] for t in lays], np.float32),
        np.float32(near),
        np.ascontiguousarray(keep, np.int64),
        np.ascontiguousarray(keep_depth, np.float32),
        int(split),
    )


def cut_order_numpy(
    n: int,
    expand: np.ndarray,
    child_start: np.ndarray,
    children: np.ndarray,
    means: np.ndarray,
    layers: list[tuple[int, int, np.ndarray, float]],
    near: float,
    keep: np.ndarray,
    keep_depth: np.ndarray,
    split: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`cut_order` in numpy (its reference twin, and the path before the kernels load):
    the same arguments and results."""
    expand = np.asarray(expand, np.int64)
    lays = sorted(layers, key=lambda t: t[0])
    if len(expand):
        lens = child_start[expand + 1] - child_start[expand]
        starts = np.repeat(child_start[expand] - np.cumsum(lens) + lens, lens)
        fine = children[starts + np.arange(int(lens.sum()))]
        if len(fine) * 64 > n:  # many: a mask's scan beats a sort
            chosen = np.zeros(n, bool)
            chosen[fine] = True
            fine = np.flatnonzero(chosen).astype(np.int64)
        else:
            fine = np.unique(fine).astype(np.int64)
        parts_i, parts_d = [], []
        for start, stop, w, b in lays:  # fine splats in ascending layer ranges
            lo, hi = np.searchsorted(fine, [start, stop])
            f = fine[lo:hi]
            d = means[f] @ np.asarray(w, np.float32) + np.float32(b)
            keep_f = d > near
            parts_i.append(f[keep_f])
            parts_d.append(d[keep_f].astype(np.float32))
        idx = np.concatenate([*parts_i, np.asarray(keep, np.int64) + split])
        dep = np.concatenate([*parts_d, np.asarray(keep_depth, np.float32)])
    else:
        idx = np.asarray(keep, np.int64) + split
        dep = np.asarray(keep_depth, np.float32)
    order = np.argsort(depth_keys_u16(dep), kind="stable")  # back to front
    m = len(order)
    rank = np.empty(m, np.int64)
    rank[order] = np.arange(m - 1, -1, -1)
    return np.ascontiguousarray(idx[order], dtype=np.uint32), idx, rank
