"""Live numbers: frames per second, milliseconds per pipeline stage, and what actually runs the network.

``add(result)`` is cheap (appends to ring buffers); the plots are redrawn by a slow timer, because
nobody reads a number that changes 30 times a second.
"""

from __future__ import annotations

import collections
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from mocap_app.types import FrameResult

#: Samples kept per curve (about 10 s at 30 fps).
HISTORY = 300
#: Plot redraw interval, milliseconds.
REDRAW_MS = 250
PLOT_HEIGHT_PX = 130
#: Frames over which each point of the fps curve is measured.
FPS_WINDOW = 10
#: Stages in pipeline order with their curve colours (RGB); unknown stages get grey.
STAGE_COLOURS: dict[str, tuple[int, int, int]] = {
    "source": (160, 160, 170),
    "stage1": (230, 159, 0),
    "stage2": (86, 180, 233),
    "tracking": (204, 121, 167),
    "fitting": (0, 158, 115),
}
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


def provider_label(provider: str) -> str:
    """Short name of an execution provider for the badge (``"CPUExecutionProvider"`` -> ``"CPU"``)."""
    return PROVIDER_NAMES.get(provider, provider.removesuffix("ExecutionProvider") or "-")


class StatsPanel(QWidget):
    """Frame rate and per-stage milliseconds as small rolling plots, with a provider/engine badge."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._times: collections.deque[float] = collections.deque(maxlen=HISTORY)
        self._stage_ms: dict[str, collections.deque[float]] = {}
        self._dirty = False

        # Badges
        self.provider_badge = QLabel("-")
        self.engine_badge = QLabel("-")
        self.fps_label = QLabel("0.0 fps")
        for badge in (self.provider_badge, self.engine_badge):
            badge.setStyleSheet(BADGE_STYLE.format(bg="#888888"))
            badge.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        badges = QHBoxLayout()
        badges.addWidget(self.provider_badge)
        badges.addWidget(self.engine_badge)
        badges.addStretch(1)
        badges.addWidget(self.fps_label)

        # Plots
        self.fps_plot = self._plot("frames per second")
        self._fps_curve = self.fps_plot.plot(pen=pg.mkPen(FPS_COLOUR, width=2))
        self.stage_plot = self._plot("milliseconds per stage")
        self.stage_plot.addLegend(offset=(-1, 1), labelTextSize="7pt")
        self._stage_curves: dict[str, pg.PlotDataItem] = {}

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(badges)
        layout.addWidget(self.fps_plot)
        layout.addWidget(self.stage_plot)

        self._timer = QTimer(self)
        self._timer.timeout.connect(self._redraw)
        self._timer.start(REDRAW_MS)

    @staticmethod
    def _plot(title: str) -> pg.PlotWidget:
        plot = pg.PlotWidget(title=title)
        plot.setFixedHeight(PLOT_HEIGHT_PX)
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.showGrid(y=True, alpha=0.2)
        plot.getPlotItem().getAxis("bottom").setStyle(showValues=False)
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
            self.engine_badge.setToolTip("Stage I engine")

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

    def _redraw(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        times = np.asarray(self._times)
        if len(times) > FPS_WINDOW:
            # Rate over the last FPS_WINDOW frames at every sample: frames arrive in bursts through the
            # event queue, so frame-to-frame intervals would show noise, not the pipeline's speed.
            spans = np.maximum(times[FPS_WINDOW:] - times[:-FPS_WINDOW], 1e-6)
            self._fps_curve.setData(FPS_WINDOW / spans)
        else:
            self._fps_curve.setData([])
        self.fps_label.setText(f"{self.current_fps():.1f} fps")
        for stage, values in self._stage_ms.items():
            curve = self._stage_curves.get(stage)
            if curve is None:
                colour = STAGE_COLOURS.get(stage, OTHER_STAGE_COLOUR)
                curve = self.stage_plot.plot(pen=pg.mkPen(colour, width=1.5), name=stage)
                self._stage_curves[stage] = curve
            curve.setData(np.asarray(values))
