"""viewer/render_state.py as a state machine: every phase, every event's transition, and a
simulated frame loop (no display, no sleeping: the tests pass the clock)."""

from __future__ import annotations

import pytest

from viewer.render_state import HELD_STILL_S, FramePlan, Phase, RenderState, Screen

REST, DELAY, BLOCK = 0.15, 0.5, 250.0
PREVIEW_LEVEL = 4


def machine(screen: Screen, moving: bool = False, now: float = 10.0) -> RenderState:
    """A machine at `now` showing `screen`, moving or at rest, with no frame asked for."""
    rs = RenderState(REST, DELAY)
    if moving:
        rs.camera_moved(now - 0.01)
        rs.drawn(FramePlan(True), False, now - 0.01)  # the motion is shown; within rest_s
    rs.screen, rs.redraw = screen, False
    if screen is Screen.PREVIEW:
        rs.full_after = now + 0.2
    return rs


@pytest.mark.parametrize(
    "screen,moving,phase",
    [
        (Screen.STALE, False, Phase.REFINING),
        (Screen.PREVIEW, False, Phase.PREVIEW),
        (Screen.FULL, False, Phase.STILL),
        (Screen.FAILED, False, Phase.FAILED),
        *[(s, True, Phase.MOVING) for s in Screen],
    ],
)
def test_phase_of_screen_and_motion(screen: Screen, moving: bool, phase: Phase) -> None:
    rs = machine(screen, moving)
    assert rs.phase(10.0) is phase
    coarse = {Phase.PREVIEW: Phase.REFINING, Phase.FAILED: Phase.STILL}.get(phase, phase)
    assert rs.state(10.0) is coarse and rs.state(10.0) == coarse.value


EVENTS = {
    "camera_moved": lambda rs: rs.camera_moved(10.0),
    "request_full": lambda rs: rs.request_full(),
    "content_changed": lambda rs: rs.content_changed(),
    "failed": lambda rs: rs.failed(),
    "drawn preview": lambda rs: rs.drawn(FramePlan(False, PREVIEW_LEVEL, True), False, 10.0),
    "drawn full at rest": lambda rs: rs.drawn(FramePlan(False), True, 10.0),
    "drawn full moving": lambda rs: rs.drawn(FramePlan(True), True, 10.0),
    "drawn reduced": lambda rs: rs.drawn(FramePlan(True), False, 10.0),
}
# event -> (screen after, or None: unchanged; a frame asked for after it)
TRANSITIONS = {
    "camera_moved": (Screen.STALE, True),
    "request_full": (Screen.STALE, True),
    "content_changed": (None, True),
    "failed": (Screen.FAILED, False),
    "drawn preview": (Screen.PREVIEW, False),
    "drawn full at rest": (Screen.FULL, False),
    "drawn full moving": (None, False),
    "drawn reduced": (Screen.STALE, False),
}


@pytest.mark.parametrize(
    "screen,event",
    [
        (s, e)
        for s in Screen
        for e in EVENTS
        # a preview is planned only while refining (STALE) or waiting after one (PREVIEW)
        if e != "drawn preview" or s in (Screen.STALE, Screen.PREVIEW)
    ],
)
def test_every_event_from_every_screen(screen: Screen, event: str) -> None:
    rs = machine(screen)
    EVENTS[event](rs)
    after, redraw = TRANSITIONS[event]
    assert rs.screen is (after or screen)
    assert rs.redraw is redraw
    if event.startswith("drawn"):
        assert not rs.moved_since_paint


def test_the_preview_delay_runs_from_the_first_preview() -> None:
    rs = machine(Screen.STALE)
    rs.drawn(FramePlan(False, PREVIEW_LEVEL, True), False, 10.0)
    assert rs.full_after == pytest.approx(10.0 + DELAY)
    rs.content_changed()  # e.g. a sort finished: the preview is redrawn, the delay kept
    rs.drawn(FramePlan(False, PREVIEW_LEVEL, True), False, 10.3)
    assert rs.full_after == pytest.approx(10.0 + DELAY)
    rs.camera_moved(11.0)  # moving again cancels the pending full frame
    assert rs.screen is Screen.STALE and rs.full_after == 0.0


@pytest.mark.parametrize(
    "screen,moving,before,after",
    [
        (Screen.STALE, False, True, True),  # refining: draw
        (Screen.PREVIEW, False, False, True),  # preview shown: wait for full_after
        (Screen.FULL, False, False, False),  # still: nothing to do
        (Screen.FAILED, False, False, False),  # failed: nothing until something changes
        (Screen.STALE, True, False, False),  # moving: only what a move asks for
    ],
)
def test_wants_paint_by_phase(screen: Screen, moving: bool, before: bool, after: bool) -> None:
    rs = machine(screen, moving)
    assert rs.wants_paint(10.0) is before
    if not moving:
        assert rs.wants_paint(10.0 + 0.2 + 1e-6) is after
    rs.content_changed()
    assert rs.wants_paint(10.0)  # a frame asked for is drawn in any phase


