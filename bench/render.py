"""Renderer benchmark: frame time of the GL splat renderer at 1280x720 for 100k/300k/1M splats,
still (full quality) and moving (adaptive: fewer splats by importance and/or lower render
resolution, background sort), beside the naive baseline that re-uploads every attribute in
sorted order each frame; plus the 1M-splat depth sort beside np.argsort(float32).

    python bench/render.py [--sizes 100000,300000,1000000] [--frames 6] [--scene room|cube]

Runs on whatever GL the offscreen context finds (Xvfb + llvmpipe here; EGL when no display).
All timings end with glFinish. One run measures every row, so ratios compare like with like.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

W, H = 1280, 720
MOVING_SETTINGS = [(None, 1.0), (None, 0.5), (150_000, 0.5), (60_000, 0.5), (60_000, 0.35),
                   (30_000, 0.35), (20_000, 0.25), (10_000, 0.25)]


def room_scene(n: int, sh_degree: int = 0, seed: int = 0):
    """~n splats on the inside surfaces of a 12x4x12 m room with 16 pillars, textured procedurally.

    Splats are flat discs aligned with their surface, spaced so neighbours overlap (like a
    trained scene's surfaces)."""
    from scene.gaussians import GaussianCloud, logit, rgb_to_sh0
    from scene.rotations import matrices_to_quats
    from scene.sh import REST_COEFFS

    rng = np.random.default_rng(seed)
    # (origin, u edge, v edge, normal) rectangles
    rects = [((-6, 0, -6), (12, 0, 0), (0, 0, 12)), ((-6, 4, -6), (12, 0, 0), (0, 0, 12)),
             ((-6, 0, -6), (12, 0, 0), (0, 4, 0)), ((-6, 0, 6), (12, 0, 0), (0, 4, 0)),
             ((-6, 0, -6), (0, 0, 12), (0, 4, 0)), ((6, 0, -6), (0, 0, 12), (0, 4, 0))]
    for px in (-3.5, -1.2, 1.2, 3.5):
        for pz in (-3.5, -1.2, 1.2, 3.5):
            s = 0.4
            for o, u in (((px - s / 2, 0, pz - s / 2), (s, 0, 0)), ((px - s / 2, 0, pz + s / 2), (s, 0, 0)),
                         ((px - s / 2, 0, pz - s / 2), (0, 0, s)), ((px + s / 2, 0, pz - s / 2), (0, 0, s))):
                rects.append((o, u, (0, 4, 0)))
    rects = [tuple(np.array(v, np.float64) for v in r) for r in rects]
    areas = np.array([np.linalg.norm(np.cross(u, v)) for _, u, v in rects])
    counts = rng.multinomial(n, areas / areas.sum())
    spacing = math.sqrt(areas.sum() / n)
    means, quats, colors = [], [], []
    for (o, u, v), k in zip(rects, counts):
        if k == 0:
            continue
        a, b = rng.random((2, k))
        p = o + a[:, None] * u + b[:, None] * v
        nrm = np.cross(u, v)
        nrm /= np.linalg.norm(nrm)
        rot = np.stack([u / np.linalg.norm(u), v / np.linalg.norm(v), nrm], 1)  # columns: local axes
        if np.linalg.det(rot) < 0:
            rot[:, 2] *= -1
        quats.append(np.repeat(matrices_to_quats(rot[None]), k, 0))
        su, sv = a * np.linalg.norm(u), b * np.linalg.norm(v)
        check = ((np.floor(su * 2) + np.floor(sv * 2)) % 2)[:, None]
        base = np.array([0.55, 0.45, 0.35]) if nrm[1] != 0 else np.array([0.35, 0.45, 0.6])
        col = base * (0.75 + 0.35 * check) + 0.08 * rng.normal(size=(k, 3)) + 0.1 * np.sin(su * 3)[:, None]
        means.append(p)
        colors.append(np.clip(col, 0, 1))
    means = np.concatenate(means).astype(np.float32)
    m = len(means)
    scales = np.empty((m, 3), np.float32)
    scales[:, :2] = spacing * rng.uniform(0.5, 1.0, (m, 2))
    scales[:, 2] = spacing * 0.1
    cloud = GaussianCloud(means, np.log(scales), np.concatenate(quats), logit(rng.uniform(0.6, 0.99, m)),
                          rgb_to_sh0(np.concatenate(colors)),
                          rng.normal(0, 0.05, (m, REST_COEFFS[sh_degree], 3)).astype(np.float32))
    return cloud


def cube_scene(n: int, sh_degree: int = 0, seed: int = 0):
    """n random splats in a 4 m cube (worst case: every splat on screen, heavy overdraw)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import random_cloud

    cloud = random_cloud(n, sh_degree, seed)
    cloud.scales += np.float32(math.log(0.3 * (100_000 / n) ** (1 / 3)))
    return cloud


def camera_at(frame: int, scene: str):
    from scene.camera import Camera

    if scene == "room":
        eye = np.array([0.3 * math.sin(frame * 0.05), 1.6, 4.5 - 0.04 * frame])
        yaw = 0.02 * frame
        look = eye + np.array([-math.sin(yaw), -0.1, -math.cos(yaw)])
        return Camera.look_at(eye, look, 70, W, H)
    ang = 0.02 * frame
    return Camera.look_at([6 * math.sin(ang), 0.5, 6 * math.cos(ang)], [0, 0, 0], 60, W, H)


class Bench:
    def __init__(self) -> None:
        from viewer.gl_context import offscreen_context

        self.ctx = offscreen_context()
        self.ctx.make_current()
        from OpenGL import GL

        from viewer.offscreen import Framebuffer

        self.GL = GL
        # 8-bit colour like a window's framebuffer (the viewport blits a smaller one into it)
        self.full = Framebuffer(W, H, GL.GL_RGBA8)
        self._small: dict[tuple[int, int], object] = {}
        self.Framebuffer = Framebuffer
        self.renderer_name = GL.glGetString(GL.GL_RENDERER).decode()

    def small(self, w: int, h: int):
        if (w, h) not in self._small:
            self._small[(w, h)] = self.Framebuffer(w, h, self.GL.GL_RGBA8)
        return self._small[(w, h)]

    def frame(self, renderer, cam, k: int | None, scale: float) -> float:
        """One frame at 1280x720 (rendered at `scale`, then upscaled by a blit); seconds."""
        GL = self.GL
        t0 = time.perf_counter()
        if scale < 0.999:
            sw, sh = max(1, int(W * scale)), max(1, int(H * scale))
            fb = self.small(sw, sh)
            fb.bind()
            renderer.draw(cam, (sw, sh), max_splats=k)
            GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, fb.fbo)
            GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, self.full.fbo)
            GL.glBlitFramebuffer(0, 0, sw, sh, 0, 0, W, H, GL.GL_COLOR_BUFFER_BIT, GL.GL_LINEAR)
        else:
            self.full.bind()
            renderer.draw(cam, (W, H), max_splats=k)
        GL.glFinish()
        return time.perf_counter() - t0


def naive_frame(bench: Bench, state: dict, cam) -> float:
    """Baseline: float argsort, gather all attributes in sorted order, re-upload, draw."""
    from viewer.renderer import _pad_rows

    GL = bench.GL
    r = state["renderer"]
    t0 = time.perf_counter()
    depth = state["means"] @ cam.R[2].astype(np.float32) + np.float32(cam.t[2])
    order = np.argsort(-depth)
    geom = state["geom"].reshape(-1, 3, 4)[order].reshape(-1, 4)
    color = state["color"].reshape(len(order), -1, 4)[order].reshape(-1, 4)
    r._upload_texture(r._tex_geom, _pad_rows(geom), GL.GL_RGBA32F, GL.GL_FLOAT)
    r._upload_texture(r._tex_color, _pad_rows(color), GL.GL_RGBA16F, GL.GL_HALF_FLOAT)
    bench.full.bind()
    GL.glViewport(0, 0, W, H)
    GL.glClear(GL.GL_COLOR_BUFFER_BIT | GL.GL_DEPTH_BUFFER_BIT)
    r._draw_splats(cam, cam.world_to_camera(), state["proj"](cam), len(order))
    GL.glFinish()
    return time.perf_counter() - t0


def run_size(bench: Bench, n: int, scene: str, sh: int, frames: int) -> dict:
    from scene.world import Layer, World
    from viewer.renderer import SplatRenderer, pack_splats, projection_matrix

    cloud = (room_scene if scene == "room" else cube_scene)(n, sh)
    world = World()
    world.layers.append(Layer("bench", cloud))
    out: dict = {"n": len(cloud)}
    r = SplatRenderer(sync_sort=True)  # first frame: pack + upload + sort inline, timed
    r.set_world(world)
    cam0 = camera_at(0, scene)
    t0 = time.perf_counter()
    bench.frame(r, cam0, None, 1.0)  # uploads once + first sort
    out["first_ms"] = (time.perf_counter() - t0) * 1e3
    r.sync_sort = False  # interactive mode from here: background sorts
    # still: the same camera, full quality (order already sorted, nothing uploaded)
    out["still"] = statistics.median(bench.frame(r, cam0, None, 1.0) for _ in range(max(2, frames // 2))) * 1e3
    # moving: a walk, background sort, adaptive settings
    out["moving"] = {}
    for k, scale in MOVING_SETTINGS:
        if k is not None and k >= len(cloud):
            continue
        if k is None and scale < 1.0 and out["moving"].get((None, 1.0), 0) > 3000:
            continue  # all splats are hopeless here; go on to the cheaper settings
        ts = [bench.frame(r, camera_at(f, scene), k, scale) for f in range(1, frames + 1)]
        out["moving"][(k, scale)] = statistics.median(ts) * 1e3
    # naive baseline: a re-sort + full re-upload every frame
    geom, color, _, _ = pack_splats([(cloud, 0)])
    near, far = r._near_far(cam0)
    state = {"renderer": r, "means": cloud.means, "geom": geom, "color": color,
             "proj": lambda c: projection_matrix(c, near, far)}
    r._selected = None
    bench.GL.glBindBuffer(bench.GL.GL_TEXTURE_BUFFER, r._order_buf)
    ident = np.arange(len(cloud), dtype=np.uint32)
    bench.GL.glBufferData(bench.GL.GL_TEXTURE_BUFFER, ident.nbytes, ident, bench.GL.GL_STREAM_DRAW)
    # same view as the still rows; the baseline still re-sorts and re-uploads every frame
    out["naive"] = statistics.median(naive_frame(bench, state, cam0)
                                     for _ in range(max(2, frames // 2))) * 1e3
    bench.full.bind()
    r.release()
    return out


def sort_bench(n: int = 1_000_000, repeats: int = 7) -> tuple[float, float, float]:
    """(16-bit key sort ms, full depth+key+sort ms, float argsort ms) for n splats, best of repeats."""
    from viewer.sorting import depth_keys_u16

    rng = np.random.default_rng(0)
    depth = rng.uniform(0.5, 50, n).astype(np.float32)
    means = rng.uniform(-10, 10, (n, 3)).astype(np.float32)
    w = np.array([0.1, 0.2, 0.97], np.float32)

    def best(fn) -> float:
        ts = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        return min(ts) * 1e3

    keys = depth_keys_u16(depth)
    t_sort = best(lambda: np.argsort(keys, kind="stable"))
    t_full = best(lambda: np.argsort(depth_keys_u16(means @ w + np.float32(20)), kind="stable"))
    t_float = best(lambda: np.argsort(depth))
    return t_sort, t_full, t_float


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,300000,1000000")
    ap.add_argument("--frames", type=int, default=6, help="frames per measured row (median)")
    ap.add_argument("--scene", choices=["room", "cube"], default="room")
    ap.add_argument("--sh", type=int, default=0, choices=[0, 1, 2, 3])
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    bench = Bench()
    print(f"GL: {bench.renderer_name} ({bench.ctx.backend}), {os.cpu_count()} CPUs, "
          f"{W}x{H}, scene={args.scene}, SH{args.sh}")
    t_sort, t_full, t_float = sort_bench()
    print(f"sort 1M: 16-bit key argsort {t_sort:.1f} ms | depth+keys+sort {t_full:.1f} ms | "
          f"np.argsort(float32) {t_float:.1f} ms | ratio float/16-bit {t_float / t_sort:.1f}x")
    print(f"{'splats':>9} {'mode':<28} {'ms/frame':>9} {'fps':>7} {'vs naive':>9}")
    for n in sizes:
        res = run_size(bench, n, args.scene, args.sh, args.frames)
        naive = res["naive"]
        rows = [("naive re-upload (full)", naive), ("still, full quality", res["still"])]
        for (k, scale), ms in res["moving"].items():
            rows.append((f"moving K={'all' if k is None else f'{k // 1000}k'} scale={scale:g}", ms))
        for label, ms in rows:
            print(f"{res['n']:>9} {label:<28} {ms:>9.1f} {1000 / ms:>7.1f} {naive / ms:>8.1f}x")
        ok = [(k, s, ms) for (k, s), ms in res["moving"].items() if ms <= 50.0]
        best = ok[0] if ok else min(((k, s, ms) for (k, s), ms in res["moving"].items()), key=lambda x: x[2])
        print(f"{'':>9} -> {'reaches' if ok else 'best'} {1000 / best[2]:.1f} fps moving with "
              f"K={'all' if best[0] is None else best[0]}, scale {best[1]:g}; first frame "
              f"(upload+sort) {res['first_ms']:.0f} ms")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
