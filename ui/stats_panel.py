"""Live numbers: frames per second, milliseconds per pipeline stage, and what actually runs the network.

``add(result)`` is cheap (appends to ring buffers); the plots and numbers are redrawn by a slow
timer (``REDRAW_MS``), because nobody reads a number that changes 30 times a second and every
pyqtgraph repaint costs the GUI thread milliseconds. Curves use thin cosmetic pens and a fixed
x range, so a redraw does not re-layout the axes.
"""

from __future__ import annotations

import collections
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from mocap_app.pipeline.runner import STAGE_KEYS
from mocap_app.types import FrameResult

#: Samples kept per curve (5 s at 30 fps, 15 s at 10 fps).
HISTORY = 150
#: Plot and number redraw interval, milliseconds (4 Hz).
REDRAW_MS = 250
PLOT_HEIGHT_PX = 110
#: Frames over which each point of the fps curve is measured.
FPS_WINDOW = 10
#: The y axis shows up to this percentile of the kept samples times Y_MARGIN; it shrinks only below Y_SHRINK.
Y_PERCENTILE = 98.0
Y_MARGIN = 1.25
Y_SHRINK = 0.5
#: Frames over which the per-stage numbers are averaged.
NUMBERS_WINDOW = 15
#: Stages with their curve colours (RGB) and labels; unknown stages get grey.
STAGE_COLOURS: dict[str, tuple[int, int, int]] = {
    "source": (160, 160, 170),
    "stage1": (230, 159, 0),
    "stage2": (86, 180, 233),
    "tracking": (204, 121, 167),
    "fitting": (0, 158, 115),
}
STAGE_LABELS = {"source": "source", "stage1": "Stage I", "stage2": "Stage II", "tracking": "tracking",
                "fitting": "fitting"}
OTHER_STAGE_COLOUR = (120, 120, 120)
FPS_COLOUR = (240, 240, 240)
#: ONNX Runtime provider names -> what the badge says.
PROVIDER_NAMES = {
    "CPUExecutionProvider": "CPU",
    "CUDAExecutionProvider": "CUDA",
    "TensorrtExecutionProvider": "TensorRT",
}
BADGE_STYLE = ("QLabel {{ background: {bg}; color: #101010; border-radius: 4px; padding: 2px 8px; "
               "font-weight: bold; }}")
BADGE_COLOURS = {"CPU": "#c8c8c8", "CUDA": "#76b900", "TensorRT": "#9bd13b"}
FPS_STYLE = "QLabel { font-size: 20px; font-weight: bold; }"


def provider_label(provider: str) -> str:
    """Short name of an execution provider for the badge (``"CPUExecutionProvider"`` -> ``"CPU"``)."""
    return PROVIDER_NAMES.get(provider, provider.removesuffix("ExecutionProvider") or "-")


