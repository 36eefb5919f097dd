"""Structure from motion: every photo of one capture ends in one model (retries join
split sub-models), photos that really form their own group are named as such, and
COLMAP's log stays out of the terminal and the temp folder."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from generators.reconstruct import sfm  # noqa: E402
from generators.reconstruct.synthetic import Quad, orbit_cameras, render, room_scene  # noqa: E402
from scene.camera import Camera  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow  # real SfM runs on photo sets


@pytest.fixture(autouse=True)
def _state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """COLMAP's log goes to a test folder, not the user's ~/.local/state."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def _write_views(folder: Path, quads: list[Quad], cams: list[Camera], prefix: str) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i, cam in enumerate(cams):
        img, _ = render(quads, cam, 2)
        name = f"{prefix}_{i:02d}.png"
        cv2.imwrite(str(folder / name), img[..., ::-1])
        names.append(name)
    return names


def _noise_scene(seed: int) -> list[Quad]:
    """A box of walls with smooth random blotches: nothing in common with `room_scene`."""
    rng = np.random.default_rng(seed)

    def tex() -> np.ndarray:
        small = rng.uniform(0, 1, (48, 48, 3)).astype(np.float32)
        return cv2.resize(small, (384, 384), interpolation=cv2.INTER_CUBIC).clip(0, 1)

    return [
        Quad(2, -2.0, 0, 1, (-3.0, -1.0), (3.0, 3.0), tex(), 2.0),
        Quad(1, -1.0, 0, 2, (-3.0, -2.0), (3.0, 4.0), tex(), 2.0),
        Quad(0, -2.5, 2, 1, (-2.0, -1.0), (4.0, 3.0), tex(), 2.0),
    ]


def test_groups_and_status_messages() -> None:
    models = [{"a", "b", "c", "d"}, {"e", "f", "g"}, {"c", "h"}, {"i"}]
    groups = sfm.separate_groups(models, main={"a", "b", "c", "d"})
    assert groups == {"e": ["f", "g"], "f": ["e", "g"], "g": ["e", "f"]}  # h alone, i alone
    names = list("abcdefghij")
    kps = {n: 500 for n in names} | {"j": 3}
    pairs = {n: 4 for n in names} | {"i": 0}
    st = sfm.photo_status(
        names, {"a", "b", "c", "d"}, groups, kps, pairs, labels={"f": "F.JPG", "g": "G.JPG"}
    )
    assert st["a"] == "registered"
    assert st["e"].startswith(
        "not registered: formed a separate group with F.JPG, G.JPG (3 photos)"
    )
    assert "too few matches with them" in st["h"] and "separate group" not in st["h"]
    assert "no overlap" in st["i"]
    assert "only 3 features" in st["j"]
    assert "arbitrary" not in st["e"]  # 3 against 4: the larger group was built
    # two places of two photos each: the one built was picked arbitrarily, and it says so
    tie = sfm.photo_status(list("abcd"), {"a", "b"}, {"c": ["d"], "d": ["c"]}, kps, pairs)
    assert tie["c"].endswith(
        "as many as the group built (which one is built is arbitrary: give each place's "
        "photos on their own)"
    )


def test_split_first_pass_is_joined_into_one_model(tmp_path: Path) -> None:
    """The pairs between the first and the last frames of an orbit failed verification
    (as when the view changes a lot between them): the default pass makes two models; the
    retry re-matches those pairs more loosely and registers every photo into one model."""
    import pycolmap

    img_dir = tmp_path / "images"
    names = _write_views(img_dir, room_scene(), orbit_cameras(7, 320, 240, seed=3), "view")
    db = sfm.sfm_extract(img_dir, names, tmp_path / "work", max_features=2048, threads=1)
    sfm.sfm_match(db, threads=1)
    first, last = set(names[:4]), set(names[4:])
    with pycolmap.Database.open(db) as d:
        ids = {im.name: im.image_id for im in d.read_all_images()}
        for a in first:
            for b in last:
                if d.exists_two_view_geometry(ids[a], ids[b]):
                    d.delete_two_view_geometry(ids[a], ids[b])  # raw matches stay
    reports: list[str] = []
    res = sfm.sfm_map(
        db, img_dir, names, tmp_path / "work", threads=1, report=lambda f, m: reports.append(m)
    )
    assert res.passes[0] == "mapping: 4 + 3 of 7 photos", res.passes  # the default pass split
    assert len(res.cameras) == 7, (res.passes, res.status)
    assert all(s == "registered" for s in res.status.values())
    assert reports[-1] == "mapping: 7/7 registered"
    # the joined model is geometrically sound: camera centres match the truth up to a similarity
    from generators.reconstruct.align import umeyama

    est = np.array([res.cameras[n].position for n in names])
    ref = np.array([c.position for c in orbit_cameras(7, 320, 240, seed=3)])
    s, r, t = umeyama(est, ref)
    err = np.linalg.norm(est @ (s * r).T + t - ref, axis=1)
    assert err.max() < 0.05 * np.ptp(ref, axis=0).max(), err


