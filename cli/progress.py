"""A terminal progress bar usable as a generator progress callback."""

from __future__ import annotations

import re
import sys
import time

#: a message without its numbers: "optimising: step 12 · loss 0.2" and "... step 13 · loss 0.1"
#: are the same kind of line, "features: 4/4 images, 8192 each" another than "features: 0/4"
_NUMBERS = re.compile(r"\d+")


#: a plain log's lines of a job's first seconds wait this long (`TerminalProgress`)
QUIET_S = 1.0


class TerminalProgress:
    """`progress(fraction, message)` drawing one updating line on stderr.

    When the stream is not a terminal (output redirected to a file or a pipe) it writes
    plain lines instead: each new kind of message (its text without numbers), the last
    one of a kind before the next kind, and otherwise at most one every `log_every`
    seconds, so a log does not fill with hundreds of carriage-return frames. Lines of the
    first QUIET_S seconds wait; a job that fails in them (a photo it cannot read) leaves
    its error alone on the stream, one line, and the others are written once it goes on.
    """

    def __init__(
        self, label: str = "", width: int = 30, stream=None, log_every: float = 10.0
    ) -> None:
        self.label, self.width = label, width
        self.stream = stream or sys.stderr
        self.t0 = time.perf_counter()
        self._last = ""
        isatty = getattr(self.stream, "isatty", None)
        self.interactive = bool(isatty and isatty())
        self.log_every = log_every
        self._last_kind: str | None = None
        self._last_time = -1e9
        self._held: str | None = None  # the latest line of this kind not written yet
        self._last_message: str | None = None  # the message of the last line written
        self._early: list[str] | None = []  # lines of the first QUIET_S s (None: written)

    def __call__(self, fraction: float, message: str) -> None:
        # never backwards: a stage that restarts its own count lower keeps the bar where it was
        f = self._high = max(min(max(fraction, 0.0), 1.0), getattr(self, "_high", 0.0))
        elapsed = time.perf_counter() - self.t0
        if not self.interactive:
            kind = _NUMBERS.sub("#", message)
            text = f"{self.label}{f * 100:5.1f}% {elapsed:6.1f}s  {message}\n"
            if kind != self._last_kind or elapsed - self._last_time >= self.log_every:
                if kind != self._last_kind and self._held:
                    self._write(self._held, elapsed)
                self._write(text, elapsed)
                self._last_kind, self._last_time, self._held = kind, elapsed, None
                self._last_message = message
            elif message != self._last_message:
                self._held = text
            # (the same message again, as a long step repeats it: nothing to add; a trial
            # saw "depth 10/10: …" twice)
            return
        n = int(round(f * self.width))
        line = (
            f"\r{self.label}[{'#' * n}{'.' * (self.width - n)}] {f * 100:5.1f}% "
            f"{elapsed:6.1f}s  {message[:50]:<50}"
        )
        if line != self._last:
            self.stream.write(line)
            self.stream.flush()
            self._last = line

    def _write(self, text: str, elapsed: float) -> None:
        """A plain line, held with the others while the job is in its first QUIET_S s."""
        if self._early is not None:
            self._early.append(text)
            if elapsed < QUIET_S:
                return
            text, self._early = "".join(self._early), None
        self.stream.write(text)
        self.stream.flush()

    def done(self) -> None:
        failed = sys.exc_info()[0] is not None  # (called from a `finally` as it unwinds)
        if not self.interactive and self._held:
            self._write(self._held, 0.0)
            self._held = None
        if self._early is not None:
            if self._early and not failed:
                self.stream.write("".join(self._early))
                self.stream.flush()
            self._early = None
        if self.interactive:
            self.stream.write("\n")
            self.stream.flush()
