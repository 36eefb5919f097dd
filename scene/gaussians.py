"""`GaussianCloud`: the one in-memory representation of a Gaussian-splat scene.

Structure of arrays, float32, storing the raw 3DGS parameters exactly as the
reference PLY does; activations (exp, sigmoid, normalisation) are applied where used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import InvalidSceneError
from .rotations import decompose_similarity, matrices_to_quats, normalize_quats, quats_to_matrices
from .sh import C0, REST_COEFFS, degree_from_rest, rotate_coefficients


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically safe logistic function (float32 in, float32 out)."""
    x = np.asarray(x, dtype=np.float32)
    return (0.5 * (1.0 + np.tanh(0.5 * x))).astype(np.float32)


def logit(p: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Inverse sigmoid, clamped so 0 and 1 give finite logits."""
    p = np.clip(np.asarray(p, dtype=np.float64), eps, 1 - eps)
    return np.log(p / (1 - p)).astype(np.float32)


def rgb_to_sh0(rgb: np.ndarray) -> np.ndarray:
    """Linear colour in 0..1 -> SH DC coefficient (reference convention)."""
    return ((np.asarray(rgb, np.float32) - 0.5) / C0).astype(np.float32)


def sh0_to_rgb(sh0: np.ndarray) -> np.ndarray:
    """SH DC coefficient -> base colour 0.5 + C0·dc (not clamped)."""
    return (0.5 + C0 * np.asarray(sh0, np.float32)).astype(np.float32)


#: splats farther than this many median distances from a cloud's median centre are far
#: field (a reconstruction's sky sphere, distant background), not the scene proper
FAR_FIELD_FACTOR = 8.0
NEAR_SAMPLE = 100_000  # splats the near field's centre and median distance are taken from


def _run_of(mark: Any, n: int) -> tuple[int, int] | None:
    """(start, stop) of a {"start": int, "count": int} marker of splats by place in a cloud
    of n splats, or None when it is no such dict or does not fit (untrusted input)."""
    if not isinstance(mark, dict):
        return None
    start, count = mark.get("start"), mark.get("count")
    if any(isinstance(v, bool) or not isinstance(v, int) for v in (start, count)):
        return None
    if start < 0 or count <= 0 or start + count > n:
        return None
    return start, start + count


@dataclass
class GaussianCloud:
    """N 3D Gaussians with spherical-harmonic colour.

    Arrays (all float32, C-contiguous):
      means      (N, 3)    centres, world units
      scales     (N, 3)    log standard deviations
      quats      (N, 4)    rotations, w x y z (not necessarily normalised on disk)
      opacities  (N,)      opacity logits
      sh0        (N, 3)    SH DC coefficients
      shN        (N, K, 3) higher SH coefficients, K in {0, 3, 8, 15}, RGB last
    `meta` carries free-form provenance (generator, options, source file...).
    """

    means: np.ndarray
    scales: np.ndarray
    quats: np.ndarray
    opacities: np.ndarray
    sh0: np.ndarray
    shN: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 3), np.float32))
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(np.asarray(self.means))
        self.means = _f32(self.means, (n, 3), "means")
        self.scales = _f32(self.scales, (n, 3), "scales")
        self.quats = _f32(self.quats, (n, 4), "quats")
        self.opacities = _f32(np.reshape(self.opacities, (-1,)), (n,), "opacities")
        self.sh0 = _f32(self.sh0, (n, 3), "sh0")
        shN = np.asarray(self.shN, dtype=np.float32)
        if shN.size == 0:
            shN = np.zeros((n, 0, 3), np.float32)
        if shN.ndim != 3 or shN.shape[0] != n or shN.shape[2] != 3:
            raise InvalidSceneError(f"shN must have shape (N, K, 3); got {shN.shape} for N={n}")
        try:
            degree_from_rest(shN.shape[1])
        except ValueError as exc:
            raise InvalidSceneError(str(exc)) from None
        self.shN = np.ascontiguousarray(shN)

    # ------------------------------------------------------------------ basics
    def __len__(self) -> int:
        return int(self.means.shape[0])

    @property
    def count(self) -> int:
        return len(self)

    @property
    def sh_degree(self) -> int:
        return degree_from_rest(self.shN.shape[1])

    @classmethod
    def empty(cls, sh_degree: int = 0) -> GaussianCloud:
        k = REST_COEFFS[sh_degree]
        z = np.zeros
        return cls(z((0, 3)), z((0, 3)), z((0, 4)), z((0,)), z((0, 3)), z((0, k, 3)))

    @classmethod
    def from_points(
        cls,
        points: np.ndarray,
        colors: np.ndarray,
        scales: np.ndarray | float,
        opacity: np.ndarray | float = 0.95,
        quats: np.ndarray | None = None,
        sh_degree: int = 0,
    ) -> GaussianCloud:
        """Build a cloud from centres, linear RGB (0..1), std-devs (N,), (N,3) or scalar."""
        pts = np.asarray(points, np.float32).reshape(-1, 3)
        n = len(pts)
        sc = (
            np.broadcast_to(
                np.asarray(scales, np.float32).reshape(n, -1)
                if np.ndim(scales)
                else np.float32(scales),
                (n, 3),
            )
            if n
            else np.zeros((0, 3), np.float32)
        )
        op = np.broadcast_to(np.asarray(opacity, np.float32), (n,))
        q = np.tile(np.array([1, 0, 0, 0], np.float32), (n, 1)) if quats is None else quats
        return cls(
            means=pts,
            scales=np.log(np.maximum(sc, 1e-12)),
            quats=q,
            opacities=logit(op),
            sh0=rgb_to_sh0(np.asarray(colors, np.float32).reshape(n, 3)),
            shN=np.zeros((n, REST_COEFFS[sh_degree], 3), np.float32),
        )

    def copy(self) -> GaussianCloud:
        return GaussianCloud(
            self.means.copy(),
            self.scales.copy(),
            self.quats.copy(),
            self.opacities.copy(),
            self.sh0.copy(),
            self.shN.copy(),
            dict(self.meta),
        )

    def validate(self) -> None:
        """Raise InvalidSceneError if any parameter is NaN or infinite."""
        for name in ("means", "scales", "quats", "opacities", "sh0", "shN"):
            arr = getattr(self, name)
            if arr.size and not np.isfinite(arr).all():
                bad = int((~np.isfinite(arr)).reshape(len(self), -1).any(1).sum())
                raise InvalidSceneError(f"{bad} splats have non-finite {name}")

    # ------------------------------------------------------------ activations
    def opacity_values(self) -> np.ndarray:
        """Activated opacity in 0..1, (N,)."""
        return sigmoid(self.opacities)

    def scale_values(self) -> np.ndarray:
        """Activated standard deviations, (N, 3)."""
        return np.exp(self.scales).astype(np.float32)

    def base_colors(self) -> np.ndarray:
        """View-independent RGB from the DC term, clamped to 0..1, (N, 3)."""
        return np.clip(sh0_to_rgb(self.sh0), 0.0, 1.0)

    def covariances(self) -> np.ndarray:
        """World-space 3×3 covariances R S Sᵀ Rᵀ, (N, 3, 3) float32."""
        r = quats_to_matrices(self.quats)
        s = np.exp(self.scales.astype(np.float64))
        m = r * s[:, None, :]
        return np.einsum("nij,nkj->nik", m, m).astype(np.float32)

    # ------------------------------------------------------------- selection
    def subset(self, index: np.ndarray | slice | Sequence[int]) -> GaussianCloud:
        """Splats picked by a boolean mask, an index array or a slice (copies). A
        `meta["far_field"]` marker (the last N splats) is recounted for the pick, or
        dropped when the picked far-field splats no longer come last; so is a
        reconstruction's `meta["backdrop"]["ground_discs"]` count (the splats just before the
        far field: viewer/collision.py reads them by place)."""
        idx = index if isinstance(index, slice) else np.asarray(index)
        if isinstance(idx, np.ndarray) and idx.dtype == bool and idx.shape != (len(self),):
            raise InvalidSceneError(f"mask has shape {idx.shape}, expected ({len(self)},)")
        meta = dict(self.meta)
        count = self.far_field_marked()
        picked = np.arange(len(self))[idx]
        discs = self.backdrop_discs()
        if discs:
            stop = len(self) - count
            is_disc = (picked >= stop - discs) & (picked < stop)
            k = int(is_disc.sum())
            tail = int((picked >= stop).sum())  # the far field's picked splats after them
            run = is_disc[len(picked) - tail - k : len(picked) - tail] if k else is_disc[:0]
            meta["backdrop"] = {**meta["backdrop"], "ground_discs": k if run.all() else 0}
        hidden = self.hidden_range()
        if hidden is not None:
            at = np.flatnonzero((picked >= hidden[0]) & (picked < hidden[1]))
            if len(at) and at[-1] - at[0] + 1 == len(at):  # still one run
                meta["hidden"] = {"start": int(at[0]), "count": len(at)}
            else:
                meta.pop("hidden")
        if count:
            is_far = picked >= len(self) - count
            k = int(is_far.sum())
            if k and is_far[len(picked) - k :].all():
                meta["far_field"] = {**meta["far_field"], "count": k}
            else:
                meta.pop("far_field")
        return GaussianCloud(
            np.ascontiguousarray(self.means[idx]),
            np.ascontiguousarray(self.scales[idx]),
            np.ascontiguousarray(self.quats[idx]),
            np.ascontiguousarray(self.opacities[idx]),
            np.ascontiguousarray(self.sh0[idx]),
            np.ascontiguousarray(self.shN[idx]),
            meta,
        )

    def crop(self, box_min: Sequence[float], box_max: Sequence[float]) -> GaussianCloud:
        """Splats whose centres lie inside the axis-aligned box (inclusive)."""
        lo = np.asarray(box_min, np.float32)
        hi = np.asarray(box_max, np.float32)
        inside = np.all((self.means >= lo) & (self.means <= hi), axis=1)
        return self.subset(inside)

    def with_sh_degree(self, degree: int) -> GaussianCloud:
        """Copy truncated (or zero-padded) to SH `degree`."""
        k = REST_COEFFS[degree]
        cur = self.shN.shape[1]
        if k <= cur:
            shN = self.shN[:, :k].copy()
        else:
            shN = np.zeros((len(self), k, 3), np.float32)
            shN[:, :cur] = self.shN
        out = self.copy()
        out.shN = shN
        return out

    @staticmethod
    def concatenate(clouds: Sequence[GaussianCloud]) -> GaussianCloud:
        """Join clouds; the result has the highest SH degree (lower ones zero-padded) and
        the first cloud's meta, less a `far_field` marker (the last N splats) unless the
        last cloud carries one: then its."""
        if not clouds:
            return GaussianCloud.empty()
        deg = max(c.sh_degree for c in clouds)
        parts = [c.with_sh_degree(deg) if c.sh_degree != deg else c for c in clouds]
        cat = np.concatenate
        meta = dict(clouds[0].meta)
        meta.pop("far_field", None)
        if clouds[-1].far_field_marked():
            meta["far_field"] = dict(clouds[-1].meta["far_field"])
        return GaussianCloud(
            cat([c.means for c in parts]),
            cat([c.scales for c in parts]),
            cat([c.quats for c in parts]),
            cat([c.opacities for c in parts]),
            cat([c.sh0 for c in parts]),
            cat([c.shN for c in parts]),
            meta,
        )

    # --------------------------------------------------------------- geometry
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(min, max) corners of the centres' bounding box; raises on an empty cloud."""
        if len(self) == 0:
            raise InvalidSceneError("an empty cloud has no bounds")
        return self.means.min(0), self.means.max(0)

    def far_field_marked(self) -> int:
        """How many splats `meta["far_field"]["count"]` marks as the far field (the last
        ones: a reconstruction's sky sphere), 0 without a marker or with one that does not
        fit this cloud."""
        far = self.meta.get("far_field") if isinstance(self.meta, dict) else None
        count = int(far.get("count", 0)) if isinstance(far, dict) else 0
        return count if 0 < count <= len(self) else 0

    def backdrop_discs(self) -> int:
        """How many splats a reconstruction's `meta["backdrop"]["ground_discs"]` marks as
        its backdrop's ground discs (generators/reconstruct/ground_fill.py: the splats just
        before the marked far field, or last without one); 0 without a marker or with one
        that is no positive int or does not fit this cloud. The one reading of the count
        for the collider, `subset` and the PLY writer."""
        backdrop = self.meta.get("backdrop") if isinstance(self.meta, dict) else None
        n = backdrop.get("ground_discs") if isinstance(backdrop, dict) else None
        if isinstance(n, bool) or not isinstance(n, int):
            return 0
        return n if 0 < n <= len(self) - self.far_field_marked() else 0

    def hidden_range(self) -> tuple[int, int] | None:
        """(start, stop) of the splats a generated world's `meta["hidden"]` marks as hidden
        behind its surfaces from where it was captured (generators/pano_world.py: the
        background layer behind depth edges and the backstop behind the photo, shown only
        where walking opens a gap), or None without a marker or with one that is not two
        ints fitting this cloud. A moving frame's cut never refines voxels holding these
        splats alone (viewer/lod.py)."""
        return _run_of(self.meta.get("hidden") if isinstance(self.meta, dict) else None, len(self))

    def adopt_hidden(self, mark: Any) -> bool:
        """Mark this cloud's hidden splats (`hidden_range`) when a file's Wander record says
        where they lie (`hidden` in the provenance `world` writes beside a .ply or .spz,
        formats that keep the splats' order) and the cloud has no marker yet. Untrusted: a
        record that does not fit the cloud is ignored. Returns whether a marker was set."""
        run = _run_of(mark, len(self))
        if self.hidden_range() is not None or run is None:
            return False
        self.meta["hidden"] = {"start": run[0], "count": run[1] - run[0]}
        return True

    def adopt_far_field(self, count: Any) -> bool:
        """Mark the last `count` splats as the far field when a file's Wander record says so
        (`far_field.count` beside a .spz or .splat, which have no place for it) and the cloud
        has no marker yet. Untrusted: a count that is no int in 1..N-1 is ignored. Returns
        whether a marker was set."""
        if self.far_field_marked():
            return False
        if isinstance(count, bool) or not isinstance(count, int) or not 0 < count < len(self):
            return False
        self.meta["far_field"] = {"count": count}
        return True

    def far_last(self, order: np.ndarray) -> np.ndarray:
        """`order` (a permutation (N,) of the splats, e.g. a format's importance or Morton
        order) with the marked far field moved after the rest, each part in its given
        order, so a writer that reorders keeps `far_field_marked()` true of its file
        (`write_frame_record` carries the count for formats without a place for it)."""
        count = self.far_field_marked()
        if not 0 < count < len(self):
            return order
        far = order >= len(self) - count
        return np.concatenate([order[~far], order[far]])

    def near_field_mask(self) -> np.ndarray:
        """(N,) bool: splats that belong to the scene proper, False for the far field:
        the last `meta["far_field"]["count"]` splats when a reconstruction marked them, and
        any splat farther than FAR_FIELD_FACTOR × the median distance from the median
        centre (which also finds a sky sphere after the marker was lost in a saved file).
        Clouds of fewer than 16 near splats keep everything."""
        keep = np.ones(len(self), bool)
        count = self.far_field_marked()
        if 0 < count < len(self):
            keep[len(self) - count :] = False
        if keep.sum() >= 16:
            # the medians from every (n // NEAR_SAMPLE)-th splat: opening a 1.6 M-splat
            # world spent 0.2-0.3 s here on the GUI thread (its bounds for navigation)
            idx = np.flatnonzero(keep)[:: max(1, int(keep.sum()) // NEAR_SAMPLE)]
            sample = self.means[idx].astype(np.float64)
            centre = np.median(sample, axis=0)
            r = float(np.median(np.linalg.norm(sample - centre, axis=1)))
            if r > 0:
                diff = self.means - centre.astype(np.float32)
                d2 = np.einsum("ij,ij->i", diff, diff)
                keep &= d2 <= (FAR_FIELD_FACTOR * r) ** 2
        return keep

    def robust_bounds(self, q: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
        """Bounding box of the centres between quantiles q and 1-q (ignores floaters)."""
        if len(self) == 0:
            raise InvalidSceneError("an empty cloud has no bounds")
        return (
            np.quantile(self.means, q, axis=0).astype(np.float32),
            np.quantile(self.means, 1 - q, axis=0).astype(np.float32),
        )

    def importance(self) -> np.ndarray:
        """Opacity × ellipsoid volume per splat, (N,) float32 (monotone in both)."""
        vol = np.exp(np.clip(self.scales.astype(np.float64).sum(1), -80, 80))
        return (sigmoid(self.opacities) * vol).astype(np.float32)

    def importance_order(self) -> np.ndarray:
        """Indices from most to least important (stable), (N,) int64."""
        return np.argsort(-self.importance(), kind="stable")

    def transformed(self, matrix: np.ndarray) -> GaussianCloud:
        """Apply a 4×4 similarity (rotation/reflection, uniform scale, translation).

        Centres are mapped, orientations composed with the rotation, log-scales shifted
        by log(s), and SH degree 1–3 coefficients rotated so view-dependent colour
        moves with the splats.
        """
        s, r, t = decompose_similarity(matrix)
        out = self.copy()
        if len(self) == 0:
            return out
        out.means = (self.means.astype(np.float64) @ (s * r).T + t).astype(np.float32)
        rot = quats_to_matrices(self.quats)
        new = np.einsum("ij,njk->nik", r, rot)
        if np.linalg.det(r) < 0:
            # A reflected frame has det -1: flip one local axis, which leaves the
            # ellipsoid (symmetric in each axis) unchanged and makes it a rotation again.
            new[:, :, 2] *= -1
        out.quats = matrices_to_quats(new)
        out.scales = (self.scales + np.float32(np.log(s))).astype(np.float32)
        out.shN = rotate_coefficients(self.shN, r)
        return out

    def normalized(self) -> GaussianCloud:
        """Copy with unit quaternions."""
        out = self.copy()
        out.quats = normalize_quats(self.quats)
        return out


def _f32(a: Any, shape: tuple[int, ...], name: str) -> np.ndarray:
    arr = np.ascontiguousarray(np.asarray(a, dtype=np.float32))
    if arr.shape != shape:
        raise InvalidSceneError(f"{name} must have shape {shape}; got {arr.shape}")
    return arr
