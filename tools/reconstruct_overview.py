"""Reconstruct a folder of photos and save the overview image (splats + camera frusta) of docs/.

    python tools/reconstruct_overview.py --photos DIR --out docs/reconstruct-room.png [--refine N]

The classical pipeline (no downloads); the image is `generators.reconstruct.preview.preview`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    import cv2

    from generators.reconstruct.photos import list_photos
    from generators.reconstruct.pipeline import ReconstructOptions, reconstruct
    from generators.reconstruct.preview import preview
    from scene.files import write_bytes_atomic

    p = argparse.ArgumentParser(
        description="reconstruct photos and save an overview image with frusta"
    )
    p.add_argument("--photos", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--refine", type=int, default=0)
    a = p.parse_args(argv)
    res = reconstruct(list_photos(a.photos), ReconstructOptions(refine_steps=a.refine))
    img = preview(res.cloud, res.cameras)
    ok, buf = cv2.imencode(a.out.suffix or ".png", img[..., ::-1])
    if not ok:
        print(f"error: cannot encode {a.out.name} (name it .png or .jpg)", file=sys.stderr)
        return 2
    a.out.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(a.out, buf.tobytes())
    print(f"{a.out}: {len(res.cloud)} splats, {len(res.cameras)} cameras")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
