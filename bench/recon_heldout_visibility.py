"""How much of a held-out photo the training photos show at all, and what it scores there.

    python bench/recon_heldout_visibility.py sc 100_7100.JPG
                                             --render /tmp/wander-recon-iterate/TAG_100_7100.png

A held-out photo can only be reproduced where its content was photographed by the
training photos. This measures that from the photos alone (not from the scene): a plane
sweep of the held-out photo against its best training neighbours (`dense.plane_sweep`,
depth range 4x wider than the sparse points' so near foreground counts) marks the pixels
that match (NCC >= 0.5, mean of the two best neighbours) in at least two training photos
at some depth, and of those the ones a training photo's own depth map confirms (the same
surface there: `fuse.check_pixels`, 2 px, 3 %; needs `recon_iterate.py`'s depth cache),
dilated by 2 px. With `--render` (a render|photo side-by-side PNG, as `recon_iterate.py`
writes) it prints the PSNR over matched and over unmatched pixels, and their share of the
frame's squared error. Uses `recon_iterate.py`'s SfM cache.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    import cv2

    from bench.recon_iterate import CACHE, SETS, sfm
    from generators.reconstruct import dense
    from generators.reconstruct.evaluate import holdout_names

    ap = argparse.ArgumentParser()
    ap.add_argument("set", choices=sorted(SETS))
    ap.add_argument("photo")
    ap.add_argument("--render", type=Path)
    ap.add_argument("--holdout", type=int, default=8)
    ap.add_argument("--size", type=int, default=400)
    a = ap.parse_args()
    folder = Path(__file__).resolve().parents[2] / "shared" / "realdata" / SETS[a.set]
    res, images, orig = sfm(a.set, folder)
    inv = {v: k for k, v in orig.items()}
    held = set(holdout_names([orig[n] for n in res.cameras], a.holdout))
    train = [n for n in res.cameras if orig[n] not in held]
    n = inv[a.photo]
    cams = {k: res.cameras[k] for k in train + [n]}
    neigh = dense.choose_neighbours(cams, res.visible, res.points)[n]
    neigh = [m for m in neigh if m in train]

    def small(k: str):  # noqa: ANN202
        c = res.cameras[k]
        s = a.size / max(c.width, c.height)
        sc = c.resized(round(c.width * s), round(c.height * s))
        im = cv2.resize(
            dense.undistort(images[k], c, res.distortion.get(k, 0.0)),
            (sc.width, sc.height),
            interpolation=cv2.INTER_AREA,
        )
        return cv2.cvtColor(im, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0, sc

    g, sc = small(n)
    near, far = dense.depth_range(sc, res.points, res.visible[n])
    depth, score = dense.plane_sweep(g, sc, [small(m) for m in neigh], near / 4, far, planes=128)
    depth[score < 0.5] = 0.0
    # a match is only content the training photos show when the training photos' own depth
    # maps see the same surface there (forward-backward consistency, as fusion checks):
    # leaves matched by chance at a wrong depth do not count
    from generators.reconstruct.fuse import check_pixels

    dcache = CACHE / f"{a.set}_h{a.holdout}_depth.pkl"
    tviews = pickle.loads(dcache.read_bytes())
    others = [tviews[m] for m in neigh if m in tviews]
    ref = dense.DepthView(n, sc, np.zeros(g.shape + (3,), np.uint8), depth, score)
    pix = np.flatnonzero(depth > 0)
    chk = check_pixels(ref, pix, others, reproj_px=2.0, depth_tol=0.03)
    seen = np.zeros(g.shape, bool)
    seen.reshape(-1)[pix[chk.consistent >= 1]] = True
    seen = cv2.dilate(seen.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0  # close pin holes
    print(
        f"{a.photo}: training neighbours {[orig[m] for m in neigh]}; "
        f"{100 * (depth > 0).mean():.1f} % of its pixels match them (NCC >= 0.5), "
        f"{100 * seen.mean():.1f} % (dilated 2 px) on a surface a training depth map sees there too"
    )
    if a.render is not None:
        side = cv2.imread(str(a.render))[..., ::-1].astype(np.float64)
        w = side.shape[1] // 2
        r, p = side[:, :w], side[:, w:]
        m = (
            cv2.resize(seen.astype(np.uint8), (w, side.shape[0]), interpolation=cv2.INTER_NEAREST)
            > 0
        )
        se = ((r - p) ** 2).mean(-1)
        for lab, mm in (("matched", m), ("unmatched", ~m)):
            if mm.any():
                print(
                    f"  {lab:<9} {100 * mm.mean():5.1f} % of the frame: PSNR "
                    f"{10 * np.log10(255**2 / se[mm].mean()):.2f} dB, "
                    f"{100 * se[mm].sum() / se.sum():.0f} % of the squared error"
                )
        print(
            f"  whole frame PSNR {10 * np.log10(255**2 / se.mean()):.2f} dB; "
            f"if the unmatched pixels scored like the matched ones: "
            f"{10 * np.log10(255**2 / se[m].mean()):.2f} dB"
        )
        cv2.imwrite(
            str(CACHE / f"seen_{Path(a.photo).stem}.png"),
            (np.concatenate([p, np.where(m[..., None], p, p * 0.25)], 1)[..., ::-1]).astype(
                np.uint8
            ),
        )


if __name__ == "__main__":
    main()
