"""The CLI progress bar: one redrawn line on a terminal, a few plain lines in a log."""

from __future__ import annotations

import io

import pytest

from cli.progress import TerminalProgress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_redirected_output_gets_plain_lines_not_a_frame_per_step() -> None:
    out = io.StringIO()
    bar = TerminalProgress("job ", stream=out)
    bar(0.0, "features: 0/4 images")
    bar(0.5, "features: 4/4 images, 8192 each")
    for i in range(300):
        bar(0.5 + i / 1000, f"optimising: step {i} · loss {1 / (i + 1):.3f}")
    bar(1.0, "writing")
    bar.done()
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert len(lines) == 5, lines
    assert lines[2].endswith("optimising: step 0 · loss 1.000")
    assert lines[3].endswith("optimising: step 299 · loss 0.003")  # the last step is kept
    assert lines[4].endswith("writing")


def test_terminal_gets_one_redrawn_line() -> None:
    out = _Tty()
    bar = TerminalProgress("job ", stream=out)
    for i in range(10):
        bar(i / 10, f"step {i}")
    bar.done()
    text = out.getvalue()
    assert text.count("\r") == 10 and text.endswith("\n") and text.count("\n") == 1


def test_a_message_repeated_by_a_long_step_is_written_once() -> None:
    """A stage that repeats its message while it works (a depth map's sweep checking for
    a cancel) wrote it again when the next stage began: "depth 10/10: …" twice, 0.9 s
    apart (a trial). A change of message within the kind is still kept for then."""
    out = io.StringIO()
    bar = TerminalProgress("job ", stream=out)
    bar(0.1, "depth 1/2: a.jpg")
    bar(0.2, "depth 2/2: b.jpg")  # the same kind: held
    for _ in range(5):
        bar(0.25, "depth 2/2: b.jpg")
    bar(0.4, "depth done")
    bar.done()
    msgs = [ln.split("s  ", 1)[1] for ln in out.getvalue().splitlines()]
    assert msgs == ["depth 1/2: a.jpg", "depth 2/2: b.jpg", "depth done"], msgs
    out = io.StringIO()
    bar = TerminalProgress("job ", stream=out)
    bar(0.1, "depth 2/2: b.jpg")  # written
    for _ in range(5):
        bar(0.25, "depth 2/2: b.jpg")  # the same: nothing to add
    bar(0.4, "depth done")
    bar.done()
    msgs = [ln.split("s  ", 1)[1] for ln in out.getvalue().splitlines()]
    assert msgs == ["depth 2/2: b.jpg", "depth done"], msgs


def test_a_job_failing_in_its_first_second_leaves_its_error_alone(monkeypatch) -> None:  # noqa: ANN001
    """`world --photo cut.jpg 2> log`: two progress lines came before the error, so a
    failure was not one line where stderr went to a file (a trial). A plain log's lines
    of the first QUIET_S s wait: dropped when the job fails in them, written when it goes
    on or ends well; a terminal's bar is drawn at once as before."""
    import cli.progress as pg

    out = io.StringIO()
    bar = TerminalProgress("world ", stream=out)
    with pytest.raises(ValueError, match="corrupt"):
        try:  # as the commands run a job: done() in a `finally`
            bar(0.0, "load")
            bar(0.0, "loading cut.jpg")
            raise ValueError("image data is corrupt")
        finally:
            bar.done()
    assert out.getvalue() == ""
    out = io.StringIO()
    bar = TerminalProgress("world ", stream=out)
    bar(0.0, "load")
    bar(0.5, "place")
    assert out.getvalue() == ""  # waiting
    bar.done()
    assert [ln.split("s  ", 1)[1] for ln in out.getvalue().splitlines()] == ["load", "place"]
    monkeypatch.setattr(pg, "QUIET_S", 0.0)  # past the first seconds: written at once
    out = io.StringIO()
    bar = TerminalProgress("world ", stream=out)
    bar(0.0, "load")
    bar(0.5, "place")
    assert [ln.split("s  ", 1)[1] for ln in out.getvalue().splitlines()] == ["load", "place"]