def test_unrelated_photos_are_reported_as_a_separate_group(tmp_path: Path) -> None:
    img_dir = tmp_path / "images"
    room = _write_views(img_dir, room_scene(), orbit_cameras(4, 320, 240, seed=4), "room")
    other_cams = []
    for i in range(3):
        a = math.radians(-8 + 8 * i)
        eye = np.array([2.0 * math.sin(a), 0.8, 2.5])
        other_cams.append(Camera.look_at(eye, np.array([0.0, 0.3, -2.0]), 55.0, 320, 240))
    other = _write_views(img_dir, _noise_scene(1), other_cams, "zz_other")
    names = room + other
    db = sfm.sfm_extract(img_dir, names, tmp_path / "work", max_features=1024, threads=1)
    sfm.sfm_match(db, threads=1)
    res = sfm.sfm_map(
        db, img_dir, names, tmp_path / "work", threads=1, labels={n: n.upper() for n in names}
    )
    assert res.passes[0] == "mapping: 4 + 3 of 7 photos", res.passes
    assert len(res.passes) == 3  # the default pass, the join retry, the relaxed pass
    assert sorted(res.cameras) == sorted(room), res.status
    for n in other:
        st = res.status[n]
        assert st.startswith("not registered: formed a separate group with "), st
        assert all(o.upper() in st for o in other if o != n) and "(3 photos)" in st


def test_reconstruct_cli_is_quiet_and_leaves_no_colmap_files(tmp_path: Path) -> None:
    """No glog lines on the terminal, no glog files in $TMPDIR; COLMAP's log goes to
    $XDG_STATE_HOME/wander/logs/colmap.log and the progress shows stage numbers."""
    photos = tmp_path / "photos"
    _write_views(photos, room_scene(), orbit_cameras(4, 240, 180, seed=5), "view")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    (tmp_path / "out").mkdir()
    state = tmp_path / "state2"
    env = dict(os.environ, TMPDIR=str(tmp), XDG_STATE_HOME=str(state), PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "main.py"),
            "reconstruct",
            "--photos",
            str(photos),
            "--out",
            str(tmp_path / "out" / "scene.ply"),
            "--depth-size",
            "96",
            "--max-splats",
            "5000",
            "--refine-seconds",
            "3",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    both = proc.stdout + proc.stderr
    assert "I20" not in both and "W20" not in both, both[-2000:]
    assert "registered" in proc.stdout
    for shown in (
        "features: 0/4 images",
        "features: 4/4 images, ",
        "matching: 6 pairs, 6 verified",
        "mapping: 4/4 registered",
    ):
        assert shown in proc.stderr, (shown, proc.stderr[-1500:])
    leftovers = [p.name for p in tmp.rglob("*") if ".log." in p.name or p.name.endswith(".INFO")]
    assert leftovers == []
    log_file = state / "wander" / "logs" / "colmap.log"
    text = log_file.read_text()
    assert "I20" in text and "Feature extraction" in text


def test_wide_orbit_split_by_the_default_pass_is_joined(tmp_path: Path) -> None:
    """10 views on a 200° arc through the room: COLMAP's default pass splits the seven
    views that do overlap into sub-models; the retries put all seven into one model and
    the three that share nothing with them are named as their own group. One thread:
    COLMAP is then deterministic."""
    img_dir = tmp_path / "images"
    img_dir.mkdir()
    names = []
    for c in orbit_cameras(10, 320, 240, seed=3, spread_deg=200.0):
        img, _ = render(room_scene(), c, 2)
        cv2.imwrite(str(img_dir / c.name), img[..., ::-1])
        names.append(c.name)
    db = sfm.sfm_extract(img_dir, names, tmp_path / "work", max_features=2048, threads=1)
    sfm.sfm_match(db, threads=1)
    res = sfm.sfm_map(db, img_dir, names, tmp_path / "work", threads=1)
    first = [int(k) for k in res.passes[0].split(":")[1].split(" of ")[0].split("+")]
    assert max(first) < 7 and len(first) >= 2, res.passes
    assert sorted(res.cameras) == names[3:], (res.passes, res.status)
    for n in names[:3]:
        assert res.status[n].startswith("not registered: formed a separate group with"), res.status[
            n
        ]


