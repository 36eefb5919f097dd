"""The sky dome behind a one-photo world holds sky, not faint copies of what stands in it."""

from __future__ import annotations

import numpy as np

from generators.pano_world import DOME_TOL, _clean_dome


def test_the_dome_drops_a_faint_lattice_and_a_lamp_but_keeps_the_skys_gradient() -> None:
    """A twilight gradient (0.15 over the height) with a lattice 0.06 darker than the sky
    (under the photo's own sky test, 0.08, so it stayed on the dome as a ghost tower
    beside the real one) and an orange lamp the class map called sky: both take the sky
    around them; the gradient itself is kept to within DOME_TOL."""
    h, w = 64, 128
    rows = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    sky = np.broadcast_to(np.array([0.1, 0.15, 0.35], np.float32) + 0.15 * rows, (h, w, 3)).copy()
    img = sky.copy()
    img[10:50, 60:63] -= 0.06  # the lattice
    img[30:32, 90:92] = (0.9, 0.6, 0.2)  # the lamp
    clean = np.ones((h, w), bool)
    out = _clean_dome(img, clean)
    assert np.abs(out[10:50, 60:63] - sky[10:50, 60:63]).max() < 0.02
    assert np.abs(out[30:32, 90:92] - sky[30:32, 90:92]).max() < 0.02
    assert np.abs(out - sky).max() < DOME_TOL
    # pixels off the clean sky (the things themselves) take the sky's colour too
    clean[20:40, 20:30] = False
    img[20:40, 20:30] = 0.02
    out = _clean_dome(img, clean)
    assert np.abs(out[20:40, 20:30] - sky[20:40, 20:30]).max() < 0.03


def test_a_sky_darkened_to_the_frame_carries_on_past_it_without_a_step(tmp_path) -> None:
    """A blue sky vignetted towards the photo's corners: the band the outpainting carries
    on from the photo's edge (`outpaint_classical._photo_rim`) darkens as the edge does.
    The dome took it for a thin dark thing and cleaned it off, so a lighter rim stood
    round the photo and its frame showed as a step in the sky from the start view
    (Sceaux 100_7100's top right corner). Across the photo's right edge, the start view's
    sky changes by no more than it does between two neighbouring pixels inside it."""
    import math

    import cv2

    from generators.pano_world import world_from_photos
    from generators.panorama.projection import perspective_camera
    from viewer.offscreen import render_image

    h, w = 240, 320
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((x - w / 2) ** 2 + (y - h / 2) ** 2) / ((w / 2) ** 2 + (h / 2) ** 2)
    sky = np.array([0.55, 0.75, 0.98], np.float32) - 0.15 * (1 - y / h)[..., None] * np.array(
        [1.0, 0.6, 0.1], np.float32
    )
    rng = np.random.default_rng(0)
    grain = np.clip(0.45 + 0.08 * rng.standard_normal((h, w, 1)), 0, 1)
    img = np.where((y < 0.55 * h)[..., None], sky, grain * np.array([0.9, 0.8, 0.65]))
    img = img * (1 - 0.45 * r2**2)[..., None]
    p = tmp_path / "vignetted.png"
    cv2.imwrite(str(p), cv2.cvtColor((np.clip(img, 0, 1) * 255).astype(np.uint8), 4))
    world, _, _ = world_from_photos([p], resolution=256, pano_height=256, fov=60.0)
    bm = world.bookmarks[0]
    W, H = 480, 360
    cam = perspective_camera(W, H, 90.0, pitch=float(bm.pitch), position=tuple(bm.position))
    out = render_image(world, cam).astype(np.float32) @ np.array([0.299, 0.587, 0.114]) / 255
    xe = int(W / 2 * (1 + math.tan(math.radians(30))))  # the photo's right edge
    rows = np.arange(90, 190, 4)  # its sky, below the top corner
    step = np.abs(out[rows, xe + 3] - out[rows, xe - 3])
    inside = np.abs(out[rows, xe - 3] - out[rows, xe - 9])
    assert np.median(step) < max(0.015, 1.5 * np.median(inside)), (step, inside)
