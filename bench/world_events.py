"""What following the World's events saves the renderer per frame: before, every draw()
compared each layer's transform with the last one seen, rebuilt the visible-layer key and
recomputed the world box (near/far planes) over every layer; now an event names the layer
and property that changed, and a frame reuses the cached visible slots and box.

    python bench/world_events.py [LAYERS]     (default 31: every layer slot in use)

Prints the per-frame CPU cost of both ways, measured in the same run, and their ratio. The
frame images are the same (tests/test_render_events.py compares them after each edit).
"""

# ruff: noqa: E402
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import numpy as np

from scene.camera import Camera
from scene.gaussians import GaussianCloud
from scene.world import Layer, World, similarity_matrix
from viewer.gl_context import offscreen_context

ctx = offscreen_context()
ctx.make_current()
from viewer.offscreen import Framebuffer
from viewer.renderer import SplatRenderer

n_layers = int(sys.argv[1]) if len(sys.argv) > 1 else 31
rng = np.random.default_rng(0)
w = World()
for i in range(n_layers):
    pts = rng.normal(0, 0.3, (200, 3))
    w.add_layer(
        Layer(
            f"l{i}",
            GaussianCloud.from_points(pts, rng.uniform(0, 1, (200, 3)), 0.02, 0.8),
            kind="object",
            transform=similarity_matrix((0.2 * i, 0, 0)),
        )
    )
W, H = 64, 48
cam = Camera.look_at((0.5, 1.0, 5.0), (0, 0, 0), 50, W, H)
fb = Framebuffer(W, H)
fb.bind()
r = SplatRenderer(sync_sort=True)
r.set_world(w)
r.draw(cam, (W, H))


def before() -> None:  # what every draw() did before events named the change
    r._check_transforms()
    tuple(s.layer.id for s in r._slots if s.layer.visible)
    r._compute_world_box()


def after() -> None:  # what every draw() does now (events reset the caches)
    r._visible if r._visible is not None else [s for s in r._slots if s.layer.visible]
    r._world_box()


def per_frame_us(fn, n: int = 2000) -> float:
    fn()
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n * 1e6


old, new = per_frame_us(before), per_frame_us(after)
print(
    f"{n_layers} layers: per-frame layer checks {old:.1f} us before, {new:.2f} us now "
    f"({old / max(new, 1e-9):.0f}x less)"
)
r.release()
fb.release()
