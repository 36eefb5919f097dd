"""Validation of option values shared by the commands: errors name the option."""

from __future__ import annotations

import math

from generators.options import MAX_SEED
from scene.errors import InputError


def check_int(value: int | None, option: str, lo: int, hi: int) -> None:
    """Raise InputError naming `option` unless `value` is None or lo <= value <= hi."""
    if value is not None and not lo <= value <= hi:
        raise InputError(f"{option} must be {lo}..{hi}, got {value}")


def check_float(value: float | None, option: str, lo: float, hi: float) -> None:
    """Raise InputError naming `option` unless `value` is None or finite in [lo, hi]."""
    if value is not None and not (math.isfinite(value) and lo <= value <= hi):
        raise InputError(f"{option} must be between {lo:g} and {hi:g}, got {value}")


def check_seed(seed: int | None) -> None:
    """`--seed` must fit the random generators: 0..2**32-1."""
    check_int(seed, "--seed", 0, MAX_SEED)


def parse_rgb(text: str, option: str = "--background") -> tuple[float, float, float]:
    """An "r,g,b" option value in 0..1; raises InputError naming `option` otherwise."""
    try:
        vals = tuple(float(v) for v in text.split(","))
    except ValueError:
        vals = ()
    if len(vals) != 3 or not all(0 <= v <= 1 for v in vals):
        raise InputError(f"{option} must be r,g,b in 0..1; got {text!r}")
    return vals  # type: ignore[return-value]
