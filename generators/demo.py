"""The bundled demo world: `assets/rocket.jpg` -> panorama -> walkable world, cached.

Built on first use with the classical backends (no weights, no downloads, ~2-4 s on a
laptop CPU) and cached in `cache_dir`, keyed by a hash of the input photo, the options
and the source code of the generators involved, so a code change rebuilds it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from generators.jobs import CancelToken, ProgressFn, no_progress
from scene.gaussians import GaussianCloud
from scene.units import EYE_HEIGHT
from scene.world import Bookmark, Layer, World

ASSETS = Path(__file__).resolve().parents[1] / "assets"
DEMO_PHOTO = ASSETS / "rocket.jpg"
DEMO_OPTIONS = {
    "pano_height": 1024,
    "resolution": 768,
    "eye_height": EYE_HEIGHT,
    "radius": None,
    "fov": None,
    "seed": 0,
}
_CODE = [
    "generators/demo.py",
    "generators/pano_world.py",
    "scene/io/images.py",
    "generators/panorama/__init__.py",
    "generators/panorama/projection.py",
    "generators/panorama/outpaint_classical.py",
    "generators/depth/classical.py",
    "generators/panorama/classes.py",
    "generators/panorama/texture.py",
    "generators/panorama/level.py",
    "generators/panorama/layout.py",
    "generators/panorama/pitch.py",
    "generators/panorama/horizon.py",
    "generators/panorama/fov.py",
    "generators/pano_layers.py",
    "generators/standing.py",
]


def demo_key(photo: Path = DEMO_PHOTO) -> str:
    """Cache key: hash of the photo bytes, the options and the generators' source code."""
    h = hashlib.sha256()
    h.update(photo.read_bytes())
    h.update(json.dumps(DEMO_OPTIONS, sort_keys=True).encode())
    root = Path(__file__).resolve().parents[1]
    for rel in _CODE:
        p = root / rel
        h.update(p.read_bytes() if p.exists() else rel.encode())
    return h.hexdigest()[:16]


def demo_world(
    cache_dir: str | Path, progress: ProgressFn = no_progress, cancel: CancelToken | None = None
) -> World:
    """Build (or load from `cache_dir`) the demo world; raises FileNotFoundError if the
    bundled photo is missing."""
    from generators.pano_world import world_from_photos

    cancel = cancel or CancelToken()
    if not DEMO_PHOTO.is_file():
        raise FileNotFoundError(f"the demo photo is missing: {DEMO_PHOTO}")
    cache = Path(cache_dir) / f"demo-world-{demo_key()}.npz"
    if cache.is_file():
        progress(0.1, "loading the cached demo world")
        try:
            world = _load(cache)
            progress(1.0, "demo world ready")
            return world
        except (OSError, ValueError, KeyError) as exc:  # corrupt cache: rebuild it
            progress(0.1, f"rebuilding the demo world ({exc})")
    o = DEMO_OPTIONS
    world, _, _ = world_from_photos(
        [DEMO_PHOTO],
        fov=o["fov"],
        pano_height=o["pano_height"],
        resolution=o["resolution"],
        eye_height=o["eye_height"],
        radius=o["radius"],
        seed=o["seed"],
        progress=progress,
        cancel=cancel,
    )
    world.layers[0].name = "Demo world (rocket launch)"
    world.meta["demo"] = True
    try:
        _save(world, cache)
    except OSError:  # a read-only cache folder must not stop the demo
        pass
    return world


def _save(world: World, path: Path) -> None:
    """Atomic .npz of the world layer's arrays + JSON metadata."""
    lay = world.layers[0]
    cloud = lay.data
    assert isinstance(cloud, GaussianCloud)
    bm = world.bookmarks[0]
    info = {
        "name": lay.name,
        "source": lay.source,
        "cloud_meta": cloud.meta,
        "world_meta": world.meta,
        "bookmark": {
            "name": bm.name,
            "position": bm.position.tolist(),
            "yaw": bm.yaw,
            "pitch": bm.pitch,
            "fov_y_deg": bm.fov_y_deg,
            "fov_x_deg": bm.fov_x_deg,
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    from scene.files import atomic_write

    with atomic_write(path) as f:
        np.savez(
            f,
            means=cloud.means,
            scales=cloud.scales,
            quats=cloud.quats,
            opacities=cloud.opacities,
            sh0=cloud.sh0,
            info=np.frombuffer(json.dumps(info, default=str).encode(), np.uint8),
        )


def _load(path: Path) -> World:
    with np.load(path) as z:
        info = json.loads(bytes(z["info"]).decode())
        cloud = GaussianCloud(
            z["means"], z["scales"], z["quats"], z["opacities"], z["sh0"], meta=info["cloud_meta"]
        )
    world = World()
    world.add_layer(Layer(name=info["name"], data=cloud, kind="world", source=info["source"]))
    b = info["bookmark"]
    world.bookmarks.append(
        Bookmark(
            b["name"],
            np.array(b["position"]),
            b["yaw"],
            b["pitch"],
            b["fov_y_deg"],
            float(b.get("fov_x_deg", 0.0)),  # a demo cached before photo-framing bookmarks
        )
    )
    world.meta.update(info["world_meta"])
    world.clear_history()
    return world
