"""Renderer benchmark: what a user sees at 1280x720 (300k and 1M splats by default).

For each size it prints
- still:  full-quality frames per second at a fixed camera;
- moving: frames per second of a walk that starts where the still frames were drawn (1.4 m/s
  forward while turning 20 deg/s, a frame every 50 ms of walk time so every path sees the same
  cameras), each frame drawn at the level the viewport's adaptive controller picks for its
  budget (viewer/viewport.py AdaptiveQuality, background sort, the camera never waits for it;
  the budget less what the app's window takes, its prior for this GL: `--window-ms`),
  and the moving frames' PSNR / SSIM against the full-quality frame of the same camera at
  0.3, 0.6, 1.2 and 2.4 s into the walk (mean, and each); its fps count the render alone
  (the app's window adds its own ~8 ms a frame on llvmpipe, which the level leaves room for);
- first:  time from the scene in memory to its first full-quality frame (pack, upload, sort, draw);
for the app's path ("new": moving frames with the last still frame reprojected over them,
viewer/reproject.py), the same without reprojection ("plain"), and the path from before
issue 18's work ("legacy": GL frames, moving frames a subset of the splats; `--legacy`
alone runs only that one): limited frames draw a
subset of the splats as they are, where the new path draws the merged coarse level
(viewer/lod.py) cut adaptively (its voxels largest on screen drawn with their own splats, within
the frame's splat budget), or its strongest splats grown where the budget is below the merged
splats in view; `--coarse` adds that path without the cut. `--fixed K@SCALE` draws every moving
frame at one level instead of the controller's: on a loaded machine the controller drops to its
lowest level, while CPU ms and PSNR/SSIM at one level compare the paths whatever the load.
CPU milliseconds (all threads of this process, llvmpipe's included) are printed beside wall
time: on a shared machine they move far less with other load.

    python bench/render.py [--sizes 300000,1000000] [--frames 50] [--scene room|cube] [--legacy]
                           [--coarse] [--fixed 45000@0.33] [--world office.wander] [--shots DIR]
                           [--window-ms MS] [--blas-threads]

numpy's BLAS runs on one thread, as in the app (scene/cpu_threads.py); `--blas-threads`
leaves it its default threads (one per core), as before that change, for the ratio.

`--shots DIR` saves each scored moving frame beside the full frame of the same camera
(DIR/<splats>_<path>_<seconds>s.png: moving | full).

Runs on whatever GL the offscreen context finds (Xvfb + llvmpipe here; EGL when no display).
All timings end with glFinish. Cold start of the app: bench/startup.py.
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
WALK_SPEED = 1.4  # m/s
TURN_RATE = math.radians(20)  # rad/s
SETTLE = 5  # moving frames before the controller has settled (not timed)
SCORED = (6, 12, 24, 48)  # moving frames compared with the full frame (0.3, 0.6, 1.2, 2.4 s in)


def room_scene(n: int, sh_degree: int = 0, seed: int = 0):
    """~n splats on the inside surfaces of a 12x4x12 m room with 16 pillars, textured procedurally.

    Splats are flat discs aligned with their surface, spaced so neighbours overlap (like a
    trained scene's surfaces)."""
    from scene.gaussians import GaussianCloud, logit, rgb_to_sh0
    from scene.rotations import matrices_to_quats
    from scene.sh import REST_COEFFS

    rng = np.random.default_rng(seed)
    # (origin, u edge, v edge, normal) rectangles
    rects = [
        ((-6, 0, -6), (12, 0, 0), (0, 0, 12)),
        ((-6, 4, -6), (12, 0, 0), (0, 0, 12)),
        ((-6, 0, -6), (12, 0, 0), (0, 4, 0)),
        ((-6, 0, 6), (12, 0, 0), (0, 4, 0)),
        ((-6, 0, -6), (0, 0, 12), (0, 4, 0)),
        ((6, 0, -6), (0, 0, 12), (0, 4, 0)),
    ]
    for px in (-3.5, -1.2, 1.2, 3.5):
        for pz in (-3.5, -1.2, 1.2, 3.5):
            s = 0.4
            for o, u in (
                ((px - s / 2, 0, pz - s / 2), (s, 0, 0)),
                ((px - s / 2, 0, pz + s / 2), (s, 0, 0)),
                ((px - s / 2, 0, pz - s / 2), (0, 0, s)),
                ((px + s / 2, 0, pz - s / 2), (0, 0, s)),
            ):
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
        rot = np.stack(
            [u / np.linalg.norm(u), v / np.linalg.norm(v), nrm], 1
        )  # columns: local axes
        if np.linalg.det(rot) < 0:
            rot[:, 2] *= -1
        quats.append(np.repeat(matrices_to_quats(rot[None]), k, 0))
        su, sv = a * np.linalg.norm(u), b * np.linalg.norm(v)
        check = ((np.floor(su * 2) + np.floor(sv * 2)) % 2)[:, None]
        base = np.array([0.55, 0.45, 0.35]) if nrm[1] != 0 else np.array([0.35, 0.45, 0.6])
        col = (
            base * (0.75 + 0.35 * check)
            + 0.08 * rng.normal(size=(k, 3))
            + 0.1 * np.sin(su * 3)[:, None]
        )
        means.append(p)
        colors.append(np.clip(col, 0, 1))
    means = np.concatenate(means).astype(np.float32)
    m = len(means)
    scales = np.empty((m, 3), np.float32)
    scales[:, :2] = spacing * rng.uniform(0.5, 1.0, (m, 2))
    scales[:, 2] = spacing * 0.1
    cloud = GaussianCloud(
        means,
        np.log(scales),
        np.concatenate(quats),
        logit(rng.uniform(0.6, 0.99, m)),
        rgb_to_sh0(np.concatenate(colors)),
        rng.normal(0, 0.05, (m, REST_COEFFS[sh_degree], 3)).astype(np.float32),
    )
    return cloud


def cube_scene(n: int, sh_degree: int = 0, seed: int = 0):
    """n random splats in a 4 m cube (worst case: every splat on screen, heavy overdraw)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import random_cloud

    cloud = random_cloud(n, sh_degree, seed)
    cloud.scales += np.float32(math.log(0.3 * (100_000 / n) ** (1 / 3)))
    return cloud


#: --world: the start bookmark (eye (3,), yaw, pitch) the walk begins at
WORLD_START: tuple[np.ndarray, float, float] | None = None
WORLD_WALK_SPEED = 0.5  # m/s: a one-photo world's walkable area is a few metres across


def camera_at(t: float, scene: str):
    """The walk's camera `t` seconds in (t = 0: the still camera)."""
    from scene.camera import Camera, forward_from_yaw_pitch
    from scene.units import EYE_HEIGHT

    if scene == "world":  # from the world's start, forward and a little sideways, turning
        eye0, yaw0, pitch0 = WORLD_START
        yaw = yaw0 + TURN_RATE * t
        fwd = forward_from_yaw_pitch(yaw0, 0.0)
        side = np.array([fwd[2], 0.0, -fwd[0]])
        eye = eye0 + fwd * WORLD_WALK_SPEED * t + side * 0.2 * math.sin(t)
        return Camera.look_at(eye, eye + forward_from_yaw_pitch(yaw, pitch0), 70, W, H)
    if scene == "room":
        eye = np.array([0.3 * math.sin(t), EYE_HEIGHT, 4.5 - WALK_SPEED * t])
        yaw = TURN_RATE * t
        look = eye + np.array([-math.sin(yaw), -0.1, -math.cos(yaw)])
        return Camera.look_at(eye, look, 70, W, H)
    ang = TURN_RATE * t
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

    def frame(
        self, renderer, cam, k: int | None, scale: float, reproject=None, keep: bool = False
    ) -> tuple[float, float]:
        """One frame at 1280x720 (rendered at `scale`, then upscaled by a blit, as the
        viewport does; a reduced frame gets the kept full frame reprojected over it when
        `reproject`, a viewer.reproject.FrameReprojector, is given; with `keep` a full frame
        is kept in it, as the app keeps a still frame); (wall ms, CPU ms of this process)."""
        from viewer.reproject import draw_scaled

        GL = self.GL
        t0, c0 = time.perf_counter(), time.process_time()
        if scale < 0.999 or k is not None:  # as the viewport draws a moving frame
            draw_scaled(
                renderer, reproject, cam, scale, k, self.full.fbo, lambda w, h: self.small(w, h).fbo
            )
        else:
            self.full.bind()
            renderer.draw(cam, (W, H), max_splats=k)
            if reproject is not None and keep:
                reproject.keep(renderer, cam, self.full.fbo)
        GL.glFinish()
        return (time.perf_counter() - t0) * 1e3, (time.process_time() - c0) * 1e3

    def read(self) -> np.ndarray:
        """The 1280x720 frame as (H, W, 3) uint8, top row first."""
        GL = self.GL
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, self.full.fbo)
        GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 1)
        raw = GL.glReadPixels(0, 0, W, H, GL.GL_RGB, GL.GL_UNSIGNED_BYTE)
        return np.frombuffer(raw, np.uint8).reshape(H, W, 3)[::-1].copy()


