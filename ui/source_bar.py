"""The source toolbar: the cameras found (each with a resolution and frame-rate choice) and video files.

Camera probing opens every device index in turn and can take seconds, so it runs on Qt's thread
pool (:func:`ui.worker.run_in_background`); the toolbar answers with signals and never blocks the
GUI thread. The window adds its transport actions (Start, Pause, Stop) after these controls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QLabel, QPushButton, QToolBar, QWidget

from mocap_app.sources import CameraInfo, list_cameras

from .worker import run_in_background

#: Camera modes offered besides the driver's default: (width, height, fps).
CAMERA_MODES = ((640, 480, 30.0), (1280, 720, 30.0), (1920, 1080, 30.0), (1280, 720, 60.0))
DRIVER_DEFAULT = "driver default"
VIDEO_FILTER = "Videos (*.mp4 *.avi *.mov *.mkv *.webm *.m4v);;All files (*)"
SOURCE_MIN_WIDTH_PX = 260


class SourceBar(QToolBar):
    """Choose what to capture from: a camera (and its mode) or a video file.

    Args:
        last_source: the camera index or file used last time (offered again).

    Signals:
        source_changed(): another source (or none) is selected.
        status_message(str): progress to show in the status bar.
        problem(str, str): title and message of a failure (camera probing failed).
    """

    source_changed = Signal()
    status_message = Signal(str)
    problem = Signal(str, str)

    def __init__(self, last_source: str = "", parent: QWidget | None = None) -> None:
        super().__init__("Source", parent)
        self.setObjectName("source_toolbar")
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.last_source = last_source
        self._tasks: set[Any] = set()

        # Widgets
        self.source_combo = QComboBox()
        self.source_combo.setMinimumWidth(SOURCE_MIN_WIDTH_PX)
        self.mode_combo = QComboBox()
        self.mode_combo.setToolTip("camera resolution and frame rate")
        self.refresh_button = QPushButton("Find cameras")
        self.browse_button = QPushButton("Video file...")
        self.addWidget(QLabel(" Source "))
        self.addWidget(self.source_combo)
        self._mode_action = self.addWidget(self.mode_combo)
        self.addWidget(self.refresh_button)
        self.addWidget(self.browse_button)

        # Connections
        self.refresh_button.clicked.connect(self.find_cameras)
        self.browse_button.clicked.connect(self.browse_video)
        self.source_combo.currentIndexChanged.connect(self._source_changed)
        self.populate([])

    def find_cameras(self) -> None:
        """Probe the cameras on a background thread; the list is filled when it answers."""
        self.refresh_button.setEnabled(False)
        self.status_message.emit("Looking for cameras...")
        task: Any = None

        def done(cameras: list[CameraInfo]) -> None:
            self._tasks.discard(task)
            self.populate(cameras)
            self.status_message.emit(f"{len(cameras)} camera(s) found")

        def failed(message: str) -> None:
            self._tasks.discard(task)
            self.refresh_button.setEnabled(True)
            self.problem.emit("Cameras", message)

        task = run_in_background(list_cameras, done, failed)
        self._tasks.add(task)

    def populate(self, cameras: list[CameraInfo]) -> None:
        """List these cameras, plus the last video file; the current choice is kept when still there."""
        self.refresh_button.setEnabled(True)
        current = self.source_spec()
        self.source_combo.blockSignals(True)
        self.source_combo.clear()
        for camera in cameras:
            label = f"Camera {camera.index}  ({camera.width}x{camera.height}, {camera.fps:.0f} fps, {camera.backend})"
            self.source_combo.addItem(label, str(camera.index))
        if self.last_source and not self.last_source.isdigit():
            self.source_combo.addItem(Path(self.last_source).name, self.last_source)
        self.source_combo.blockSignals(False)
        self.select_source(current or self.last_source)
        self._source_changed()

    def select_source(self, spec: str) -> None:
        """Select (adding it when new) a camera index or a video file path."""
        if not spec:
            return
        index = self.source_combo.findData(spec)
        if index < 0:
            label = f"Camera {spec}" if spec.isdigit() else Path(spec).name
            self.source_combo.addItem(label, spec)
            self.source_combo.setItemData(self.source_combo.count() - 1, spec, Qt.ItemDataRole.ToolTipRole)
            index = self.source_combo.count() - 1
        self.source_combo.setCurrentIndex(index)

    def source_spec(self) -> str:
        """The selected camera index (as text) or file path; ``""`` for none."""
        return self.source_combo.currentData() or ""

    def camera_mode(self) -> tuple[int, int, float] | None:
        """(width, height, fps) chosen for a camera, ``None`` for the driver's default (or a file)."""
        return self.mode_combo.currentData() if self.source_spec().isdigit() else None

    def set_running(self, running: bool) -> None:
        """Lock the choice while a source runs."""
        self.source_combo.setEnabled(not running)
        self.mode_combo.setEnabled(not running and self.source_spec().isdigit())
        self.browse_button.setEnabled(not running)

    def browse_video(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open video", "", VIDEO_FILTER)
        if path:
            self.select_source(path)

    def _source_changed(self) -> None:
        is_camera = self.source_spec().isdigit()
        self.mode_combo.clear()
        if is_camera:
            self.mode_combo.addItem(DRIVER_DEFAULT, None)
            for width, height, fps in CAMERA_MODES:
                self.mode_combo.addItem(f"{width}x{height} @ {fps:.0f} fps", (width, height, fps))
        self._mode_action.setVisible(is_camera)  # resolution and frame rate: cameras only
        self.source_changed.emit()
