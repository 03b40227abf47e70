"""How responsive the GUI thread is: a 10 ms watchdog timer's lateness and the time spent in each slot or paint.

The window must never block its event loop for more than ``BLOCK_BUDGET_MS``. A precise timer
asks to run every ``WATCHDOG_MS``; how late each tick fires is the longest time the GUI thread
could not answer an event (a click, a repaint). :func:`instrument` wraps the methods the GUI
thread runs per frame (slots, display-rate refreshes, paints) so a report also says *what* took
the time. Used by ``mocap-app --measure-latency`` and ``scripts/gui_latency.py``; never active in
normal runs.

Example:
    >>> probe = LatencyProbe()                     # doctest: +SKIP
    >>> instrument(probe, DEFAULT_TARGETS)         # doctest: +SKIP (before the window is built)
    >>> probe.start(); app.exec(); print(probe.report())   # doctest: +SKIP
"""

from __future__ import annotations

import functools
import importlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer

#: Watchdog interval, milliseconds.
WATCHDOG_MS = 10
#: The most the GUI thread may be blocked at once, milliseconds (the application's target).
BLOCK_BUDGET_MS = 50.0
#: Percentiles the report prints.
PERCENTILES = (50, 90, 99)
#: GUI-thread methods timed by default: "module:Class" -> method names.
DEFAULT_TARGETS: dict[str, tuple[str, ...]] = {
    "ui.main_window:MainWindow": ("_on_frame", "_on_started", "_on_recording_started", "_on_recording_finished",
                                  "start"),
    "ui.video_panel:VideoPanel": ("set_frame", "_refresh", "paintEvent"),
    "ui.calibration_wizard:CalibrationWizard": ("feed_frame", "_on_detected"),
    "ui.recording_panel:RecordingPanel": ("add_take", "_tick"),
    "ui.video_panel:Timeline": ("set_position",),
    "ui.skeleton_view:SkeletonView": ("set_pose", "_refresh", "paintGL"),
    "ui.skeleton_view:SceneWindow": ("paintGL",),
    "ui.stats_panel:StatsPanel": ("add", "_redraw"),
    "pyqtgraph.widgets.PlotWidget:PlotWidget": ("paintEvent",),
}


@dataclass(frozen=True)
class Summary:
    """Percentiles of a list of durations, milliseconds."""

    count: int
    p50: float
    p90: float
    p99: float
    max: float
    total: float

    @classmethod
    def of(cls, values: Iterable[float]) -> Summary:
        array = np.asarray(list(values), dtype=np.float64)
        if array.size == 0:
            return cls(0, 0.0, 0.0, 0.0, 0.0, 0.0)
        p50, p90, p99 = np.percentile(array, PERCENTILES)
        return cls(int(array.size), float(p50), float(p90), float(p99), float(array.max()), float(array.sum()))

    def line(self, name: str) -> str:
        return (f"{name:<36} n={self.count:<6d} median {self.p50:7.2f}  p90 {self.p90:7.2f}  p99 {self.p99:7.2f}  "
                f"max {self.max:7.2f}  total {self.total:9.1f}")


class LatencyProbe(QObject):
    """Watchdog of the GUI thread plus per-method timings (see the module docstring).

    Attributes:
        lateness_ms: per watchdog tick, how much later than ``WATCHDOG_MS`` it fired.
        tick_times: per watchdog tick, when it fired (``time.perf_counter()`` seconds).
        durations_ms: per instrumented method (``"Class.method"``), the duration of every call.
        steady_from: when steady-state processing began (see :meth:`mark_steady`), or ``None``.
    """

    def __init__(self, interval_ms: int = WATCHDOG_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.interval_ms = interval_ms
        self.lateness_ms: list[float] = []
        self.tick_times: list[float] = []
        self.steady_from: float | None = None
        self.durations_ms: dict[str, list[float]] = {}
        self._last: float | None = None
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        """Start measuring (from now on, on the thread this object lives in)."""
        self._last = time.perf_counter()
        self._timer.start(self.interval_ms)

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.lateness_ms.append(max(0.0, 1e3 * (now - self._last) - self.interval_ms))
            self.tick_times.append(now)
        self._last = now

    def mark_steady(self) -> None:
        """From now on ticks count as steady-state processing (the first frame was shown; models loaded)."""
        if self.steady_from is None:
            self.steady_from = time.perf_counter()

    def record(self, name: str, milliseconds: float) -> None:
        self.durations_ms.setdefault(name, []).append(milliseconds)

    def lateness(self, steady: bool | None = None) -> list[float]:
        """Lateness of every tick (``steady``: only those after / ``False``: before :meth:`mark_steady`)."""
        if steady is None:
            return list(self.lateness_ms)
        start = self.steady_from if self.steady_from is not None else float("inf")
        return [late for late, at in zip(self.lateness_ms, self.tick_times, strict=True) if (at >= start) == steady]

    def report(self) -> str:
        """A table: watchdog lateness (start-up and steady state), ticks over budget, every timed method."""
        lines = [f"GUI-thread lateness of a {self.interval_ms} ms timer (ms):"]
        for label, steady in (("start-up (until the first frame)", False), ("processing (from the first frame)", True),
                              ("whole run", None)):
            values = self.lateness(steady)
            over = sum(value > BLOCK_BUDGET_MS for value in values)
            lines.append(Summary.of(values).line(label) + f"  >{BLOCK_BUDGET_MS:.0f} ms: {over}")
        lines.append("time spent per call on the GUI thread (ms):")
        summaries = sorted(((name, Summary.of(values)) for name, values in self.durations_ms.items()),
                           key=lambda item: -item[1].total)
        lines += [summary.line(name) for name, summary in summaries]
        return "\n".join(lines)


def _timed(probe: LatencyProbe, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            probe.record(name, 1e3 * (time.perf_counter() - start))

    return wrapper


def instrument(probe: LatencyProbe, targets: dict[str, tuple[str, ...]] = DEFAULT_TARGETS) -> None:
    """Time every call of ``targets``' methods into ``probe``; call it before the window is built.

    The methods are replaced on their classes (signal connections and Qt's virtual paints made
    afterwards reach the timed versions), so this is for measurement runs only.
    """
    for target, methods in targets.items():
        module_name, class_name = target.split(":")
        cls = getattr(importlib.import_module(module_name), class_name, None)
        for method in methods:
            if hasattr(cls, method):  # (an older or newer window may lack one)
                setattr(cls, method, _timed(probe, f"{class_name}.{method}", getattr(cls, method)))
