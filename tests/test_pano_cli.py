"""`python main.py panorama|world`: real runs and bad input as one clear line (exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import ROOT


def _main(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "main.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    from skimage import data

    p = tmp_path_factory.mktemp("cli") / "coffee.jpg"
    cv2.imwrite(str(p), data.coffee()[..., ::-1])
    return p


@pytest.mark.slow
def test_world_cli_writes_a_loadable_ply_with_provenance(tmp_path: Path, photo: Path) -> None:
    out = tmp_path / "world.ply"
    pano = tmp_path / "pano.png"
    r = _main(
        "world",
        "--photo",
        str(photo),
        "--fov",
        "55",
        "--height",
        "512",
        "--resolution",
        "256",
        "--out",
        str(out),
        "--save-panorama",
        str(pano),
    )
    assert r.returncode == 0, r.stderr
    assert "splats" in r.stdout and "stages:" in r.stdout and "outpaint" in r.stdout
    # the panorama written too is said, as every file a command writes (a trial)
    assert f"wrote {pano} (the panorama, 1024x512); provenance in pano.png.json" in r.stdout
    from scene.io import load_cloud

    cloud = load_cloud(out)
    assert len(cloud) > 50_000
    meta = json.loads((tmp_path / "world.ply.json").read_text())
    assert meta["panorama"]["fov_x_deg"] == 55.0 and meta["panorama"]["fov_source"] == "option"
    img = cv2.imread(str(pano))
    assert img.shape == (512, 1024, 3)
    # the saved panorama records its options beside it, as `panorama --out` does
    side = json.loads((tmp_path / "pano.png.json").read_text())
    assert side["fov_x_deg"] == 55.0 and side["options"]["fov"] == 55.0


@pytest.mark.slow
def test_panorama_cli(tmp_path: Path, photo: Path) -> None:
    out = tmp_path / "p.jpg"
    r = _main("panorama", "--photo", str(photo), "--height", "256", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert cv2.imread(str(out)).shape == (256, 512, 3)
    assert "65° field of view" in r.stdout or "65.0°" in r.stdout
    assert "warning" not in r.stderr
    # a 360° panorama given as a photo is placed as one, with a warning naming --panorama
    wide = tmp_path / "pano_as_photo.jpg"
    cv2.imwrite(str(wide), cv2.resize(cv2.imread(str(photo)), (1200, 600)))
    r = _main("panorama", "--photo", str(wide), "--height", "256", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "warning: pano_as_photo.jpg is 1200x600" in r.stderr and "--panorama" in r.stderr
    # `info` lists a panorama's recorded options (it was refused: "is a PNG/JPEG image")
    r = _main("info", str(out))
    assert r.returncode == 0, r.stderr
    assert "512x256" in r.stdout and "equirect" in r.stdout and "height [--height]: 256" in r.stdout
    r = _main("info", str(photo), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["equirect"] is False
    # in a folder of photos an unreadable one is skipped with a warning, as `reconstruct
    # --photos` does (it stopped the panorama, exit 2: a trial); all unreadable: exit 2
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(photo.read_bytes())
    (folder / "b.jpg").write_bytes(photo.read_bytes()[:3000])  # truncated
    r = _main("panorama", "--photo", str(folder), "--height", "256", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "warning: b.jpg was skipped: image data is corrupt or truncated" in r.stderr
    (folder / "a.jpg").write_bytes(photo.read_bytes()[:2000])
    r = _main("panorama", "--photo", str(folder), "--height", "256", "--out", str(out))
    assert r.returncode == 2 and "corrupt or truncated" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    "case",
    [
        "corrupt",
        "missing",
        "bad_fov",
        "no_model",
        "bad_out",
        "wide_pano",
        "tiny",
        "tiny_pano",
        "one_pixel",
        "transparent",
        "flat_photo",
        "flat_pano",
    ],
)
def test_bad_input_is_one_clear_line(tmp_path: Path, photo: Path, case: str) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 broken jpeg" + bytes(100))
    wide = tmp_path / "wide.png"
    cv2.imwrite(str(wide), np.zeros((100, 400, 3), np.uint8))
    tiny = tmp_path / "tiny.png"  # made a 1.1M-splat world of one colour
    cv2.imwrite(str(tiny), np.full((8, 8, 3), 200, np.uint8))
    tiny_pano = tmp_path / "tiny_pano.png"  # a world of scipy warnings, exit 0
    cv2.imwrite(str(tiny_pano), np.full((10, 20, 3), 200, np.uint8))
    dot = tmp_path / "dot.png"  # refused by the image reader's own floor, with another limit
    cv2.imwrite(str(dot), np.full((1, 1, 3), 200, np.uint8))
    clear = tmp_path / "clear.png"  # "the panorama has no known pixels", no file named
    cv2.imwrite(str(clear), np.zeros((64, 96, 4), np.uint8))
    blue = tmp_path / "blue.jpg"  # a void world, exit 0, eight scipy and numpy warnings
    cv2.imwrite(str(blue), np.full((300, 400, 3), (235, 190, 135), np.uint8))
    black = tmp_path / "black.png"
    cv2.imwrite(str(black), np.zeros((256, 512, 3), np.uint8))
    args = {
        "corrupt": ["world", "--photo", str(bad), "--out", str(tmp_path / "w.ply")],
        "missing": [
            "panorama",
            "--photo",
            str(tmp_path / "nope.jpg"),
            "--out",
            str(tmp_path / "p.png"),
        ],
        "bad_fov": [
            "panorama",
            "--photo",
            str(photo),
            "--fov",
            "0",
            "--out",
            str(tmp_path / "p.png"),
        ],
        "no_model": [
            "world",
            "--photo",
            str(photo),
            "--backend",
            "neural",
            "--out",
            str(tmp_path / "w.ply"),
        ],
        "bad_out": ["world", "--photo", str(photo), "--out", str(tmp_path / "w.txt")],
        "wide_pano": ["world", "--panorama", str(wide), "--out", str(tmp_path / "w.ply")],
        "tiny": ["world", "--photo", str(tiny), "--out", str(tmp_path / "w.ply")],
        "tiny_pano": ["world", "--panorama", str(tiny_pano), "--out", str(tmp_path / "w.ply")],
        "one_pixel": ["panorama", "--photo", str(dot), "--out", str(tmp_path / "p.png")],
        "transparent": ["world", "--photo", str(clear), "--out", str(tmp_path / "w.ply")],
        "flat_photo": ["world", "--photo", str(blue), "--out", str(tmp_path / "w.ply")],
        "flat_pano": ["world", "--panorama", str(black), "--out", str(tmp_path / "w.ply")],
    }[case]
    expect = {
        "corrupt": "bad.jpg",
        "missing": "no such file",
        "bad_fov": "fov",
        "no_model": "--depth-model",
        "bad_out": ".ply",
        "wide_pano": "not an equirectangular 360° panorama (twice as wide as tall)",
        "tiny": "too small (8x8 pixels; need at least 32 on each side)",
        "tiny_pano": "too small (20x10 pixels; need at least 32 on each side)",
        "one_pixel": "too small (1x1 pixels; need at least 32 on each side)",
        "transparent": "clear.png: is fully transparent",
        "flat_photo": "blue.jpg: is all or almost all one flat colour",
        "flat_pano": "black.png: is all or almost all one flat colour",
    }[case]
    r = _main(*args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("error:") and expect in last
    # nothing is said to be done to a file that cannot be read (a trial: "levelling the
    # panorama from its vertical lines", then its read error)
    assert "levelling" not in r.stdout + r.stderr


def test_a_panorama_given_as_a_photo_is_recognised(tmp_path: Path) -> None:
    from generators.panorama import looks_equirectangular

    plain = tmp_path / "plain.jpg"
    plain.write_bytes(b"\xff\xd8" + b"\0" * 1000)
    assert looks_equirectangular(plain, 2048, 1024)  # 2:1 and big enough
    assert looks_equirectangular(plain, 2048, 1040)
    assert not looks_equirectangular(plain, 800, 400)  # a small 2:1 crop is a photo
    assert not looks_equirectangular(plain, 4000, 3000)
    xmp = tmp_path / "xmp.jpg"
    xmp.write_bytes(b"\xff\xd8<GPano:ProjectionType>equirectangular</GPano:ProjectionType>")
    assert looks_equirectangular(xmp, 4000, 3000)  # the file says so, whatever its shape
    assert not looks_equirectangular(tmp_path / "gone.jpg", 640, 480)


def test_estimate_lines_say_their_units() -> None:
    """A trial read `radius: 25.477` (no unit) and `indoor: False` (Python's word)."""
    from cli.cmd_world import estimate_line

    assert estimate_line("radius", {"value": 4.069, "source": "s"}) == "  radius: 4.069 m (s)"
    assert estimate_line("indoor", {"value": True, "source": "s"}) == "  indoor: yes (s)"
    assert estimate_line("indoor", {"value": False, "source": "s"}) == "  indoor: no (s)"
    assert estimate_line("photo_pitch", {"value": 7.4, "source": "s"}) == "  photo_pitch: 7.4° (s)"
    assert (
        estimate_line("sky_fraction", {"value": 0.43, "source": "s"}) == "  sky_fraction: 0.43 (s)"
    )
    line = estimate_line("level", {"value": 13.1, "applied": False, "source": "s"})
    assert line == "  level: 13.1° estimated, not applied (s)"
