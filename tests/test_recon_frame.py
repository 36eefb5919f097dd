"""Capture type (object orbit, aerial, walk-through) from the camera layout, the scale
assumed for each, and the cameras beside a scene file giving the viewer its up axis and
start view."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from scene.camera import Camera
from generators.reconstruct.synthetic import orbit_cameras, room_scene

def ring(n, radius, elev_deg, centre=(0,0,0), span=360.0, jitter=0.0, seed=0):
    rng = np.random.default_rng(seed)
    cams = []
    for i in range(n):
        a = math.radians(span * i / (n if span >= 360 else max(n - 1, 1)))
        e = math.radians(elev_deg)
        r = radius * (1 + rng.uniform(-jitter, jitter))
        eye = np.array(centre) + r * np.array([math.cos(e) * math.cos(a), math.sin(e), math.cos(e) * math.sin(a)])
        cams.append(Camera.look_at(eye, np.array(centre) + rng.uniform(-jitter, jitter, 3) * radius, 50, 320, 240))
    return cams

def tabletop_points(radius, n=4000, seed=0):
    rng = np.random.default_rng(seed)
    obj = rng.normal(size=(n // 2, 3)); obj = obj / np.linalg.norm(obj, axis=1, keepdims=True) * 0.15 * radius
    obj[:, 1] = np.abs(obj[:, 1])
    t = rng.uniform(0, 2 * np.pi, n // 2); rr = np.sqrt(rng.uniform(0, 1, n // 2)) * 0.8 * radius
    table = np.stack([rr * np.cos(t), np.zeros(n // 2), rr * np.sin(t)], 1)
    pts = np.concatenate([obj, table]); nrm = np.tile([0, 1.0, 0], (len(pts), 1))
    return pts, nrm

def drone(n=12, height=40.0, pitch_deg=-25.0, seed=0):
    rng = np.random.default_rng(seed)
    cams = []
    for i in range(n):
        eye = np.array([i * 4.0, height + rng.uniform(-1, 1), 0.0])
        fwd = np.array([0, math.sin(math.radians(pitch_deg)), -math.cos(math.radians(pitch_deg))])
        cams.append(Camera.look_at(eye, eye + fwd, 50, 320, 240))
    x = rng.uniform(-40, 80, 5000); z = rng.uniform(-200, -20, 5000)
    y = 3 * np.sin(x / 13) + 2 * np.cos(z / 17)
    pts = np.stack([x, y, z], 1)
    return cams, pts, np.tile([0, 1.0, 0], (len(pts), 1))

def room_points(n=6000, seed=0):
    rng = np.random.default_rng(seed)
    out = []; nrm = []
    for q in room_scene():
        m = n // 10
        p = np.zeros((m, 3)); p[:, q.axis] = q.value
        p[:, q.u_axis] = rng.uniform(q.lo[0], q.hi[0], m); p[:, q.v_axis] = rng.uniform(q.lo[1], q.hi[1], m)
        nn = np.zeros((m, 3)); nn[:, q.axis] = 1
        out.append(p); nrm.append(nn)
    return np.concatenate(out), np.concatenate(nrm)

def corridor(n=10):
    cams = [Camera.look_at((0.2 * math.sin(i), 1.6, -i * 0.8), (0.5 * math.sin(i), 1.5, -i * 0.8 - 3), 60, 320, 240) for i in range(n)]
    rng = np.random.default_rng(1)
    z = rng.uniform(-15, 2, 6000); k = rng.integers(0, 4, 6000); u = rng.uniform(0, 1, 6000)
    pts = np.where(k[:, None] == 0, np.stack([-1.5 + 0 * z, u * 2.6, z], 1),
          np.where(k[:, None] == 1, np.stack([1.5 + 0 * z, u * 2.6, z], 1),
          np.where(k[:, None] == 2, np.stack([u * 3 - 1.5, 0 * z, z], 1), np.stack([u * 3 - 1.5, 2.6 + 0 * z, z], 1))))
    nrm = np.where(k[:, None] < 2, [1.0, 0, 0], [0, 1.0, 0])
    return cams, pts, nrm


def _tabletop(span: float = 360.0, n: int = 12):
    cams = ring(n, 3.0, 35, span=span, jitter=0.05)
    pts, nrm = tabletop_points(3.0)
    return cams, pts, nrm


@pytest.mark.parametrize("layout,kind", [
    (lambda: _tabletop(360.0), "orbit"),
    (lambda: _tabletop(90.0, 8), "orbit"),            # half-way round a compact subject
    (lambda: drone(), "aerial"),
    (lambda: (orbit_cameras(10), *room_points()), "walk"),  # walking past a room corner
    (lambda: corridor(), "walk"),
])
def test_capture_type_from_the_camera_layout(layout, kind: str) -> None:
    from generators.reconstruct.align import classify_capture

    cams, pts, _ = layout()
    assert classify_capture(cams, pts).kind == kind


def _scaled(cams, pts, nrm, k: float, o):
    """The same layout in another (scaled, shifted) frame, as SfM would give it."""
    from generators.reconstruct.align import transform_camera

    return [transform_camera(c, k, np.eye(3), np.asarray(o, float)) for c in cams], pts * k + o, nrm


def test_orbit_gets_the_assumed_radius_and_the_table_at_y0() -> None:
    from generators.reconstruct.align import place_capture, transform_camera

    cams, pts, nrm = _scaled(*_tabletop(), 7.3, (1.0, 2.0, -3.0))
    k, o, info = place_capture(cams, pts, nrm, orbit_radius=0.6)
    assert info["type"] == "orbit" and "0.6 m" in info["scale"]
    out = [transform_camera(c, k, np.eye(3), o) for c in cams]
    # the table (the second half of the points) is at y = 0, the object centre at the origin
    assert np.allclose((pts * k + o)[len(pts) // 2:, 1], 0.0, atol=1e-3)
    assert np.median([np.linalg.norm(c.position) for c in out]) == pytest.approx(0.6, rel=0.05)
    assert abs(np.mean([c.position[0] for c in out])) < 0.05
    assert abs(np.mean([c.position[2] for c in out])) < 0.05


def test_aerial_cameras_go_to_the_assumed_height_above_the_ground() -> None:
    from generators.reconstruct.align import place_capture

    cams, pts, _ = _scaled(*drone(height=40.0), 0.05, (0.0, 1.0, 0.0))
    slopes = np.tile([0.7, 0.7, 0.0], (len(pts), 1))  # hillsides: no level floor
    k, o, info = place_capture(cams, pts, slopes, aerial_height=30.0)
    assert info["type"] == "aerial" and "30 m" in info["scale"] and "median height" in info["scale"]
    assert np.median(pts[:, 1]) * k + o[1] == pytest.approx(0.0, abs=1e-6)
    h = np.median([c.position[1] for c in cams]) * k + o[1]
    assert h == pytest.approx(30.0, rel=1e-6)
    # flat, level ground: it is the floor plane, at y = 0
    flat = pts.copy()
    flat[:, 1] = 1.0
    k, o, info = place_capture(cams, flat, np.tile([0.0, 1.0, 0.0], (len(pts), 1)), aerial_height=30.0)
    assert "level ground" in info["scale"]
    assert 1.0 * k + o[1] == pytest.approx(0.0, abs=1e-6)
    assert np.median([c.position[1] for c in cams]) * k + o[1] == pytest.approx(30.0, rel=1e-3)


def test_walk_keeps_eye_height_above_the_floor_and_a_forced_type_wins() -> None:
    from generators.reconstruct.align import place_capture

    cams, pts, nrm = _scaled(*corridor(), 2.0, (0.0, -5.0, 0.0))
    k, o, info = place_capture(cams, pts, nrm, eye_height=1.5)
    assert info["type"] == "walk" and "eye height 1.5 m" in info["scale"]
    assert np.median([c.position[1] for c in cams]) * k + o[1] == pytest.approx(1.5, rel=1e-6)
    assert np.min(pts[:, 1]) * k + o[1] == pytest.approx(0.0, abs=1e-6)
    k2, _, info2 = place_capture(cams, pts, nrm, kind="aerial")
    assert info2["type"] == "aerial" and "detected: walk" in info2["reason"] and k2 != k
    with pytest.raises(ValueError):
        place_capture(cams, pts, nrm, kind="tabletop")
