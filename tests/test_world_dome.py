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