class StatsPanel(QWidget):
    """Provider/engine badges, the frame rate, and per-stage milliseconds as numbers and small rolling plots.

    Example:
        >>> stats = StatsPanel()          # doctest: +SKIP
        >>> stats.add(result)             # per frame: cheap; drawn at REDRAW_MS
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._times: collections.deque[float] = collections.deque(maxlen=HISTORY)
        self._stage_ms: dict[str, collections.deque[float]] = {}
        self._dirty = False

        # Badges
        self.provider_badge = QLabel("-")
        self.engine_badge = QLabel("-")
        self.fps_label = QLabel("- fps")
        self.fps_label.setStyleSheet(FPS_STYLE)
        for badge in (self.provider_badge, self.engine_badge):
            badge.setStyleSheet(BADGE_STYLE.format(bg="#888888"))
            badge.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.provider_badge.setToolTip("execution provider running the network")
        self.engine_badge.setToolTip("Stage I engine")
        badges = QHBoxLayout()
        badges.addWidget(QLabel("Running on"))
        badges.addWidget(self.provider_badge)
        badges.addWidget(self.engine_badge)
        badges.addStretch(1)
        badges.addWidget(self.fps_label)

        # Numbers: one row per stage (colour key of the plot, name, milliseconds)
        self.stage_labels: dict[str, QLabel] = {}
        numbers = self._numbers = QGridLayout()
        numbers.setVerticalSpacing(1)
        for row, stage in enumerate(STAGE_KEYS):
            swatch = QLabel("\u25a0")
            red, green, blue = STAGE_COLOURS.get(stage, OTHER_STAGE_COLOUR)
            swatch.setStyleSheet(f"color: rgb({red}, {green}, {blue});")
            value = QLabel("-")
            value.setMinimumWidth(64)
            self.stage_labels[stage] = value
            numbers.addWidget(swatch, row, 0)
            numbers.addWidget(QLabel(STAGE_LABELS.get(stage, stage)), row, 1)
            numbers.addWidget(value, row, 2)
        numbers.setRowStretch(len(STAGE_KEYS), 1)

        # Plots
        self.fps_plot = self._plot("frames per second")
        self._fps_curve = self.fps_plot.plot(pen=pg.mkPen(FPS_COLOUR, width=1))
        self.stage_plot = self._plot("milliseconds per stage")
        self._stage_curves: dict[str, pg.PlotDataItem] = {}

        plots = QHBoxLayout()
        plots.addWidget(self.fps_plot, 2)
        plots.addWidget(self.stage_plot, 3)
        plots.addLayout(numbers)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(badges)
        layout.addLayout(plots, 1)

        self._timer = QTimer(self)
        self._timer.timeout.connect(self._redraw)
        self._timer.start(REDRAW_MS)

    @staticmethod
    def _plot(title: str) -> pg.PlotWidget:
        plot = pg.PlotWidget(title=f"<span style='font-size: 9pt'>{title}</span>")
        plot.setMinimumHeight(PLOT_HEIGHT_PX)
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.showGrid(y=True, alpha=0.2)
        plot.setXRange(1 - HISTORY, 0, padding=0)  # frames ago: the newest sample is at the right edge
        plot.enableAutoRange(x=False, y=False)
        plot.setClipToView(True)
        plot.getPlotItem().getAxis("bottom").setStyle(showValues=False)
        plot.getPlotItem().getAxis("left").setWidth(32)
        return plot

    def add(self, result: FrameResult) -> None:
        """Record one processed frame (its wall-clock arrival, its stage timings, the provider)."""
        self._times.append(time.monotonic())
        for stage, ms in result.timings_ms.items():
            self._stage_ms.setdefault(stage, collections.deque(maxlen=HISTORY)).append(float(ms))
        self.set_runtime(result.provider, result.engine)
        self._dirty = True

    def set_runtime(self, provider: str, engine: str) -> None:
        """Show which provider and engine actually run."""
        label = provider_label(provider) if provider else "-"
        if self.provider_badge.text() != label:
            self.provider_badge.setText(label)
            self.provider_badge.setStyleSheet(BADGE_STYLE.format(bg=BADGE_COLOURS.get(label, "#888888")))
            self.provider_badge.setToolTip(f"execution provider: {provider or 'none yet'}")
        if engine and self.engine_badge.text() != engine:
            self.engine_badge.setText(engine)
            self.engine_badge.setStyleSheet(BADGE_STYLE.format(bg="#e69f00"))

    def reset(self) -> None:
        """Forget the history (a new source started)."""
        self._times.clear()
        self._stage_ms.clear()
        self._dirty = True

    def current_fps(self) -> float:
        """Frames per second over the kept history."""
        if len(self._times) < 2 or self._times[-1] <= self._times[0]:
            return 0.0
        return (len(self._times) - 1) / (self._times[-1] - self._times[0])

    def stage_numbers(self) -> dict[str, float]:
        """Mean milliseconds of each stage over the last ``NUMBERS_WINDOW`` frames."""
        return {stage: float(np.mean(list(values)[-NUMBERS_WINDOW:])) for stage, values in self._stage_ms.items()
                if values}

    def _redraw(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        times = np.asarray(self._times)
        if len(times) > FPS_WINDOW:
            # Rate over the last FPS_WINDOW frames at every sample: frames arrive in bursts through the
            # event queue, so frame-to-frame intervals would show noise, not the pipeline's speed.
            spans = np.maximum(times[FPS_WINDOW:] - times[:-FPS_WINDOW], 1e-6)
            fps = FPS_WINDOW / spans
            self._fps_curve.setData(_frames_ago(len(fps)), fps)
            _fit_y_range(self.fps_plot, fps)
        else:
            self._fps_curve.setData([], [])
        self.fps_label.setText(f"{self.current_fps():.1f} fps" if len(times) > 1 else "- fps")
        numbers = self.stage_numbers()
        for stage, label in self.stage_labels.items():
            label.setText(f"{numbers[stage]:.1f} ms" if stage in numbers else "-")
            for column in range(3):  # stages this engine does not have (e.g. Stage II of BlazePose) are hidden
                self._numbers.itemAtPosition(STAGE_KEYS.index(stage), column).widget().setVisible(
                    stage in numbers or not numbers)
        if self._stage_ms:
            _fit_y_range(self.stage_plot, np.concatenate([np.asarray(v) for v in self._stage_ms.values()]))
        for stage, values in self._stage_ms.items():
            curve = self._stage_curves.get(stage)
            if curve is None:
                colour = STAGE_COLOURS.get(stage, OTHER_STAGE_COLOUR)
                curve = self.stage_plot.plot(pen=pg.mkPen(colour, width=1), name=stage)
                self._stage_curves[stage] = curve
            curve.setData(_frames_ago(len(values)), np.asarray(values))


def _frames_ago(count: int) -> np.ndarray:
    """x values of ``count`` samples, the newest at 0."""
    return np.arange(1 - count, 1, dtype=np.float64)


def _fit_y_range(plot: pg.PlotWidget, values: np.ndarray) -> None:
    """Show 0 .. a margin over the 98th percentile (a start-up spike does not flatten the curve); the axis
    changes only when the data leave the range or use less than half of it, so it rarely re-lays out."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return
    wanted = max(float(np.percentile(finite, Y_PERCENTILE)) * Y_MARGIN, 1.0)
    current = plot.getPlotItem().getViewBox().viewRange()[1][1]
    if wanted > current or wanted < Y_SHRINK * current:
        plot.setYRange(0.0, wanted, padding=0)
