"""The cross-fade from the last reduced frame to the full frame at a stop
(viewer/refine_fade.py): its weights, what it draws, and when it refuses to fade."""

from __future__ import annotations

import numpy as np
import pytest


def test_weight_falls_smoothly_from_the_reduced_frame_to_the_full_one() -> None:
    from viewer.refine_fade import RefineFade

    fade = RefineFade(0.2)
    assert not fade.active and fade.weight(5.0) == 0.0
    fade._start = 10.0  # as `start` sets it (no GL here)
    w = [fade.weight(10.0 + t) for t in np.linspace(0.0, 0.25, 26)]
    assert w[0] == 1.0 and w[10] == pytest.approx(0.5) and w[20] == 0.0 and w[-1] == 0.0
    assert all(b <= a for a, b in zip(w, w[1:], strict=False))
    assert w[1] > 0.97 and w[19] < 0.03  # eased at both ends: no visible step in or out
    fade.cancel()
    assert not fade.active


@pytest.mark.gl
def test_fade_draws_the_reduced_frame_over_the_full_one(x_display) -> None:  # noqa: ANN001
    from OpenGL import GL

    from viewer.offscreen import Framebuffer, offscreen_context

    ctx = offscreen_context()
    ctx.make_current()
    from viewer.refine_fade import RefineFade

    w, h = 64, 48
    reduced, full, target = Framebuffer(w, h), Framebuffer(w, h), Framebuffer(w, h)

    def fill(fb, rgb) -> None:  # noqa: ANN001
        fb.bind()
        GL.glClearColor(*rgb, 1.0)
        GL.glClear(GL.GL_COLOR_BUFFER_BIT)

    fade = RefineFade(0.2)
    try:
        fill(reduced, (1.0, 0.0, 0.0))
        fill(full, (0.0, 0.0, 1.0))
        assert not fade.start(full.fbo, w, h, 0.0)  # nothing kept to fade from
        fade.keep_previous(reduced.fbo, w, h)
        assert not fade.start(full.fbo, w + 1, h, 0.0)  # another size: no fade
        fade.keep_previous(reduced.fbo, w, h)
        fade.forget_previous()  # the view changed under a full frame
        assert not fade.start(full.fbo, w, h, 0.0)
        fade.keep_previous(reduced.fbo, w, h)
        fill(reduced, (0.0, 1.0, 0.0))  # the kept copy is a copy
        assert fade.start(full.fbo, w, h, 0.0) and fade.active
        fill(full, (0.0, 1.0, 0.0))
        got = []
        for now in (0.0, 0.1, 0.25):
            fill(target, (0.0, 1.0, 0.0))  # a target whose content was not preserved
            going = fade.draw(target.fbo, now)
            got.append((going, target.read_float()[h // 2, w // 2, :3]))
    finally:
        fade.release()
        for fb in (reduced, full, target):
            fb.release()
    (g0, c0), (g1, c1), (g2, c2) = got
    assert g0 and g1 and not g2 and not fade.active
    np.testing.assert_allclose(c0, [1.0, 0.0, 0.0], atol=0.01)  # the reduced frame as shown
    np.testing.assert_allclose(c1, [0.5, 0.0, 0.5], atol=0.01)  # half way
    np.testing.assert_allclose(c2, [0.0, 0.0, 1.0], atol=0.01)  # the full frame alone
