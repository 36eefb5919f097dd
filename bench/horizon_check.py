"""The horizon check (generators/panorama/horizon.py) on real photos and on views of a real
panorama whose pitch is known.

    python bench/horizon_check.py [--pano PATH] [--photos a.jpg,b.jpg]

1. Views 640x427 cut from an equirectangular panorama (default: the shared Jordan Pond one)
   every 30° of yaw at pitches -10..20° and true fields of view 45° and 65°, read as a
   photo without EXIF would be (65° assumed, pitch from the vertical lines): the mean and
   largest pitch error before and after the check, and how many views it corrected. A
   check that only ever moves a guess towards the truth keeps "largest" from rising.
2. Each real photo (default: the demo photo and the shared world and reconstruction photos):
   field of view and pitch before and after, and the skyline's elevation it measured.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
REALDATA = ROOT.parent / "shared" / "realdata"


def pano_views(pano_path: Path) -> None:
    from generators.images import load_image
    from generators.panorama.horizon import horizon_check
    from generators.panorama.pitch import estimate_pitch
    from generators.panorama.projection import equirect_to_perspective, perspective_camera

    pano = load_image(pano_path).rgb
    print(f"views of {pano_path.name} (read as 65°, pitch from vertical lines):")
    print("  true fov  pitch   mean |err| before -> after   largest before -> after   corrected")
    for true_fov in (45.0, 65.0):
        for pitch in (-10.0, 0.0, 5.0, 10.0, 15.0, 20.0):
            before, after, fixed = [], [], 0
            for yaw in range(0, 360, 30):
                cam = perspective_camera(
                    640, 427, true_fov, yaw=math.radians(yaw), pitch=math.radians(pitch)
                )
                view = equirect_to_perspective(pano, cam)
                est = estimate_pitch(view, 65.0)
                _, info = horizon_check(view, 65.0, "default", est)
                before.append(abs(est["pitch_deg"] - pitch))
                after.append(abs(info["pitch_deg"] - pitch))
                fixed += bool(info.get("horizon", {}).get("applied"))
            print(
                f"  {true_fov:6.0f}°  {pitch:+5.0f}°   "
                f"{np.mean(before):6.2f}° -> {np.mean(after):5.2f}°"
                f"             {np.max(before):5.2f}° -> {np.max(after):5.2f}°"
                f"         {fixed:2d}/12"
            )


def photos(paths: list[Path]) -> None:
    from generators.images import load_image
    from generators.panorama.fov import photo_fov
    from generators.panorama.horizon import horizon_check
    from generators.panorama.pitch import estimate_pitch, level_roll

    print("photos (field of view, pitch: before -> after; the skyline's elevation):")
    for p in paths:
        im = load_image(p)
        fov, src = photo_fov(im.exif, im.width, im.height, None)
        est = estimate_pitch(im.rgb, fov)
        rgb, _, est = level_roll(im.rgb, im.alpha, fov, est)
        new_fov, info = horizon_check(rgb, fov, src, est)
        hz = info.get("horizon")
        sky = "no skyline" if hz is None else f"skyline {hz['skyline_deg']:+.1f}°"
        moved = " (corrected)" if hz and hz.get("applied") else ""
        name = f"{p.parent.name}/{p.name}"
        print(
            f"  {name:38s} {fov:5.1f}° ({src:7s}) {est['pitch_deg']:+6.2f}° -> "
            f"{new_fov:5.1f}° {info['pitch_deg']:+6.2f}°   {sky}{moved}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--pano", type=Path, default=REALDATA / "pano_pannellum_jordanpond" / "examplepano.jpg"
    )
    ap.add_argument("--photos", default="")
    a = ap.parse_args()
    if a.photos:
        paths = [Path(s) for s in a.photos.split(",")]
    else:
        paths = [ROOT / "assets" / "rocket.jpg"]
        for folder, pattern in (
            ("world_office", "*.jpg"),
            ("world_sceaux", "*.JPG"),
            ("recon_sceaux", "*.JPG"),
            ("recon_great_wall", "*.jpg"),
        ):
            paths += sorted((REALDATA / folder).glob(pattern))
    if a.pano.is_file():
        pano_views(a.pano)
    photos([p for p in paths if p.is_file()])


if __name__ == "__main__":
    main()
