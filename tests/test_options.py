"""One options shape per generator: dataclass <-> CLI agree, `check()` raises one error type,
the weights check lives in one place, the eye height in one place, files record options."""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pytest

from generators.objects.options import ObjectOptions
from generators.options import GeneratorOptions, OptionsError, from_args, recorded_options
from generators.panorama.options import PanoramaOptions
from generators.reconstruct.options import ReconstructOptions
from generators.world_options import WorldOptions
from scene.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
#: command -> (its options class, CLI defaults that differ from the dataclass on purpose)
COMMANDS = {
    "panorama": (PanoramaOptions, {}),
    "world": (WorldOptions, {}),
    "reconstruct": (ReconstructOptions, {"refine_steps": None}),  # None: depends on PyTorch
    "object": (ObjectOptions, {}),
}
ALL = [PanoramaOptions, WorldOptions, ReconstructOptions, ObjectOptions]


def _parser(name: str) -> tuple[argparse.ArgumentParser, object]:
    import importlib

    mod = importlib.import_module(f"cli.cmd_{name}")
    p = argparse.ArgumentParser()
    mod.add_arguments(p)
    return p, mod


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_every_field_is_described_and_the_defaults_record_as_json(cls) -> None:
    assert issubclass(cls, GeneratorOptions)
    for f in dataclasses.fields(cls):
        assert f.metadata.get("help"), f"{cls.__name__}.{f.name} has no help"
        assert f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
    rec = cls().record()
    assert json.loads(json.dumps(rec)) == rec
    assert "image" not in rec and "mask" not in rec  # in-memory arrays are not provenance


@pytest.mark.parametrize("name", list(COMMANDS))
def test_cli_arguments_are_the_dataclass_fields(name: str) -> None:
    """Every option of the command is a field of its dataclass (same flags, default,
    choices) or one of the command's own JOB_ARGUMENTS; every flagged field is offered."""
    cls, cli_defaults = COMMANDS[name]
    parser, mod = _parser(name)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    seen = set()
    for act in parser._actions:
        if isinstance(act, argparse._HelpAction):
            continue
        if act.dest in mod.JOB_ARGUMENTS:
            assert act.dest not in fields, f"{act.dest} is both a job argument and an option"
            continue
        assert act.dest in fields, (
            f"`{name}` argument {act.option_strings} is no {cls.__name__} field"
        )
        f = fields[act.dest]
        seen.add(act.dest)
        assert tuple(act.option_strings) == f.metadata["flags"]
        want = cli_defaults.get(f.name, f.default)
        if f.default_factory is not dataclasses.MISSING:
            want = None  # list fields: argparse gives None
        assert act.default == want, f"{act.dest}: CLI default {act.default!r} != {want!r}"
        if f.metadata["choices"] is not None:
            assert tuple(act.choices) == f.metadata["choices"]
    flagged = {n for n, f in fields.items() if f.metadata["flags"]}
    assert seen == flagged, f"fields with a flag missing from `{name}`: {flagged - seen}"


def test_cli_parses_into_the_same_options() -> None:
    p, _ = _parser("world")
    args = p.parse_args(
        [
            "--photo",
            "a.jpg",
            "b.jpg",
            "--depth",
            "neural",
            "--eye-height",
            "1.7",
            "--no-level",
            "--radius",
            "5",
            "--out",
            "w.ply",
        ]
    )
    opts = from_args(WorldOptions, args)
    assert opts == WorldOptions(
        photos=[Path("a.jpg"), Path("b.jpg")],
        depth_backend="neural",
        eye_height=1.7,
        level=False,
        radius=5.0,
    )
    p, _ = _parser("reconstruct")
    args = p.parse_args(
        [
            "--photos",
            "d",
            "--out",
            "s.ply",
            "--intrinsics",
            "500,500,320,240",
            "--max-splats",
            "1000",
            "--device",
            "cpu",
        ]
    )
    opts = from_args(ReconstructOptions, args, refine_steps=0)
    assert opts == ReconstructOptions(
        intrinsics=(500.0, 500.0, 320.0, 240.0),
        max_points=1000,
        refine_device="cpu",
        refine_steps=0,
    )
    args = p.parse_args(["--photos", "d", "--out", "s.ply", "--intrinsics", "1,2"])
    with pytest.raises(OptionsError, match="--intrinsics '1,2': expected four numbers"):
        from_args(ReconstructOptions, args)
    p, _ = _parser("object")
    args = p.parse_args(["--photo", "o.png", "--point", "3,4", "--keep-mesh", "--out", "o.ply"])
    opts = from_args(ObjectOptions, args, with_mesh=False)
    assert opts.point == (3.0, 4.0) and opts.as_mesh and not opts.with_mesh