def make_renderer(world, legacy: bool, sync: bool = False, cut: bool = True):
    from viewer.renderer import SplatRenderer

    r = SplatRenderer(sync_sort=sync)
    r.lod_cut = cut  # False: the coarse level's strongest splats, grown (no fine splats)
    if legacy:  # the legacy path's limited frames: a subset of the splats, not grown, no LOD
        r.grow_limit = 1.0
        r.use_lod = False
        r.thin_evenly = False  # ranked by contribution
        r.one_triangle = False  # its full frames: two triangles per splat
        r.cpu_full = False  # its full frames: by GL (llvmpipe here), not viewer/cpu_splat.py
    r.set_world(world)
    return r


def run_size(
    bench: Bench,
    world,
    scene: str,
    frames: int,
    legacy: bool,
    fixed: tuple[int, float] | None = None,
    cut: bool = True,
    reproject: bool = False,
    shots: Path | None = None,
    label: str = "",
    window_ms: float = 0.0,
) -> dict:
    """Still, moving and first-frame figures of one path for one scene; with `fixed`
    (max splats, render scale) every moving frame is drawn at that level instead of the
    controller's (on a loaded machine the controller drops to its lowest level; CPU ms and
    quality at one level compare paths whatever the load). `window_ms`: what the
    controller leaves of its budget for the app's window (`--window-ms`)."""
    from generators.reconstruct.evaluate import psnr, ssim
    from viewer.reproject import FrameReprojector
    from viewer.viewport import TARGET_MS, AdaptiveQuality

    out: dict = {}
    r = make_renderer(
        world, legacy, cut=cut
    )  # as the app: pack on a worker, sort beside the upload
    cam0 = camera_at(0.0, scene)
    t0 = time.perf_counter()
    while True:  # frames until the first full-quality one with the scene in it
        bench.frame(r, cam0, None, 1.0)
        if r.last_stats.splats_drawn:
            break
        time.sleep(0.005)
    out["first_ms"] = (time.perf_counter() - t0) * 1e3
    t0 = time.perf_counter()
    while r._lod_job is not None:  # the coarse level merges in the background (app: seconds
        time.sleep(0.05)  # after opening; moving frames before it use a subset)
        bench.frame(r, cam0, 1000, 0.2)
    out["lod_s"] = time.perf_counter() - t0 + out["first_ms"] / 1e3 if r._lod is not None else None
    r.frame_shown()  # as the app after its first full frame: the CPU frames' kernels load
    if r._cpu is not None:
        r._cpu.ready.wait(120)
    rp = FrameReprojector() if reproject else None
    still = [bench.frame(r, cam0, None, 1.0, rp, keep=True) for _ in range(max(2, frames // 8))]
    out["still"] = statistics.median(w for w, _ in still), statistics.median(c for _, c in still)
    if rp is not None:  # the app does this once the still frame is on screen
        t0 = time.perf_counter()
        rp.finish(r)
        bench.GL.glFinish()
        out["keep_ms"] = (time.perf_counter() - t0) * 1e3
    # moving: the walk in real time, at the levels the controller picks (which has seen the
    # still frames, as the app's has)
    q = AdaptiveQuality(TARGET_MS, overhead_prior_ms=window_ms)
    for w, _ in still:
        q.record(False, w)
    ref = make_renderer(world, legacy, sync=True)  # exact full frames for the comparison
    t, walls, cpus, levels, scores = 0.0, [], [], [], []
    total = sum(len(lay.data) for lay in world.layers)
    for f in range(frames):
        scale, k = q.setting(True, total) if fixed is None else (fixed[1], fixed[0])
        cam = camera_at(t, scene)
        wall, cpu = bench.frame(r, cam, k, scale, rp)
        # as the viewport: the kept frame's reprojection is not the level's cost
        q.record(True, wall - r.last_stats.warp_ms, one_off=r.last_stats.cpu_ms <= 0.0)
        if f >= SETTLE:  # the controller has settled
            walls.append(wall)
            cpus.append(cpu)
            levels.append((k, scale))
        if f in SCORED:
            img = bench.read()
            bench.frame(ref, cam, None, 1.0)
            full = bench.read()
            scores.append((t, psnr(img, full), ssim(img, full)))
            if shots is not None:
                import cv2

                pair = np.concatenate([img, full], 1)[:, :, ::-1]
                if not cv2.imwrite(str(shots / f"{label}_{t:.1f}s.png"), pair):
                    raise OSError(f"cannot write into {shots}")
        t += 1.0 / 20  # the walk as seen at 20 fps, the same cameras for every path
    out["moving"] = statistics.median(walls), statistics.median(cpus)
    out["level"] = max(set(levels), key=levels.count)
    out["psnr"] = statistics.mean(s[1] for s in scores)
    out["ssim"] = statistics.mean(s[2] for s in scores)
    out["scores"] = scores
    if rp is not None:
        rp.release()
    bench.full.bind()
    ref.release()
    r.release()
    return out


def sort_bench(n: int = 1_000_000, repeats: int = 7) -> tuple[float, float, float]:
    """(16-bit key sort ms, full depth+key+sort ms, float argsort ms) for n splats, best of
    `repeats`."""
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
    ap.add_argument("--sizes", default="300000,1000000")
    ap.add_argument(
        "--frames",
        type=int,
        default=50,
        help="moving frames per size, 50 ms of walk apart (frames 6, 12, 24, 48 are scored)",
    )
    ap.add_argument("--scene", choices=["room", "cube"], default="room")
    ap.add_argument(
        "--world",
        default=None,
        metavar="PATH",
        help="a .wander project or splat file instead of the synthetic scenes (--sizes is "
        "ignored): the walk starts at its first bookmark, 0.5 m/s forward while turning",
    )
    ap.add_argument("--sh", type=int, default=0, choices=[0, 1, 2, 3])
    ap.add_argument("--legacy", action="store_true", help="run only the legacy path")
    ap.add_argument(
        "--coarse",
        action="store_true",
        help="also run the coarse level without the adaptive cut (path 'coarse')",
    )
    ap.add_argument(
        "--fixed",
        default=None,
        metavar="K@SCALE",
        help="draw every moving frame with K splats at SCALE (e.g. 45000@0.33) instead of "
        "the adaptive controller's level",
    )
    ap.add_argument(
        "--shots",
        type=Path,
        default=None,
        metavar="DIR",
        help="save each scored moving frame beside the full frame of the same camera",
    )
    ap.add_argument(
        "--window-ms",
        type=float,
        default=None,
        help="ms of the moving-frame budget the controller leaves for the app's window "
        "(default: the app's own prior for this GL, viewer/viewport.py: 8 on a software GL "
        "whose window is the raster viewport, else 15; 0 budgets the render alone, as "
        "before)",
    )
    ap.add_argument(
        "--blas-threads",
        action="store_true",
        help="leave numpy's BLAS its default threads (the app holds it to one)",
    )
    args = ap.parse_args(argv)
    from scene.cpu_threads import limit_blas_threads
    from scene.world import Layer, World

    if not args.blas_threads:
        limit_blas_threads()

    if args.shots is not None and not args.shots.is_dir():
        print(f"--shots: {args.shots} is not a folder", file=sys.stderr)
        return 2

    sizes = [int(s) for s in args.sizes.split(",")]
    fixed = None
    if args.fixed:
        try:
            k_s, sc_s = args.fixed.split("@")
            fixed = (int(k_s), float(sc_s))
        except ValueError:
            print(f"--fixed wants K@SCALE such as 45000@0.33, got {args.fixed!r}", file=sys.stderr)
            return 2
    global WORLD_START
    if args.world:
        from scene.io import load_world

        given, _ = load_world(args.world)
        if not given.bookmarks:
            print(f"{args.world}: no bookmark to start the walk at", file=sys.stderr)
            return 2
        b = given.bookmarks[0]
        WORLD_START = (np.asarray(b.position, np.float64), float(b.yaw), float(b.pitch))
        args.scene, sizes = "world", [sum(len(lay.data) for lay in given.layers)]
    bench = Bench()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    from viewer.viewport import TARGET_MS

    window_ms = args.window_ms
    if window_ms is None:  # the app's prior for this GL (its window measures it as it goes)
        from viewer.gl_target import SOFTWARE_RENDERERS
        from viewer.viewport import OVERHEAD_PRIOR_MS, RASTER_OVERHEAD_PRIOR_MS

        software = any(x in bench.renderer_name.lower() for x in SOFTWARE_RENDERERS)
        window_ms = RASTER_OVERHEAD_PRIOR_MS if software else OVERHEAD_PRIOR_MS
    print(
        f"GL: {bench.renderer_name} ({bench.ctx.backend}), {os.cpu_count()} CPUs, load {load:.1f}, "
        f"{W}x{H}, scene={args.scene}, SH{args.sh}, numpy BLAS "
        f"{'default threads' if args.blas_threads else 'one thread'}; the controller leaves "
        f"{window_ms:g} ms of its {TARGET_MS:g} ms for the app's window (--window-ms)"
    )
    t_sort, t_full, t_float = sort_bench()
    print(
        f"sort 1M: 16-bit key argsort {t_sort:.1f} ms | depth+keys+sort {t_full:.1f} ms | "
        f"np.argsort(float32) {t_float:.1f} ms | ratio float/16-bit {t_float / t_sort:.1f}x"
    )
    # (name, the legacy path, adaptive cut, reproject the last full frame)
    paths = (
        [("legacy", True, False, False)]
        if args.legacy
        else [
            ("new", False, True, True),
            ("plain", False, True, False),
            ("legacy", True, False, False),
        ]
    )
    if args.coarse and not args.legacy:
        paths.insert(2, ("coarse", False, False, False))
    warm = World()  # compile the shaders once, so the first path timed does not pay for it
    warm.add_layer(Layer("warm-up", cube_scene(1000)))
    wr = make_renderer(warm, False, sync=True)
    bench.frame(wr, camera_at(0.0, "cube"), None, 1.0)
    wr.release()
    print(
        f"{'splats':>8} {'path':<6} {'still fps':>9} {'(cpu ms)':>9} "
        f"{'moving fps':>10} {'(cpu ms)':>9} "
        f"{'moving K @ scale':>17} {'PSNR':>6} {'SSIM':>6} {'first ms':>9}"
    )
    for n in sizes:
        if args.scene == "world":
            world = given
        else:
            cloud = (room_scene if args.scene == "room" else cube_scene)(n, args.sh)
            world = World()
            world.add_layer(Layer("bench", cloud))
        from viewer.renderer import pack_world

        pack_world(world.layers, ())  # warm-up: the first path must not pay the page faults alone
        res = {}
        for name, legacy, cut, rep in paths:
            o = res[name] = run_size(
                bench,
                world,
                args.scene,
                args.frames,
                legacy,
                fixed,
                cut,
                rep,
                args.shots,
                f"{n}_{name}",
                window_ms,
            )
            k, scale = o["level"]
            print(
                f"{n:>8} {name:<6} {1e3 / o['still'][0]:>9.2f} {o['still'][1]:>9.0f} "
                f"{1e3 / o['moving'][0]:>10.1f} {o['moving'][1]:>9.0f} "
                f"{'all' if k is None else f'{k // 1000}k':>8} @ {scale:<6g} {o['psnr']:>6.1f} "
                f"{o['ssim']:>6.3f} {o['first_ms']:>9.0f}"
                + (f"  (coarse level ready after {o['lod_s']:.1f} s)" if o.get("lod_s") else "")
            )
            print(
                f"{'':>8} {'':<6} PSNR / SSIM into the walk: "
                + ", ".join(f"{t:.1f} s {p:.1f} / {q:.3f}" for t, p, q in o["scores"])
                + (
                    f"; keeping the still frame for reprojection {o['keep_ms']:.0f} ms"
                    if "keep_ms" in o
                    else ""
                )
            )
            sys.stdout.flush()
        if "new" in res and "legacy" in res:
            a, b = res["new"], res["legacy"]
            print(
                f"{'':>8} ratio new/legacy: still {b['still'][0] / a['still'][0]:.2f}x wall, "
                f"{b['still'][1] / a['still'][1]:.2f}x cpu | "
                f"moving {b['moving'][0] / a['moving'][0]:.2f}x | "
                f"SSIM {a['ssim'] - b['ssim']:+.3f} | PSNR {a['psnr'] - b['psnr']:+.1f} dB | "
                f"first frame {b['first_ms'] / a['first_ms']:.2f}x"
            )
        if "new" in res and "plain" in res:
            a, b = res["new"], res["plain"]
            print(
                f"{'':>8} reprojection (new/plain): moving {b['moving'][0] / a['moving'][0]:.2f}x"
                f" | SSIM {a['ssim'] - b['ssim']:+.3f} | PSNR {a['psnr'] - b['psnr']:+.1f} dB"
            )
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"{'':>8} (load {load:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
