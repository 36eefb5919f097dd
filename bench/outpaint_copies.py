"""Does classical outpainting copy the photo? `python bench/outpaint_copies.py [--code REPO]`.

Runs `panorama --fov 65` (classical, 1024 rows) on the shared real photos and the bundled
assets with the code in REPO (default: this checkout; pass the main checkout for
"before") and prints issue 14's two measures per photo (generators.panorama.copy_metrics,
always from this checkout): the mirror NCC at the photo's edges (≤ 0.2 wanted) and the
share of outside SIFT keypoints that clone the photo (≤ 15 % wanted), with the time.
`--photos A,B` measures other photos instead.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "realdata"
PHOTOS = [
    REAL / "world_office" / "Office.jpg",
    REAL / "world_sceaux" / "100_7100.JPG",
    ROOT / "assets" / "rocket.jpg",
    ROOT / "assets" / "chelsea.jpg",
]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--code", type=Path, default=ROOT)
    p.add_argument("--json", type=Path)
    p.add_argument("--photos", help="comma-separated photos (default: the shared and bundled ones)")
    a = p.parse_args(argv)
    photos = [Path(x) for x in a.photos.split(",")] if a.photos else PHOTOS
    sys.path.insert(0, str(ROOT))
    from generators.panorama.copy_metrics import clone_fraction, mirror_ncc  # this checkout's

    sys.path.insert(0, str(a.code.resolve()))
    for mod in [m for m in sys.modules if m.startswith("generators")]:
        if "copy_metrics" not in mod:
            del sys.modules[mod]
    from generators.panorama import panorama_from_photos

    out = {}
    for photo in photos:
        if not photo.is_file():
            continue
        t0 = time.perf_counter()
        pano = panorama_from_photos([photo], fov=65.0)
        dt = time.perf_counter() - t0
        pitch = getattr(pano, "photo_pitch_deg", 0.0)  # older checkouts place it level
        ncc = mirror_ncc(pano.image, pano.fov_x_deg, pano.photo_size, pitch)
        cl = clone_fraction(
            pano.image, pano.known, pano.fov_x_deg, pano.photo_size, pitch_deg=pitch
        )
        out[photo.name] = {"mirror_ncc": ncc, "clones": cl, "seconds": round(dt, 2)}
        print(
            f"{photo.name:<14} mirror NCC max {ncc['max']:.3f} "
            f"(l {ncc['left']:.2f} r {ncc['right']:.2f} t {ncc['top']:.2f} b {ncc['bottom']:.2f})"
            f"  clones {100 * cl['fraction']:.1f} % of {cl['outside']} keypoints  {dt:.2f} s"
        )
    if a.json:
        a.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
