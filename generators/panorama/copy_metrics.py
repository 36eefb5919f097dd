"""Does an outpainted panorama copy its photo? Two measures (issue 14's acceptance).

`mirror_ncc`: normalised cross-correlation of the fine detail (luminance minus a σ = 4 px
Gaussian blur, at 480 px across the photo) in a strip just outside each photo edge with the
mirror image of the strip just inside it, seen in the photo's own (extended) perspective
frame. A mirror-padded fill
scores ~0.4–0.8; a fill that continues without reflecting scores ~0.

`clone_fraction`: SIFT keypoints (Lowe, IJCV 2004) found outside the photo's footprint in
ten 90° views covering the sphere, matched to the photo's own keypoints, as is and
mirrored left-right and up-down; a keypoint counts as a clone when its nearest photo
descriptor passes Lowe's ratio test (0.75). Tiled PatchMatch fill scores ~0.37,
unrelated texture ~0.01.
"""

from __future__ import annotations

import math

import numpy as np

from scene.camera import Camera

PHOTO_WIDTH = 480  # photo frame width the measures are taken at, px
STRIP = 0.04  # strip width as a fraction of the photo width
RATIO = 0.75  # Lowe's ratio test
DETAIL_SIGMA = 4.0  # fine detail: luminance minus a Gaussian blur of this σ (px)


def _photo_camera(
    fov_x_deg: float, photo_size: tuple[int, int], margin: int, pitch_deg: float = 0.0
) -> Camera:
    from .projection import view_rotation

    w, h = photo_size
    w0 = PHOTO_WIDTH
    h0 = max(8, round(w0 * h / w))
    f = 0.5 * w0 / math.tan(math.radians(fov_x_deg) / 2)
    W, H = w0 + 2 * margin, h0 + 2 * margin
    R = view_rotation(0.0, math.radians(pitch_deg))
    return Camera(W, H, f, f, W / 2, H / 2, R, np.zeros(3))


def _detail(gray: np.ndarray) -> np.ndarray:
    import cv2

    return gray - cv2.GaussianBlur(gray, (0, 0), DETAIL_SIGMA)


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    den = math.sqrt(float((a * a).sum()) * float((b * b).sum()))
    return float((a * b).sum() / den) if den > 1e-12 else 0.0


def mirror_ncc(
    image: np.ndarray, fov_x_deg: float, photo_size: tuple[int, int], pitch_deg: float = 0.0
) -> dict[str, float]:
    """Mirror NCC per photo edge and their maximum: {'left','right','top','bottom','max'}.

    image (H, 2H, 3) equirect float 0..1 with the photo at longitude 0 on the horizon
    (as `generators.panorama.place_photo` puts it); fov_x_deg, photo_size (w, h) and
    pitch_deg (as placed) of the photo.
    """
    from .projection import equirect_to_perspective

    s = max(4, round(STRIP * PHOTO_WIDTH))
    m = s + 2
    cam = _photo_camera(fov_x_deg, photo_size, m, pitch_deg)
    view = equirect_to_perspective(np.asarray(image, np.float32), cam)
    gray = _detail(view @ np.array([0.299, 0.587, 0.114], np.float32))
    W, H = cam.width, cam.height
    k = np.arange(2, s)  # skip the 1–2 px feathered rim
    rows, cols = slice(m, H - m), slice(m, W - m)
    out = {
        "left": _ncc(gray[rows, m - 1 - k], gray[rows, m + k]),
        "right": _ncc(gray[rows, W - m + k], gray[rows, W - m - 1 - k]),
        "top": _ncc(gray[m - 1 - k, cols], gray[m + k, cols]),
        "bottom": _ncc(gray[H - m + k, cols], gray[H - m - 1 - k, cols]),
    }
    out["max"] = max(out.values())
    return {k2: round(v, 4) for k2, v in out.items()}


def _sift(gray_u8: np.ndarray, mask: np.ndarray | None = None):  # noqa: ANN202
    import cv2

    sift = cv2.SIFT_create()
    return sift.detectAndCompute(gray_u8, None if mask is None else mask.astype(np.uint8) * 255)


def clone_fraction(
    image: np.ndarray,
    known: np.ndarray,
    fov_x_deg: float,
    photo_size: tuple[int, int],
    *,
    view_size: int = 512,
    pitch_deg: float = 0.0,
) -> dict[str, float]:
    """{'fraction': cloned share of outside keypoints, 'outside': their count, 'cloned': n}.

    image (H, 2H, 3) equirect float 0..1, known (H, 2H) the photo's coverage (0..1).
    Keypoints whose support (1.5 × their size) reaches the footprint are not counted.
    """
    import cv2

    from .projection import equirect_to_perspective, perspective_camera

    image = np.asarray(image, np.float32)
    to_u8 = lambda a: (
        np.clip(a @ np.array([0.299, 0.587, 0.114], np.float32), 0, 1) * 255 + 0.5
    ).astype(np.uint8)
    pcam = _photo_camera(fov_x_deg, photo_size, 0, pitch_deg)
    photo = to_u8(equirect_to_perspective(image, pcam))
    descs = []
    for variant in (photo, photo[:, ::-1], photo[::-1]):
        _, d = _sift(np.ascontiguousarray(variant))
        if d is not None:
            descs.append(d)
    if not descs:
        return {"fraction": 0.0, "outside": 0, "cloned": 0}
    ref = np.concatenate(descs)
    matcher = cv2.BFMatcher(cv2.NORM_L2)
    views = [(math.radians(45 * i), 0.0) for i in range(8)] + [
        (0.0, math.pi / 2),
        (0.0, -math.pi / 2),
    ]
    outside = cloned = 0
    for yaw, pitch in views:
        cam = perspective_camera(view_size, view_size, 90.0, yaw=yaw, pitch=pitch)
        img = to_u8(equirect_to_perspective(image, cam))
        cov = equirect_to_perspective(np.asarray(known, np.float32), cam)
        free = (cov < 0.01).astype(np.uint8)
        if not free.any():
            continue
        dist = cv2.distanceTransform(free, cv2.DIST_L2, 5)
        kps, d = _sift(img, free > 0)
        if d is None:
            continue
        ok = np.array(
            [
                dist[min(int(kp.pt[1]), view_size - 1), min(int(kp.pt[0]), view_size - 1)]
                > 1.5 * kp.size
                for kp in kps
            ]
        )
        if not ok.any():
            continue
        d = d[ok]
        outside += len(d)
        if len(ref) < 2:
            continue
        for pair in matcher.knnMatch(d, ref, k=2):
            if len(pair) == 2 and pair[0].distance < RATIO * pair[1].distance:
                cloned += 1
    frac = cloned / outside if outside else 0.0
    return {"fraction": round(frac, 4), "outside": int(outside), "cloned": int(cloned)}


def copy_report(pano) -> dict:  # noqa: ANN001 - a generators.panorama.Panorama
    """Both measures for a single-photo Panorama: {'mirror_ncc': {...}, 'clones': {...}}."""
    return {
        "mirror_ncc": mirror_ncc(pano.image, pano.fov_x_deg, pano.photo_size, pano.photo_pitch_deg),
        "clones": clone_fraction(
            pano.image,
            pano.known,
            pano.fov_x_deg,
            pano.photo_size,
            pitch_deg=pano.photo_pitch_deg,
        ),
    }
