"""One shape for every generator's options: panorama, world, reconstruction, object.

Each generator takes one dataclass of options (as nerfstudio's config dataclasses), a
subclass of `GeneratorOptions` whose fields are declared with `option(...)`: a default, a
help line, a unit, a CLI flag, allowed choices or an inclusive range. Each class has one
validation method, `check()` (diffusers' `check_inputs`), that raises `OptionsError` — an
`InputError`, so the CLI prints it as one line with exit code 2 and the app shows it in
its dialog. `record()` gives the JSON-able options every generated file stores.

The CLI's arguments are built from the same fields (`add_arguments` / `from_args`), and
the app's dialogs fill the same dataclass, so the three cannot drift apart
(`tests/test_options.py` checks they agree). Whether a backend's weights are here —
"diffusion needs a model folder" — is checked in one place, `check_weights`.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import typing
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from scene.errors import InputError

_MISSING = dataclasses.MISSING


class OptionsError(InputError):
    """An option is out of range, not one of its choices, or contradicts another one.

    The message names the option (and its CLI flag when it has one)."""


MAX_SEED = 2**32 - 1  # the largest seed numpy's and torch's generators accept


def option(
    default: Any = _MISSING,
    *,
    help: str,
    unit: str = "",  # noqa: A002 - argparse's word
    flag: str | Sequence[str] | None = None,
    choices: Sequence[Any] | None = None,
    lo: float | None = None,
    hi: float | None = None,
    above: float | None = None,
    label: str | None = None,
    metavar: str | None = None,
    parse: Callable[[str], Any] | None = None,
    negate: bool = False,
    group: str | None = None,
    required: bool = False,
    record: bool = True,
    default_factory: Callable[[], Any] | Any = _MISSING,
) -> Any:
    """A dataclass field of a generator's options, described for the CLI, the app and `check`.

    help/unit: what the option means and its unit ("m", "deg", "px", "s"); flag: the CLI
    flag(s) (None: API only); choices or an inclusive range lo..hi (`above`: strictly
    greater than) that `check` enforces; label: the words used in messages (default:
    the field name); parse: turns the CLI's text into the value (its errors become
    `OptionsError`); negate: a boolean whose flag turns it off (`--no-level`); group:
    flags of one group are mutually exclusive and one is required; record: False for
    in-memory inputs (arrays) that provenance does not store.
    """
    meta = {
        "help": help,
        "unit": unit,
        "flags": (flag,) if isinstance(flag, str) else tuple(flag or ()),
        "choices": tuple(choices) if choices is not None else None,
        "lo": lo,
        "hi": hi,
        "above": above,
        "label": label,
        "metavar": metavar,
        "parse": parse,
        "negate": negate,
        "group": group,
        "required": required,
        "record": record,
    }
    if default_factory is not _MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def option_flags(names: Iterable[str]) -> dict[str, str]:
    """{recorded option name: its CLI flag} for a record of one generator's options
    (world, panorama, reconstruct or object: the one whose fields best match `names`); the
    first flag of each (e.g. refine_steps -> --refine); options without a flag (API only)
    are left out. `info` shows them beside a file's recorded options, so a run can be
    repeated from the record."""
    from generators.objects.options import ObjectOptions
    from generators.panorama.options import PanoramaOptions
    from generators.reconstruct.options import ReconstructOptions
    from generators.world_options import WorldOptions

    keys = {n for n in names if isinstance(n, str)}
    classes = (WorldOptions, PanoramaOptions, ReconstructOptions, ObjectOptions)
    best = max(classes, key=lambda c: len(keys & {f.name for f in dataclasses.fields(c)}))
    out = {}
    for f in dataclasses.fields(best):
        flags = f.metadata.get("flags") or ()
        if flags and f.name in keys:
            out[f.name] = flags[0]
    return out


def _base_type(hint: Any) -> tuple[Any, bool]:
    """(element type, is a list) of a field's type hint, None stripped."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    origin = typing.get_origin(hint)
    if origin in (list, Sequence) or hint is list:
        return (args[0] if args else str), True
    if args and origin is not tuple and origin is not None:  # X | None, Union[...]
        return _base_type(args[0])
    return (origin or hint), False


