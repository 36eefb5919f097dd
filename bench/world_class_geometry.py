"""Does a world stand what its outpainting painted? `python bench/world_class_geometry.py`.

Builds a world from each photo (classical backends) with the code in REPO (`--code`,
default this checkout; pass an older checkout for "before") and, over the invented part
of its panorama below the horizon, counts the pixels painted upright (a treeline, a wall)
whose depth is the floor plane's — lying on the ground — and those painted ground whose
depth is not — standing up as a wall. Both show as bent bands from a step aside. Prints
one line per photo and the build time; `--photos A,B` measures other photos.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "realdata"
PHOTOS = [
    REAL / "world_sceaux" / "100_7100.JPG",
    REAL / "recon_sceaux" / "100_7104.JPG",
    REAL / "recon_great_wall" / "great_wall_000000.jpg",
    ROOT / "assets" / "rocket.jpg",
]
ON_FLOOR = 0.01  # a depth within this share of the floor plane's lies on the floor


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--code", type=Path, default=ROOT)
    p.add_argument("--photos", help="comma-separated photos (default: shared and bundled ones)")
    a = p.parse_args(argv)
    photos = [Path(x) for x in a.photos.split(",")] if a.photos else PHOTOS
    sys.path.insert(0, str(a.code.resolve()))
    import cv2

    import generators.pano_world as pw
    from generators.panorama.projection import pano_lonlat

    seen: dict = {}
    real = pw.build_splats

    def spy(image, depth, sky, **kw):  # noqa: ANN001, ANN003, ANN202
        seen.update(depth=depth, classes=kw.get("classes"), region=kw.get("photo_region"))
        seen["eye"] = kw.get("eye_height")
        return real(image, depth, sky, **kw)

    pw.build_splats = spy
    print(f"code: {a.code.resolve()}")
    for photo in photos:
        seen.clear()
        t0 = time.perf_counter()
        pw.world_from_photos([photo])
        secs = time.perf_counter() - t0
        d, cls = seen["depth"], seen["classes"]
        H = d.shape[0]
        region = cv2.resize(seen["region"].astype(np.float32), (2 * H, H), cv2.INTER_AREA) > 0.5
        _, lat = pano_lonlat(H)
        lat = lat[:, None] * np.ones((1, 2 * H))
        floor = np.where(lat < 0, seen["eye"] / np.maximum(np.sin(-lat), 1e-6), np.inf)
        on_floor = np.abs(d / floor - 1.0) < ON_FLOOR
        invented = ~region & (lat < -0.005)
        n = max(int(invented.sum()), 1)
        lying = float((invented & (cls == 0) & on_floor).sum()) / n  # classes.UPRIGHT
        standing = float((invented & (cls == 1) & ~on_floor).sum()) / n  # classes.GROUND
        print(
            f"{photo.name:24s} painted upright lying on the floor {100 * lying:5.2f} %, "
            f"painted ground standing up {100 * standing:5.2f} % ({secs:.1f} s)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
