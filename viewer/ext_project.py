"""Projects in the app: installs the project features, each a module with one job.

    viewer/document.py          the open document's state (unsaved changes, autosave
                                slot, camera path): `window.document`, made by the window
    viewer/project_save.py      File > Save Project, Save Project As…; Save/Discard/Cancel
                                before replacing or closing over unsaved work
    viewer/project_autosave.py  autosave + File > Recover Unsaved Work…
    viewer/project_export.py    File > Export…, Export Layer…, Export Panorama…, Export Cameras…
    viewer/camera_paths.py      Create > Camera Path ▸ (record, keyframes, preview, editor)
    viewer/video_render.py      Create > Render Video…

Each exposes `install(window)` and uses only the window's public methods; long work runs
through `window.run_job` (viewer/jobs.py: progress bar + Cancel, and a cancelled job
changes nothing). The pure logic lives in scene/project.py, scene/export.py,
scene/campath.py and generators/video.py.
"""

from __future__ import annotations

from typing import Any

from . import camera_paths, project_autosave, project_export, project_save, video_render

#: in menu order (File: Save, Save As, Recover, Export…; Create: Camera Path, Render Video)
FEATURES = (project_save, project_autosave, project_export, camera_paths, video_render)


def install(window: Any) -> None:
    """Install every project feature on `window` (see the module docstring)."""
    for feature in FEATURES:
        feature.install(window)