@pytest.mark.parametrize(
    "opts, words",
    [
        (
            WorldOptions(photos=[Path("a.jpg")], eye_height=0.1),
            r"eye height \(--eye-height\) must be "
            r"a number between 0.2 and 10 m, got 0.1",
        ),
        (
            WorldOptions(photos=[Path("a.jpg")], pano_height=10),
            r"panorama height \(--height\) must be "
            r"an integer 64..8192 px",
        ),
        (WorldOptions(photos=[Path("a.jpg")], resolution=12.5), "must be an integer"),  # type: ignore[arg-type]
        (WorldOptions(photos=[Path("a.jpg")], radius=float("nan")), "room radius"),
        (WorldOptions(), "either photos or a panorama"),
        (PanoramaOptions(photos=[Path("a.jpg")], backend="magic"), "unknown panorama backend"),
        (PanoramaOptions(), "at least one photo"),
        (ReconstructOptions(max_points=0), "max-splats"),
        (ReconstructOptions(holdout=1), "holdout"),
        (ReconstructOptions(refine_seconds=float("nan")), "optimisation time"),
        (ObjectOptions(photo="p.png", seed=-1), r"seed \(--seed\)"),
        (ObjectOptions(photo="p.png", height=0.0), "object height"),
        (ObjectOptions(backend="import"), "--input"),
    ],
)
def test_check_raises_one_error_type_naming_the_option(opts: GeneratorOptions, words: str) -> None:
    with pytest.raises(OptionsError, match=words) as exc:
        opts.check()
    assert isinstance(exc.value, InputError)  # the CLI: one line, exit 2; the app: the dialog


def test_missing_weights_are_checked_in_one_place(tmp_path: Path, monkeypatch) -> None:
    from generators.models.hub import ModelMissing

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    photo = [Path("a.jpg")]
    for opts, flag in [
        (WorldOptions(photos=photo, depth_backend="neural"), "--depth-model DIR"),
        (WorldOptions(photos=photo, pano_backend="diffusion"), "--model DIR"),
        (PanoramaOptions(photos=photo, backend="flux"), "--model DIR"),
        (ObjectOptions(photo="p.png", segmenter="neural"), "--sam PATH"),
    ]:
        with pytest.raises(ModelMissing, match=re.escape(f"(or pass {flag})") + ".*model folder"):
            opts.check()
    # a local folder given: no manager weights needed (the loader checks the folder)
    WorldOptions(photos=photo, depth_backend="neural", depth_model=tmp_path).check()
    WorldOptions(panorama=Path("p.png"), pano_backend="diffusion").check()  # no outpainting
    # no command, dialog or generator asks the model manager itself
    for rel in (
        "cli/cmd_world.py",
        "cli/cmd_panorama.py",
        "cli/cmd_object.py",
        "viewer/ext_panorama.py",
        "viewer/ext_objects.py",
        "generators/pano_world.py",
        "generators/panorama/__init__.py",
        "generators/objects/pipeline.py",
    ):
        text = (ROOT / rel).read_text()
        assert not re.search(r"\brequire\(|backend_state\(name\)", text), rel


def test_eye_height_is_defined_once() -> None:
    from generators.depth import classical
    from scene.units import EYE_HEIGHT
    from viewer import navigation

    assert WorldOptions().eye_height == EYE_HEIGHT
    assert navigation.EYE_HEIGHT is EYE_HEIGHT and classical.EYE_HEIGHT is EYE_HEIGHT
    hits = []
    for folder in ("scene", "generators", "viewer", "cli"):
        for p in (ROOT / folder).rglob("*.py"):
            for i, line in enumerate(p.read_text().splitlines(), 1):
                if re.search(r"(?i)eye_?height\b[^=\n]*=\s*1\.6\b", line):
                    hits.append(f"{p.relative_to(ROOT)}:{i}")
    assert hits == ["scene/units.py:12"], hits


