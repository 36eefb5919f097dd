"""The CLI progress bar: one redrawn line on a terminal, a few plain lines in a log."""

from __future__ import annotations

import io

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
