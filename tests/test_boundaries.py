"""Architecture contract: `scene` and `generators` never pull in Qt, GL or the viewer."""

import subprocess
import sys

import pytest
from conftest import ROOT


@pytest.mark.slow
def test_scene_and_generators_import_no_qt_or_gl() -> None:
    code = (
        "import sys, pkgutil, importlib, scene, generators, scene.io\n"
        "for pkg in (scene, generators, scene.io):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('PyQt6', 'vispy', 'OpenGL', 'viewer', 'pytestqt')]\n"
        "assert not bad, bad\n"
    )
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
