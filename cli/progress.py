"""A terminal progress bar usable as a generator progress callback."""

from __future__ import annotations

import sys
import time


class TerminalProgress:
    """`progress(fraction, message)` drawing one updating line on stderr."""

    def __init__(self, label: str = "", width: int = 30, stream=None) -> None:
        self.label, self.width = label, width
        self.stream = stream or sys.stderr
        self.t0 = time.perf_counter()
        self._last = ""

    def __call__(self, fraction: float, message: str) -> None:
        f = min(max(fraction, 0.0), 1.0)
        n = int(round(f * self.width))
        line = (f"\r{self.label}[{'#' * n}{'.' * (self.width - n)}] {f * 100:5.1f}% "
                f"{time.perf_counter() - self.t0:6.1f}s  {message[:50]:<50}")
        if line != self._last:
            self.stream.write(line)
            self.stream.flush()
            self._last = line

    def done(self) -> None:
        self.stream.write("\n")
        self.stream.flush()
