"""The file a save dialog's answer really names, and a question before replacing it.

A save dialog asks before replacing the name typed in it; the app then adds the kind's
extension (or swaps a foreign one), and the file written may be another one that exists:
`keep` typed beside `keep.wander` replaced that project without a word (a trial). Every
save, export and screenshot dialog goes through `with_extension`, then `confirm_replace`
when the name changed.
"""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtWidgets import QMessageBox, QWidget


def foreign_suffixes() -> set[str]:
    """Every suffix of a file Wander reads or writes (scene and mesh formats, photos and
    videos, projects, camera paths): taken for another kind of file, which the kind's own
    extension replaces (`scene.ply` typed in Save Project is scene.wander); any other
    suffix is part of the name (`trip.2024` is trip.2024.wander, not trip.wander)."""
    from scene.io import scene_suffixes
    from scene.project import EXTENSION, INPUT_EXTENSIONS

    known = {e for e in scene_suffixes() if e.count(".") == 1 and e.startswith(".")}
    return known | INPUT_EXTENSIONS | {EXTENSION, ".json", ".txt"}


def with_extension(typed: str | Path, ext: str) -> Path:
    """`typed` (a path from a dialog) named as a file of extension `ext` ('.wander'):
    kept when it ends in `ext` (any case); a foreign kind's suffix (`foreign_suffixes`,
    '.compressed.ply' too) replaced; otherwise `ext` appended."""
    p = Path(typed)
    name = p.name
    if name.lower().endswith(ext.lower()):
        return p
    low = name.lower()
    if low.endswith(".compressed.ply"):
        return p.with_name(name[: -len(".compressed.ply")] + ext)
    if p.suffix.lower() in foreign_suffixes():
        return p.with_suffix(ext)
    return p.with_name(name + ext)


def confirm_replace(
    parent: QWidget | None, typed: str | Path, final: str | Path, title: str
) -> bool:
    """True when `final` may be written: it is the name typed (the dialog asked already),
    it does not exist, or the user says to replace it."""
    final = Path(final)
    if Path(typed) == final or not final.exists():
        return True
    answer = QMessageBox.question(
        parent,
        title,
        f"{final.name} already exists. Replace it?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes
