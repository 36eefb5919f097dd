"""What a reconstruction's user must hear when it is done: photos skipped, photos left out
of the scene (grouped by why, with what to do), a scene built from too few photos. One
sentence each (no "warning: " prefix: the CLI adds it, the app shows them in a box)."""

from __future__ import annotations

FEW_PHOTOS = 4  # fewer registered photos than this: warned that the scene is thin


def few_photos_warning(
    registered: int, held_out: int = 0, capture_option: str = "--capture"
) -> str | None:
    """One line when fewer than FEW_PHOTOS photos built the scene (`registered` cameras,
    `held_out` of them held out): depth from so few views holds up only near them (two
    near-identical drone frames gave a flat billboard and the capture type was a guess),
    else None. `capture_option`: what sets the capture type where the user reads it."""
    n = registered - held_out
    if n >= FEW_PHOTOS:
        return None
    return (
        f"the scene was built from only {n} photo{'s' if n != 1 else ''}: its depth "
        "comes from so few views that it holds up only near where they were taken, and the "
        f"capture type (so the scale) is a guess ({capture_option} sets it). 10-50 overlapping "
        "photos taken from different spots make a scene you can walk through"
    )


#: the start of a photo's status -> how the summary names that reason
_DROP_REASONS = (
    ("not registered: formed a separate group", "in a group of their own"),
    ("not registered: shares no verified matches", "overlapping no other photo"),
    ("not registered: only", "with too few features"),
    ("not registered", "not placeable among the others"),
)


def first_names(names: list[str], k: int = 6) -> str:
    """The first `k` names, comma-separated, then how many more."""
    return ", ".join(names[:k]) + (f" and {len(names) - k} more" if len(names) > k else "")


def unreadable_warning(status: dict[str, str]) -> str | None:
    """One closing line on the files skipped as no usable photo (unreadable, too small;
    None when there are none): they were listed only at the top of a long run's output
    (a trial). A duplicate skipped is no loss and is not repeated here."""
    bad = sorted(n for n, s in status.items() if s.startswith("skipped") and "duplicate" not in s)
    if not bad:
        return None
    return (
        f"{len(bad)} file{'s' if len(bad) > 1 else ''} in the input "
        f"{'were' if len(bad) > 1 else 'was'} skipped, not a usable photo ({first_names(bad)}): "
        "see the photo list above for why"
    )


def unregistered_warning(status: dict[str, str]) -> str | None:
    """One line on the photos left out of the scene (None when every photo is in): how
    many, why (grouped), and what to do. A mixed folder (two places) otherwise ended
    with exit 0 and a scene of one place, the rest said only in the per-photo list."""
    dropped = {n: s for n, s in status.items() if s.startswith("not registered")}
    if not dropped:
        return None
    # files skipped before SfM (unreadable, too small, a duplicate) are not photos it saw
    given = sum(1 for s in status.values() if not s.startswith("skipped"))
    counts: dict[str, int] = {}
    for s in dropped.values():
        why = next(w for start, w in _DROP_REASONS if s.startswith(start))
        counts[why] = counts.get(why, 0) + 1
    reasons = "; ".join(f"{n} {why}" for why, n in counts.items())
    from generators.reconstruct.sfm import TIE_NOTE

    # a group as large as the one built (sfm.photo_status says so): the pick was arbitrary
    tie = any(s.endswith(TIE_NOTE) for s in dropped.values())
    return (
        f"{len(dropped)} of {given} photos are not in the scene ({reasons}: "
        f"{first_names(sorted(dropped))}); the scene shows only what the other "
        f"{given - len(dropped)} saw"
        + ("; a group left out is as large, so which was built is arbitrary" if tie else "")
        + ". "
        + "; ".join(advice for why, advice in _DROP_ADVICE if why in counts)
    )


#: what to do about the photos left out, by why (a single photo SfM could not place is not
#: another place: a close-up of the same thing needs photos between it and the others)
_DROP_ADVICE = (
    (
        "in a group of their own",
        "Photos of another place belong in their own reconstruction; for one place, add "
        "photos that overlap both groups",
    ),
    (
        "overlapping no other photo",
        "Photos that overlap no other belong elsewhere, or need photos between them and the rest",
    ),
    (
        "not placeable among the others",
        "For a photo that could not be placed, add photos taken between it and the others "
        "(from nearer or farther, a smaller step round the subject)",
    ),
    ("with too few features", "Blank, blurred or tiny photos cannot be placed"),
)


def closing_warnings(
    status: dict[str, str], registered: int, held_out: int = 0, capture_option: str = "--capture"
) -> list[str]:
    """Every closing warning of a reconstruction, from its per-photo `status` (name ->
    "registered" | why not) and its camera counts."""
    found = (
        unreadable_warning(status),
        unregistered_warning(status),
        few_photos_warning(registered, held_out, capture_option),
    )
    return [w for w in found if w]
