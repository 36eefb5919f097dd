"""A moving frame's cut through the merged levels of detail (renderer.pack_lod): which
merged splats are drawn as they are and which are replaced by their children.

The hierarchy has up to three levels per layer: the top merged splats (`lod.merge_tree`'s
coarse level), a middle level about four times as many, and the fine splats. A node is
expanded where its voxel projects over `min_px` pixels, largest first, while the splats
drawn stay within the frame's budget: hierarchical 3DGS (Kerbl et al. 2024) and Octree-GS
choose a tree's cut by projected size the same way. A middle node is keyed by the smaller
of its own size and its parent's, so it is never expanded before its parent.

`tree_cut` is the numpy reference; `tree_cut_compiled` the same cut in one numba pass (the
numpy steps took 7 ms a frame for bench/render.py's 1M room at 200k splats, as much as the
rest of the cut's ordering; compiled ~1 ms). Sizes are compared through 16-bit keys on a
fixed logarithmic scale (KEY_STEPS per octave above `min_px`), so both give the same cut
up to float rounding of the projections.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit

from .sorting import Frustum, LayerDepth, _view_depths

#: 16-bit size keys per octave above min_px (16 octaves: 1.5 px to 98k px)
KEY_STEPS = 4096.0


def size_keys(px: np.ndarray, min_px: float) -> np.ndarray:
    """(n,) uint16 keys that put sizes `px` (n,) > min_px largest first under a stable
    sort (numpy's radix sort of uint16: ~10x a float argsort); sizes within 0.02 % of each
    other may share a key."""
    lp = np.log2(np.maximum(px.astype(np.float32) / np.float32(min_px), np.float32(1.0)))
    q = np.minimum(lp * np.float32(KEY_STEPS), np.float32(65535.0)).astype(np.int64)
    return (65535 - q).astype(np.uint16)


def tree_cut(
    means: np.ndarray,
    size: np.ndarray,
    child_start: np.ndarray,
    sub_start: np.ndarray | None,
    up: np.ndarray | None,
    roots: Sequence[LayerDepth],
    mids: Sequence[LayerDepth],
    frustum: Frustum | None,
    near: float,
    fy: float,
    budget: int,
    min_px: float = 1.5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The cut for one frame (numpy).

    means (M, 3) float32 layer-local centres of the merged splats, size (M,) float32 their
    voxel edges (layer units), child_start (M + 1,) int64 their fine children's ranges
    (renderer._Lod), sub_start (R + 1,) int64 the top splats' children in the middle
    level (None: no middle level), up (M,) int64 each middle splat's top splat; roots /
    mids: the visible layers' top and middle ranges with their camera coefficients (a
    layer with no middle level has no entry in `mids`); frustum / near: centres kept
    (sorting._view_depths); fy: focal length in pixels at the frame's resolution; budget:
    splats the frame may draw in all.

    Returns (keep (K,) int64 merged splats drawn as they are: the top ones in view first,
    in the order of `roots`' ranges, then middle ones; keep_depth (K,) float32 their camera
    depths; expand (E,) int64 merged splats drawn as their fine children: top ones, then
    middle ones), or None when more top splats are in view than `budget` (no cut fits)."""
    if not mids:
        sub_start = None  # no middle level in view
    depth, idx, area = _view_depths(means, roots, frustum, near)
    if len(idx) > budget:
        return None
    idx = idx.astype(np.int64)
    with np.errstate(divide="ignore"):  # a centre on the camera plane (no frustum): inf
        px = size[idx] * np.sqrt(area) * np.float32(fy) / depth
    nfine = child_start[idx + 1] - child_start[idx]
    nsub = (
        np.zeros(len(idx), np.int64) if sub_start is None else sub_start[idx + 1] - sub_start[idx]
    )
    cost = np.where(nsub > 0, nsub, nfine) - 1
    c0 = np.flatnonzero((px > min_px) & ((cost > 0) | (nsub > 0)))
    cand, keys, costs = [c0], [px[c0]], [cost[c0]]
    sub = np.zeros(0, np.int64)
    d_m = np.zeros(0, np.float32)
    if sub_start is not None and up is not None and len(c0) and budget > len(idx):
        # the top splats the budget could expand if no middle one were: the cut expands
        # none outside these (middle splats only add cost), so only their children count
        first_cut = c0[np.argsort(size_keys(px[c0], min_px), kind="stable")]
        reach = int(np.searchsorted(np.cumsum(cost[first_cut]), budget - len(idx), "right"))
        has = np.sort(first_cut[: reach + 1])
        has = has[nsub[has] > 0]
        lens = nsub[has]
        starts = np.repeat(sub_start[idx[has]] - np.cumsum(lens) + lens, lens)
        allsub = (starts + np.arange(int(lens.sum()))).astype(np.uint32)
        if len(allsub) > 1 and not (allsub[1:] > allsub[:-1]).all():
            allsub.sort()  # (layers listed out of order)
        d_m, sub, area_m = _view_depths(means, mids, frustum, near, subset=allsub)
        sub = sub.astype(np.int64)
        root_px = np.zeros(len(sub_start) - 1, np.float32)
        root_px[idx] = px
        with np.errstate(divide="ignore"):
            px_m = size[sub] * np.sqrt(area_m) * np.float32(fy) / d_m
        key_m = np.minimum(px_m, root_px[up[sub]])
        cost_m = child_start[sub + 1] - child_start[sub] - 1
        pick = np.flatnonzero((key_m > min_px) & (cost_m > 0))
        cand.append(len(idx) + pick)
        keys.append(key_m[pick])
        costs.append(cost_m[pick])
    cand_all = np.concatenate(cand)
    expanded = np.zeros(len(idx) + len(sub), bool)
    if len(cand_all) and budget > len(idx):
        # largest first; equal keys keep the top splats first (a middle splat follows
        # its parent)
        order = np.argsort(size_keys(np.concatenate(keys), min_px), kind="stable")
        extra = np.cumsum(np.concatenate(costs)[order])
        take = int(np.searchsorted(extra, budget - len(idx), side="right"))
        expanded[cand_all[order[:take]]] = True
    top_exp, mid_exp = expanded[: len(idx)], expanded[len(idx) :]
    # a middle splat over one fine splat is that splat, merged: drawn as itself it costs
    # nothing and keeps its view-dependent colour (merged splats have none)
    mid_exp |= child_start[sub + 1] - child_start[sub] == 1
    drawn = np.zeros(len(sub), bool)
    if len(sub) and sub_start is not None and up is not None:  # under an expanded top splat
        root_exp = np.zeros(len(sub_start) - 1, bool)
        root_exp[idx] = top_exp
        drawn = root_exp[up[sub]]
    keep = np.concatenate([idx[~top_exp], sub[drawn & ~mid_exp]])
    keep_depth = np.concatenate([depth[~top_exp], d_m[drawn & ~mid_exp]]).astype(np.float32)
    expand = np.concatenate([idx[top_exp & (nsub == 0)], sub[drawn & mid_exp]])
    return keep, keep_depth, expand


@njit(cache=True, nogil=True, error_model="numpy")  # x / 0 -> inf, as numpy
def _tree_cut(
    means,
    size,
    child_start,
    sub_start,
    up,
    r_start,
    r_stop,
    r_rows,
    r_off,
    r_mid,
    m_rows,
    m_off,
    cull,
    x_lo,
    x_hi,
    y_lo,
    y_hi,
    near,
    fy,
    budget,
    min_px,
):  # noqa: ANN001, ANN202
    total = 0
    for L in range(r_start.shape[0]):
        total += max(0, r_stop[L] - r_start[L])
    idx = np.empty(total, np.int64)
    dep = np.empty(total, np.float32)
    px = np.empty(total, np.float32)
    lay = np.empty(total, np.int64)
    n = 0
    # (this projection and cull is written out again for the middle level below: as one
    # shared compiled function, even inlined, the kernel took 1.5-2x as long)
    for L in range(r_start.shape[0]):
        rw = r_rows[L]
        area = np.float32(np.sqrt(rw[2, 0] ** 2 + rw[2, 1] ** 2 + rw[2, 2] ** 2))
        for j in range(r_start[L], r_stop[L]):
            p0, p1, p2 = means[j, 0], means[j, 1], means[j, 2]
            z = p0 * rw[2, 0] + p1 * rw[2, 1] + p2 * rw[2, 2] + r_off[L, 2]
            if cull:
                if not z > near:
                    continue
                x = p0 * rw[0, 0] + p1 * rw[0, 1] + p2 * rw[0, 2] + r_off[L, 0]
                if x < x_lo * z or x > x_hi * z:
                    continue
                y = p0 * rw[1, 0] + p1 * rw[1, 1] + p2 * rw[1, 2] + r_off[L, 1]
                if y < y_lo * z or y > y_hi * z:
                    continue
            idx[n] = j
            dep[n] = z
            px[n] = size[j] * area * fy / z
            lay[n] = L
            n += 1
    if n > budget:
        return np.zeros(0, np.int64), np.zeros(0, np.float32), np.zeros(0, np.int64), False
    # candidates: top splats, then the middle splats under those that may expand
    has_mid = sub_start.shape[0] > 0
    cap = n
    if has_mid:
        for i in range(n):
            if px[i] > min_px:
                cap += sub_start[idx[i] + 1] - sub_start[idx[i]]
    c_item = np.empty(cap, np.int64)  # < n: top splat i; else middle splat (item - n)
    c_key = np.empty(cap, np.uint16)
    c_cost = np.empty(cap, np.int64)
    m_idx = np.empty(max(cap - n, 0), np.int64)
    m_dep = np.empty(max(cap - n, 0), np.float32)
    m_root = np.empty(max(cap - n, 0), np.int64)  # position of its top splat in idx
    nc = 0
    nm = 0
    steps = np.float32(KEY_STEPS)
    for i in range(n):
        j = idx[i]
        nsub = sub_start[j + 1] - sub_start[j] if has_mid else 0
        cost = (nsub if nsub > 0 else child_start[j + 1] - child_start[j]) - 1
        if px[i] > min_px and (cost > 0 or nsub > 0):
            lp = np.log2(max(px[i] / np.float32(min_px), np.float32(1.0)))
            c_item[nc] = i
            c_key[nc] = 65535 - np.int64(min(lp * steps, np.float32(65535.0)))
            c_cost[nc] = cost
            nc += 1
    if has_mid and budget > n:
        for i in range(n):
            j = idx[i]
            if not px[i] > min_px:
                continue
            ml = r_mid[lay[i]]
            if ml < 0:
                continue
            rw = m_rows[ml]
            area = np.float32(np.sqrt(rw[2, 0] ** 2 + rw[2, 1] ** 2 + rw[2, 2] ** 2))
            for s in range(sub_start[j], sub_start[j + 1]):
                p0, p1, p2 = means[s, 0], means[s, 1], means[s, 2]
                z = p0 * rw[2, 0] + p1 * rw[2, 1] + p2 * rw[2, 2] + m_off[ml, 2]
                if cull:
                    if not z > near:
                        continue
                    x = p0 * rw[0, 0] + p1 * rw[0, 1] + p2 * rw[0, 2] + m_off[ml, 0]
                    if x < x_lo * z or x > x_hi * z:
                        continue
                    y = p0 * rw[1, 0] + p1 * rw[1, 1] + p2 * rw[1, 2] + m_off[ml, 1]
                    if y < y_lo * z or y > y_hi * z:
                        continue
                m_idx[nm] = s
                m_dep[nm] = z
                m_root[nm] = i
                key = min(size[s] * area * fy / z, px[i])
                cost_m = child_start[s + 1] - child_start[s] - 1
                if key > min_px and cost_m > 0:
                    lp = np.log2(max(key / np.float32(min_px), np.float32(1.0)))
                    c_item[nc] = n + nm
                    c_key[nc] = 65535 - np.int64(min(lp * steps, np.float32(65535.0)))
                    c_cost[nc] = cost_m
                    nc += 1
                nm += 1
    expanded = np.zeros(n + nm, np.bool_)
    if nc > 0 and budget > n:
        # a stable counting sort of the keys (largest sizes first), then the prefix whose
        # extra splats fit the budget
        count = np.zeros(65537, np.int64)
        for c in range(nc):
            count[np.int64(c_key[c]) + 1] += 1
        for q in range(65536):
            count[q + 1] += count[q]
        order = np.empty(nc, np.int64)
        for c in range(nc):
            q = np.int64(c_key[c])
            order[count[q]] = c
            count[q] += 1
        room = budget - n
        acc = 0
        for o in range(nc):
            c = order[o]
            acc += c_cost[c]
            if acc > room:
                break
            expanded[c_item[c]] = True
    nk = 0
    ne = 0
    for i in range(n):
        if expanded[i]:
            if not has_mid or sub_start[idx[i] + 1] == sub_start[idx[i]]:
                ne += 1
        else:
            nk += 1
    for t in range(nm):  # (a middle splat over one fine splat is drawn as that splat)
        if child_start[m_idx[t] + 1] - child_start[m_idx[t]] == 1:
            expanded[n + t] = True
        if expanded[m_root[t]]:
            if expanded[n + t]:
                ne += 1
            else:
                nk += 1
    keep = np.empty(nk, np.int64)
    keep_depth = np.empty(nk, np.float32)
    expand = np.empty(ne, np.int64)
    k = 0
    e = 0
    for i in range(n):
        if expanded[i]:
            if not has_mid or sub_start[idx[i] + 1] == sub_start[idx[i]]:
                expand[e] = idx[i]
                e += 1
        else:
            keep[k] = idx[i]
            keep_depth[k] = dep[i]
            k += 1
    for t in range(nm):
        if expanded[m_root[t]]:
            if expanded[n + t]:
                expand[e] = m_idx[t]
                e += 1
            else:
                keep[k] = m_idx[t]
                keep_depth[k] = m_dep[t]
                k += 1
    return keep, keep_depth, expand, True


def _layers(layers: Sequence[LayerDepth]) -> tuple[np.ndarray, ...]:
    return (
        np.array([lay.start for lay in layers], np.int64),
        np.array([lay.stop for lay in layers], np.int64),
        np.array([lay.rows for lay in layers], np.float32).reshape(-1, 3, 3),
        np.array([lay.offset for lay in layers], np.float32).reshape(-1, 3),
    )


def tree_cut_compiled(
    means: np.ndarray,
    size: np.ndarray,
    child_start: np.ndarray,
    sub_start: np.ndarray | None,
    up: np.ndarray | None,
    roots: Sequence[LayerDepth],
    mids: Sequence[LayerDepth],
    frustum: Frustum | None,
    near: float,
    fy: float,
    budget: int,
    min_px: float = 1.5,
    mid_of: Sequence[int] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """`tree_cut` compiled: the same arguments and result. mid_of: for each entry of
    `roots`, the index of its layer's entry in `mids` (-1: none); it may be left out when
    they pair up in order (every root layer has a middle level) or `mids` is empty.
    Raises ValueError when it is needed and missing or of the wrong length."""
    r_start, r_stop, r_rows, r_off = _layers(roots)
    _, _, m_rows, m_off = _layers(mids)
    if mid_of is None:
        if mids and len(mids) != len(roots):
            raise ValueError("mid_of is needed: some root layers have no middle level")
        mid_of = range(len(roots)) if mids else [-1] * len(roots)
    if len(mid_of) != len(roots):
        raise ValueError(f"mid_of has {len(mid_of)} entries for {len(roots)} root layers")
    if sub_start is None or up is None or not len(mids):
        sub_start = np.zeros(0, np.int64)
    fr = frustum or Frustum(0.0, 0.0, 0.0, 0.0)
    keep, keep_depth, expand, ok = _tree_cut(
        means,
        np.ascontiguousarray(size, np.float32),
        np.ascontiguousarray(child_start, np.int64),
        np.ascontiguousarray(sub_start, np.int64),
        np.zeros(0, np.int64) if up is None else np.ascontiguousarray(up, np.int64),
        r_start,
        r_stop,
        r_rows,
        r_off,
        np.asarray(mid_of, np.int64).reshape(-1),
        m_rows,
        m_off,
        frustum is not None,
        np.float32(fr.x_lo),
        np.float32(fr.x_hi),
        np.float32(fr.y_lo),
        np.float32(fr.y_hi),
        np.float32(near if near is not None else 0.0),
        np.float32(fy),
        int(budget),
        np.float32(min_px),
    )
    return (keep, keep_depth, expand) if ok else None