def _write_pano(path: Path, h: int = 64) -> None:
    import cv2

    yy, xx = np.mgrid[0:h, 0 : 2 * h]
    img = np.stack([xx * 255 // (2 * h), yy * 255 // h, np.full_like(xx, 128)], -1).astype(np.uint8)
    img[h // 2 :] //= 2  # a darker floor half
    cv2.imwrite(str(path), img)


def test_world_files_record_their_options_and_info_shows_them(tmp_path: Path, capsys) -> None:
    from cli import run_cli

    pano = tmp_path / "pano.png"
    _write_pano(pano)
    out = tmp_path / "w.ply"
    assert (
        run_cli(
            [
                "world",
                "--panorama",
                str(pano),
                "--height",
                "64",
                "--resolution",
                "64",
                "--no-level",
                "--eye-height",
                "1.5",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    rec = recorded_options(out)
    assert (
        rec
        == WorldOptions(
            panorama=pano, pano_height=64, resolution=64, level=False, eye_height=1.5
        ).record()
    )
    capsys.readouterr()
    assert run_cli(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "generated with options" in text and "eye_height [--eye-height]: 1.5" in text
    assert "resolution [--resolution]: 64" in text
    assert "photos [--photo]: none" in text  # an empty list printed nothing after the colon
    assert run_cli(["info", "--json", str(out)]) == 0
    assert json.loads(capsys.readouterr().out)["options"]["level"] is False


def test_recorded_options_are_found_beside_and_inside_files(tmp_path: Path, cloud_factory) -> None:
    from generators.objects.files import write_cloud

    opts = ObjectOptions(photo=tmp_path / "cup.png", height=0.3)
    cloud = cloud_factory(50)
    cloud.meta.update({"generator": "wander.objects", "options": opts.record()})
    write_cloud(cloud, tmp_path / "cup.ply")  # PLY header comment
    assert recorded_options(tmp_path / "cup.ply") == opts.record()
    r = ReconstructOptions(depth_size=64)
    (tmp_path / "scene_report.json").write_text(json.dumps({"options": r.record()}))
    (tmp_path / "scene.ply").write_bytes(b"ply\nformat binary_little_endian 1.0\nend_header\n")
    assert recorded_options(tmp_path / "scene.ply") == r.record()  # a reconstruction's report
    assert recorded_options(tmp_path / "nothing.ply") is None
    (tmp_path / "bad.ply.json").write_text("[1, 2")
    assert recorded_options(tmp_path / "bad.ply") is None  # untrusted: never raises


def test_reconstruction_time_budget_splits_the_run() -> None:
    """The optimisation gets what the run budget leaves, within its own cap and floor."""
    from generators.reconstruct.options import MIN_REFINE_S, RESERVE_S

    o = ReconstructOptions(refine_seconds=240.0, run_seconds=270.0)
    secs, why = o.refine_budget(70.0)
    assert secs == pytest.approx(270.0 - 70.0 - RESERVE_S)
    # the figures in the message add up (a trial read '129 s left of 270 after 131')
    assert why == (
        "what the 270 s run budget left after 70 s of earlier stages and 10 s kept for writing"
    )
    assert o.refine_budget(10.0) == (240.0, "the optimisation's own 240 s budget")
    secs, why = o.refine_budget(500.0)
    assert secs == MIN_REFINE_S  # a spent budget: a short optimisation, and says so
    assert why.startswith(f"the shortest optimisation ({MIN_REFINE_S:.0f} s)") and "500 s" in why
    # a budget not spent but too short for the shortest optimisation says what was left
    secs, why = ReconstructOptions(run_seconds=60.0).refine_budget(21.0)
    assert secs == MIN_REFINE_S
    assert "more than the 29 s the 60 s run budget left after 21 s" in why, why
    assert "longer than its budget" in why
    assert ReconstructOptions(refine_seconds=0.0, run_seconds=0.0).refine_budget(99.0)[0] == 0.0
    assert ReconstructOptions(refine_seconds=0.0, run_seconds=100.0).refine_budget(20.0)[0] == (
        pytest.approx(70.0)
    )
    with pytest.raises(OptionsError, match="run time budget"):
        ReconstructOptions(run_seconds=-1.0).check()


def test_recorded_reconstruct_options_name_their_flags() -> None:
    """A record says `max_image_size`; the flag that sets it is `--sfm-size` (a trial could
    not repeat a run from `info`'s list)."""
    from generators.options import option_flags
    from generators.reconstruct.options import ReconstructOptions

    flags = option_flags(ReconstructOptions().record())
    assert flags["max_image_size"] == "--sfm-size" and flags["max_points"] == "--max-splats"
    assert flags["refine_steps"] == "--refine" and flags["run_seconds"] == "--time-budget"
    assert "planes" not in flags  # no flag: API only


def test_panorama_says_when_it_keeps_little_of_the_photo() -> None:
    """A 2832 px photo of 52.6° came out 300 px wide in the default 2048x1024 panorama
    without a word, and a world made from it was blurred (a trial)."""
    from types import SimpleNamespace

    from cli.cmd_panorama import detail_note

    def pano(h: int, photo_w: int, fov: float):  # noqa: ANN202
        return SimpleNamespace(
            image=np.zeros((h, 2 * h, 3), np.float32), photo_size=(photo_w, 1), fov_x_deg=fov
        )

    note = detail_note(pano(1024, 2832, 52.6), 1024)
    assert note is not None and "299 of its 2832 pixels" in note and "--height 4096" in note
    assert detail_note(pano(1024, 600, 65.0), 1024) is None  # kept 370 of 600: enough
    assert detail_note(pano(4096, 2832, 52.6), 4096) is None  # the most it suggests
