"""A dependency-free progress bar for long work (fetches, offline processing, training).

Writes to stderr and only redraws a few times a second, so it costs nothing per item. When stderr
is not a terminal (CI, logs) it prints a plain line every 10 % instead of redrawing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import IO, TypeVar

T = TypeVar("T")

_REDRAW_S = 0.2
#: Stands for "sys.stderr as it is when the bar starts" (pytest and GUIs replace sys.stderr later).
STDERR = "stderr"


class Progress:
    """Counts items towards an optional total and shows rate and ETA.

    Example:
        >>> with Progress(total=100, label="frames", stream=None) as bar:
        ...     for _ in range(100):
        ...         bar.update()
    """

    def __init__(self, total: int | None = None, label: str = "", unit: str = "it",
                 stream: IO[str] | str | None = STDERR) -> None:
        self.total = total if total and total > 0 else None
        self.label = label
        self.unit = unit
        self.stream: IO[str] | None = sys.stderr if stream == STDERR else stream  # type: ignore[assignment]
        self.count = 0
        self._start = time.perf_counter()
        self._last_draw = 0.0
        self._last_decile = -1
        self._tty = bool(stream is not None and getattr(stream, "isatty", lambda: False)())

    def update(self, step: int = 1) -> None:
        self.count += step
        now = time.perf_counter()
        if self.stream is None:
            return
        if self._tty and now - self._last_draw >= _REDRAW_S:
            self._last_draw = now
            self.stream.write("\r" + self._line(now))
            self.stream.flush()
        elif not self._tty and self.total:
            decile = int(10 * self.count / self.total)
            if decile != self._last_decile:
                self._last_decile = decile
                self.stream.write(self._line(now) + "\n")

    def _line(self, now: float) -> str:
        elapsed = max(now - self._start, 1e-9)
        rate = self.count / elapsed
        if self.total:
            remaining = (self.total - self.count) / rate if rate > 0 else float("inf")
            eta = f"{remaining:5.0f}s left" if remaining != float("inf") else "   ?s left"
            return (f"{self.label} {100 * self.count / self.total:5.1f}% {self.count}/{self.total} "
                    f"{rate:6.1f} {self.unit}/s {eta}")
        return f"{self.label} {self.count} {self.unit} {rate:6.1f} {self.unit}/s"

    def close(self) -> None:
        if self.stream is not None and self._tty:
            self.stream.write("\r" + self._line(time.perf_counter()) + "\n")
            self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def progress(items: Iterable[T], total: int | None = None, label: str = "", unit: str = "it",
             stream: IO[str] | str | None = STDERR) -> Iterator[T]:
    """Wrap an iterable with a :class:`Progress` bar."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with Progress(total=total, label=label, unit=unit, stream=stream) as bar:
        for item in items:
            yield item
            bar.update()
