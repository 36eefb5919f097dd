"""Weight-free panorama outpainting: continue the photo's surfaces, never its objects.

The known part of the panorama (the photo, or stitched photos) is split into classes
(`classes.classify_view`: sky, ground, upright structure; above the photo an indoor view
gets a ceiling instead of sky). The rest of the sphere is then filled per class:
  1. a class map for the unknown part: upright structure continues sideways around the
     horizon band (each row keeps the photo's mix of classes at that height), the upper
     class (sky or ceiling) takes over above the photo, the ground below it; away from
     the photo the layout (`layout.py`: a room box, or a skyline as jagged as the
     photo's) rules, its class lines drawn at the texture's resolution, sharp (at the
     work size they were 3-4° soft bands 90° from the photo: fog);
  2. each class's colour field continues the photo's own pixels of that class by
     normalised convolution over a scale pyramid (Knutsson & Westin 1993): the colours
     at the photo's border carry on and relax towards the class's mean far away — no
     pixel is mirrored, tiled or cloned;
  3. each class's fine texture is synthesised from a window of the photo's pixels of
     that class by random-phase spot noise (`texture.adsn_texture`, Galerne et al. 2011):
     the same grain, colour covariance and spectrum, random phases, so no object, edge
     or keypoint of the photo can reappear; outdoors the far skyline's colour and grain
     come from the photo's foliage when it shows some (a treeline, not the facade in
     front of it as grey rock); the ground's grain on the floor plane comes from the
     photo's ground seen from above at its own resolution when the photos are given
     (`floor.floor_view`);
  4. the sky brightens/deepens towards the zenith, the ground darkens a little towards
     the nadir, the poles converge to one colour, the ±180° seam wraps (all fields are
     computed with wrap-around in longitude);
  5. at the photo's edge the invented sky and ground are shifted by a smooth offset to
     its own edge colours (seamless cloning, `_seam_offset`), so its frame does not show;
     an object cut by the photo's edge against the sky stays cut (no pale halo round it),
     except a tree's crown, which carries on past the edge as leaves (`_canopy`).
The photo region itself is kept (feathered over ~1 px at its rim). ~1 s for 2048×1024.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from generators.jobs import CancelToken, ProgressFn, no_progress

from .bands import band_labels
from .classes import (
    GROUND,
    SKY,
    UPRIGHT,
    classify_view,
    looks_like_sky_colour,
    sky_like,
    vegetation_like,
)
from .floor import PlacedPhoto, floor_view
from .layout import Layout, box_occlusion, estimate_layout, layout_classes
from .projection import distance_from, pano_lonlat

WORK_HEIGHT = 128  # class map and colour fields
TEXTURE_HEIGHT = 512  # texture synthesis (and the photo's classification)
CEILING = 3  # the upper class of an indoor view (no sky in the photo's top)
RIM_DEG = 3.0  # the band outside the photo that meets its edge colours exactly
RIM_SOFTEN = 2.0  # ... its colours taken after a Gaussian of this σ (texels)
EDGE_BLEND_DEG = 4.0  # the photo's own colours fade into the class surfaces over this
#: the photo's classes hand over to the layout between these distances from it. Over
#: 2-22° its edge's classes and colours carried on as a blurred halo: the Sceaux castle's
#: tree became a dark cloud 0.36 darker than the sky 4° beside it, a brown ring framed the
#: office (bench/world_views.py); the synthetic room's side views lost 0.2 dB by 1-8°
#: (bench/world_synthetic.py: 21.38 / 22.82 -> 21.16 / 22.61 dB at 1 / 2 m). At 1-8° the
#: tree still left a dark smear on the sky beside it and the facade a pale band between
#: the photo and the treeline, which a step aside showed as a grey-white slab; 0.3-3.5°:
#: the synthetic room 21.31 / 22.07 -> 21.84 / 22.70 dB (with a desk, --table: within
#: 0.1 dB), start views within 0.1 dB. Handing over by 1.5° tipped its pillar 19.5°
LAYOUT_NEAR_DEG, LAYOUT_FAR_DEG = 0.3, 3.5
SKY_HANDOVER = 3.0  # ... that many times sooner where the layout has sky (outdoors)
CAP_FROM_DEG, CAP_FULL_DEG = 18.0, 36.0  # the planar floor / sky caps take over here
GROUND_CAP_DEG = (0.0, 0.5)  # ... and for the ground right from the horizon
CAP_MATCH_DEG = 45.0  # ... with texels the size of equirect pixels at this elevation
PLANE_PX = 512  # the planar texture's period (texels)
PLANE_TAPS = 8  # samples along a floor pixel's footprint (anisotropic filtering)
SKY_ANISO = 6.0  # the sky's colours carry this much further along rows than across them
MAX_GRAIN = 0.045  # cap on the synthesised grain's std-dev (0..1 colour units)
GRAIN_HIGHPASS = 16.0  # the exemplar keeps detail finer than its size / this (Gaussian σ)
#: the far skyline is a treeline when this share of the photo's upright pixels is foliage
#: (`_foliage`) ...
FOLIAGE_SHARE = 0.03
#: ... or this share of them weighted towards its sides: a castle filling the frame with
#: small trees at both edges (Sceaux 100_7104-7106: 2-3 % of its upright pixels, 9-11 %
#: by the sides) went round with a skyline of grey, facade-coloured crowns
FOLIAGE_SIDE_SHARE = 0.05
#: an outdoor photo whose ground is under this share of it shows no ground to carry on
#: (Depth Anything's sunflower field: 2 %, scattered shaded leaves and no texture window):
#: when it shows foliage, the invented ground is that vegetation (`_vegetation_ground`)
MIN_GROUND_SHARE = 0.05


def looks_like_sky(rgb: np.ndarray) -> bool:
    """A bright, bluish or grey-white colour (3,) that plausibly is sky, not a ceiling."""
    return looks_like_sky_colour(rgb)


def outpaint_classical(
    pano: np.ndarray,
    weight: np.ndarray,
    *,
    seed: int = 0,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    info: dict | None = None,
    photos: Sequence[PlacedPhoto] = (),
    room_radius: float | None = None,
) -> np.ndarray:
    """Fill the unknown part of an equirect panorama.

    room_radius: indoors, the invented room's half-width (m) given by the user (`world
    --radius`), else estimated (`layout.estimate_layout`).

    pano   (H, 2H, 3) float32 0..1, valid where weight > 0
    weight (H, 2H)    float32 0..1, 1 = known (the photo), 0 = to invent
    photos the photos placed in it, at their own resolution, with their cameras
           (optional): the ground's grain then comes from their ground seen from above
           (`floor.floor_view`; of the photo that shows the most of it at the floor
           texture's resolution), else from the panorama's ground
    info   optional dict that receives what was found: 'upper' ('sky' | 'ceiling'),
           'class_fractions' of the photo, 'exemplars' (class -> window size or None),
           'classes' (h, 2h) uint8 class map of the whole panorama at h = min(H, 512)
           (classes.UPRIGHT / GROUND / SKY, or CEILING = 3), 'layout' of the unseen part
           (`layout.Layout.as_dict`), 'ground_grain' (where the ground's grain came from:
           {'value': 'photo' | 'panorama' | 'foliage' | 'none', 'source': a sentence})
    returns (H, 2H, 3) float32 0..1; known pixels are kept (blended over ~1 px at edges)
    Raises ValueError for a wrongly shaped input or one without known pixels.
    """
    import cv2

    cancel = cancel or CancelToken()
    pano = np.asarray(pano, np.float32)
    weight = np.asarray(weight, np.float32)
    H, W = pano.shape[:2]
    if W != 2 * H or pano.ndim != 3 or weight.shape != (H, W):
        raise ValueError(
            f"expected an equirect panorama (H, 2H, 3) and weight (H, 2H); "
            f"got {pano.shape} and {weight.shape}"
        )
    if float(weight.max()) <= 0.0:
        raise ValueError("nothing to outpaint from: the panorama has no known pixels")
    progress(0.0, "outpainting: finding sky, ground and walls in the photo")
    ht = min(TEXTURE_HEIGHT, H)
    wt = 2 * ht
    m_t = cv2.resize(weight, (wt, ht), interpolation=cv2.INTER_AREA)
    num = cv2.resize(pano * weight[..., None], (wt, ht), interpolation=cv2.INTER_AREA)
    known_t = m_t > 0.5
    if known_t.sum() < 16:
        raise ValueError(
            "the photo covers too little of the panorama to outpaint from "
            "(is its field of view tiny?)"
        )
    img_t = np.where(known_t[..., None], num / np.maximum(m_t, 1e-6)[..., None], 0).astype(
        np.float32
    )
    labels_t = _classify_known(img_t, known_t)
    cancel.check()
    upper = SKY if (labels_t[known_t] == SKY).any() else CEILING
    foliage = _foliage(img_t, known_t & (labels_t == UPRIGHT), upper)
    veg_ground = _vegetation_ground(known_t, labels_t, foliage)
    layout = estimate_layout(labels_t, known_t, upper, room_radius=room_radius)
    if not layout.indoor:
        # a treeline's crowns where the photo shows foliage, hills or roofs elsewhere
        layout = dataclasses.replace(layout, treeline=foliage is not None)
    hs = min(WORK_HEIGHT, H)
    ws = 2 * hs
    known_s = cv2.resize(known_t.astype(np.float32), (ws, hs), interpolation=cv2.INTER_AREA)
    img_s = cv2.resize(img_t * known_t[..., None], (ws, hs), interpolation=cv2.INTER_AREA)
    onehot_t = {c: (known_t & (labels_t == c)).astype(np.float32) for c in (UPRIGHT, GROUND, SKY)}
    onehot_s = {
        c: cv2.resize(v, (ws, hs), interpolation=cv2.INTER_AREA) for c, v in onehot_t.items()
    }
    progress(0.2, "outpainting: continuing each surface's colours")
    share_s = _layout_share(known_s)  # (hs, ws): 0 at the photo, 1 where the layout rules
    # the unseen layout's shapes (a skyline's crowns) differ from photo to photo: with one
    # seed every outdoor world had the same treeline (a trial: two Sceaux photos' worlds,
    # their skylines 90° and 180° away correlated 0.987)
    shape_seed = seed + _photo_seed(img_t, known_t)
    cover_s = _layout_cover(layout, hs, shape_seed)
    near_s, handover_s = _near_weights(onehot_s, known_s, upper, cover_s, share_s)
    weights_s = _mix_layout(near_s, cover_s, handover_s)  # {class: (hs, ws)}
    wall_prof = (
        _wall_profile(img_t, known_t & (labels_t == UPRIGHT), layout) if layout.indoor else None
    )
    colours_s = _class_colours(
        img_s,
        onehot_s,
        known_s,
        upper,
        img_t,
        known_t,
        labels_t,
        share_s,
        layout,
        foliage,
        veg_ground,
        wall_prof,
    )
    cancel.check()
    progress(0.45, "outpainting: synthesising textures")
    noise = np.random.default_rng(seed).standard_normal((ht, wt)).astype(np.float32)
    views = [
        (floor_view(p.rgb, p.camera, known_t & (labels_t == GROUND), plane_texel(ht), p.alpha), p)
        for p in photos
    ]
    views = [(v, p) for v, p in views if v is not None]
    best_view, floor_photo = max(views, key=lambda vp: int(vp[0][1].sum()), default=(None, None))
    floor_ex = None
    if best_view is not None and GROUND in colours_s:
        # the grain of the ground the invented ground is coloured as: the lawns beside a
        # gravel path (Sceaux 100_7104), not the path, the plainest part of the photo
        invented = (weights_s.get(GROUND, 0) > 0.5) & (known_s < 0.5)
        floor_ex = _floor_exemplar(
            *best_view, colours_s[GROUND][invented].mean(0) if invented.any() else None
        )
    fill = np.zeros((ht, wt, 3), np.float32)
    exemplars: dict[str, int | None] = {}
    # away from the photo the layout's class lines (skyline, horizon, the room's corners)
    # drawn at the texture's resolution: at the work size they were a 2-4° soft band, fog
    handover_t = _resize_wrap(handover_s, ht, wt).clip(0, 1)
    weights_t = _mix_layout(
        {c: _resize_wrap(_blur_wrap(v, 1.5), ht, wt) for c, v in near_s.items()},
        _layout_cover(layout, ht, shape_seed, supersample=2),
        handover_t,
        blur=0.0,
    )
    dist = distance_from(known_t)
    cut = _object_against_sky(known_t, labels_t, weights_t, dist) if SKY in weights_t else None
    if cut is not None and cut.any():
        # beside an object the photo's edge cuts against the sky, the sky alone: a share of
        # the object carried on there drew a grey ring round a tree cut by the frame
        soft = np.clip(_blur_wrap(cut.astype(np.float32), 1.0) * 2.0, 0.0, 1.0)
        for c in list(weights_t):
            if c != SKY:
                weights_t[SKY] = weights_t[SKY] + weights_t[c] * soft
                weights_t[c] = weights_t[c] * (1.0 - soft)
    crown_px = _crown_pixels(img_t, known_t, labels_t) if upper == SKY else None
    canopy = (
        _canopy(crown_px, known_t, weights_t, dist, seed)
        if crown_px is not None and SKY in weights_t and UPRIGHT in weights_t
        else None
    )
    crown = _crown_surface(img_t, crown_px, noise) if canopy is not None and canopy.any() else None
    if crown is not None:
        # the crown's mean colour is its leaves' near the edge (not the sky seen through
        # them): its colour field, a mean of lit leaves, shade and sky glimpses carried
        # outwards, plus grain came out grey beside the Sceaux castle's dark green tree
        leaves = crown_px & (distance_from(~known_t) <= CROWN_MATCH_DEG * ht / 180.0)
        crown = _match_colours(crown, canopy, img_t[leaves & ~sky_like(img_t)])
    canopy_soft = None
    if crown is None:
        canopy = None
    else:
        # a tree's crown the photo's edge cuts against the sky grows on past the edge
        # (its leaves, not a straight cut; the rest of the object stays cut)
        canopy_soft = np.clip(_blur_wrap(canopy.astype(np.float32), 0.7) * 1.5, 0.0, 1.0)
        for c in list(weights_t):
            weights_t[c] = weights_t[c] * (1.0 - canopy_soft)
        weights_t[UPRIGHT] = weights_t[UPRIGHT] + canopy_soft
        cut = cut & ~canopy if cut is not None else None
    surfaces: dict[int, np.ndarray] = {}
    for c, w_t in weights_t.items():
        if float(w_t.max()) < 1e-3 or c not in colours_s:
            continue
        col_t = _resize_wrap(colours_s[c], ht, wt)
        if c == UPRIGHT and wall_prof is not None:
            # the walls' bands drawn at the texture's resolution: upsampled from the work
            # grid a wainscot's rail was a staircase of 1.4° steps round the room
            share_t = _resize_wrap(share_s, ht, wt).clip(0, 1)[..., None]
            col_t = col_t + share_t * (
                _wall_field(wall_prof, layout, ht, wt)
                - _resize_wrap(_wall_field(wall_prof, layout, hs, ws), ht, wt)
            )
        tex, size = _class_texture(
            img_t,
            known_t,
            labels_t,
            c,
            noise,
            indoor=upper == CEILING,
            foliage=foliage,
            floor_ex=floor_ex,
            veg_ground=veg_ground,
        )
        exemplars[_NAMES[c]] = size
        surfaces[c] = col_t + tex
        fill += w_t[..., None] * surfaces[c]
        cancel.check()
    if upper == CEILING:
        # where the box room rules, its corners and edges a little darker (light reaches
        # them less): flat planes meeting at hairlines read as fog, not as a room
        occluded = 1.0 - box_occlusion(layout, ht)
        fill *= (1.0 - _resize_wrap(share_s, ht, wt).clip(0, 1) * occluded)[..., None]
    progress(0.75, "outpainting: blending")
    # the sky and the ground invented beside the photo shifted by a smooth offset to meet
    # its edge colours, so they carry on at its colours instead of stepping to their own
    fill = fill + _seam_offset(surfaces, img_t, known_t, labels_t, weights_t, dist)
    if canopy_soft is not None:
        # the crown meets the photo's own leaves at its edge (its colour field is on the
        # work grid: a lighter band along the frame)
        crown = crown + _seam_offset(
            {UPRIGHT: crown},
            img_t,
            known_t,
            np.where(crown_px, UPRIGHT, 255).astype(np.uint8),
            {UPRIGHT: canopy_soft},
            dist,
            classes=(UPRIGHT,),
        )
        fill = fill * (1.0 - canopy_soft[..., None]) + crown * canopy_soft[..., None]
    # just outside the photo, its own colours carry on smoothly (no detail, no mirror),
    # so the photo's frame does not show; the class surfaces take over within EDGE_BLEND_DEG
    norm_s = np.where(known_s[..., None] > 0.05, img_s / np.maximum(known_s, 1e-6)[..., None], 0)
    edge_all = _normalised_fill(norm_s, known_s > 0.5)
    # the sky carries on the sky's own colours only: a tree's dark foliage at the photo's
    # top does not bleed into the sky invented above it
    edge_s = np.zeros_like(edge_all)
    wsum = np.zeros(known_s.shape, np.float32)
    for c, w_s in weights_s.items():
        src = (
            (known_s > 0.5) & (onehot_s[c] / np.maximum(known_s, 1e-6) > 0.6)
            if c == SKY
            else np.zeros_like(known_s, bool)
        )
        e_c = _normalised_fill(norm_s, src, aniso=SKY_ANISO) if src.sum() >= 8 else edge_all
        edge_s += w_s[..., None] * e_c
        wsum += w_s
    edge_s = np.where(wsum[..., None] > 1e-3, edge_s / np.maximum(wsum, 1e-3)[..., None], edge_all)
    edge = _resize_wrap(edge_s.astype(np.float32), ht, wt)
    t = _smoothstep(0.0, EDGE_BLEND_DEG / 180.0 * ht, dist)
    if canopy_soft is not None:  # the crown is leaves from its edge on, no sky
        t = np.maximum(t, canopy_soft)
    if upper == SKY:
        # ... and no blur of the photo's colours carries on over it either: the rim band
        # (`_photo_rim`) meets the photo's own edge colours
        tot_t = np.maximum(sum(weights_t.values()), 1e-6)
        t = np.maximum(t, weights_t[UPRIGHT] / tot_t)
    other = _silhouette_beside(known_t, labels_t, weights_t, dist, img_t, fill)
    # where the surface invented beside the photo is not the photo's edge surface carrying
    # on (another class, or a far treeline beside bright haze), the edge is a silhouette:
    # neither side's colours carry across it (the Sceaux photo's haze at its left edge
    # smeared a pale band down the treeline beside it)
    t = np.maximum(t, np.clip(_blur_wrap(other.astype(np.float32), 0.7) * 1.5, 0.0, 1.0))
    t = t[..., None]
    fill = edge * (1 - t) + fill * t + (fill - _blur_wrap(fill, 2.0)) * (1 - t)
    rim_keep = other
    for part in (cut, canopy):
        if part is not None:
            rim_keep = rim_keep | part
    fill = _photo_rim(fill, img_t, known_t, dist, keep=rim_keep)
    fill = _converge_poles(fill)
    # at the photo's texels the photo itself: upsampled, the band's first full-resolution
    # pixels then blend with the photo's edge, not with the smooth field under it
    fill = np.where(known_t[..., None], img_t, fill)
    out = _resize_wrap(fill, H, W) if ht != H else fill
    # the photo is kept whole, its partly covered rim pixels too: `_photo_rim` makes the
    # invented band start from the photo's own edge colours, so there is nothing to hide
    # (a feather into the smooth fill showed as a bright line where the photo's corners
    # are darker than its middle: lens vignetting). In place: at 8192 rows each
    # panorama-sized copy is 1.6 GB
    np.copyto(out, pano, where=(weight > 0)[..., None])
    np.clip(out, 0.0, 1.0, out=out)
    if info is not None:

        def class_map(weights: dict, size: int) -> np.ndarray:
            order = list(weights)
            stack = np.stack([weights[c] for c in order], -1)  # (ht, wt, classes)
            cmap = np.array(order, np.uint8)[np.argmax(stack, -1)]
            return cv2.medianBlur(cmap, size)  # no specks of one class inside another

        # where the layout rules, the classes the texture was painted with, so the world
        # puts each painted pixel (a crown of the far treeline) at its class's distance;
        # next to the photo the smooth map (the photo's classes carried on, which the
        # geometry beside the photo is built from)
        near_t = {c: _resize_wrap(v, ht, wt) for c, v in weights_s.items()}
        cmap = np.where(handover_t > 0.5, class_map(weights_t, 3), class_map(near_t, 5))
        if canopy is not None:
            cmap = np.where(canopy, np.uint8(UPRIGHT), cmap)
        info["classes"] = np.where(known_t, labels_t, cmap).astype(np.uint8)
        tot = max(int(known_t.sum()), 1)
        info.update(
            {
                "upper": "sky" if upper == SKY else "ceiling",
                "class_fractions": {
                    _NAMES[c]: round(float((labels_t[known_t] == c).sum()) / tot, 3)
                    for c in (UPRIGHT, GROUND, SKY)
                },
                "exemplars": exemplars,
                "ground_grain": _grain_source(
                    floor_ex, floor_photo, ht, bool(exemplars.get("ground")), veg_ground
                ),
                "layout": layout.as_dict(),
                "far_upright": (
                    "foliage in the photo" if foliage is not None else "the photo's upright things"
                ),
            }
        )
    progress(1.0, "outpainting done")
    return out


_NAMES = {UPRIGHT: "upright", GROUND: "ground", SKY: "sky", CEILING: "ceiling"}


# ----------------------------------------------------------------- building blocks
def _classify_known(img: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Class labels (h, w) uint8 of the known pixels of an equirect image (horizon at h/2)."""
    h, w = known.shape
    rows = np.nonzero(known.any(1))[0]
    # roll the longest known column run to the middle so the crop does not wrap
    cols = known.any(0)
    shift = 0
    if not cols.all():
        gap = ~cols
        # centre of the known columns on the circle: opposite the middle of the largest gap
        idx = np.nonzero(gap)[0]
        runs = np.split(idx, np.nonzero(np.diff(idx) > 1)[0] + 1)
        if len(runs) > 1 and runs[0][0] == 0 and runs[-1][-1] == w - 1:
            runs = [np.concatenate([runs[-1], runs[0]])] + runs[1:-1]
        big = max(runs, key=len)
        mid_gap = int(big[len(big) // 2])
        shift = (w // 2 - (mid_gap + w // 2)) % w
    img_r = np.roll(img, shift, axis=1)
    known_r = np.roll(known, shift, axis=1)
    c_idx = np.nonzero(known_r.any(0))[0]
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, c_idx[0], c_idx[-1] + 1
    import cv2

    lab = np.full((h, w), UPRIGHT, np.uint8)
    crop, valid = img_r[r0:r1, c0:c1], known_r[r0:r1, c0:c1]
    # the classifier's texture cues expect a view ~200-300 px tall
    f = float(np.clip(240.0 / max(r1 - r0, 1), 1.0, 4.0))
    if f > 1.05:
        size = (round((c1 - c0) * f), round((r1 - r0) * f))
        big = cv2.resize(crop, size, interpolation=cv2.INTER_CUBIC)
        vb = cv2.resize(valid.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
        lb = classify_view(big, (h / 2 - r0) * f - 0.5, valid=vb)
        lab[r0:r1, c0:c1] = cv2.resize(lb, (c1 - c0, r1 - r0), interpolation=cv2.INTER_NEAREST)
    else:
        lab[r0:r1, c0:c1] = classify_view(crop, h / 2 - 0.5 - r0, valid=valid)
    # the photo's 1–2 px feathered rim has blended colours: it takes the class of the
    # nearest pixel inside it (else a rim of "upright" would frame the photo's sky)
    from scipy.ndimage import distance_transform_edt

    inner = cv2.erode(known_r.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    if inner.any():
        _, (ri, ci) = distance_transform_edt(~inner, return_indices=True)
        rim = known_r & ~inner
        lab[rim] = lab[ri[rim], ci[rim]]
    lab = _sky_to_the_edge(lab, img_r, known_r)
    return np.roll(lab, -shift, axis=1)


EDGE_SKY_DEG = 2.0  # the photo's sky reaches its edge through this band when it looks like sky
EDGE_SKY_LUM = 0.6  # ... and is at least this share of the sky's brightness
EDGE_SKY_STEP = 0.1  # ... or within this (0..1, any channel) of the sky just inside the band


def _sky_to_the_edge(labels: np.ndarray, img: np.ndarray, known: np.ndarray) -> np.ndarray:
    """The photo's sky grown through its outermost EDGE_SKY_DEG (labels (h, w) uint8 of the
    known (h, w) bool pixels of img (h, w, 3)): band pixels called upright that join the
    sky through such pixels become sky when their colour is sky-like (`classes.sky_like`)
    and either at least EDGE_SKY_LUM of the sky's median brightness and half its blue
    excess, or within EDGE_SKY_STEP of the nearest pixel just inside the band (up to
    twice its width in), which is sky.
    A lens's vignetting darkens the sky toward a photo's corners faster than the texture
    cue allows (the Sceaux photo's last 5 texels at its top right): called a wall, the
    edge kept its dark rim, and the invented sky beyond was matched to the sky further in.
    A sky washed out to white by the sun (Sceaux 100_7104's left edge) has no blue excess:
    its edge band was a wall, and the invented blue sky met it as a silhouette, a step."""
    import cv2

    sky = labels == SKY
    if not sky.any():
        return labels
    h = known.shape[0]
    inner = cv2.distanceTransform(known.astype(np.uint8), cv2.DIST_L2, 5)
    # like the photo's own sky: as blue (half its blue excess at least) and not much darker
    # (a grey tower at the edge is "sky-like" too)
    ref = np.median(img[sky], 0)
    lum = img @ np.array([0.299, 0.587, 0.114], np.float32)
    ref_lum = float(ref @ np.array([0.299, 0.587, 0.114], np.float32))
    like = (
        sky_like(img)
        & (lum >= EDGE_SKY_LUM * ref_lum)
        & (img[..., 2] - img[..., 0] >= 0.5 * float(ref[2] - ref[0]))
    )
    band = EDGE_SKY_DEG / 180.0 * h
    cand = known & (inner <= band) & (labels == UPRIGHT) & sky_like(img)
    if not cand.any():
        return labels
    # ... or the colour of the sky just inside the band (a wall there is not sky: a white
    # facade cut by the frame stays a wall down its edge)
    ring = known & (inner > band) & (inner <= 2 * band)
    if ring.any():
        ri, ci = _nearest_pixel(ring)
        inside_sky = (labels[ri, ci] == SKY) & (np.abs(img - img[ri, ci]).max(-1) <= EDGE_SKY_STEP)
        like |= inside_sky
    cand &= like
    grown = sky.copy()
    kernel = np.ones((3, 3), np.uint8)
    for _ in range(int(EDGE_SKY_DEG / 180.0 * h) * 2 + 2):  # ~ the band's width, diagonals too
        nxt = grown | (cand & (cv2.dilate(grown.astype(np.uint8), kernel) > 0))
        if (nxt == grown).all():
            break
        grown = nxt
    out = labels.copy()
    out[grown & ~sky] = SKY
    return out


def _blur_wrap(img: np.ndarray, sx: float, sy: float | None = None) -> np.ndarray:
    """Gaussian blur with wrap-around in longitude (and reflection at the poles)."""
    import cv2

    sy = sx if sy is None else sy
    if sx <= 0.3 and sy <= 0.3:
        return img
    ws = img.shape[1]
    pad = min(ws, int(3 * sx) + 2)
    p = np.concatenate([img[:, -pad:], img, img[:, :pad]], axis=1)
    kx = max(3, int(6 * sx) | 1)
    ky = max(3, int(6 * sy) | 1)
    b = cv2.GaussianBlur(p, (kx, ky), sx, sigmaY=max(sy, 0.01), borderType=cv2.BORDER_REFLECT)
    return b[:, pad : pad + ws]


def _normalised_fill(values: np.ndarray, mask: np.ndarray, *, aniso: float = 1.0) -> np.ndarray:
    """Smooth continuation of `values` (h, w, C) known where `mask` (h, w) > 0.

    Normalised convolution over a pyramid of Gaussian scales: each pixel takes the finest
    scale whose support holds enough known weight (Knutsson & Westin, CVPR 1993).
    `aniso` > 1 stretches the kernels along longitude (rows carry further sideways).
    """
    h, w = mask.shape
    m = mask.astype(np.float32)[..., None]
    v = values * m
    out = None
    for s in (64.0, 32.0, 16.0, 8.0, 4.0, 2.0):
        sc = s * h / 128
        num = _blur_wrap(v, sc * aniso, sc)
        den = _blur_wrap(m, sc * aniso, sc)
        if den.ndim == 2:
            den = den[..., None]
        est = num / np.maximum(den, 1e-8)
        if out is None:
            # the coarsest level: fall back to the global mean where even it sees nothing
            gm = v.sum((0, 1)) / max(float(m.sum()), 1e-6)
            out = np.where(den > 1e-4, est, gm)
        else:
            t = np.clip(den / 0.25, 0, 1)
            out = out * (1 - t) + est * t
    return out.astype(np.float32)


def _grain_source(
    floor_ex: np.ndarray | None,
    photo: PlacedPhoto | None,
    h: int,
    ground: bool,
    vegetation: bool = False,
) -> dict[str, str]:
    """Where the invented ground's grain came from, for the panorama's record (and the
    world's estimates): {'value': 'photo' | 'panorama' | 'foliage' | 'none', 'source': a
    sentence}. vegetation: the photo shows no ground and the ground continues its foliage
    (`_vegetation_ground`)."""
    if vegetation and ground:
        return {
            "value": "foliage",
            "source": "no ground in the photo: the ground is its vegetation (colour and grain "
            "of its foliage)",
        }
    if not ground:
        return {"value": "none", "source": "no ground in the photo"}
    if floor_ex is None or photo is None:
        return {
            "value": "panorama",
            "source": "the panorama's own ground, stretched to the floor's proportions",
        }
    across = len(floor_ex) * plane_texel(h)
    name = photo.name or "the photo"
    return {
        "value": "photo",
        "source": f"{name}'s ground seen from straight above, at its own resolution: a "
        f"patch {across:.2f} eye heights across (~{across * 1.6:.1f} m at a 1.6 m eye height)",
    }


def _photo_seed(img: np.ndarray, known: np.ndarray) -> int:
    """A number (0 .. 2³¹) that tells photos apart and stays the same for one photo: a
    checksum of its mean colour (to 1/32), covered area (to 256 texels) and the mean
    colours of its thirds (left, middle, right; to 1/16). Coarse, so resampling's last
    bits cannot change it."""
    import zlib

    if not known.any():
        return 0
    cols = np.nonzero(known.any(0))[0]
    key = [round(v * 32) for v in img[known].mean(0)] + [int(known.sum()) // 256]
    for part in np.array_split(cols, 3):
        sel = known[:, part]
        if sel.any():
            key += [round(v * 16) for v in img[:, part][sel].mean(0)]
    return zlib.crc32(repr(key).encode()) & 0x7FFFFFFF


def _layout_cover(layout: Layout, h: int, seed: int, supersample: int = 4) -> dict:
    """{class: (h, 2h) float32}: the share of each pixel the layout's class covers, from
    `layout.layout_classes` drawn `supersample`× finer and box-filtered. Hard classes at
    the work size put the wall–ceiling line on a 1.4° staircase, which the blur and the
    upsampling turned into a visibly wavy line."""
    import cv2

    fine = layout_classes(layout, h * supersample, seed=seed)
    return {
        int(c): cv2.resize((fine == c).astype(np.float32), (2 * h, h), interpolation=cv2.INTER_AREA)
        for c in np.unique(fine)
    }


def _mix_layout(near: dict, layout: dict, share: np.ndarray, blur: float = 1.5) -> dict:
    """Soft class weights of every pixel (sum 1), {class: (h, w) float32}: next to the
    photo its classes carried on (`near`, `_near_weights`); by `share` (h, w) they hand
    over to the unseen part's layout (`layout`, `_layout_cover`: {class: (h, w) coverage}
    of a room box, or a skyline). Blurred by `blur` pixels (0: not at all, for a cover
    already drawn at the output's resolution)."""
    h, w = share.shape
    out = {}
    for c in set(near) | set(layout):
        lay_c = layout.get(c, np.zeros((h, w), np.float32))
        out[c] = near.get(c, np.zeros((h, w), np.float32)) * (1 - share) + lay_c * share
    if blur > 0:
        out = {c: _blur_wrap(v.astype(np.float32), blur) for c, v in out.items()}
    tot = sum(out.values())
    return {c: (v / np.maximum(tot, 1e-6)).astype(np.float32) for c, v in out.items()}


def _near_weights(
    onehot: dict, known: np.ndarray, upper: int, layout: dict, share: np.ndarray
) -> tuple[dict, np.ndarray]:
    """The photo's classes carried on over the whole sphere, {class: (h, w) float32}, and
    the share (h, w) the layout (`_layout_cover`) takes from them: `share`
    (`_layout_share`: from LAYOUT_NEAR_DEG to LAYOUT_FAR_DEG away), sooner where the
    layout has sky outdoors; `_mix_layout` mixes the two. Next to the photo each row keeps
    the photo's mix of classes at that height."""
    h, w = known.shape
    _, lat = pano_lonlat(h, w)
    lat = lat[:, None].astype(np.float32)
    rows = np.nonzero(known.any(1) if known.dtype == bool else (known > 0.5).any(1))[0]
    lat_top = float(lat[rows[0], 0]) if len(rows) else 0.3
    lat_bot = float(lat[rows[-1], 0]) if len(rows) else -0.3
    stack = np.stack([onehot[UPRIGHT], onehot[GROUND], onehot[SKY]], -1)
    frac = stack / np.maximum(known, 1e-6)[..., None] * (known > 0.5)[..., None]
    lateral = _normalised_fill(frac, (known > 0.5), aniso=4.0)
    if upper == SKY:
        # outdoors, straight above the photo is sky: each row carrying its classes
        # sideways gave the sky above a photo whose top row is half tree, half sky a band
        # of tree all along its top edge (a dark halo), and a tree cut by the photo's top
        # edge went on upwards as a dark cloud. An object is never continued: it ends at
        # the photo's edge, against the sky (`_object_against_sky`); indoors the room box
        # decides there
        vert = _beyond_rows_share(known > 0.5)
        lateral = lateral / np.maximum(lateral.sum(-1, keepdims=True), 1e-6)
        above = vert * (lat > lat_top)
        sky = lateral[..., 2] + above * (1.0 - lateral[..., 2])
        rest = (1.0 - sky) / np.maximum(1.0 - lateral[..., 2], 1e-6)
        lateral[..., :2] *= rest[..., None]
        lateral[..., 2] = sky
    lateral = lateral / np.maximum(lateral.sum(-1, keepdims=True), 1e-6)
    up = _smoothstep(lat_top - 0.02, lat_top + 0.35, lat) * (lat > min(lat_top, 0.05))
    down = _smoothstep(lat_bot + 0.02, lat_bot - 0.35, lat) * (lat < max(lat_bot, -0.05))
    # indoors, upright structure below the ceiling and the photo's sky never go below the
    # horizon; the ground never above it
    lat_ok_sky = lat > -0.05
    lat_ok_ground = lat < 0.05
    up = np.broadcast_to(up, (h, w))
    down = np.broadcast_to(down, (h, w))
    mid = np.clip(1 - up - down, 0, 1)
    w_up = lateral[..., 0] * mid
    w_ground = lateral[..., 1] * mid * lat_ok_ground
    w_sky = lateral[..., 2] * mid * lat_ok_sky
    # what the band cannot hold goes to the upper class above the horizon, else the ground
    rest = mid - w_up - w_ground - w_sky
    res_up = np.where(lat >= 0, rest, 0)
    res_dn = np.where(lat < 0, rest, 0)
    out = {UPRIGHT: w_up, GROUND: w_ground + down + res_dn}
    top = up + res_up
    if upper == SKY:
        out[SKY] = w_sky + top
    else:
        out[SKY] = w_sky
        out[CEILING] = top
    if upper == SKY and SKY in layout:
        # outdoors, where the layout's sky lies the photo's classes hand over sooner: a
        # launch tower or a tree trunk at the photo's edge went on sideways as a grey wall
        # the photo's full height for ~20°, a slab beside it
        share = np.maximum(share, layout[SKY] * _smoothstep(0.0, 1.0, share * SKY_HANDOVER))
    return {c: v.astype(np.float32) for c, v in out.items()}, share.astype(np.float32)


def _beyond_rows_share(known: np.ndarray) -> np.ndarray:
    """(h, w) float32 in 0..1: how much a pixel lies above or below the photo rather than
    beside it. With dy its distance (rows) past the photo's top or bottom row and dx its
    distance (columns, wrapped) past the photo's left or right column: dy / (dx + dy),
    1 straight above or below the photo, 0 beside it or on it. 0 everywhere for a photo
    region spanning more than half the width (a stitched band: rows rule)."""
    h, w = known.shape
    rows = np.nonzero(known.any(1))[0]
    cols = np.nonzero(known.any(0))[0]
    if not len(rows) or cols[-1] - cols[0] > w // 2:
        return np.zeros((h, w), np.float32)
    r = np.arange(h, dtype=np.float32)
    dy = np.maximum(rows[0] - r, 0) + np.maximum(r - rows[-1], 0)
    c = np.arange(w, dtype=np.float32)
    mid, half = 0.5 * (cols[0] + cols[-1]), 0.5 * (cols[-1] - cols[0])
    off = np.abs((c - mid + w / 2) % w - w / 2)  # wrapped distance from the middle column
    dx = np.maximum(off - half, 0)
    return (dy[:, None] / np.maximum(dy[:, None] + dx[None, :], 1e-6)).astype(np.float32)


def _centre_distance(mask: np.ndarray, sideways: bool = False) -> np.ndarray | None:
    """Distance (h, w) float64 of every pixel from the centre of `mask`'s bounding box, in
    units of its half-size (max norm: 0 at the centre, 1 on the box's edges); None when
    the box spans more than half the width (a region around the seam has no centre)."""
    rows = np.nonzero(mask.any(1))[0]
    cols = np.nonzero(mask.any(0))[0]
    if not len(rows) or cols[-1] - cols[0] > mask.shape[1] // 2:
        return None
    r0, r1, c0, c1 = rows[0], rows[-1], cols[0], cols[-1]
    rr, cc = np.mgrid[0 : mask.shape[0], 0 : mask.shape[1]]
    dr = np.abs(rr - (r0 + r1) / 2) / max((r1 - r0) / 2, 1)
    dc = np.abs(cc - (c0 + c1) / 2) / max((c1 - c0) / 2, 1)
    return dc.astype(np.float64) if sideways else np.maximum(dr, dc)


def _border_mean(img: np.ndarray, sel: np.ndarray, sideways: bool = False) -> np.ndarray | None:
    """Mean colour (3,) of the `sel` pixels of the photo's region, weighted by the square
    of their distance from its centre (0 there, 1 at its edges); None with under 16.
    sideways: only the distance to the left and right edges counts, to the fourth power
    (outdoors the band around the horizon continues what stands at the photo's sides; its
    top and bottom rows are roofs and the ground's edge)."""
    if sel.sum() < 16:
        return None
    d = _centre_distance(sel, sideways)
    if d is None:  # the region wraps around the seam: no border bias
        return img[sel].mean(0)
    wgt = d[sel] ** (4 if sideways else 2) + 1e-3
    return (img[sel] * wgt[:, None]).sum(0) / wgt.sum()


def _layout_share(known: np.ndarray) -> np.ndarray:
    """How much the layout decides at each pixel (h, w) float32: 0 on and next to the
    photo, 1 from LAYOUT_FAR_DEG away (distance on the equirect grid, wrapped)."""
    dist = distance_from(known > 0.5) * (180.0 / known.shape[0])  # degrees
    return _smoothstep(LAYOUT_NEAR_DEG, LAYOUT_FAR_DEG, dist)


def _foliage(img_t: np.ndarray, upright: np.ndarray, upper: int) -> np.ndarray | None:
    """The photo's foliage pixels (ht, wt) bool the far skyline's colour and grain come
    from instead of all its upright pixels `upright`, or None.

    Outdoors, when at least 64 of the photo's upright pixels look like foliage
    (`classes.vegetation_like`) and they make FOLIAGE_SHARE of its upright pixels, or
    FOLIAGE_SIDE_SHARE of them weighted towards its left and right edges as
    `_border_mean(sideways=True)` weighs them (what stands beside the subject is what
    carries on round the horizon): the skyline that goes round the invented part is a
    treeline, and a castle's or a street's facade as its exemplar drew grey, jagged rock
    (Sceaux, photos 100_7104 and 100_7109). None otherwise, and indoors (the walls carry
    on the photo's walls)."""
    if upper != SKY:
        return None
    veg = upright & vegetation_like(img_t)
    n = int(veg.sum())
    if n < 64:
        return None
    if n >= FOLIAGE_SHARE * int(upright.sum()):
        return veg
    d = _centre_distance(upright, sideways=True)
    if d is None:
        return None
    wgt = d**4 + 1e-3
    side = float(wgt[veg].sum()) / max(float(wgt[upright].sum()), 1e-9)
    return veg if side >= FOLIAGE_SIDE_SHARE else None


def _vegetation_ground(
    known_t: np.ndarray, labels_t: np.ndarray, foliage: np.ndarray | None
) -> bool:
    """Whether the invented ground is the photo's vegetation: an outdoor photo that shows
    foliage (`_foliage`: None indoors) and no ground (under MIN_GROUND_SHARE), a field of
    sunflowers or a flower bed seen from among the plants. Its ground was the colour of the
    photo's bottom band, shaded leaves, with no grain at all: a black-grey tarmac under
    the flowers (a trial, Depth Anything's demo photo of sunflowers)."""
    if foliage is None:
        return False
    ground = int((known_t & (labels_t == GROUND)).sum())
    return ground < MIN_GROUND_SHARE * max(int(known_t.sum()), 1)


def _class_colours(
    img_s: np.ndarray,
    onehot_s: dict,
    known_s: np.ndarray,
    upper: int,
    img_t: np.ndarray,
    known_t: np.ndarray,
    labels_t: np.ndarray,
    share: np.ndarray,
    layout: Layout | None = None,
    foliage: np.ndarray | None = None,
    veg_ground: bool = False,
    wall_prof: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict:
    """Colour field (h, w, 3) of every class, continuing the photo's pixels of that class;
    where the layout rules (`share` (h, w), `_layout_share`) walls take the photo's
    background colour (indoors by height on the wall: `wall_prof`, `_wall_profile`), a
    ceiling a light tint. Outdoors upright things beside the photo are the far band
    everywhere: the colour of its `foliage` (ht, wt) bool (`_foliage`) when given, else of
    its upright sides, with a little of the sky's. veg_ground (`_vegetation_ground`): the
    ground is the colour of that foliage too."""
    h, w = known_s.shape
    _, lat = pano_lonlat(h, w)
    lat = lat[:, None, None].astype(np.float32)
    norm = np.where(known_s[..., None] > 0.05, img_s / np.maximum(known_s, 1e-6)[..., None], 0)
    top_c = _band_color(img_t, known_t, top=True)
    bot_c = _band_color(img_t, known_t, top=False)
    out = {}
    for c in (UPRIGHT, GROUND, SKY):
        m = onehot_s[c] / np.maximum(known_s, 1e-6)
        sel = (known_s > 0.5) & (m > 0.6)
        if sel.sum() >= 3:
            out[c] = _sky_field(norm, sel) if c == SKY else _normalised_fill(norm, sel)
        else:
            base = {UPRIGHT: img_t[known_t].mean(0), GROUND: bot_c, SKY: top_c}[c]
            out[c] = np.broadcast_to(base, (h, w, 3)).astype(np.float32).copy()
    # far from the photo the walls take the colour of the photo's background, not of
    # its subject: upright pixels weighted towards the photo's edges (a red motorcycle in
    # the middle of a garage does not paint the garage red)
    up_t = known_t & (labels_t == UPRIGHT) if foliage is None else foliage
    wall = _border_mean(img_t, up_t, sideways=upper == SKY)
    if wall is not None and wall_prof is not None and layout is not None:
        wall = _wall_field(wall_prof, layout, h, w)
    if wall is not None and upper == SKY:
        # outdoors what stands beside the photo is the far band (a treeline, hills): its
        # colour from the photo's edge on. The photo's upright colours carried on mixed its
        # subject in (a pale pillar of the Sceaux castle's facade colour between the
        # photo's edge and the treeline)
        out[UPRIGHT] = np.broadcast_to(np.asarray(wall, np.float32), (h, w, 3)).copy()
    elif wall is not None:
        out[UPRIGHT] = out[UPRIGHT] * (1 - share[..., None]) + wall * share[..., None]
    if veg_ground and wall is not None:
        out[GROUND] = np.broadcast_to(np.asarray(wall, np.float32), (h, w, 3)).copy()
    elif upper == SKY:
        ground = _ground_field(img_t, known_t & (labels_t == GROUND), (h, w))
        if ground is not None:
            out[GROUND] = out[GROUND] * (1 - share[..., None]) + ground * share[..., None]
    # sky: deepen towards the zenith (clear-sky gradient), from its colour at the horizon
    sky_mean = out[SKY][lat[:, 0, 0] > 0].reshape(-1, 3).mean(0) if (lat > 0).any() else top_c
    if upper == SKY:
        lum = float(sky_mean.mean())
        zenith = np.clip(
            0.6 * sky_mean + np.array([0.05, 0.12, 0.3]) * (0.4 + 0.6 * lum) - 0.03, 0, 1
        )
        t = _smoothstep(0.5, 1.45, lat)
        out[SKY] = out[SKY] * (1 - t) + zenith * t
        # the far skyline is seen through air: it takes on a little of the sky's colour
        # at the horizon (aerial perspective); at 0.35 a treeline 40 m away became fog
        far = 0.15 * share[..., None]
        out[UPRIGHT] = out[UPRIGHT] * (1 - far) + out[SKY] * far
    else:
        # ceiling: a light, desaturated tint of the photo's brightest walls (ceilings are
        # painted light; the photo's top band is usually wall or shelf, not ceiling)
        sel = known_t & (labels_t == UPRIGHT)
        px = img_t[sel] if sel.sum() >= 16 else img_t[known_t]
        lum = px @ np.array([0.299, 0.587, 0.114], np.float32)
        bright = px[lum >= np.percentile(lum, 90)].mean(0)
        grey = float(bright.mean())
        ceil = np.clip(0.5 * bright + 0.5 * grey, 0.0, 0.92).astype(np.float32)
        col = _normalised_fill(norm, (known_s > 0.5) & (onehot_s[UPRIGHT] > 0.3))
        # a little brighter towards the zenith (the lamps and windows light it from below)
        t = share[..., None]
        ceil_f = ceil * (1.0 + 0.08 * _smoothstep(0.3, 1.4, lat))
        out[CEILING] = (col * (1 - t) + ceil_f * t).astype(np.float32)
    g = _smoothstep(-0.6, -1.45, lat)
    out[GROUND] = out[GROUND] * (1 - 0.15 * g)
    return {c: v.astype(np.float32) for c, v in out.items()}


def _wall_field(prof: tuple[np.ndarray, np.ndarray], layout: Layout, h: int, w: int) -> np.ndarray:
    """The box room's walls coloured by `_wall_profile` on an (h, w) equirect grid,
    (h, w, 3) float32."""
    lon, lat = pano_lonlat(h, w)
    u = np.tan(np.clip(lat, -1.5, 1.5))[:, None] / layout.wall_factor(lon)[None, :]
    return np.stack([np.interp(u, prof[0], prof[1][:, k]) for k in range(3)], -1).astype(np.float32)


def _wall_profile(
    img: np.ndarray, sel: np.ndarray, layout: Layout
) -> tuple[np.ndarray, np.ndarray] | None:
    """The walls' colour by height: (u (n,), colour (n, 3)), u = tan(elevation) / m(λ)
    (`Layout.wall_factor`): on the box room's walls a pixel at height z above the floor has
    u = (z − eye) / R, the same at every longitude. So a wainscot, a dado rail or a band
    of pictures the photo shows at one height carries on round the invented room at that
    height, instead of one mean colour (a room of brown fog).

    img (h, 2h, 3) and sel (h, 2h) bool: the photo's upright pixels on the equirect grid.
    Each bin of u averages those pixels weighted by the fourth power of their distance
    from the photo's centre column (at each height what stands at the photo's sides goes
    on round the room, not the subject in the middle; measured in both directions, the
    photo's whole top rows counted as its border and the office's cream walls came out
    taupe, mixed with the bookcase and pictures between them) and by how plain they are
    (`_plainness`: walls are plain, shelves and pictures are not). The bins are split into
    bands where their colour steps (`bands.band_labels`: a wainscot's rail; a band is at
    least an eighth of the bins, so a cat's stripes in a close-up are none), smoothed over
    a twelfth of the wall's height within each band (the rail stays a line) and drawn a
    third of the way back to the mean of all of them, the same weights. None when the
    photo's upright pixels cover under a fifth of the wall's height, fewer than 8 columns,
    or the photo's region has no centre (it wraps round).
    """
    h, w = sel.shape
    d = _centre_distance(sel, sideways=True)
    if d is None or sel.any(0).sum() < 8:
        return None
    lon, lat = pano_lonlat(h, w)
    u = np.tan(np.clip(lat, -1.5, 1.5))[:, None] / layout.wall_factor(lon)[None, :]
    lo, hi = -layout.floor_tan, layout.ceiling_tan
    if hi - lo <= 1e-3:
        return None
    n = 48
    idx = np.clip(((u[sel] - lo) / (hi - lo) * n).astype(int), 0, n - 1)
    wgt = (d[sel] ** 4 + 1e-3) * (_plainness(img, sel)[sel] + 1e-3)
    cnt = np.bincount(idx, minlength=n)
    wsum = np.bincount(idx, wgt, minlength=n)
    csum = np.stack([np.bincount(idx, wgt * img[sel][:, k], minlength=n) for k in range(3)], -1)
    ok = cnt >= 12
    if ok.sum() < max(3, n // 5):
        return None
    centres = lo + (np.arange(n) + 0.5) / n * (hi - lo)
    raw = csum[ok] / np.maximum(wsum[ok], 1e-9)[:, None]
    band = np.full(n, -1)
    band[ok] = band_labels(raw)
    # normalised smoothing over the bins that have pixels (σ = 4 bins), within each band:
    # across a wainscot's rail it drew a gradient 0.6 m tall, a room of fog
    k = np.exp(-0.5 * (np.arange(-12, 13) / 4.0) ** 2)
    c = np.zeros((n, 3))
    for b in np.unique(band[ok]):
        inb = band == b
        wsm = np.convolve(np.where(inb, wsum, 0.0), k, "same")
        for j in range(3):
            c[inb, j] = np.convolve(np.where(inb, csum[:, j], 0.0), k, "same")[inb]
        c[inb] /= np.maximum(wsm[inb], 1e-9)[:, None]
    c = c[ok]
    mean = csum.sum(0) / max(float(wsum.sum()), 1e-9)
    c = (2.0 / 3.0) * c + (1.0 / 3.0) * mean
    return centres[ok], c.astype(np.float32)


WALL_PLAIN_STD = 0.03  # a wall's luminance varies by about this much over a third of a degree


def _plainness(img: np.ndarray, sel: np.ndarray) -> np.ndarray:
    """How plain each pixel's neighbourhood is, (h, w) float32 in 0..1: exp(−(σ /
    WALL_PLAIN_STD)²), σ the std-dev of luminance of the `sel` (h, w) bool pixels of `img`
    (h, w, 3) in a square about a third of a degree wide (5 texels at 512 rows), so the
    black beyond the photo's edge or the floor below a wall does not count: 1 on a painted
    wall, ~0 on a bookcase's spines, a picture or a window's mullions."""
    import cv2

    h = img.shape[0]
    k = max(3, int(round(h / 100)) | 1)
    lum = (img @ np.array([0.299, 0.587, 0.114], np.float32)).astype(np.float32)
    m = sel.astype(np.float32)
    n = np.maximum(cv2.blur(m, (k, k)), 1e-6)
    m1 = cv2.blur(lum * m, (k, k)) / n
    m2 = cv2.blur(lum * lum * m, (k, k)) / n
    sd = np.sqrt(np.maximum(m2 - m1 * m1, 0.0))
    return np.exp(-((sd / WALL_PLAIN_STD) ** 2)).astype(np.float32)


NADIR_MEET = -1.35  # rad: the two sides' ground colours are one by this elevation


def _ground_field(img: np.ndarray, sel: np.ndarray, shape: tuple[int, int]) -> np.ndarray | None:
    """The ground's colour (h, w, 3) on an equirect grid of `shape` (h, w), continuing the
    photo's ground by elevation from each of its sides. On level ground an elevation is a
    distance (e / tan(−lat)), so the sunlit gravel far off and the shade at the
    photographer's feet carry on round the view each at its own distance, and beside each
    edge of the photo the invented ground is that edge's ground: one mean for the whole
    ground was neither (Sceaux 100_7100: a tree's blue-grey shade all round, a slab's edge
    beside the sunlit court).

    img (ht, 2ht, 3) and sel (ht, 2ht) bool: the photo's ground pixels on the equirect
    grid. Each side's profile averages, per row, the ground pixels in the outer quarter of
    the photo's ground columns on that side, smoothed over 1.5 % of the height; elevations
    outside the rows it has take the nearest row's colour. Between the sides the two
    profiles mix by longitude, half and half opposite the photo. None with ground in under
    8 columns, a side with under 3 rows of it, or a photo region that wraps round.
    """
    ht, wt = sel.shape
    cols = np.nonzero(sel.any(0))[0]
    if len(cols) < 8 or cols[-1] - cols[0] > wt // 2:
        return None
    c0, c1 = int(cols[0]), int(cols[-1])
    quarter = max(2, (c1 - c0 + 1) // 4)
    _, lat_t = pano_lonlat(ht, wt)
    sigma = max(1.0, 0.015 * ht)
    profiles = []
    for lo, hi in ((c0, c0 + quarter), (c1 - quarter + 1, c1 + 1)):
        rows, colour = _band_rows(img, sel, lo, hi, sigma)
        if len(rows) < 3:
            return None
        profiles.append((-lat_t[rows], colour))
    h, w = shape
    lon, lat = pano_lonlat(h, w)
    # the two sides' profiles on this grid's rows (np.interp needs rising x: −elevation)
    left, right = (
        np.stack([np.interp(-lat, x, c[:, k]) for k in range(3)], -1) for x, c in profiles
    )
    lon_t, _ = pano_lonlat(ht, wt)
    t = _side_weight(float(lon_t[c0]), float(lon_t[c1]), lon)[None, :, None]
    field = (1 - t) * left[:, None] + t * right[:, None]
    # below the lowest ground the photo shows, the two sides meet towards the nadir: held
    # to the nadir, a shaded and a sunlit lawn split the ground under the viewer in two
    # (a trial, three stitched Sceaux photos)
    low = -max(float(x[-1]) for x, _ in profiles)  # the lowest photographed elevation
    if low > NADIR_MEET:
        meet = _smoothstep(low, NADIR_MEET, lat)[:, None, None]
        mid = 0.5 * (left + right)[:, None]
        field = field * (1 - meet) + mid * meet
    return field.astype(np.float32)


def _sky_field(norm: np.ndarray, sel: np.ndarray) -> np.ndarray:
    """The sky's colour field (h, w, 3) from the photo's sky pixels `sel` (h, w) of `norm`.

    A clear sky's colour depends mostly on elevation, and across the sky slowly on
    azimuth (towards the sun, the afterglow): the field is, per row, the colour of the
    photo's sky at each of its sides carried on round the sphere from that side and mixed
    by longitude (`_two_sided`; one elevation profile of all its sky when a side has too
    little), each row's value held above and below the rows that have sky, plus the
    photo's deviation from it, continued along rows (`SKY_ANISO`) and relaxing to zero far
    away. So a twilight glow at the horizon carries on around the sphere, the darker top
    rows of a photo stay a band at their elevation instead of a dark cloud above it (an
    isotropic fill relaxed everything to one mean colour: a frame around the photo), and
    a side of the photo darker than the other stays so beside it instead of relaxing to
    the whole photo's mean within a few degrees (the demo photo's dusk sky, darker at its
    right edge, left a dark band beside it that read as a ghost of the tower there).
    """
    h = sel.shape[0]
    cnt = sel.sum(1)
    rows = np.nonzero(cnt >= 2)[0]
    sums = (norm * sel[..., None]).sum(1)
    prof_rows = sums[rows] / cnt[rows, None]
    r = np.arange(h)
    prof = np.stack([np.interp(r, rows, prof_rows[:, k]) for k in range(3)], -1)
    prof = _blur_wrap(prof[:, None, :].repeat(4, 1), 0.01, 1.0)[:, 0]
    base = _two_sided(norm, sel, prof)
    dev = _normalised_fill(norm - base, sel, aniso=SKY_ANISO)
    return (base + dev).astype(np.float32)


SKY_SIDE_SHARE = 0.25  # the outer share of the photo's sky columns that gives a side's colour
SKY_SIDE_ROWS = 0.3  # ... when it has sky in at least this share of the rows the photo's sky has


def _two_sided(norm: np.ndarray, sel: np.ndarray, prof: np.ndarray) -> np.ndarray:
    """Per-row colours (h, w, 3) carried on from the photo's two sides and mixed by
    longitude, as `_ground_field` does for the ground: each side's profile is the mean of
    the `sel` pixels of `norm` in the outer SKY_SIDE_SHARE of the photo's `sel` columns
    on that side, per row, smoothed over 1.5 % of the height and held beyond its rows;
    half and half opposite the photo. A side with sky in under SKY_SIDE_ROWS of the rows
    that `sel` has takes `prof` (h, 3) instead; so does everything when `sel`'s columns
    wrap round (more than half the width) or are fewer than 8."""
    h, w = sel.shape
    flat = np.broadcast_to(prof[:, None, :], (h, w, 3))
    cols = np.nonzero(sel.any(0))[0]
    if len(cols) < 8 or cols[-1] - cols[0] > w // 2:
        return np.array(flat, np.float32)
    c0, c1 = int(cols[0]), int(cols[-1])
    band = max(2, int(SKY_SIDE_SHARE * (c1 - c0 + 1)))
    all_rows = int((sel.sum(1) >= 2).sum())
    sigma = max(1.0, 0.015 * h)
    r = np.arange(h)
    sides = []
    for lo, hi in ((c0, c0 + band), (c1 - band + 1, c1 + 1)):
        got, col = _band_rows(norm, sel, lo, hi, sigma)
        if len(got) < max(3, SKY_SIDE_ROWS * all_rows):
            sides.append(np.asarray(prof, np.float64))
            continue
        sides.append(np.stack([np.interp(r, got, col[:, k]) for k in range(3)], -1))
    lon, _ = pano_lonlat(h, w)
    t = _side_weight(float(lon[c0]), float(lon[c1]), lon)[None, :, None]
    return ((1 - t) * sides[0][:, None] + t * sides[1][:, None]).astype(np.float32)


def _band_rows(
    img: np.ndarray, sel: np.ndarray, lo: int, hi: int, sigma: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the mean colour of the `sel` (h, w) pixels of `img` (h, w, 3) in columns
    lo..hi−1, smoothed over rows (Gaussian `sigma`, normalised): (rows (n,) that have at
    least 2 such pixels, their colours (n, 3) float64). A side band of the photo, for
    `_ground_field` and `_two_sided`."""
    from scipy.ndimage import gaussian_filter1d

    m = np.zeros_like(sel)
    m[:, lo:hi] = sel[:, lo:hi]
    n = m.sum(1)
    ok = n >= 2
    csum = np.einsum("hw,hwc->hc", m.astype(np.float64), img.astype(np.float64))
    num = gaussian_filter1d(np.where(ok[:, None], csum, 0.0), sigma, axis=0, mode="nearest")
    den = gaussian_filter1d(np.where(ok, n, 0).astype(np.float64), sigma, mode="nearest")
    rows = np.nonzero(ok)[0]
    return rows, num[rows] / np.maximum(den[rows, None], 1e-12)


def _side_weight(a0: float, a1: float, lon: np.ndarray) -> np.ndarray:
    """The right side's share (w,) in 0..1 at longitudes `lon` (rad) of a field carried on
    from a photo spanning a0..a1 (rad, its left and right edge columns): by how far each
    longitude lies from either edge going outwards (wrapped), half and half opposite the
    photo; across the photo's own columns, from 0 at its left edge to 1 at its right."""
    dl = ((a0 - lon) % (2 * np.pi)) / (2 * np.pi)  # going left from the left edge
    dr = ((lon - a1) % (2 * np.pi)) / (2 * np.pi)  # going right from the right edge
    t = dl / np.maximum(dl + dr, 1e-9)
    inside = dl + dr > 1.0  # the photo's own columns (both ways round pass the photo)
    span = max((a1 - a0) % (2 * np.pi), 1e-9)
    return np.where(inside, np.clip(((lon - a0) % (2 * np.pi)) / span, 0, 1), t)


def _class_texture(
    img_t: np.ndarray,
    known_t: np.ndarray,
    labels_t: np.ndarray,
    c: int,
    noise: np.ndarray,
    indoor: bool = False,
    foliage: np.ndarray | None = None,
    floor_ex: np.ndarray | None = None,
    veg_ground: bool = False,
) -> tuple[np.ndarray, int | None]:
    """Zero-mean texture (ht, wt, 3) for class c from the photo's plainest window of it
    (for UPRIGHT, of `foliage` (ht, wt) bool when given: `_foliage`); indoors the walls
    get half the grain (painted walls, not sandpaper). The ground's grain on the floor
    plane comes from `floor_ex` (s, s, 3) when given (`_floor_exemplar`), and from the
    foliage's window with `veg_ground` (`_vegetation_ground`: the photo shows no ground)."""
    from .texture import adsn_texture, best_window

    ht, wt = known_t.shape
    src = UPRIGHT if c == CEILING else c
    masks = [known_t & (labels_t == src)]
    if src == UPRIGHT and foliage is not None:
        # foliage first; scattered foliage pixels (dark leaves in shade are no green)
        # may hold no window of it: then the grain of all upright things, the colour stays
        masks.insert(0, foliage)
    if c == GROUND and veg_ground and foliage is not None:
        masks = [foliage]
    import cv2

    lum = img_t @ np.array([0.299, 0.587, 0.114], np.float32)
    edges = np.abs(cv2.Laplacian(cv2.GaussianBlur(lum, (0, 0), 1.0), cv2.CV_32F))
    rows = np.nonzero(known_t.any(1))[0]
    extent = (rows[-1] - rows[0] + 1) if len(rows) else ht
    avoid = edges
    d = _centre_distance(known_t) if src == UPRIGHT else None
    if d is not None:
        # walls: from the photo's background (its edges), not its subject (the middle)
        avoid = edges + 0.6 * (1.0 - np.clip(d, 0, 1)).astype(np.float32)
    sizes = (int(np.clip(extent * 0.35, 16, 64)), 24, 16, 10)
    # (foliage: no 10-px window, whose grain is the pixels' noise alone: a flat treeline)
    for mask, size in ((m, z) for m in masks for z in sizes if m is masks[-1] or z >= 16):
        win = best_window(mask, size, avoid=avoid)
        if win is not None and win[2] >= 0.8:
            r, q, _ = win
            ex = img_t[r : r + size, q : q + size]
            ex = _window_grain(ex, mask[r : r + size, q : q + size])
            # direction-free grain: not the stripes of a facade's windows, the girders of
            # a tower the coarse class left in the sky, or a shadow's edge on the ground
            # (laid on the floor plane with its orientation it drew concentric ripples)
            tex = adsn_texture(ex, (ht, wt), noise=noise, isotropic=True)
            # floor and sky/ceiling caps: the grain laid on their plane, not on the
            # equirect grid (whose rows pinch to a point at the poles: radial streaks)
            if c != GROUND or veg_ground:  # (leaves: no foreshortening to take out)
                plane_ex = ex
            elif floor_ex is not None:
                plane_ex = floor_ex
            else:
                plane_ex = _rectified(ex, r + size / 2.0, ht)
            plane = adsn_texture(plane_ex, (PLANE_PX, PLANE_PX), seed=7 + c, isotropic=True)
            # the ground is the floor plane all the way to the horizon: laid on the
            # equirect grid its grain has one foreshortening at every elevation (waves)
            caps = GROUND_CAP_DEG if c == GROUND else (CAP_FROM_DEG, CAP_FULL_DEG)
            tex = _planar_caps(tex, plane, *caps)
            amp = float(tex.std())
            # (outdoors, upright things that are no foliage are the far band of buildings
            # or hills, seen through 40-60 m of air: at a treeline's grain they were a
            # ring of grey rubble round the Sceaux 100_7108 castle, a trial)
            plain = c in (CEILING, SKY) or (c == UPRIGHT and (indoor or foliage is None))
            cap = MAX_GRAIN * ((0.2 if indoor else 0.5) if plain else 1.0)
            if amp > cap:
                tex *= cap / amp
            return tex, size
    return np.zeros((ht, wt, 3), np.float32), None


#: cap on the ground exemplar's vertical stretch (near the horizon). At 4 the far ground's
#: per-pixel grain, stretched and made direction-free, lay on the floor as blotches 2-4°
#: wide around the walker (a gravel yard read as rippled water); at 2 it reads as gravel
MAX_RECTIFY = 2.0


FLOOR_SIZES = (64, 48, 32, 24, 16)  # floor-view exemplar sizes tried, largest first (texels)
#: the largest of them is taken whose colours spread at most this many times the least
#: spread among them (mean RGB standard deviation), plus FLOOR_SPREAD_SLACK
FLOOR_SPREAD = 1.5
FLOOR_SPREAD_SLACK = 0.01


def plane_texel(h: int) -> float:
    """The floor texture's texel (`_planar_caps`) in eye heights, for an equirect texture
    of h rows: one texel is one of its pixels at CAP_MATCH_DEG below the horizon."""
    s = math.sin(math.radians(CAP_MATCH_DEG))
    return math.pi / (h * s * s)


def _floor_exemplar(
    plane: np.ndarray, valid: np.ndarray, colour: np.ndarray | None = None
) -> np.ndarray | None:
    """The grain (s, s, 3) of the plainest window of the photo's ground seen from above
    (`floor.floor_view`: plane (n, m, 3), valid (n, m)) of about `colour` (3,) when given
    (the invented ground's: its grain is that material's), at least 0.8 ground, as
    `_class_texture` takes its windows (`_window_grain`): of FLOOR_SIZES the largest whose
    colours spread little more than the plainest size's (FLOOR_SPREAD). None when no
    window fits."""
    import cv2

    from .texture import best_window

    lum = plane @ np.array([0.299, 0.587, 0.114], np.float32)
    avoid = np.abs(cv2.Laplacian(cv2.GaussianBlur(lum, (0, 0), 1.0), cv2.CV_32F))
    if colour is not None:
        avoid = avoid + np.linalg.norm(plane - np.asarray(colour, np.float32), axis=-1)
    found = []  # (size, window, its colours' spread) for each size that fits
    for size in FLOOR_SIZES:
        win = best_window(valid, size, avoid=avoid)
        if win is None or win[2] < 0.8:
            continue
        r, q, _ = win
        px = plane[r : r + size, q : q + size][valid[r : r + size, q : q + size]]
        found.append((size, (r, q), float(px.std(0).mean())))
    if not found:
        return None
    # the largest window of one material in one light: a texture's spread levels off as the
    # window grows, a window across two materials' edge (a carpet and a door, a red runner
    # on marble) jumps, and its grain, laid round the walker, was blotches of both
    plain = FLOOR_SPREAD * min(f[2] for f in found) + FLOOR_SPREAD_SLACK
    size, (r, q), _ = next(f for f in found if f[2] <= plain)
    return _window_grain(plane[r : r + size, q : q + size], valid[r : r + size, q : q + size])


def _window_grain(ex: np.ndarray, own: np.ndarray) -> np.ndarray:
    """A texture window (s, s, 3) reduced to its grain: only its class's own pixels `own`
    (s, s) bool count (the others take their mean: a roof's tip in a sky window, up to a
    fifth of it another class, made the invented sky grainy, 9x the photo's clear sky),
    and detail coarser than s / GRAIN_HIGHPASS (shading, which would become blotches) is
    taken out; the mean is kept."""
    import cv2

    ex = np.where(own[..., None], ex, ex[own].mean(0))
    size = ex.shape[0]
    return (ex - cv2.GaussianBlur(ex, (0, 0), size / GRAIN_HIGHPASS) + ex.mean((0, 1))).astype(
        np.float32
    )


def _rectified(ex: np.ndarray, centre_row: float, h: int) -> np.ndarray:
    """A ground exemplar (s, s, C) cut from the equirect image (h rows) around
    `centre_row`, stretched to the floor plane's proportions: at elevation θ below the
    horizon a floor texel spans 1/sin²θ rows against cosθ/sinθ columns of the equirect
    grid, so the window's rows are stretched by 1/(sinθ·cosθ) (at most MAX_RECTIFY).
    Laid on the plane unrectified, grain squashed by perspective became streaks running
    to the vanishing point."""
    import cv2

    elev = abs((0.5 - centre_row / h) * math.pi)
    f = float(np.clip(1.0 / max(math.sin(elev) * math.cos(elev), 1e-3), 1.0, MAX_RECTIFY))
    if f <= 1.01:
        return ex
    s, t = ex.shape[:2]
    return cv2.resize(ex, (t, max(4, round(s * f))), interpolation=cv2.INTER_CUBIC)


def _planar_caps(
    tex: np.ndarray,
    plane: np.ndarray,
    from_deg: float = CAP_FROM_DEG,
    full_deg: float = CAP_FULL_DEG,
) -> np.ndarray:
    """The equirect texture (h, 2h, C) with its polar caps replaced by a texture laid on
    the horizontal planes below and above the eye (a floor, a ceiling or the sky seen
    straight up), so looking down or up shows grain, not streaks radiating from the pole.

    plane (n, n, C) periodic: sampled at the ray's hit on the plane at unit distance
    (x/|y|, z/|y|), scaled so one texel matches one equirect pixel at CAP_MATCH_DEG of
    elevation; the caps take over from `from_deg` to `full_deg` of elevation (both
    hemispheres). Towards the horizon a pixel covers many texels: the plane is sampled
    from a mip pyramid at the level of the pixel's footprint (geometric mean of its radial
    and tangential extent, trilinear), so distance averages the grain out as on a real
    floor instead of aliasing into moiré.
    """
    import cv2

    from .projection import pano_dirs

    h, w = tex.shape[:2]
    n = plane.shape[0]
    d = pano_dirs(h, w)
    ay = np.maximum(np.abs(d[..., 1]), 1e-3)
    s = math.sin(math.radians(CAP_MATCH_DEG))
    k = 1.0 / plane_texel(h)  # texels per unit of plane distance (equal grain there)
    u = d[..., 0] / ay * k
    v = d[..., 2] / ay * k
    # the two hemispheres look at different planes: offset one by half a period
    upper = d[..., 1] > 0
    u = np.where(upper, u + n / 2, u)
    v = np.where(upper, v + n / 2, v)
    # texels per pixel: radial s²/sin²(elev), tangential s²·cos(elev)/sin(elev)
    horiz = np.sqrt(np.maximum(1.0 - ay * ay, 0.0))
    major = s * s / (ay * ay)
    minor = s * s * horiz / ay
    # anisotropic filtering: the mip level of the footprint's minor axis (or of its
    # major one over PLANE_TAPS, when longer), PLANE_TAPS samples along the major axis
    level = np.log2(np.maximum(np.maximum(minor, major / PLANE_TAPS), 1.0))
    levels = [plane.astype(np.float32)]
    while levels[-1].shape[0] > 4 and len(levels) <= int(level.max()) + 1:
        lv = levels[-1]
        m = lv.shape[0]
        pw = 4
        wrapped = np.pad(lv, ((pw, pw), (pw, pw), (0, 0)), mode="wrap")
        down = cv2.pyrDown(wrapped)[pw // 2 : pw // 2 + m // 2, pw // 2 : pw // 2 + m // 2]
        levels.append(down.reshape(m // 2, m // 2, -1))
    level = np.minimum(level, len(levels) - 1)
    # the radial direction on the plane (the major axis), unit, in level-0 texels
    rad = np.hypot(d[..., 0], d[..., 2])
    ru = np.where(rad > 1e-6, d[..., 0] / np.maximum(rad, 1e-6), 0.0)
    rv = np.where(rad > 1e-6, d[..., 2] / np.maximum(rad, 1e-6), 0.0)
    span = np.minimum(major, PLANE_TAPS * np.exp2(level))

    lat = np.degrees(np.arcsin(np.clip(np.abs(d[..., 1]), 0, 1)))
    t = _smoothstep(from_deg, full_deg, lat)[..., None]
    capped = np.zeros((h, w, plane.shape[2]), np.float32)
    lo = np.floor(level).astype(int)
    # a row's footprint, hence its two mip levels, depends on its elevation alone: each
    # level is sampled only on the rows that use it
    for i in range(len(levels)):
        wt = np.where(lo == i, 1.0 - (level - i), 0.0) + np.where(lo == i - 1, level - (i - 1), 0.0)
        rows = np.nonzero(((wt > 1e-4) & (t[..., 0] > 0)).any(1))[0]
        lv = levels[i]
        m = lv.shape[0]
        f = m / n
        # (in runs of rows: the two hemispheres' bands of a level apart)
        for run in np.split(rows, np.nonzero(np.diff(rows) > 1)[0] + 1):
            if not len(run):
                continue
            sl = slice(int(run[0]), int(run[-1]) + 1)
            acc = np.zeros_like(capped[sl])
            for j in range(PLANE_TAPS):
                off = span[sl] * ((j + 0.5) / PLANE_TAPS - 0.5)
                uu = (((u[sl] + off * ru[sl]) * f) % m).astype(np.float32)
                vv = (((v[sl] + off * rv[sl]) * f) % m).astype(np.float32)
                acc += cv2.remap(lv, uu, vv, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP).reshape(
                    acc.shape
                )
            capped[sl] += acc * (wt[sl] / PLANE_TAPS)[..., None].astype(np.float32)
    return (tex * (1 - t) + capped * t).astype(np.float32)


def _object_against_sky(
    known: np.ndarray, labels: np.ndarray, weights: dict, dist: np.ndarray
) -> np.ndarray:
    """(h, w) bool: the invented band next to where an upright thing (a tree, a tower)
    meets the photo's edge and the invented surface beyond is sky. There the object is
    cut against the sky, as its own outline is in the photo; a band blended from its
    colours into the sky's read as a pale glass frame around it."""
    h = known.shape[0]
    b = RIM_DEG / 180.0 * h
    edge = known & (distance_from(~known) <= 2)
    up = _blur_wrap((edge & (labels == UPRIGHT)).astype(np.float32), b)
    other = _blur_wrap((edge & (labels != UPRIGHT)).astype(np.float32), b)
    tot = sum(weights.values())
    sky = weights[SKY] / np.maximum(tot, 1e-6)
    return (~known) & (dist < 2 * b) & (up > other) & (sky > 0.5)


#: a tree's crown cut by the photo's edge against the sky carries on past the edge at most
#: this far (degrees), in proportion to the share of the edge around it that is foliage
CANOPY_MAX_DEG = 8.0
CANOPY_EDGE_DEG = 4.0  # ... that share measured along the edge over this (Gaussian σ)
CANOPY_LOBE_DEG = 1.2  # the crown's outline: lobes about this size (noise σ)
CANOPY_LOCAL_DEG = 0.7  # ... tapering where under 0.9 of the edge this near (σ) is crown
CANOPY_LEAVES_DEG = 2.0  # an edge pixel is the crown's when the upright pixels this near
CANOPY_LEAVES_SHARE = 0.3  # ... are at least this share foliage


def _crown_pixels(img: np.ndarray, known: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(h, w) bool: the photo's upright pixels in a tree's crown: those whose upright
    neighbours (σ CANOPY_LEAVES_DEG) are at least CANOPY_LEAVES_SHARE foliage, lit
    (`classes.vegetation_like`) or in shade (dark, green at most by a hair: the Sceaux
    tree's outer leaves are 0.01-0.07 of white)."""
    px = known.shape[0] / 180.0
    upright = known & (labels == UPRIGHT)
    rgb = np.asarray(img, np.float32)
    tot = rgb.sum(-1)
    shade = (tot > 0.01) & (tot < 0.3) & (rgb[..., 1] >= rgb[..., 0]) & (rgb[..., 1] >= rgb[..., 2])
    sig = CANOPY_LEAVES_DEG * px
    near = _blur_wrap((upright & (vegetation_like(rgb) | shade)).astype(np.float32), sig)
    every = _blur_wrap(upright.astype(np.float32), sig)
    return upright & (near > CANOPY_LEAVES_SHARE * np.maximum(every, 1e-6))


def _canopy(
    crown: np.ndarray,
    known: np.ndarray,
    weights: dict,
    dist: np.ndarray,
    seed: int = 0,
) -> np.ndarray:
    """(h, w) bool: where the crown of a tree the photo's edge cuts against the sky carries
    on outside the photo. crown (h, w) bool: `_crown_pixels`. Its reach at a point is
    CANOPY_MAX_DEG × the share of the photo's nearby edge (σ CANOPY_EDGE_DEG) that is crown,
    times a smooth random factor in 0.45-1 (two octaves: lobes of CANOPY_LOBE_DEG and
    tufts a quarter of that), so the outline is a crown's; only where the surface beyond
    would be sky. Cut straight along the frame, the crown framing the Sceaux castle read as
    a photo pasted on the sky whenever the view turned."""
    h, w = known.shape
    px = h / 180.0
    edge = known & (distance_from(~known) <= 2)
    leaves = edge & crown
    out = np.zeros((h, w), bool)
    if leaves.sum() < 4:
        return out

    def along_edge(sig: float) -> np.ndarray:  # the share of the edge that is crown
        every = _blur_wrap(edge.astype(np.float32), sig)
        part = _blur_wrap(leaves.astype(np.float32), sig)
        return np.where(every > 1e-4, part / np.maximum(every, 1e-6), 0.0)

    # each point outside takes the shares at its nearest edge pixel (wrapped round in
    # longitude): blurred outwards, a crown's share leaked along the frame over the sky
    ri, ci = _nearest_pixel(edge)
    share = along_edge(CANOPY_EDGE_DEG * px)[ri, ci]
    share = share * _smoothstep(0.4, 0.9, along_edge(CANOPY_LOCAL_DEG * px)[ri, ci])
    rng = np.random.default_rng(seed + 11)
    noise = np.zeros((h, w), np.float32)
    for size, amp in ((CANOPY_LOBE_DEG, 1.0), (CANOPY_LOBE_DEG / 4, 0.35)):
        n = _blur_wrap(rng.standard_normal((h, w)).astype(np.float32), max(size * px, 0.5))
        noise += amp * n / max(float(n.std()), 1e-6)
    noise = np.clip(0.5 + noise / 4.0, 0.0, 1.0)
    reach = CANOPY_MAX_DEG * px * np.clip(share, 0.0, 1.0) * (0.45 + 0.55 * noise)
    tot = sum(weights.values())
    sky = weights[SKY] / np.maximum(tot, 1e-6)
    out = (~known) & (dist > 0) & (dist < reach) & (sky > 0.5)
    # no threads a texel wide: the world drew them as splats stretched into the sky
    import cv2

    wide = np.pad(out, ((0, 0), (4, 4)), mode="wrap").astype(np.uint8)
    opened = cv2.morphologyEx(wide, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))[:, 4:-4]
    # only what grows from the photo's edge: the outline's noise cut islands of leaves off
    # (a puff floating in the sky above the Sceaux 100_7110 photo's crown)
    n, comp = cv2.connectedComponents(opened, connectivity=8)
    if n <= 1:
        return opened.astype(bool)
    edge_ring = cv2.dilate(known.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    attached = np.unique(comp[edge_ring & (opened > 0)])
    return np.isin(comp, attached[attached > 0])


CROWN_MATCH_DEG = 6.0  # the crown's colours are those of the photo's crown this near its edge


def _match_colours(surface: np.ndarray, region: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """`surface` (h, w, 3) with its colours over `region` (h, w) bool mapped, channel by
    channel, onto the distribution of `ref` (n, 3) between its 3rd and 97th percentiles
    (histogram matching by quantiles, as in Heeger & Bergen, "Pyramid-based texture
    analysis/synthesis", 1995); unchanged with fewer than 64 reference or region pixels.
    The grain synthesised for a tree's crown varies mostly in brightness: shifted to the
    leaves' mean colour its light parts stayed grey, where the leaves' are yellow-green."""
    if len(ref) < 64 or region.sum() < 64:
        return surface
    out = surface.copy()
    q = np.linspace(0.0, 1.0, 257)
    vals = surface[region]
    for ch in range(3):
        src = np.quantile(vals[:, ch], q)
        dst = np.quantile(ref[:, ch], 0.03 + 0.94 * q)
        out[..., ch][region] = np.interp(vals[:, ch], src, dst)
    return out.astype(np.float32)


def _crown_surface(img: np.ndarray, crown: np.ndarray, noise: np.ndarray) -> np.ndarray | None:
    """The crown's surface (h, w, 3): the photo's crown colours carried on (normalised
    convolution of `crown` (h, w) bool pixels of img) plus grain synthesised from its
    plainest window of them (`texture.adsn_texture`, isotropic) at the photo's own
    contrast: leaves lit and in shade, not the capped grain of a far treeline. None when
    the crown holds no 10-px window."""
    import cv2

    from .texture import adsn_texture, best_window

    h, w = crown.shape
    hs = min(WORK_HEIGHT, h)  # colours on the work grid (the fill's kernels at 512 rows: 15 s)
    m_s = cv2.resize(crown.astype(np.float32), (2 * hs, hs), interpolation=cv2.INTER_AREA)
    v_s = cv2.resize(img * crown[..., None], (2 * hs, hs), interpolation=cv2.INTER_AREA)
    v_s = np.where(m_s[..., None] > 1e-3, v_s / np.maximum(m_s, 1e-3)[..., None], 0.0)
    col = _resize_wrap(_normalised_fill(v_s.astype(np.float32), m_s > 0.25), h, w)
    for size in (48, 32, 24, 16, 10):
        win = best_window(crown, size)
        if win is None or win[2] < 0.8:
            continue
        r, q, _ = win
        ex = img[r : r + size, q : q + size]
        own = crown[r : r + size, q : q + size]
        ex = np.where(own[..., None], ex, ex[own].mean(0))
        tex = adsn_texture(ex, crown.shape, noise=noise, isotropic=True)
        return (col + tex).astype(np.float32)
    return None


def _nearest_pixel(region: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows (h, w), columns (h, w)) of every pixel's nearest pixel of `region` (h, w)
    bool, wrapped round in longitude (a quarter of the width on each side, as
    `projection.distance_from`)."""
    from scipy.ndimage import distance_transform_edt

    w = region.shape[1]
    pad = w // 4
    wide = np.concatenate([region[:, -pad:], region, region[:, :pad]], 1)
    _, (ri, ci) = distance_transform_edt(~wide, return_indices=True)
    return ri[:, pad : pad + w], (ci[:, pad : pad + w] - pad) % w


def _photo_soft(img: np.ndarray, known: np.ndarray) -> np.ndarray:
    """The photo's colours (h, w, 3) without their fine detail: `img` over its `known`
    (h, w) bool pixels, Gaussian σ RIM_SOFTEN texels, normalised by the known share."""
    kf = known.astype(np.float32)[..., None]
    return _blur_wrap(img * kf, RIM_SOFTEN) / np.maximum(
        _blur_wrap(kf.repeat(3, -1), RIM_SOFTEN), 1e-6
    )


def _photo_rim(
    fill: np.ndarray,
    img: np.ndarray,
    known: np.ndarray,
    dist: np.ndarray,
    keep: np.ndarray | None = None,
) -> np.ndarray:
    """The invented band just outside the photo (RIM_DEG wide) made to meet the photo's
    own edge colours at full resolution, so its frame does not show as a colour step.

    The band is a hole inpainted (cv2 Telea, Telea 2004) from both sides: the photo's
    outermost pixels and the invented surface beyond the band — a smooth transition
    between them, with the surface's grain faded in across it. Nothing is mirrored or
    copied: Telea carries only the boundary colours inwards. (h, w, 3) float32.
    """
    import cv2

    h, w = known.shape
    b = RIM_DEG / 180.0 * h
    band = (~known) & (dist < b)
    if keep is not None:
        band &= ~keep
    if not band.any():
        return fill
    # carried outwards: the photo's colours at its edge, not its fine detail (Telea drags
    # each edge pixel along the normal: a window's mullion would become a streak, its
    # mirror image). The outermost texels' own, blurred along the edge: blurred into the
    # photo (or taken 2 texels in), a sky darkened toward the frame by the lens carried on
    # lighter than its edge, which stood out as a dark line round the photo
    rim = known & (distance_from(~known) <= 1.0)
    src = np.where(
        rim[..., None],
        _photo_soft(img, rim),
        np.where(known[..., None], _photo_soft(img, known), fill),
    )
    pad = max(4, int(2 * b))
    u8 = (np.clip(np.concatenate([src[:, -pad:], src, src[:, :pad]], 1), 0, 1) * 255 + 0.5).astype(
        np.uint8
    )
    m = band.astype(np.uint8)
    m = np.concatenate([m[:, -pad:], m, m[:, :pad]], 1)
    smooth = cv2.inpaint(u8, m, 3, cv2.INPAINT_TELEA)[:, pad : pad + w].astype(np.float32) / 255
    grain = fill - _blur_wrap(fill, 2.0)
    t = np.clip(dist / b, 0, 1)[..., None]
    out = smooth + grain * t
    return np.where(band[..., None], out, fill).astype(np.float32)


OTHER_CLASS_SHARE = 0.6  # a surface this much of another class than the photo's edge
SILHOUETTE_COLOUR = 0.35  # ... or upright, and this far in RGB (0..1) from the edge's colour


def _silhouette_beside(
    known: np.ndarray,
    labels: np.ndarray,
    weights: dict,
    dist: np.ndarray,
    img: np.ndarray,
    fill: np.ndarray,
) -> np.ndarray:
    """(h, w) bool: the pixels within EDGE_BLEND_DEG of the photo where the invented
    surface meets the photo's edge as a silhouette, not as the same surface carrying on:
    the surface is at least OTHER_CLASS_SHARE of one class (`weights` {class: (h, w)})
    and the photo's nearest pixel (wrapped round in longitude) is of another (`labels`
    (h, w) of the `known` (h, w) bool pixels), or the surface is upright and its colour
    (`fill` (h, w, 3), σ 2 texels) is SILHOUETTE_COLOUR or more from the photo's there
    (`img` (h, w, 3), σ RIM_SOFTEN): a far treeline beside bright haze in the photo."""

    h, w = known.shape
    near_band = (~known) & (dist < EDGE_BLEND_DEG / 180.0 * h)
    if not near_band.any():
        return near_band
    classes = list(weights)
    stack = np.stack([weights[c] for c in classes], -1)
    tot = np.maximum(stack.sum(-1), 1e-6)
    best = np.argmax(stack, -1)
    share = np.take_along_axis(stack, best[..., None], -1)[..., 0] / tot
    main = np.array(classes, np.uint8)[best]
    ri, ci = _nearest_pixel(known)
    soft = _photo_soft(img, known)
    far = np.linalg.norm(soft[ri, ci] - _blur_wrap(fill, 2.0), axis=-1) >= SILHOUETTE_COLOUR
    other = main != labels[ri, ci]
    return near_band & (share >= OTHER_CLASS_SHARE) & (other | ((main == UPRIGHT) & far))


SEAM_SIGMA = 3.0  # texels: how finely along the photo's edge the offset follows its colours
SEAM_RING = 3.0  # texels: the photo's outermost ring whose colours the surfaces must meet
SEAM_FALLOFF_DEG = 12.0  # the offset fades out this far from the photo
SEAM_COARSE = 8.0  # ... its part that varies along the edge over SEAM_COARSE × SEAM_SIGMA
SEAM_FINE_DEG = 4.0  # ... and the finer rest this far


def _seam_offset(
    surfaces: dict,
    img: np.ndarray,
    known: np.ndarray,
    labels: np.ndarray,
    weights: dict,
    dist: np.ndarray,
    classes: tuple[int, ...] = (SKY, GROUND),
) -> np.ndarray:
    """The smooth colour offset (h, w, 3) that makes the invented sky and ground meet the
    photo's own sky and ground at its edge: seamless cloning (Pérez, Gangnet & Blake,
    "Poisson image editing", 2003) with the membrane interpolant approximated by
    normalised convolution, as in Farbman et al.'s "Coordinates for instant image
    cloning" (2009).

    surfaces {class: (h, w, 3)}: each class's invented surface alone (colour field +
    grain), defined over the whole sphere; img (h, w, 3) the photo where `known` (h, w)
    bool; labels (h, w) its classes; weights {class: (h, w)} each pixel's share of each
    class in the fill; dist (h, w) texels from the photo. For the sky and the ground, the
    difference photo − surface over the photo's outermost SEAM_RING texels of that class
    (both blurred by SEAM_SIGMA along the edge) is continued over the sphere at the work
    size; its broad part (blurred by SEAM_COARSE × SEAM_SIGMA) fades out by
    SEAM_FALLOFF_DEG, the finer rest by SEAM_FINE_DEG; it applies in proportion to the pixel's share
    of that class. Upright things get none: at the photo's edge they are objects (a
    bookcase, a tree), and a wall shifted to their colour became a dark halo round the
    office photo; `classes` says which classes get one (a tree's crown carried on past
    the edge does, `_canopy`). 0 on the photo.
    """
    import cv2

    h, w = known.shape
    d_in = distance_from(~known)
    ring = known & (d_in <= SEAM_RING)
    tot = sum(weights.values())
    off = np.zeros((h, w, 3), np.float32)
    s = SEAM_SIGMA
    hs = min(WORK_HEIGHT, h)
    ring_den = _blur_wrap(ring.astype(np.float32), s)
    fall = (1.0 - _smoothstep(0.0, SEAM_FALLOFF_DEG / 180.0 * h, dist))[..., None]
    fine = (1.0 - _smoothstep(0.0, SEAM_FINE_DEG / 180.0 * h, dist))[..., None]
    for c, wc in weights.items():
        if c not in classes or c not in surfaces:
            continue
        wc = wc / np.maximum(tot, 1e-6)
        pin = (ring & (labels == c)).astype(np.float32)
        if pin.sum() < 4:
            continue
        exts = []
        for sig in (s, SEAM_COARSE * s):
            den = _blur_wrap(pin, sig)
            photo = _blur_wrap(img * pin[..., None], sig) / np.maximum(den, 1e-6)[..., None]
            surf = _blur_wrap(surfaces[c] * pin[..., None], sig) / np.maximum(den, 1e-6)[..., None]
            # only where the ring is mostly of this class: a few pixels of a grey tower taken
            # for sky at the frame pinned the sky to grey and drew a cloud 0.2 darker round it
            ok = ((den > 0.05) & (den > 0.5 * ring_den)).astype(np.float32)
            d = (photo - surf) * ok[..., None]
            # the membrane is smooth: continued at the work size, then upsampled
            ok_s = cv2.resize(ok, (2 * hs, hs), interpolation=cv2.INTER_AREA)
            d_s = cv2.resize(d, (2 * hs, hs), interpolation=cv2.INTER_AREA)
            d_s = d_s / np.maximum(ok_s, 1e-6)[..., None]
            exts.append(_resize_wrap(_normalised_fill(d_s, ok_s > 0.25), h, w))
        # the offset's broad part fades out slowly, what varies quickly along the edge
        # soon (multiband blending, Burt & Adelson 1983): a vignetted photo's dark corner
        # carried out SEAM_FALLOFF_DEG was a blot in the sky beside it
        off += wc[..., None] * (exts[1] * fall + (exts[0] - exts[1]) * fine)
    return (off * (~known)[..., None]).astype(np.float32)


def _band_color(img: np.ndarray, known: np.ndarray, top: bool, frac: float = 0.15) -> np.ndarray:
    """Mean colour of the top (or bottom) `frac` of each known column, (3,)."""
    hs = known.shape[0]
    has = known.any(0)
    r0 = known.argmax(0)
    r1 = hs - 1 - known[::-1].argmax(0)
    n = np.maximum(((r1 - r0 + 1) * frac).astype(int), 1)
    rows = np.arange(hs)[:, None]
    sel = (rows >= r0) & (rows < r0 + n) if top else (rows <= r1) & (rows > r1 - n)
    sel &= known & has[None, :]
    return img[sel].mean(0) if sel.any() else img[known].mean(0)


def _converge_poles(img: np.ndarray) -> np.ndarray:
    """Near the poles every longitude is one point: fade rows to their mean colour."""
    hs = img.shape[0]
    _, lat = pano_lonlat(hs, img.shape[1])
    # the texture is laid on the floor and sky planes (`_planar_caps`): only the last
    # few degrees, where the colour fields pinch, need converging
    w = _smoothstep(1.42, 1.55, np.abs(lat))[:, None, None].astype(np.float32)
    return img * (1 - w) + img.mean(1, keepdims=True) * w


def _smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return (t * t * (3 - 2 * t)).astype(np.float32)


def _resize_wrap(img: np.ndarray, H: int, W: int) -> np.ndarray:
    import cv2

    hs, ws = img.shape[:2]
    pad = 4
    p = np.concatenate([img[:, -pad:], img, img[:, :pad]], axis=1)
    sx = W / ws
    big = cv2.resize(p, (round(p.shape[1] * sx), H), interpolation=cv2.INTER_CUBIC)
    o = round(pad * sx)
    return big[:, o : o + W]