@dataclasses.dataclass
class GeneratorOptions:
    """Base of every generator's options dataclass (see the module docstring)."""

    @classmethod
    def hints(cls) -> dict[str, Any]:
        """Each field's type hint, evaluated (the modules use postponed annotations)."""
        return typing.get_type_hints(cls)

    @classmethod
    def what(cls, name: str) -> str:
        """How messages name a field: its label, and its CLI flag when it has one."""
        f = {f.name: f for f in dataclasses.fields(cls)}[name]
        label = f.metadata.get("label") or name.replace("_", " ")
        flags = f.metadata.get("flags") or ()
        return f"{label} ({flags[0]})" if flags else label

    def check(self) -> None:
        """Raise OptionsError unless every option is of its kind, one of its choices and
        within its range. Subclasses add the checks between options (and call this)."""
        hints = self.hints()
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            m = f.metadata
            if v is None:
                continue
            if m.get("choices") is not None and v not in m["choices"]:
                raise OptionsError(
                    f"unknown {self.what(f.name)} {v!r}; choose one of "
                    f"{', '.join(str(c) for c in m['choices'])}"
                )
            lo, hi, above = m.get("lo"), m.get("hi"), m.get("above")
            if lo is None and hi is None and above is None:
                continue
            base, _ = _base_type(hints[f.name])
            unit = f" {m['unit']}" if m.get("unit") else ""
            if base is int:
                ok = isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                kind = "an integer "
            else:
                ok = (
                    isinstance(v, (int, float, np.number))
                    and not isinstance(v, bool)
                    and math.isfinite(float(v))
                )
                kind = "a number "
            if ok:
                ok = (
                    (lo is None or v >= lo)
                    and (hi is None or v <= hi)
                    and (above is None or v > above)
                )
            if not ok:
                if above is not None:
                    rng = f"more than {above:g}" + (
                        f" and at most {hi:g}" if hi is not None else ""
                    )
                elif hi is None:
                    rng = f">= {lo:g}"
                elif lo is None:
                    rng = f"<= {hi:g}"
                elif base is int:
                    rng = f"{int(lo)}..{int(hi)}"
                else:
                    rng = f"between {lo:g} and {hi:g}"
                raise OptionsError(f"{self.what(f.name)} must be {kind}{rng}{unit}, got {v!r}")

    def record(self) -> dict[str, Any]:
        """The options as JSON-able values (paths as text, tuples as lists), for the
        provenance every generated file stores."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.metadata.get("record", True):
                out[f.name] = _jsonable(getattr(self, f.name))
        return out


def _jsonable(v: Any) -> Any:
    if isinstance(v, Path):
        return str(v)
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    return v


# ------------------------------------------------------------------ the CLI
def _help(f: dataclasses.Field) -> str:
    m = f.metadata
    text = m["help"]
    if m.get("unit"):
        text += f" [{m['unit']}]"
    d = f.default
    if d is not _MISSING and d is not None and not isinstance(d, bool) and d != "":
        text += f" (default {d})"
    return text


#: CLI metavar by unit
_UNIT_METAVARS = {"m": "M", "px": "PX", "deg": "DEG", "s": "S"}


def add_arguments(
    parser: argparse.ArgumentParser, cls: type[GeneratorOptions], skip: Sequence[str] = ()
) -> list[str]:
    """Add one argument per field of `cls` that has a CLI flag (dest = the field name),
    with its help, unit, default and choices. Returns the field names added."""
    hints = cls.hints()
    groups: dict[str, Any] = {}
    added = []
    for f in dataclasses.fields(cls):
        m = f.metadata
        if not m.get("flags") or f.name in skip:
            continue
        kw: dict[str, Any] = {"dest": f.name, "help": _help(f)}
        base, many = _base_type(hints[f.name])
        if m.get("negate"):
            kw["action"] = "store_false"
        elif base is bool:
            kw["action"] = "store_true"
        else:
            kw["type"] = str if m.get("parse") else base
            if many:
                kw["nargs"] = "+"
            if f.default is not _MISSING:
                kw["default"] = f.default
            if m.get("choices") is not None:
                kw["choices"] = m["choices"]
            metavar = (
                m.get("metavar")
                or _UNIT_METAVARS.get(m.get("unit", ""))
                or ("N" if base is int else None)
            )
            if metavar and "choices" not in kw:
                kw["metavar"] = metavar
        if m.get("required"):
            kw["required"] = True
        target: Any = parser
        if m.get("group"):
            if m["group"] not in groups:
                groups[m["group"]] = parser.add_mutually_exclusive_group(required=True)
            target = groups[m["group"]]
        target.add_argument(*m["flags"], **kw)
        added.append(f.name)
    return added


def from_args(cls: type[GeneratorOptions], args: argparse.Namespace, **extra: Any):  # noqa: ANN201
    """The options the command line gave (fields without a flag keep their defaults;
    `extra` sets fields the command derives itself). Text options are parsed here."""
    kw: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if not f.metadata.get("flags") or not hasattr(args, f.name):
            continue
        v = getattr(args, f.name)
        if v is None:
            continue
        parse = f.metadata.get("parse")
        if parse is not None and isinstance(v, str):
            try:
                v = parse(v)
            except (ValueError, TypeError) as exc:
                raise OptionsError(f"{f.metadata['flags'][0]} {v!r}: {exc}") from None
        kw[f.name] = v
    kw.update(extra)
    return cls(**kw)


# ------------------------------------------------------- weights: one check
#: (what, backend) -> the model manager's backend used when no local folder is given
MANAGED_WEIGHTS: dict[tuple[str, str], str] = {
    ("outpainting", "diffusion"): "sd-inpaint",
    ("outpainting", "flux"): "flux-pano",
    ("depth", "neural"): "depth-anything-v2-small",
    ("object", "multiview"): "zero123plus",
    ("object", "hunyuan3d"): "hunyuan3d-2mini",
    ("segmenter", "neural"): "sam2-tiny",
}


def check_inputs_exist(paths: Iterable[str | Path]) -> None:
    """Raise OptionsError "PATH: no such file" for the first input that does not exist,
    before any work is announced (a missing photo printed two progress lines first)."""
    for p in paths:
        if not Path(p).exists():
            raise OptionsError(f"{p}: no such file")


def check_weights(what: str, backend: str, folder: str | Path | None, instead: str) -> None:
    """The one check that a backend needing weights has them before any work starts.

    A backend listed in MANAGED_WEIGHTS and given no local model folder uses the model
    manager's weights: raise ModelMissing (an InputError) naming `models download NAME`
    and `instead` (the CLI flag giving a folder, or what to choose instead) unless they
    are downloaded with their packages. Other backends, or a folder given, pass.
    """
    name = MANAGED_WEIGHTS.get((what, backend))
    if name is None or folder:
        return
    from generators.models.hub import ModelMissing, resolve

    try:
        resolve(name)
    except ModelMissing as exc:
        raise ModelMissing(
            f"{backend} {what} needs its weights: {exc} (or pass {instead}); "
            "in the app: Settings > Models, or a local model folder"
        ) from None


# ---------------------------------------------------- what a file recorded
def recorded_options(path: str | Path) -> dict[str, Any] | None:
    """The generator options a generated file recorded, or None.

    Looked for in a .wander project's manifest (the world's meta, else its first layer
    with options), the `.json` provenance beside a splat file or image, a reconstruction's
    `_report.json`, and a PLY's `comment wander {...}` header line. Never raises for a
    file without them (they are untrusted: only a dict is returned).
    """
    import logging

    p = Path(path)

    def pick(meta: Any) -> dict[str, Any] | None:
        if isinstance(meta, dict):
            o = meta.get("options")
            if isinstance(o, dict) and o:
                return o
        return None

    try:
        if p.suffix.lower() == ".wander":
            from scene.project import read_manifest

            man = read_manifest(p)
            found = pick(man.get("meta"))
            for lay in man.get("layers") or []:
                found = found or (pick(lay.get("source")) if isinstance(lay, dict) else None)
            return found
        for meta in _file_provenance(p):
            found = pick(meta)
            if found:
                return found
    except (OSError, ValueError, AttributeError) as exc:
        logging.getLogger(__name__).info("no recorded options in %s: %s", p, exc)
    return None


def _file_provenance(p: Path) -> Iterator[Any]:
    """The provenance records of a splat file, as parsed JSON (untrusted: any type): the
    `.json` beside it, a reconstruction's `_report.json`, a PLY's `comment wander {...}`.
    Raises OSError / ValueError for unreadable ones."""
    import json

    from scene.files import sidecar_path

    for side in (
        sidecar_path(p),
        p.with_name(p.with_suffix("").name + "_report.json"),
    ):
        if side.is_file():
            yield json.loads(side.read_text())
    if p.suffix.lower() == ".ply" and p.is_file():
        with open(p, "rb") as fh:
            head = fh.read(1 << 20)
        end = head.find(b"end_header")
        for line in head[: max(end, 0)].decode("utf-8", "replace").splitlines():
            if line.startswith("comment wander "):
                yield json.loads(line[len("comment wander ") :])


def wander_provenance(path: str | Path) -> dict | None:
    """The first provenance record of a splat file (`_file_provenance`) that names a
    Wander generator ('wander.objects', 'wander.pano_world', ...), or None (another tool's
    file, or no readable record). Untrusted: only its 'generator' is checked."""
    import logging

    try:
        for meta in _file_provenance(Path(path)):
            gen = meta.get("generator") if isinstance(meta, dict) else None
            if isinstance(gen, str) and gen.startswith("wander."):
                return meta
    except (OSError, ValueError) as exc:
        logging.getLogger(__name__).info("no provenance in %s: %s", path, exc)
    return None


def wander_generator(path: str | Path) -> str | None:
    """The Wander generator that made a splat file ('wander.objects', 'wander.pano_world',
    ...) from its provenance (`wander_provenance`), or None. Wander's files are +Y up in
    metres."""
    meta = wander_provenance(path)
    return None if meta is None else meta["generator"][:80]
