"""Crash recovery in the app (issue 11, kind 5) and hostile projects opened in the window.

- "Later" at the recovery offer, then a clean quit: the recovery file stays.
- Every unsaved document autosaves into its own slot: two crashed unsaved worlds are
  both recoverable, each listed (time + thumbnail) by File > Recover Unsaved Work.
- A real process killed with SIGKILL after an autosave; restart, "Later", quit,
  restart: the recovery is still offered.
- File > Open of a crafted project: a readable message (or warnings), nothing written.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from project_craft import ROOT, fake_home, snapshot
from test_navigation import room_cloud
from test_project_app import env, wait_jobs  # noqa: F401 - `env` is a fixture

from scene import project as proj
from scene.errors import SceneFormatError
from scene.world import Layer, World

pytestmark = pytest.mark.gl


def named_world(name: str, seed: int = 0) -> World:
    cloud = room_cloud(size=4.0, spacing=0.25, wall_z=-2.0)
    cloud.sh0[:] = np.random.default_rng(seed).normal(0, 0.6, cloud.sh0.shape)
    w = World()
    w.add_layer(Layer(name, cloud))
    return w


def crash_with_unsaved_world(new_window, name: str, seed: int = 0):  # noqa: ANN001
    """A window whose unsaved world was edited and autosaved, then 'crashes' (never quits)."""
    win = new_window()
    win.set_world(named_world("draft", seed))
    win.world.rename(win.world.layers[0].id, name)
    assert win.extensions["autosave"].autosave_now(wait=True)
    return win


def test_later_then_clean_quit_keeps_the_recovery(env, qtbot, tmp_path):  # noqa: F811
    new_window, errors = env
    folder = tmp_path / "autosave"
    crash_with_unsaved_world(new_window, "crashed work")
    (rec,) = proj.find_recoveries(folder)
    # Next start: "Later", then a clean quit with nothing changed.
    win2 = new_window()
    asked: list = []
    assert not win2.extensions["autosave"].offer_recovery(ask=lambda r: asked.append(r) or "later")
    assert asked[0].autosave == rec.autosave
    win2.extensions["autosave"].on_quit()
    assert rec.autosave.is_file()
    # A later session that makes and saves its own unsaved world also leaves it alone.
    win3 = new_window()
    win3.set_world(named_world("other"))
    win3.world.rename(win3.world.layers[0].id, "other edited")
    win3.extensions["autosave"].autosave_now(wait=True)
    win3.extensions["project_save"].save(tmp_path / "other.wander")
    wait_jobs(qtbot, win3)
    win3.extensions["autosave"].on_quit()
    assert [r.autosave for r in proj.find_recoveries(folder)] == [rec.autosave]
    # Still offered, and recoverable.
    win4 = new_window()
    assert win4.extensions["autosave"].offer_recovery(ask=lambda r: "recover")
    wait_jobs(qtbot, win4)
    assert [lay.name for lay in win4.world.layers] == ["crashed work"] and errors == []
    assert win4.document.dirty and win4.path is None
    # Recovered work keeps its file until it is saved (or autosaved anew, in the same slot).
    assert rec.autosave.is_file()
    win4.world.rename(win4.world.layers[0].id, "crashed work, edited")
    win4.extensions["autosave"].autosave_now(wait=True)
    (again,) = proj.find_recoveries(folder)
    assert again.autosave == rec.autosave  # same slot: no second copy
    win4.extensions["project_save"].save(tmp_path / "rescued.wander")
    wait_jobs(qtbot, win4)
    assert proj.find_recoveries(folder) == [] and errors == []


def test_two_crashed_unsaved_worlds_are_both_recoverable(env, qtbot, tmp_path):  # noqa: F811
    from viewer.project_autosave import RecoverDialog

    new_window, errors = env
    folder = tmp_path / "autosave"
    a = crash_with_unsaved_world(new_window, "first world", seed=1)
    time.sleep(0.05)
    b = crash_with_unsaved_world(new_window, "second world", seed=2)
    assert a.extensions["autosave"].autosave_file != b.extensions["autosave"].autosave_file
    recs = proj.find_recoveries(folder)
    assert len(recs) == 2 and recs[0].saved_at >= recs[1].saved_at
    assert all(
        r.project is None and r.thumbnail is not None and r.thumbnail.is_file() for r in recs
    )
    from PIL import Image

    thumb = np.asarray(Image.open(recs[0].thumbnail))
    assert thumb.ndim == 3 and thumb.std() > 5  # a picture, not a blank square
    # File > Recover lists both, with time and thumbnail.
    win = new_window()
    assert any(act.text() == "Recover &Unsaved Work…" for act in win.menu("&File").actions())
    dlg = RecoverDialog(win, win.extensions["autosave"].pending_recoveries())
    qtbot.addWidget(dlg)
    assert dlg.list.count() == 2
    texts = [dlg.list.item(i).text() for i in range(2)]
    assert all("Unsaved world" in t and "autosaved" in t for t in texts)
    assert all(not dlg.list.item(i).icon().isNull() for i in range(2))
    got = set()
    for rec in win.extensions["autosave"].pending_recoveries():
        w = new_window()
        assert w.extensions["autosave"].recover(rec) is not None
        wait_jobs(qtbot, w)
        got.add(w.world.layers[0].name)
    assert got == {"first world", "second world"} and errors == []
    # Discarding from the list deletes just that one.
    dlg.list.setCurrentRow(1)
    victim = dlg.selected()
    dlg.discard_selected(confirm=False)
    left = proj.find_recoveries(folder)
    assert victim.autosave not in [r.autosave for r in left] and len(left) == 1
    assert not proj.thumbnail_path(victim.autosave).exists()


def test_legacy_single_slot_file_is_still_offered(env, qtbot, tmp_path):  # noqa: F811
    new_window, _ = env
    legacy = proj.autosave_path(None, tmp_path / "autosave")  # as older versions wrote it
    legacy.parent.mkdir(parents=True)
    proj.save_project(
        named_world("old version"),
        legacy,
        include_inputs=False,
        extra={"autosave_of": None, "autosaved_at": time.time()},
    )
    win = new_window()
    asked: list = []
    win.extensions["autosave"].offer_recovery(ask=lambda r: asked.append(r) or "later")
    assert asked and asked[0].autosave.name == "untitled.autosave.wander"
    win.set_world(named_world("new"))
    win.world.rename(win.world.layers[0].id, "new edited")
    win.extensions["autosave"].autosave_now(wait=True)
    win.extensions["autosave"].on_quit()
    assert (tmp_path / "autosave" / "untitled.autosave.wander").is_file()


_DRIVER = textwrap.dedent("""
    import os, signal, sys, json
    sys.path.insert(0, {root!r}); sys.path.insert(0, {tests!r})
    from viewer.app import configure_gl
    configure_gl()
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication
    app = QApplication([sys.argv[0]])
    from viewer.main_window import PROJECT_FEATURES, MainWindow
    from test_project_recovery import named_world
    win = MainWindow(install_extensions=False)
    win.install_features(PROJECT_FEATURES)
    win._finish_menus()
    win.show()
    ext = win.extensions["autosave"]
    mode = sys.argv[1]
    if mode == "crash":
        win.set_world(named_world("draft"))
        win.world.rename(win.world.layers[0].id, sys.argv[2])
        ext.autosave_now(wait=True)
        os.kill(os.getpid(), signal.SIGKILL)
    offered = []
    def later():
        offered.extend(str(r.autosave) for r in ext.pending_recoveries())
        ext.offer_recovery(ask=lambda r: "later")
        app.quit()  # a clean quit: aboutToQuit -> on_quit
    QTimer.singleShot(300, later)
    app.exec()
    print(json.dumps(offered))