def _exif_jpegs(folder: Path, cams: list[Camera], f35: float | None) -> None:
    """The room seen from `cams`, as JPEGs recording FocalLengthIn35mmFilm = f35 mm."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for i, cam in enumerate(cams):
        img, _ = render(room_scene(), cam, 2)
        exif = Image.Exif()
        if f35 is not None:
            exif.get_ifd(0x8769)[0xA405] = f35
        Image.fromarray(img).save(folder / f"view_{i:02d}.jpg", quality=95, exif=exif)


def test_exif_focal_lengths_start_and_hold_the_mapping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The working copies are PNGs, so COLMAP never saw the photos' EXIF: every camera
    started at 1.2 x the long side (45° across) and the mapper refined it freely, which on
    a weak set traded focal length for distance. The EXIF focal length is now the
    camera's prior, held while mapping and freed at the end within FOCAL_PRIOR_TOL."""
    import pycolmap

    from generators.reconstruct.photos import ingest_photos, list_photos

    cams = orbit_cameras(7, 320, 240, seed=3)
    fx = float(cams[0].fx)
    diag = math.hypot(320, 240)
    f35 = round(21.6333 / (0.5 * diag / fx))  # the 35 mm equivalent, whole mm as cameras write
    _exif_jpegs(tmp_path / "exif", cams, f35)
    photos, _ = ingest_photos(list_photos(tmp_path / "exif"), tmp_path / "work" / "images")
    assert all(abs(p.focal_px / fx - 1) < 0.03 for p in photos), [p.focal_px for p in photos]
    priors = {p.work_name: p.focal_px for p in photos}
    names = [p.work_name for p in photos]
    img_dir = tmp_path / "work" / "images"
    db = sfm.sfm_extract(img_dir, names, tmp_path / "work", focal_priors=priors, threads=1)
    with pycolmap.Database.open(db) as d:
        (cam,) = d.read_all_cameras()
    assert cam.has_prior_focal_length
    assert cam.mean_focal_length() == pytest.approx(float(np.median(list(priors.values()))))
    sfm.sfm_match(db, threads=1)
    res = sfm.sfm_map(db, img_dir, names, tmp_path / "work", threads=1)
    assert len(res.cameras) == 7
    assert any("refined from the EXIF prior" in p for p in res.passes), res.passes
    got = res.cameras[names[0]].fx
    assert abs(got / fx - 1) < 0.05, (got, fx)
    # a refinement that runs away from the prior is refused: the held model stays
    model = pycolmap.Reconstruction(tmp_path / "work" / "sparse" / "0")

    def runaway(rec, options) -> None:  # noqa: ANN001 - pycolmap's signature
        for c in rec.cameras.values():
            c.params = [c.params[0] * 1.3, *c.params[1:]]

    before = {cid: c.mean_focal_length() for cid, c in model.cameras.items()}
    monkeypatch.setattr(pycolmap, "bundle_adjustment", runaway)
    kept, said = sfm.refine_focal(model)
    assert "kept at the EXIF prior" in said and "30 %" in said
    assert {cid: c.mean_focal_length() for cid, c in kept.cameras.items()} == before


def test_photos_without_exif_focal_get_no_prior(tmp_path: Path) -> None:
    from generators.reconstruct.photos import ingest_photos, list_photos

    _exif_jpegs(tmp_path / "plain", orbit_cameras(2, 160, 120, seed=1), None)
    photos, _ = ingest_photos(list_photos(tmp_path / "plain"), tmp_path / "images")
    assert [p.focal_px for p in photos] == [None, None]
    assert sfm.group_focal(["a", "b", "c"], {"a": 100.0, "b": 120.0}) == pytest.approx(110.0)
    assert sfm.group_focal(["a", "b", "c"], {"a": 100.0}) is None  # most photos have none
    assert sfm.group_focal(["a"], None) is None


def test_importing_pycolmap_keeps_sigterm_as_it_was() -> None:
    """pycolmap's import installs glog's failure handler for SIGTERM: a polite kill of the
    app printed a stack trace (a trial). Imported on a worker thread, as the app's jobs
    do, SIGTERM still reaches Python's handler."""
    import os
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(
        """
        import os, signal, sys, threading, time
        got = []
        signal.signal(signal.SIGTERM, lambda *a: got.append(1))
        from generators.reconstruct.sfm import _pycolmap
        t = threading.Thread(target=_pycolmap)
        t.start()
        t.join()
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.2)
        print("handled" if got else "lost")
        """
    )
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    assert r.stdout.strip() == "handled", r.stdout + r.stderr
    assert "Aborted at" not in r.stderr
