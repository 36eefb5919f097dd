"""`info` of the other files Wander writes or reads: a COLMAP model folder, a video, a
reconstruction report, and a `.json` record beside another file.

Every reader here treats its input as untrusted: a value of the wrong type is shown as
unknown, and an unreadable file raises `SceneFormatError` (one line, exit 2).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from scene.errors import SceneFormatError

#: container magic numbers (bytes 0..12 of the file) -> video container name
_VIDEO_MAGIC = (
    (4, b"ftyp", "MP4/QuickTime"),
    (0, b"\x1a\x45\xdf\xa3", "Matroska/WebM"),
    (8, b"AVI ", "AVI"),
)


def video_container(path: str | Path) -> str | None:
    """The container name ("MP4/QuickTime", "Matroska/WebM", "AVI") from a file's first
    bytes, or None when it is no video container."""
    with open(path, "rb") as f:
        head = f.read(12)
    for offset, magic, name in _VIDEO_MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return name
    return None


def describe_video(path: str | Path) -> dict[str, Any]:
    """Size, frame rate, frame count and duration of a video file (OpenCV's reader).

    Returns {"path", "format": "video", "container", "file_size" (bytes), "width",
    "height" (px), "fps", "frames", "duration_s"}. Raises SceneFormatError when OpenCV
    cannot decode a frame of it (a truncated or foreign file).
    """
    import cv2

    p = Path(path)
    cap = cv2.VideoCapture(str(p))
    try:
        ok, frame = cap.read() if cap.isOpened() else (False, None)
        if not ok or frame is None:
            raise SceneFormatError(p, "cannot decode a frame of this video")
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    finally:
        cap.release()
    fps = fps if 0.0 < fps < 1000.0 else 0.0
    frames = max(frames, 1)
    return {
        "path": str(p),
        "format": "video",
        "container": video_container(p),
        "file_size": p.stat().st_size,
        "width": int(frame.shape[1]),
        "height": int(frame.shape[0]),
        "fps": round(fps, 3),
        "frames": frames,
        "duration_s": round(frames / fps, 3) if fps else None,
    }


def print_video(info: dict[str, Any]) -> None:
    fps = f"{info['fps']:g} fps" if info["fps"] else "frame rate unknown"
    dur = f", {info['duration_s']:.1f} s" if info["duration_s"] else ""
    print(f"file:      {info['path']}")
    print(f"format:    video ({info['container'] or 'unknown container'})")
    print(f"size:      {info['file_size']:,} bytes")
    print(f"frames:    {info['width']}x{info['height']}, {info['frames']:,} at {fps}{dur}")
    print("use:       `reconstruct --video` samples sharp, distinct frames of it")


def is_colmap_folder(path: str | Path) -> bool:
    from scene.io.colmap import colmap_model_kind

    return Path(path).is_dir() and colmap_model_kind(path) is not None


def describe_colmap(folder: str | Path) -> dict[str, Any]:
    """A COLMAP model folder (text or binary): its cameras, lens models and points.

    Returns {"path", "format": "colmap_text" | "colmap_binary", "images", "lens_models"
    ({model: count}), "image_sizes" ({"WxH": count}), "points", "camera_centres_min",
    "camera_centres_max" (COLMAP's frame, its units)}. Raises SceneFormatError for a
    malformed model (`scene.io.colmap.read_colmap`).
    """
    import numpy as np

    from scene.io.colmap import colmap_model_kind, read_colmap

    p = Path(folder)
    cams, points, _ = read_colmap(p)
    centres = np.array([c.position for c in cams], float).reshape(-1, 3)
    return {
        "path": str(p),
        "format": f"colmap_{colmap_model_kind(p)}",
        "images": len(cams),
        "lens_models": dict(Counter(str(c.meta.get("colmap_model", "PINHOLE")) for c in cams)),
        "image_sizes": dict(Counter(f"{c.width}x{c.height}" for c in cams)),
        "points": int(len(points)),
        "camera_centres_min": centres.min(0).tolist() if len(centres) else None,
        "camera_centres_max": centres.max(0).tolist() if len(centres) else None,
    }


def print_colmap(info: dict[str, Any]) -> None:
    kind = "text" if info["format"] == "colmap_text" else "binary"
    models = ", ".join(f"{n} {m}" for m, n in info["lens_models"].items())
    sizes = ", ".join(f"{n} at {s}" for s, n in info["image_sizes"].items())
    print(f"folder:    {info['path']}")
    print(f"format:    COLMAP model ({kind})")
    print(f"images:    {info['images']} registered ({models})")
    if sizes:
        print(f"sizes:     {sizes} px")
    print(f"points:    {info['points']:,}")
    if info["camera_centres_min"] is not None:
        # (rounding noise shows as 0, not 5.551e-17)
        lo = ", ".join(f"{round(v, 6) + 0.0:.4g}" for v in info["camera_centres_min"])
        hi = ", ".join(f"{round(v, 6) + 0.0:.4g}" for v in info["camera_centres_max"])
        print(f"cameras:   centres ({lo}) .. ({hi}) in the model's frame")
    print(
        "use:       `reconstruct --colmap DIR` builds a scene on these cameras; "
        "`evaluate SCENE --cameras DIR --photos PHOTOS` scores a scene at them"
    )


def read_json_record(path: str | Path) -> dict[str, Any] | None:
    """The JSON object in a small `.json` file, or None when it is not one (too big,
    not UTF-8, not JSON, not an object)."""
    p = Path(path)
    if p.suffix.lower() != ".json" or p.stat().st_size > 64 * 1024 * 1024:
        return None
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _printable(value: Any, limit: int) -> str:
    """`value` as one line of at most `limit` printable characters ("" for None)."""
    text = "" if value is None else str(value)
    return "".join(c if c.isprintable() else " " for c in text)[:limit]


def describe_report(path: str | Path, data: dict[str, Any]) -> dict[str, Any]:
    """A reconstruction report (`reconstruct`'s SCENE_report.json): photos registered,
    held out, splats, capture type, stage times and the optimisation's figures."""
    photos = data.get("photos") if isinstance(data.get("photos"), dict) else {}
    held = data.get("held_out") if isinstance(data.get("held_out"), list) else []
    stages = data.get("stage_seconds") if isinstance(data.get("stage_seconds"), dict) else {}
    ref = data.get("refinement") if isinstance(data.get("refinement"), dict) else None
    cap = data.get("capture") if isinstance(data.get("capture"), dict) else {}
    sizes = data.get("working_sizes") if isinstance(data.get("working_sizes"), dict) else {}
    return {
        "path": str(path),
        "format": "reconstruction_report",
        "input": str(data.get("input", "?"))[:40],
        "scene": str(data.get("scene", "?"))[:200],
        "splats": _num(data.get("splats")),
        "photos": len(photos),
        "registered": _num(data.get("registered")),
        "held_out": [str(h)[:200] for h in held],
        # where the photos and their COLMAP model are (evaluate finds them from here)
        "photos_folder": _printable(data.get("photos_folder"), 400),
        "cameras_folder": _printable(data.get("cameras_folder"), 400),
        "capture": str(cap.get("type", "?"))[:40],
        # where the scene's up came from (`align.estimate_up_detail`): level, table...
        "up": _printable(cap["up"].get("detail") if isinstance(cap.get("up"), dict) else None, 200),
        "stage_seconds": {str(k)[:40]: _num(v) for k, v in stages.items() if _num(v) is not None},
        # what many photos cut from the earlier stages' sizes (`plan.StagePlan`), if anything
        "working_sizes": str(sizes.get("note", ""))[:400],
        "refinement": (
            {
                k: _num(ref.get(k))
                for k in ("steps", "psnr_before", "psnr_after", "splats_after", "seconds")
                if _num(ref.get(k)) is not None
            }
            | {"limits": [str(x)[:200] for x in ref.get("limits", []) if isinstance(x, str)]}
            if ref and _num(ref.get("steps"))
            else None
        ),
    }


def print_report(info: dict[str, Any]) -> None:
    n = lambda v: "?" if v is None else f"{int(v):,}"  # noqa: E731
    print(f"file:      {info['path']}")
    print(f"format:    reconstruction report (from {info['input']})")
    print(f"scene:     {info['scene']} ({n(info['splats'])} splats)")
    print(
        f"photos:    {n(info['registered'])} of {info['photos']} registered; capture "
        f"{info['capture']}"
    )
    if info.get("photos_folder"):
        print(f"  from:    {info['photos_folder']}")
    if info.get("up"):
        print(f"up axis:   {info['up']}")
    if info.get("cameras_folder"):
        print(f"cameras:   {info['cameras_folder']} (COLMAP model of the photos)")
    if info["held_out"]:
        print(f"held out:  {', '.join(info['held_out'])} (`evaluate` scores them apart)")
    if info["stage_seconds"]:
        parts = ", ".join(f"{k} {v:.1f}" for k, v in info["stage_seconds"].items())
        print(f"stages:    {parts} s")
    if info.get("working_sizes"):
        print(f"sizes:     {info['working_sizes']}")
    ref = info["refinement"]
    if ref is None:
        print("optimisation: not run")
    else:
        line = f"optimisation: {n(ref.get('steps'))} steps"
        if "psnr_before" in ref and "psnr_after" in ref:
            line += f", PSNR {ref['psnr_before']:.2f} -> {ref['psnr_after']:.2f} dB"
        print(line + " at the training photos")
        for lim in ref["limits"]:
            print(f"  limited: {lim}")


def is_evaluation(data: dict[str, Any]) -> bool:
    """Whether a JSON object is `evaluate`'s report.json (views and their means)."""
    return isinstance(data.get("views"), list) and isinstance(data.get("mean"), dict)


def describe_evaluation(path: str | Path, data: dict[str, Any]) -> dict[str, Any]:
    """`evaluate`'s report.json: the means (all, training, held out) and each view's PSNR,
    SSIM and coverage."""

    def means(m: Any) -> dict[str, float] | None:
        if not isinstance(m, dict):
            return None
        out = {k: _num(m.get(k)) for k in ("psnr", "ssim", "coverage", "views")}
        return {k: v for k, v in out.items() if v is not None} or None

    mean = data["mean"]
    views = []
    for v in data["views"][:10000]:
        if isinstance(v, dict):
            views.append(
                {"name": str(v.get("name", "?"))[:200], "held_out": bool(v.get("held_out"))}
                | {k: _num(v.get(k)) for k in ("psnr", "ssim", "coverage")}
            )
    return {
        "path": str(path),
        "format": "evaluation_report",
        "scene": str(data.get("scene", "?"))[:300],
        "photos": str(data.get("photos_dir", data.get("photos", "?")))[:300],
        "all": means(mean),
        "training": means(mean.get("training")),
        "held_out": means(mean.get("held_out")),
        "views": views,
        "skipped": len(data["skipped"]) if isinstance(data.get("skipped"), (list, dict)) else 0,
    }


def print_evaluation(info: dict[str, Any]) -> None:
    def line(m: dict[str, float] | None) -> str:
        if not m:
            return "-"
        if m.get("views") == 0:  # it printed "PSNR ? dB, SSIM ?, coverage ? (0 views)"
            return "none"
        f = lambda k, fmt: fmt.format(m[k]) if k in m else "?"  # noqa: E731
        n = m.get("views")
        views = "" if n is None else f" ({n:.0f} view{'' if n == 1 else 's'})"
        return (
            f"PSNR {f('psnr', '{:.2f}')} dB, SSIM {f('ssim', '{:.3f}')}, coverage "
            f"{f('coverage', '{:.3f}')}{views}"
        )

    print(f"file:      {info['path']}")
    print("format:    evaluation report (`evaluate`: renders at the photos' cameras)")
    print(f"scene:     {info['scene']}")
    print(f"photos:    {info['photos']}")
    print(f"all:       {line(info['all'])}")
    if info["training"]:
        print(f"training:  {line(info['training'])}")
    if info["held_out"]:
        print(f"held out:  {line(info['held_out'])}")
    if info["skipped"]:
        print(f"skipped:   {info['skipped']} photos (see the report)")
    for v in info["views"]:
        psnr = "?" if v["psnr"] is None else f"{v['psnr']:6.2f}"
        ssim = "?" if v["ssim"] is None else f"{v['ssim']:.3f}"
        cov = "?" if v["coverage"] is None else f"{v['coverage']:.3f}"
        mark = "  held out" if v["held_out"] else ""
        print(f"  {v['name']:<32} {psnr} dB  SSIM {ssim}  coverage {cov}{mark}")


def record_owner(path: str | Path) -> Path | None:
    """For a `.json` record Wander writes beside a file (FILE.json), that file if it exists."""
    p = Path(path)
    owner = p.with_suffix("") if p.suffix.lower() == ".json" else None
    return owner if owner is not None and owner.suffix and owner.exists() else None
