"""A moving frame's cut put in order, compiled (numba): the CPU frames' twin of the numpy
steps in `SplatRenderer._cut_order`.

Given the merged splats kept and those expanded into their fine splats (viewer/lod_cut.py),
it lists the fine splats, takes their depths, and sorts everything back to front by the
same 16-bit depth keys as `sorting.depth_keys_u16` with a stable counting sort (what
numpy's radix sort of uint16 keys does), equal keys in full-set order as a full frame's
sort leaves them. In numpy these were a dozen passes over arrays of the cut's size, with
fancy indexing and two sorts: 6-11 ms a frame for a 200k-splat cut of bench/render.py's
1M room on this 2-core machine, a quarter of the moving frame's budget; compiled, 5.2-5.6
ms on one thread, 3.0-3.5 ms on two (each step split into per-thread shares whose
results join in order, so any number of threads gives the same cut).

The fine splats are listed voxel by voxel when the payloads were copied in that order
(`renderer.pack_lod(voxel_order=True)`): the CPU compositor then reads each expanded
voxel's splats as one run. Otherwise they are listed in memory order (a mask's scan).

The kernel compiles with the CPU compositor's (`cpu_splat.warm_up`), and the renderer
calls it only once those are loaded; before that the numpy steps run.
"""

from __future__ import annotations

import contextlib

import numba
import numpy as np
from numba import njit, prange

from .sorting import depth_keys_u16

KEYS = 65536  # 16-bit depth keys, as sorting.depth_keys_u16