""")


def test_kill_9_after_autosave_then_later_then_quit_keeps_it(x_display, tmp_path):
    child_env = fake_home(tmp_path)
    child_env.update(
        WANDER_CONFIG_DIR=str(tmp_path / "config"),
        WANDER_AUTOSAVE_DIR=str(tmp_path / "auto"),
        QT_QPA_PLATFORM="xcb",
        DISPLAY=x_display,
        LIBGL_ALWAYS_SOFTWARE="1",
    )
    driver = tmp_path / "driver.py"
    driver.write_text(_DRIVER.format(root=str(ROOT), tests=str(ROOT / "tests")))

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(driver), *args],
            env=child_env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )

    for name in ("first", "second"):
        res = run("crash", name)
        assert res.returncode == -9, res.stderr
    res = run("later")
    assert res.returncode == 0, res.stderr
    offered = json.loads(res.stdout.strip().splitlines()[-1])
    assert len(offered) == 2
    res = run("later")  # restarted: both still offered
    assert sorted(json.loads(res.stdout.strip().splitlines()[-1])) == sorted(offered)
    names = sorted(
        proj.recover(r)[0].layers[0].name for r in proj.find_recoveries(tmp_path / "auto")
    )
    assert names == ["first", "second"]


def test_opening_crafted_projects_in_the_app(env, qtbot, tmp_path, monkeypatch):  # noqa: F811
    from project_craft import cloud_ply, layer_entry, manifest, project
    from test_project_safety import evil_project

    home_env = fake_home(tmp_path)
    home = Path(home_env["HOME"])
    monkeypatch.setenv("HOME", str(home))
    for var in ("XDG_CACHE_HOME", "WANDER_CACHE_DIR", "XDG_DATA_HOME"):
        monkeypatch.delenv(var, raising=False)
    new_window, errors = env
    win = new_window()
    before = snapshot(home)
    # Refused outright: one readable message, no Python error text.
    deep = json.dumps(manifest())[:-1] + ', "meta": ' + "[" * 50_000 + "]" * 50_000 + "}"
    ints = json.dumps(manifest())[:-1] + ', "x": ' + "7" * 5000 + "}"
    bad = [
        project(tmp_path / "deep.wander", deep),
        project(tmp_path / "ints.wander", ints),
        project(tmp_path / "newer.wander", manifest(format_version="7.0")),
    ]
    for p in bad:
        errors.clear()
        win.open_path(p)
        wait_jobs(qtbot, win)
        ((title, exc),) = errors
        assert isinstance(exc, SceneFormatError) and p.name in str(exc) and p.name in title
        assert "Traceback" not in str(exc) and "Error:" not in str(exc)
    # Opened with warnings: the rest shows, and a warning box lists what was refused.
    errors.clear()
    evil = evil_project(tmp_path, home)
    win.open_path(evil)
    wait_jobs(qtbot, win)
    assert errors == [] and [lay.name for lay in win.world.layers] == ["layer 1"]
    box = win._last_warning_box
    assert "not everything could be restored" in box.text()
    assert "not a SHA-256" in box.detailedText()
    dup = project(
        tmp_path / "dup.wander",
        manifest(layers=[layer_entry(5, "layers/1.ply"), layer_entry(5, "layers/2.ply")]),
        {"layers/1.ply": cloud_ply(seed=1), "layers/2.ply": cloud_ply(seed=2)},
    )
    win.open_path(dup)
    wait_jobs(qtbot, win)
    ids = [lay.id for lay in win.world.layers]
    assert len(set(ids)) == 2
    win.world.remove_layer(ids[0])
    assert [lay.id for lay in win.world.layers] == [ids[1]]
    assert (
        snapshot(home) == before and (home / ".bashrc").read_text() == "# the user's own bashrc\n"
    )


def _click_later_when_shown(qtbot, seen: list) -> None:  # noqa: ANN001
    """Press "Later" on the modal recovery dialog/box as soon as it is up."""
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication, QPushButton

    def press() -> None:
        w = QApplication.activeModalWidget()
        if w is None:
            QTimer.singleShot(50, press)
            return
        seen.append(w)
        buttons = [b for b in w.findChildren(QPushButton) if b.text().replace("&", "") == "Later"]
        if buttons:
            buttons[0].click()
        else:
            w.reject()

    QTimer.singleShot(50, press)


def test_real_startup_offer_later_keeps_every_file(env, qtbot, tmp_path):  # noqa: F811
    new_window, _ = env
    folder = tmp_path / "autosave"
    crash_with_unsaved_world(new_window, "one", seed=3)
    win = new_window()
    qtbot.wait(600)  # let the window's own start-up offer (dialogs off in tests) pass
    win.document.ask_user = True  # the real dialogs, as at a normal start
    seen: list = []
    _click_later_when_shown(qtbot, seen)
    assert not win.extensions["autosave"].offer_recovery()
    assert "Recover unsaved work" in seen[0].windowTitle()
    crash_with_unsaved_world(new_window, "two", seed=4)
    seen.clear()
    _click_later_when_shown(qtbot, seen)  # two of them: the list, with Later
    assert not win.extensions["autosave"].offer_recovery()
    assert seen[0].list.count() == 2
    win.extensions["autosave"].on_quit()
    assert len(proj.find_recoveries(folder)) == 2


def test_save_over_a_project_that_opened_incomplete_asks_first(env, qtbot, tmp_path):  # noqa: F811
    """A project with a layer that could not be read opens with what could be; Save over
    it then asks before replacing the file (the unreadable parts would be lost): with no
    answer nothing is written, Replace writes, Save As leaves the file as it was."""
    from project_craft import cloud_ply, layer_entry, manifest, project

    new_window, errors = env
    win = new_window()
    damaged = project(
        tmp_path / "damaged.wander",
        manifest(layers=[layer_entry(1, "layers/1.ply"), layer_entry(2, "layers/2.ply")]),
        {"layers/1.ply": cloud_ply(seed=1), "layers/2.ply": b"ply\nformat nonsense\n"},
    )
    before = damaged.read_bytes()
    win.open_path(damaged)
    wait_jobs(qtbot, win)
    assert errors == [] and len(win.world.layers) == 1
    assert win.document.incomplete
    saver = win.extensions["project_save"]
    assert saver.save() is None  # dialogs off: not replaced
    assert damaged.read_bytes() == before
    elsewhere = tmp_path / "copy.wander"
    win.document.ask_user = True  # the question answered "Save As…"
    saver.ask_incomplete = lambda name: "save_as"
    saver._ask_target = lambda: elsewhere
    saver.save()
    wait_jobs(qtbot, win)
    win.document.ask_user = False
    assert elsewhere.exists() and damaged.read_bytes() == before
    assert win.document.incomplete == []  # the open project is now the complete copy
