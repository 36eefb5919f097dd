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
def test_frames_at_rest_fade_in_over_what_the_window_showed(x_display) -> None:  # noqa: ANN001
    """moving frame -> preview -> full frame: each frame at rest fades in over what the
    window showed (the moving frame, the blend a fade under way shows, the preview), and a
    frame after a full one that no moving frame preceded comes without a fade."""
    from OpenGL import GL

    from viewer.offscreen import Framebuffer, offscreen_context

    ctx = offscreen_context()
    ctx.make_current()
    from viewer.refine_fade import RefineFade

    w, h = 64, 48
    src, target = Framebuffer(w, h), Framebuffer(w, h)
    red, blue, green = (1.0, 0.0, 0.0), (0.0, 0.0, 1.0), (0.0, 1.0, 0.0)

    def fill(fb, rgb) -> None:  # noqa: ANN001
        fb.bind()
        GL.glClearColor(*rgb, 1.0)
        GL.glClear(GL.GL_COLOR_BUFFER_BIT)

    def shown(now: float) -> np.ndarray:
        fill(target, (0.3, 0.3, 0.3))  # a target whose content was not preserved
        fade.draw(target.fbo, now)
        return target.read_float()[h // 2, w // 2, :3]

    fade = RefineFade(0.2)
    try:
        fill(src, blue)
        assert not fade.fade_to(src.fbo, w, h, 0.0)  # nothing kept to fade from
        fill(src, red)
        fade.keep_previous(src.fbo, w, h)  # the moving frame
        fill(src, blue)
        assert not fade.fade_to(src.fbo, w + 1, h, 0.0)  # another size: no fade
        fill(src, red)
        fade.keep_previous(src.fbo, w, h)
        fade.cancel()  # the view changed under a full frame
        assert not fade.fade_to(src.fbo, w, h, 0.0)

        fill(src, red)
        fade.keep_previous(src.fbo, w, h)
        fill(src, blue)  # the kept copy is a copy
        assert fade.fade_to(src.fbo, w, h, 0.0, chain=True) and fade.active  # a preview
        fill(src, green)
        np.testing.assert_allclose(shown(0.0), red, atol=0.01)  # the moving frame as shown
        np.testing.assert_allclose(shown(0.1), (0.5, 0.0, 0.5), atol=0.01)  # half way
        # ... at full alpha: a screenshot of the widget reads the frame as premultiplied
        # (a blended alpha of 0.75 turned a fade's light blue sky lime there)
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, target.fbo)
        raw = GL.glReadPixels(0, 0, w, h, GL.GL_RGBA, GL.GL_FLOAT)
        assert np.allclose(np.frombuffer(raw, np.float32).reshape(h, w, 4)[..., 3], 1.0)
        assert fade.fade_to(src.fbo, w, h, 0.1)  # the full frame, during the fade
        np.testing.assert_allclose(shown(0.1), (0.5, 0.0, 0.5), atol=0.01)  # no jump
        np.testing.assert_allclose(shown(0.2), (0.25, 0.5, 0.25), atol=0.015)
        np.testing.assert_allclose(shown(0.35), green, atol=0.01)
        assert not fade.active

        fill(src, red)
        fade.keep_previous(src.fbo, w, h)
        fill(src, blue)
        assert fade.fade_to(src.fbo, w, h, 1.0, chain=True)
        np.testing.assert_allclose(shown(1.3), blue, atol=0.01)  # the preview, faded in
        fill(src, green)
        assert fade.fade_to(src.fbo, w, h, 2.0)  # the full frame: from the preview
        np.testing.assert_allclose(shown(2.0), blue, atol=0.01)
        np.testing.assert_allclose(shown(2.1), (0.0, 0.5, 0.5), atol=0.01)
        np.testing.assert_allclose(shown(2.3), green, atol=0.01)
        fill(src, red)
        assert not fade.fade_to(src.fbo, w, h, 3.0)  # a full frame over a full frame
    finally:
        fade.release()
        for fb in (src, target):
            fb.release()
