"""The window's features are wired in plainly (issue 16 item 3): one explicit list in
viewer/main_window.py, each feature's `install(window: WindowAPI) -> None` using only the
members of `viewer.features.WindowAPI` — no folder scanning, no hasattr/getattr probing of the
window, no private window members, no attributes pinned onto the window. No display needed
(the last test, which builds a real window, is marked gl)."""

from __future__ import annotations

import ast
import inspect
import typing
from pathlib import Path

import pytest
from conftest import ROOT

from viewer import main_window
from viewer.features import WindowAPI
from viewer.main_window import FEATURES, MainWindow

VIEWER = ROOT / "viewer"
WINDOW_NAMES = {"window", "win"}


def protocol_members(proto: type) -> set[str]:
    names = set(getattr(proto, "__annotations__", {}))
    names |= {n for n, v in vars(proto).items() if callable(v) and not n.startswith("_")}
    return names


def feature_modules() -> list[str]:
    return sorted({install.__module__ for _, install in FEATURES})


def _params(modules: list[str]) -> list:
    return [pytest.param(m, id=m) for m in modules]


def _is_window(node: ast.AST) -> bool:
    """`window`, `win`, `self.window`, `self.win`."""
    if isinstance(node, ast.Name):
        return node.id in WINDOW_NAMES
    return (
        isinstance(node, ast.Attribute)
        and node.attr in WINDOW_NAMES
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    )


def _tree(module: str) -> ast.Module:
    path = ROOT / (module.replace(".", "/") + ".py")
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


# ------------------------------------------------------------------ the list
def test_the_window_installs_an_explicit_list_not_a_folder_listing() -> None:
    tree = ast.parse(Path(main_window.__file__).read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not imported & {"pkgutil", "importlib", "glob"}
    calls = {
        n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", "")
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
    }
    assert not calls & {"iter_modules", "import_module", "__import__", "listdir", "glob", "iterdir"}
    # every feature module is imported by name at the top of main_window.py
    static = {
        f"viewer.{a.name}"
        for n in tree.body
        if isinstance(n, ast.ImportFrom) and n.level == 1 and n.module is None
        for a in n.names
    }
    assert set(feature_modules()) <= static
    names = [name for name, _ in FEATURES]
    assert len(set(names)) == len(names)


def test_every_feature_module_in_viewer_is_installed() -> None:
    on_disk = {
        f"viewer.{p.stem}"
        for p in VIEWER.glob("*.py")
        if "def install(" in p.read_text(encoding="utf-8")
    }
    assert on_disk == set(feature_modules()), "a feature module the window never installs"


@pytest.mark.parametrize("module", _params(feature_modules()))
def test_install_takes_the_window_protocol(module: str) -> None:
    install = next(i for _, i in FEATURES if i.__module__ == module)
    hints = typing.get_type_hints(install)
    params = list(inspect.signature(install).parameters)
    assert len(params) == 1 and hints[params[0]] is WindowAPI
    assert hints["return"] is type(None)


# ------------------------------------------------------- what a feature touches
@pytest.mark.parametrize("module", _params(feature_modules()))
def test_features_use_only_the_protocol(module: str) -> None:
    allowed = protocol_members(WindowAPI)
    problems: list[str] = []
    for node in ast.walk(_tree(module)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "hasattr", "setattr")
            and node.args
            and _is_window(node.args[0])
        ):
            problems.append(f"line {node.lineno}: {node.func.id}(window, ...)")
        elif isinstance(node, ast.Attribute) and _is_window(node.value):
            if node.attr not in allowed:
                problems.append(f"line {node.lineno}: window.{node.attr} is not in WindowAPI")
            elif isinstance(node.ctx, ast.Store):
                problems.append(f"line {node.lineno}: assigns window.{node.attr}")
    assert not problems, "\n".join(problems)


def test_main_window_implements_the_protocol() -> None:
    annotated: set[str] = set()
    for cls in MainWindow.__mro__:
        annotated |= set(getattr(cls, "__annotations__", {}))
    missing = [
        n for n in protocol_members(WindowAPI) if n not in annotated and not hasattr(MainWindow, n)
    ]
    assert not missing
    # the window's own methods take what the protocol promises (Qt's are Qt's)
    for name, proto_fn in vars(WindowAPI).items():
        if not callable(proto_fn) or name.startswith("_"):
            continue
        impl = getattr(MainWindow, name)
        if not inspect.isfunction(impl):
            continue  # a QMainWindow method
        want = list(inspect.signature(proto_fn).parameters)
        got = list(inspect.signature(impl).parameters)
        assert got[: len(want)] == want, name


@pytest.mark.gl
def test_a_real_window_is_a_window_api_with_every_feature(
    qtbot, x_display, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("WANDER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("WANDER_AUTOSAVE_DIR", str(tmp_path / "autosave"))
    monkeypatch.setenv("WANDER_NO_DIALOGS", "1")
    win = MainWindow()
    qtbot.addWidget(win)
    try:
        assert not win.feature_errors
        assert isinstance(win, WindowAPI)
        # File > Save is there, and comes from the project feature listed in FEATURES
        save = next(a for a in win.menu("&File").actions() if a.shortcut().toString() == "Ctrl+S")
        assert save is win.extensions["project_save"].save_action and "Save" in save.text()
        assert {
            "models_tools",
            "objects_tools",
            "orbit_tools",
            "panorama_tools",
            "reconstruct_tools",
            "splat_tools",
            "project_save",
            "autosave",
            "exporter",
            "camera_paths",
            "video_render",
        } <= set(win.extensions)
    finally:
        win.jobs.cancel_all()
        win.close()
