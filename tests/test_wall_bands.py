"""The bands of a wall's colour profile (`generators.panorama.bands`): steps where a
wainscot's rail is, none for stripes narrower than a band or a smooth gradient."""

from __future__ import annotations

import numpy as np
import pytest

from generators.panorama.bands import band_labels

PANEL = np.array([0.25, 0.15, 0.1])
CREAM = np.array([0.8, 0.68, 0.5])


def _profile(rows: list[np.ndarray], noise: float = 0.02, seed: int = 0) -> np.ndarray:
    prof = np.array(rows, float)
    return prof + noise * np.random.default_rng(seed).standard_normal(prof.shape)


def test_a_wainscot_is_two_bands_split_at_its_rail() -> None:
    prof = _profile([PANEL] * 12 + [CREAM] * 24)
    labels = band_labels(prof)
    assert list(labels) == [0] * 12 + [1] * 24


def test_a_smooth_gradient_and_thin_stripes_are_one_band() -> None:
    ramp = _profile([CREAM * (0.7 + 0.3 * t) for t in np.linspace(0, 1, 36)])
    assert not band_labels(ramp).any()
    # stripes 3 samples wide (a cat's fur in a close-up, shelves): no band is that thin
    stripes = _profile([PANEL if (i // 3) % 2 else CREAM for i in range(36)])
    assert not band_labels(stripes).any()


def test_a_short_band_at_either_end_joins_its_neighbour() -> None:
    """The end bands carry on past the samples (up to the ceiling): four samples of
    picture frames along a photo's top are no frieze round the room."""
    prof = _profile([PANEL] * 12 + [CREAM] * 20 + [PANEL] * 4)
    labels = band_labels(prof)
    assert list(labels) == [0] * 12 + [1] * 24


def test_a_short_profile_is_one_band_and_bad_input_is_refused() -> None:
    assert not band_labels(_profile([PANEL] * 3 + [CREAM] * 3)).any()
    with pytest.raises(ValueError):
        band_labels(np.array([0.1, 0.2, 0.3]))
    with pytest.raises(ValueError):
        band_labels(np.array([[0.1, 0.2, np.nan]] * 20))
