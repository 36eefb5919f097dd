"""Bands of a wall's colour profile: where a wainscot, a dado rail or a frieze changes it.

A room's walls change colour by height in steps (panelling to plaster at a rail), and
vary smoothly within each band (light falling off). `band_labels` finds the steps in a
profile sampled at a few dozen heights, so the invented walls are smoothed within each
band and keep a crisp edge between them instead of a soft gradient (fog).

Method: penalised optimal partitioning of a piecewise-constant signal under the L2 cost
(Jackson et al. 2005, "An algorithm for optimal partitioning of data on an interval";
PELT, Killick et al. 2012, finds the same optimum faster), as implemented by the
`ruptures` library (Truong, Oudre & Vayatis 2020).
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)

BAND_PENALTY = 0.3  # summed squared RGB change (0..1) a step must explain to be a band edge
BAND_MIN_SHARE = 0.125  # a band is at least this share of the profile's samples


def band_labels(colours: np.ndarray, penalty: float = BAND_PENALTY) -> np.ndarray:
    """Label each sample of a profile with its band.

    colours (n, k) float: the profile's samples in order (e.g. a wall's RGB 0..1 by
    height, from the floor up). A band edge costs `penalty` and must cut the summed
    squared distance of the samples from their band means by more than that; each band
    spans at least BAND_MIN_SHARE of the samples (at least 2), so a stripe narrower than
    that (a cat's fur in a close-up, a shelf) is no band, and the first and last bands
    twice that.
    returns (n,) int labels 0, 1, ... rising from the first sample; all 0 for fewer than
    twice the minimal band's samples.
    Raises ValueError for a profile that is not 2-D or holds non-finite values.
    """
    import ruptures as rpt

    colours = np.asarray(colours, np.float64)
    if colours.ndim != 2:
        raise ValueError(f"expected a profile of shape (n, k), got {colours.shape}")
    if not np.isfinite(colours).all():
        raise ValueError("the profile holds non-finite values")
    n = len(colours)
    size = max(2, int(round(BAND_MIN_SHARE * n)))
    labels = np.zeros(n, int)
    if n < 2 * size:
        return labels
    ends = rpt.Pelt(model="l2", min_size=size, jump=1).fit(colours).predict(pen=penalty)
    edges = ends[:-1]
    # a band at either end is what carries on past the samples (the wall above the
    # photo's top up to the ceiling): twice the support, or it joins its neighbour (the
    # office's picture frames along the photo's top were a brown frieze round the room)
    if edges and edges[0] < 2 * size:
        edges = edges[1:]
    if edges and n - edges[-1] < 2 * size:
        edges = edges[:-1]
    for i, end in enumerate(edges):
        labels[end:] = i + 1
    log.debug("profile of %d samples: band edges at %s", n, edges)
    return labels