@njit(cache=True, nogil=True, parallel=True)
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
    k,
):  # noqa: ANN001, ANN202
    # the cut is listed in k chunks (k: numba's threads), each its own share of the
    # expanded voxels (by_place) or of the full set (a mask's scan), counted and written
    # by its own thread into its own stretch; a chunk's entries follow the previous
    # chunk's, so every step gives what one thread going through them in turn would
    nk = expand.shape[0]
    if by_place:
        # chunk c: the voxels expand[bound[c]:bound[c + 1]], whose children start at
        # base[c] in the listing (about total / k children each)
        bound = np.zeros(k + 1, np.int64)
        base = np.zeros(k + 1, np.int64)
        total = 0
        for c in expand:
            total += child_start[c + 1] - child_start[c]
        acc = 0
        c = 1
        for e in range(nk):
            while c < k and acc >= total * c // k:
                bound[c] = e
                base[c] = acc
                c += 1
            acc += child_start[expand[e] + 1] - child_start[expand[e]]
        while c <= k:
            bound[c] = nk
            base[c] = total
            c += 1
        chosen = np.zeros(1, np.uint8)
    else:
        chosen = np.zeros(children.shape[0], np.uint8)
        for c in expand:
            for p in range(child_start[c], child_start[c + 1]):
                chosen[children[p]] = 1
        base = np.zeros(k + 1, np.int64)
        for c in range(k):
            base[c + 1] = base[c]
            for L in range(lay_start.shape[0]):
                lo_i = max(lay_start[L], children.shape[0] * c // k)
                hi_i = min(lay_stop[L], children.shape[0] * (c + 1) // k)
                base[c + 1] += max(0, hi_i - lo_i)
        bound = np.zeros(k + 1, np.int64)
    cap = base[k]
    full = np.empty(cap, np.int64)  # full-set index (the GL order's)
    place = np.empty(cap, np.int64)  # place in `children` (the voxel-ordered payloads')
    dep = np.empty(cap, np.float32)
    got = np.zeros(k, np.int64)
    lay_order = np.argsort(lay_start)
    for ch in prange(k):
        w = base[ch]
        if by_place:
            L = -1
            for e in range(bound[ch], bound[ch + 1]):
                v = expand[e]
                for pv in range(child_start[v], child_start[v + 1]):
                    i = np.int64(children[pv])
                    if L < 0 or i < lay_start[L] or i >= lay_stop[L]:
                        L = -1
                        for lq in range(lay_start.shape[0]):
                            if lay_start[lq] <= i < lay_stop[lq]:
                                L = lq
                                break
                        if L < 0:
                            continue
                    d = means[pv, 0] * lay_w[L, 0] + means[pv, 1] * lay_w[L, 1]
                    d += means[pv, 2] * lay_w[L, 2]
                    d += lay_b[L]
                    if d > near:
                        full[w] = i
                        place[w] = pv
                        dep[w] = d
                        w += 1
        else:  # full-set indices ascending: a mask, then the layers' ranges in order
            for Lm in lay_order:
                lo_m = max(lay_start[Lm], children.shape[0] * ch // k)
                hi_m = min(lay_stop[Lm], children.shape[0] * (ch + 1) // k)
                for im in range(lo_m, hi_m):
                    if chosen[im]:
                        # summed in the same order as the voxel path's (the keys' rounding)
                        dm = means[im, 0] * lay_w[Lm, 0] + means[im, 1] * lay_w[Lm, 1]
                        dm += means[im, 2] * lay_w[Lm, 2]
                        dm += lay_b[Lm]
                        if dm > near:
                            full[w] = im
                            place[w] = im
                            dep[w] = dm
                            w += 1
        got[ch] = w - base[ch]
    nf = 0
    for c in range(k):
        nf += got[c]
    m = nf + keep.shape[0]
    full2 = np.empty(m, np.int64)
    place2 = np.empty(m, np.int64)
    dep2 = np.empty(m, np.float32)
    at0 = np.zeros(k + 1, np.int64)
    for c in range(k):
        at0[c + 1] = at0[c] + got[c]
    for cc in prange(k):
        for j in range(got[cc]):
            full2[at0[cc] + j] = full[base[cc] + j]
            place2[at0[cc] + j] = place[base[cc] + j]
            dep2[at0[cc] + j] = dep[base[cc] + j]
    for q in range(keep.shape[0]):
        full2[nf + q] = split + keep[q]
        place2[nf + q] = split + keep[q]
        dep2[nf + q] = keep_depth[q]
    full, place, dep = full2, place2, dep2
    order = np.empty(m, np.uint32)
    rank = np.empty(m, np.int64)
    if m == 0:
        return order, place, rank
    # the entries again in k contiguous shares, for the counting sort
    lo_c = np.empty(k, np.float32)
    hi_c = np.empty(k, np.float32)
    for cm in prange(k):
        lo_t = dep[0]
        hi_t = dep[0]
        for qm in range(m * cm // k, m * (cm + 1) // k):
            lo_t = min(lo_t, dep[qm])
            hi_t = max(hi_t, dep[qm])
        lo_c[cm] = lo_t
        hi_c[cm] = hi_t
    lo = lo_c.min()
    hi = hi_c.max()
    scale = np.float32(65535.0) / (hi - lo) if hi > lo else np.float32(0.0)
    key = np.empty(m, np.int32)
    count = np.zeros((k, KEYS), np.int64)
    for ck in prange(k):
        for qk in range(m * ck // k, m * (ck + 1) // k):
            kq = int(min(max((hi - dep[qk]) * scale, np.float32(0.0)), np.float32(65535.0)))
            key[qk] = kq
            count[ck, kq] += 1
    cursor = np.empty((k, KEYS), np.int64)
    ends = np.empty(KEYS, np.int64)  # where each key's run ends
    total = 0
    for kk in range(KEYS):
        for c in range(k):
            cursor[c, kk] = total
            total += count[c, kk]
        ends[kk] = total
    at = np.empty(m, np.int64)  # entry at each place back to front
    for cs in prange(k):  # stable
        for qs in range(m * cs // k, m * (cs + 1) // k):
            ps = cursor[cs, key[qs]]
            cursor[cs, key[qs]] = ps + 1
            at[ps] = qs
    if by_place:
        # equal keys in full-set order, as a full frame's sort leaves them (the entries
        # came voxel by voxel): on a wall facing the camera, whose splats share a key, a
        # different blending order is a different picture. Keys dealt to the threads in
        # k ranges of about equal entries.
        kb = np.empty(k + 1, np.int64)
        kb[0] = 0
        kk = 0
        for c in range(1, k):
            while kk < KEYS and ends[kk] < m * c // k:
                kk += 1
            kb[c] = kk
        kb[k] = KEYS
        for ct in prange(k):
            for kt in range(kb[ct], kb[ct + 1]):
                lo_p = ends[kt - 1] if kt > 0 else 0
                hi_p = ends[kt]
                if hi_p - lo_p > 32:
                    run = at[lo_p:hi_p].copy()
                    at[lo_p:hi_p] = run[np.argsort(full[run])]
                else:
                    for a in range(lo_p + 1, hi_p):  # insertion sort
                        qa = at[a]
                        b = a - 1
                        while b >= lo_p and full[at[b]] > full[qa]:
                            at[b + 1] = at[b]
                            b -= 1
                        at[b + 1] = qa
    for po in prange(m):
        qo = at[po]
        order[po] = full[qo]
        rank[qo] = m - 1 - po  # 0 = nearest
    return order, place, rank


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
    chunks: int | None = None,
    locked: bool = False,
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
    order, as a full frame's stable sort of the same keys does. chunks: the threads'
    shares (default numba's thread count); the result does not depend on it.
    The kernel runs on numba's thread pool, which runs one parallel kernel at a time:
    it takes `generators.splat_cpu.KERNEL_LOCK` (waiting for it) unless `locked` says the
    caller holds it. The viewport, which must not wait, tries the lock and else orders
    the cut with `cut_order_numpy`."""
    from generators.splat_cpu import KERNEL_LOCK

    with contextlib.nullcontext() if locked else KERNEL_LOCK:
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
            max(1, numba.get_num_threads()) if chunks is None else int(chunks),
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