@pytest.mark.parametrize(
    "screen,moving,full_ms,level,want",
    [
        (Screen.STALE, True, 900.0, PREVIEW_LEVEL, FramePlan(True)),
        (Screen.STALE, False, 900.0, PREVIEW_LEVEL, FramePlan(False, PREVIEW_LEVEL, True)),
        (Screen.STALE, False, 100.0, PREVIEW_LEVEL, FramePlan(False)),  # fast: full at once
        (Screen.STALE, False, 0.0, PREVIEW_LEVEL, FramePlan(False)),  # unknown: full
        (Screen.STALE, False, 900.0, None, FramePlan(False)),  # no preview level
        (Screen.PREVIEW, False, 900.0, PREVIEW_LEVEL, FramePlan(False, PREVIEW_LEVEL, True)),
        (Screen.FULL, False, 900.0, PREVIEW_LEVEL, FramePlan(False)),  # same quality redraw
    ],
)
def test_plan_by_phase(
    screen: Screen, moving: bool, full_ms: float, level: int | None, want: FramePlan
) -> None:
    assert machine(screen, moving).plan(10.0, full_ms, BLOCK, level) == want


def test_preview_then_full_once_the_delay_passed() -> None:
    rs = machine(Screen.PREVIEW)
    assert rs.plan(10.0 + 0.2, 900.0, BLOCK, PREVIEW_LEVEL) == FramePlan(False)


def test_motion_lasts_until_it_is_drawn_and_while_input_is_held() -> None:
    rs = RenderState(REST, DELAY)
    rs.drawn(rs.plan(0.0, 0.0, BLOCK, None), True, 0.0)
    rs.camera_moved(1.0)
    assert rs.phase(5.0) is Phase.MOVING  # a slow frame: this move is not on screen yet
    rs.drawn(rs.plan(5.0, 0.0, BLOCK, None), False, 5.0)
    assert rs.phase(5.0) is Phase.REFINING
    rs.set_held(True, 8.9)  # a move key pressed: motion from the start (no slow frame)
    assert rs.phase(9.0) is Phase.MOVING and not rs.wants_paint(9.0)
    rs.set_held(False)
    assert rs.phase(9.0) is Phase.REFINING and rs.wants_paint(9.0)
    # held without the pose changing (against a wall, at the walkable rim): the reduced
    # moving frame stayed on screen; after HELD_STILL_S it is refined
    rs.set_held(True, 9.0)
    assert rs.phase(9.2) is Phase.MOVING
    assert rs.phase(9.0 + HELD_STILL_S + 0.1) is Phase.REFINING
    assert rs.wants_paint(9.0 + HELD_STILL_S + 0.1)


def run_loop(
    rs: RenderState,
    until: float,
    motion_until: float,
    full_ms: float,
    moving_frame_s: float = 0.02,
    full_frame_s: float = 0.0,
) -> list[tuple[float, str]]:
    """Drive `rs` like the viewport's 16 ms frame timer: the camera moves every tick until
    `motion_until`; each frame drawn is logged as (time, 'moving'|'preview'|'full')."""
    frames: list[tuple[float, str]] = []
    t = 0.0
    while t < until:
        if t < motion_until:
            rs.camera_moved(t)
        if rs.wants_paint(t):
            plan = rs.plan(t, full_ms, BLOCK, PREVIEW_LEVEL)
            kind = "preview" if plan.preview else ("moving" if plan.moving else "full")
            t += full_frame_s if kind == "full" else moving_frame_s
            rs.drawn(plan, kind == "full", t)
            frames.append((t, kind))
        t += 0.016
    return frames


def test_fast_scene_moves_then_refines_once_and_goes_quiet() -> None:
    frames = run_loop(
        RenderState(REST, DELAY), until=3.0, motion_until=0.5, full_ms=40.0, full_frame_s=0.04
    )
    kinds = [k for _, k in frames]
    assert set(kinds[:-1]) == {"moving"} and kinds[-1] == "full"  # one full frame, at the end
    assert len(kinds) > 10  # ...after a moving frame for each tick the camera moved in
    rest = frames[-1][0]
    assert 0.5 + REST <= rest < 0.5 + REST + 0.1  # refined right after the rest time


def test_slow_scene_gets_one_preview_then_one_full_frame_after_the_delay() -> None:
    frames = run_loop(
        RenderState(REST, DELAY), until=4.0, motion_until=0.5, full_ms=900.0, full_frame_s=0.9
    )
    after = [(t, k) for t, k in frames if t > 0.5 and k != "moving"]
    assert [k for _, k in after] == ["preview", "full"]
    (t_prev, _), (t_full, _) = after
    assert t_full - 0.9 >= t_prev + DELAY - 0.02  # the full frame started after the delay
