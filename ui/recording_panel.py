"""Recording: record/stop with a running timer, the list of takes, and BVH export of one or all performers.

The panel only collects what the user wants; the window hands it to the take recorder and the BVH
writer (:mod:`mocap_app.takes`, :mod:`mocap_app.bvh`) off the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QElapsedTimer, Qt, QTimer, Signal
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from mocap_app.bvh import EULER_ORDERS
from mocap_app.conventions import DEFAULT_EULER_ORDER

#: Timer label refresh, milliseconds.
TIMER_MS = 100
RECORD_STYLE = "QPushButton { background: #c0392b; color: white; font-weight: bold; padding: 6px 14px; }"
STOP_STYLE = "QPushButton { background: #7f8c8d; color: white; font-weight: bold; padding: 6px 14px; }"
#: BVH length scales offered (file units per centimetre): centimetres (the writer's default), metres, inches.
SCALES = {"centimetres (1)": 1.0, "metres (0.01)": 0.01, "millimetres (10)": 10.0, "inches (0.3937)": 1 / 2.54}
ALL_PERFORMERS = "All performers"
EMPTY_TAKES_HINT = "No takes yet: press Record while a source runs. Takes are journaled as they are recorded."


@dataclass(frozen=True)
class TakeEntry:
    """A recorded take as the list shows it.

    Attributes:
        path: the take's journal (or folder) on disk.
        performer_ids: performers with at least one frame.
        frames: frames recorded.
        duration_s: length of the take, seconds.
        note: why it ended, when not by the user (e.g. "camera lost").
    """

    path: Path
    performer_ids: tuple[int, ...]
    frames: int
    duration_s: float
    note: str = ""

    def label(self) -> str:
        who = ", ".join(f"#{p}" for p in self.performer_ids) or "nobody"
        note = f"  [{self.note}]" if self.note else ""
        return f"{self.path.stem}   {self.duration_s:6.1f} s   {self.frames} frames   {who}{note}"


@dataclass(frozen=True)
class ExportRequest:
    """One BVH export: which take, which performer (``None``: all, one file each), how, where."""

    take: TakeEntry
    performer_id: int | None
    order: str
    scale: float
    folder: Path


class TakesList(QListWidget):
    """The takes list; says what to do while it is empty."""

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        super().paintEvent(event)
        if self.count() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.viewport().rect().adjusted(8, 8, -8, -8),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, EMPTY_TAKES_HINT)


class RecordingPanel(QWidget):
    """Record button with timer, takes list, export options.

    Signals:
        record_toggled(bool): the user pressed Record (True) or Stop (False).
        export_requested(ExportRequest): the user asked for BVH files.
    """

    record_toggled = Signal(bool)
    export_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._clock = QElapsedTimer()
        self._recording = False

        self.record_button = QPushButton("Record")
        self.record_button.setStyleSheet(RECORD_STYLE)
        self.timer_label = QLabel("00:00.0")
        self.timer_label.setStyleSheet("font-family: monospace; font-size: 16px;")
        self.takes = TakesList()
        self.performer = QComboBox()
        self.order = QComboBox()
        self.order.addItems(list(EULER_ORDERS))
        self.order.setCurrentText(DEFAULT_EULER_ORDER)
        self.scale = QComboBox()
        self.scale.addItems(list(SCALES))
        self.custom_scale = QDoubleSpinBox()
        self.custom_scale.setRange(1e-4, 1e4)
        self.custom_scale.setDecimals(4)
        self.custom_scale.setValue(1.0)
        self.custom_scale.setToolTip("length factor applied to the centimetre take")
        self.export_button = QPushButton("Export BVH...")
        self.export_button.setEnabled(False)

        top = QHBoxLayout()
        top.addWidget(self.record_button)
        top.addWidget(self.timer_label)
        top.addStretch(1)
        form = QFormLayout()
        form.addRow("Performer", self.performer)
        form.addRow("Euler order", self.order)
        form.addRow("Units", self.scale)
        form.addRow("Scale", self.custom_scale)
        controls = QVBoxLayout()
        controls.addLayout(top)
        controls.addLayout(form)
        controls.addWidget(self.export_button)
        controls.addStretch(1)
        takes = QVBoxLayout()
        takes.addWidget(QLabel("Takes"))
        takes.addWidget(self.takes, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(controls)
        layout.addLayout(takes, 1)

        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self.record_button.clicked.connect(lambda: self.record_toggled.emit(not self._recording))
        self.takes.currentItemChanged.connect(self._take_selected)
        self.scale.currentTextChanged.connect(lambda text: self.custom_scale.setValue(SCALES[text]))
        self.export_button.clicked.connect(self._export_dialog)

    # --- state from the window ----------------------------------------------------------------
    def set_defaults(self, order: str, scale: float) -> None:
        """Euler order and scale preselected for exports (from the settings)."""
        self.order.setCurrentText(order)
        self.custom_scale.setValue(scale)

    def set_recording(self, recording: bool) -> None:
        """Show the recording state (the window calls this once the recorder really started or stopped)."""
        self._recording = recording
        self.record_button.setText("Stop" if recording else "Record")
        self.record_button.setStyleSheet(STOP_STYLE if recording else RECORD_STYLE)
        if recording:
            self._clock.start()
            self._timer.start(TIMER_MS)
            self.timer_label.setText("00:00.0")
        else:
            self._timer.stop()

    @property
    def recording(self) -> bool:
        return self._recording

    def add_take(self, take: TakeEntry) -> None:
        """Append a finished take and select it."""
        item = QListWidgetItem(take.label())
        item.setData(Qt.ItemDataRole.UserRole, take)
        self.takes.addItem(item)
        self.takes.setCurrentItem(item)

    def selected_take(self) -> TakeEntry | None:
        item = self.takes.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def export_request(self, folder: Path) -> ExportRequest | None:
        """What the export controls say, for the selected take, into ``folder``."""
        take = self.selected_take()
        if take is None:
            return None
        text = self.performer.currentText()
        performer = None if text == ALL_PERFORMERS else int(text.lstrip("#"))
        return ExportRequest(take, performer, self.order.currentText(), float(self.custom_scale.value()), folder)

    # --- internals ----------------------------------------------------------------------------
    def _tick(self) -> None:
        seconds = self._clock.elapsed() / 1000.0
        minutes, rest = divmod(seconds, 60.0)
        self.timer_label.setText(f"{int(minutes):02d}:{rest:04.1f}")

    def _take_selected(self, current: QListWidgetItem | None, previous: object = None) -> None:
        self.performer.clear()
        take = None if current is None else current.data(Qt.ItemDataRole.UserRole)
        self.export_button.setEnabled(take is not None and bool(take.performer_ids))
        if take is not None:
            self.performer.addItem(ALL_PERFORMERS)
            self.performer.addItems([f"#{p}" for p in take.performer_ids])

    def _export_dialog(self) -> None:
        take = self.selected_take()
        if take is None:
            return
        folder = QFileDialog.getExistingDirectory(self, "Export BVH into", str(take.path.parent))
        if folder:
            request = self.export_request(Path(folder))
            if request is not None:
                self.export_requested.emit(request)
