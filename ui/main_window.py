"""The main window: source controls, live video with 2D skeletons, the 3D view, live numbers and recording.

It holds no pipeline logic: a :class:`~ui.worker.PipelineWorker` on its own thread runs the same
:class:`~mocap_app.pipeline.runner.Pipeline` that ``mocap run`` runs, and the window only shows
its :class:`~mocap_app.types.FrameResult`s and forwards the user's commands.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QSettings, Qt, QThread, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QPainter, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from calibration.camera_file import CameraCalibration
from mocap_app import __version__
from mocap_app.errors import MocapError

from . import takes_bridge
from .app import WINDOW_TITLE
from .calibration_wizard import CalibrationWizard
from .errors import ErrorBanner, QtLogBridge, describe
from .frame_view import FrameView
from .recording_panel import ExportRequest, RecordingPanel, TakeEntry
from .settings import AppSettings, SettingsDialog, load_settings, save_settings
from .skeleton_view import SkeletonView
from .source_bar import SourceBar
from .stats_panel import StatsPanel
from .video_panel import Timeline, VideoPanel
from .worker import PipelineWorker, SourceInfo, SourceRequest, run_in_background

logger = logging.getLogger(__name__)

#: How long closing the window waits for the pipeline thread, milliseconds.
STOP_WAIT_MS = 5000
STATUS_MS = 8000
#: Height of the bottom docks (live numbers, recording), pixels.
DOCK_HEIGHT_PX = 250
PANEL_TITLE_STYLE = "QLabel { font-weight: bold; color: #c8cad2; padding: 2px 0px; }"


def _panel_title(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet(PANEL_TITLE_STYLE)
    return label


class MainWindow(QMainWindow):
    """Top-level window: menus, toolbar, panels, docks and the status bar.

    Args:
        store: where settings persist (``None``: the user's QSettings for this application).

    Signals:
        frame_processed(FrameResult): a processed frame was handed to the panels.
        run_finished(): the pipeline thread ended (source ended, stopped or failed).
    """

    frame_processed = Signal(object)
    run_finished = Signal()

    def __init__(self, store: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle(f"{WINDOW_TITLE} {__version__}")
        self.store = store if store is not None else QSettings("mocap", "mocap-app")
        self.settings: AppSettings = load_settings(self.store)
        self.calibration: CameraCalibration | None = None
        self.worker: PipelineWorker | None = None
        self.thread: QThread | None = None
        self.source_info: SourceInfo | None = None
        self.last_result: Any = None
        self._tasks: set[Any] = set()
        self._paused = False
        self.frames_shown = 0

        # Menus
        file_menu = self.menuBar().addMenu("&File")
        self.open_action = QAction("&Open video...", self, shortcut=QKeySequence.StandardKey.Open)
        self.load_calibration_action = QAction("&Load calibration...", self)
        self.quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        file_menu.addActions([self.open_action, self.load_calibration_action])
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        capture_menu = self.menuBar().addMenu("&Capture")
        self.start_action = QAction("&Start", self, shortcut="F5")
        self.pause_action = QAction("&Pause", self, shortcut="Space", checkable=True)
        self.stop_action = QAction("S&top", self, shortcut="Shift+F5")
        self.record_action = QAction("&Record / stop take", self, shortcut="Ctrl+R")
        capture_menu.addActions([self.start_action, self.pause_action, self.stop_action, self.record_action])
        icons = QStyle.StandardPixmap
        for action, icon in ((self.start_action, icons.SP_MediaPlay), (self.pause_action, icons.SP_MediaPause),
                             (self.stop_action, icons.SP_MediaStop), (self.open_action, icons.SP_DialogOpenButton)):
            action.setIcon(self.style().standardIcon(icon))
        tools_menu = self.menuBar().addMenu("&Tools")
        self.calibrate_action = QAction("&Calibration wizard...", self)
        self.settings_action = QAction("S&ettings...", self, shortcut=QKeySequence.StandardKey.Preferences)
        tools_menu.addActions([self.calibrate_action, self.settings_action])
        help_menu = self.menuBar().addMenu("&Help")
        self.about_action = QAction("&About", self)
        help_menu.addAction(self.about_action)

        # Toolbar: source selection and transport
        self.source_bar = SourceBar(self.settings.last_source)
        self.source_bar.addSeparator()
        self.source_bar.addActions([self.start_action, self.pause_action, self.stop_action])
        self.addToolBar(self.source_bar)

        # Panels
        self.banner = ErrorBanner()
        self.video = VideoPanel()
        self.timeline = Timeline()
        self.view3d = SkeletonView()
        self.follow_combo = QComboBox()
        self.follow_combo.addItem("Free camera")
        self.reset_view_button = QPushButton("Reset view")
        self.stats = StatsPanel()
        self.recording = RecordingPanel()
        self.recording.set_defaults(self.settings.euler_order, self.settings.export_scale)
        self.calibration_label = QLabel()
        self.source_label = QLabel("no source")
        self.wizard: CalibrationWizard | None = None

        # Layout: video | 3D view on top, live numbers | recording below
        video_box = QWidget()
        video_layout = QVBoxLayout(video_box)
        video_layout.setContentsMargins(0, 0, 0, 0)
        video_layout.addWidget(_panel_title("Video  (2D skeletons)"))
        video_layout.addWidget(self.video, 1)
        video_layout.addWidget(self.timeline)
        view_box = QWidget()
        view_layout = QVBoxLayout(view_box)
        view_layout.setContentsMargins(0, 0, 0, 0)
        view_bar = QHBoxLayout()
        view_bar.addWidget(_panel_title("3D view"))
        view_bar.addStretch(1)
        view_bar.addWidget(QLabel("Follow"))
        view_bar.addWidget(self.follow_combo)
        view_bar.addWidget(self.reset_view_button)
        view_layout.addLayout(view_bar)
        view_layout.addWidget(self.view3d, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(video_box)
        splitter.addWidget(view_box)
        splitter.setSizes([1, 1])
        central = QWidget()
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(6, 6, 6, 0)
        central_layout.addWidget(self.banner)
        central_layout.addWidget(splitter, 1)
        self.setCentralWidget(central)
        docks = []
        for title, widget in (("Performance", self.stats), ("Recording", self.recording)):
            dock = QDockWidget(title, self)
            dock.setObjectName(f"{title.lower()}_dock")
            dock.setWidget(widget)
            dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                             | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
            self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
            docks.append(dock)
        self.splitDockWidget(docks[0], docks[1], Qt.Orientation.Horizontal)
        self.resizeDocks(docks, [DOCK_HEIGHT_PX, DOCK_HEIGHT_PX], Qt.Orientation.Vertical)
        self.statusBar().addPermanentWidget(self.source_label)
        self.statusBar().addPermanentWidget(self.calibration_label)
        self.statusBar().showMessage("Ready")

        # Logging into the window
        self.log_bridge = QtLogBridge()
        logging.getLogger().addHandler(self.log_bridge)

        # Connections
        self.open_action.triggered.connect(self.source_bar.browse_video)
        self.load_calibration_action.triggered.connect(self.browse_calibration)
        self.quit_action.triggered.connect(self.close)
        self.start_action.triggered.connect(self.start)
        self.pause_action.toggled.connect(self.set_paused)
        self.stop_action.triggered.connect(self.stop)
        self.record_action.triggered.connect(lambda: self.toggle_recording(not self.recording.recording))
        self.calibrate_action.triggered.connect(self.open_calibration_wizard)
        self.settings_action.triggered.connect(self.open_settings)
        self.about_action.triggered.connect(self.about)
        self.source_bar.source_changed.connect(self._update_transport)
        self.source_bar.status_message.connect(lambda text: self.statusBar().showMessage(text, STATUS_MS))
        self.source_bar.problem.connect(self.banner.show_message)
        self.timeline.seek_requested.connect(self._seek)
        self.video.display_size_changed.connect(self._display_size_changed)
        self.follow_combo.currentIndexChanged.connect(self._follow_changed)
        self.reset_view_button.clicked.connect(self.view3d.reset_camera)
        self.recording.record_toggled.connect(self.toggle_recording)
        self.recording.export_requested.connect(self.export_bvh)
        self.log_bridge.signals.record_logged.connect(self._on_log)

        self.apply_settings(self.settings)
        self._update_transport()

    # --- sources ------------------------------------------------------------------------------
    def find_cameras(self) -> None:
        """Probe the cameras (on a background thread) and list them as sources."""
        self.source_bar.find_cameras()

    def select_source(self, spec: str) -> None:
        """Select (adding it when new) a camera index or a video file path as the source."""
        self.source_bar.select_source(spec)

    def source_spec(self) -> str:
        return self.source_bar.source_spec()

    # --- transport ------------------------------------------------------------------------------
    def start(self) -> None:
        """Open the selected source and run the pipeline on a worker thread."""
        spec = self.source_spec()
        if not spec:
            self.banner.show_message("No source", "Choose a camera ('Find cameras') or open a video file first.",
                                     "warning")
            return
        if self.worker is not None:
            return
        self.banner.hide()
        self.frames_shown = 0
        self.stats.reset()
        self.video.clear("Opening the source and loading the models...")
        config = self.settings.pipeline_config(self.calibration)
        size = self.video.display_size()
        self.worker = PipelineWorker(SourceRequest(spec, self.source_bar.camera_mode()), config,
                                     draw_overlay=self.settings.draw_overlay,
                                     display_size=(size.width(), size.height()))
        self.worker.set_full_frames(self.wizard is not None and self.wizard.isVisible())
        self.thread = QThread(self)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        self.worker.started.connect(self._on_started)
        self.worker.frame_ready.connect(self._on_frame)
        self.worker.error.connect(self._on_error)
        self.worker.recording_started.connect(self._on_recording_started)
        self.worker.recording_finished.connect(self._on_recording_finished)
        self.worker.finished.connect(self._on_finished)
        # Direct: quit from the worker thread itself, so it also ends while the GUI thread waits in closeEvent.
        self.worker.finished.connect(self.thread.quit, Qt.ConnectionType.DirectConnection)
        self.thread.finished.connect(self._on_thread_finished)
        self.settings = dataclasses.replace(self.settings, last_source=spec)
        save_settings(self.store, self.settings)
        self.thread.start()
        self._update_transport()

    def set_paused(self, paused: bool) -> None:
        self._paused = paused
        if self.worker is not None:
            self.worker.set_paused(paused)
        self._update_transport()

    def stop(self) -> None:
        """Ask the worker to stop; the thread ends by itself (never terminated)."""
        if self.worker is not None:
            self.worker.stop()

    def _display_size_changed(self, size: Any) -> None:
        if self.worker is not None:
            self.worker.set_display_size(size.width(), size.height())

    def _seek(self, frame_index: int) -> None:
        if self.worker is not None:
            self.worker.seek(frame_index)

    def _update_transport(self) -> None:
        running = self.worker is not None
        self.start_action.setEnabled(not running and bool(self.source_spec()))
        self.pause_action.setEnabled(running)
        self.stop_action.setEnabled(running)
        self.source_bar.set_running(running)
        self.recording.record_button.setEnabled(running or self.recording.recording)

    # --- worker signals (GUI thread) ---------------------------------------------------------------
    def _on_started(self, info: SourceInfo) -> None:
        self.source_info = info
        self.timeline.set_length(None if info.is_device else info.frame_count, info.fps)
        self.source_label.setText(f"{info.name}  {info.size[0]}x{info.size[1]}  {info.fps:.1f} fps")
        self.view3d.set_calibration(self.calibration, info.size)
        self.statusBar().showMessage(f"Running {info.name}", STATUS_MS)

    def _on_frame(self, result: Any, view: FrameView) -> None:
        self.last_result = result
        self.video.set_frame(view.display)
        self.view3d.set_pose(result.motion)
        self.stats.add(result)
        self.timeline.set_position(result.frame)
        if view.image is not None and self.wizard is not None and self.wizard.isVisible():
            self.wizard.feed_frame(view.image)
        self._update_follow_choices(sorted(m.performer_id for m in result.motion))
        self.frames_shown += 1
        self.frame_processed.emit(result)

    def _on_error(self, title: str, message: str) -> None:
        self.banner.show_message(title, message)
        self.statusBar().showMessage(message.split(". ")[0], STATUS_MS)

    def _on_finished(self, reason: str) -> None:
        if reason == "ended":
            self.statusBar().showMessage("End of the video", STATUS_MS)

    def _on_thread_finished(self) -> None:
        if self.thread is not None:
            self.thread.deleteLater()
        if self.worker is not None:
            self.worker.deleteLater()
        self.worker, self.thread = None, None
        self.pause_action.setChecked(False)
        if self.recording.recording:
            self.recording.set_recording(False)
        self._update_transport()
        self.run_finished.emit()

    def _update_follow_choices(self, performer_ids: list[int]) -> None:
        known = [self.follow_combo.itemData(i) for i in range(1, self.follow_combo.count())]
        for performer_id in performer_ids:
            if performer_id not in known:
                self.follow_combo.addItem(f"Performer #{performer_id}", performer_id)

    def _follow_changed(self) -> None:
        self.view3d.follow(self.follow_combo.currentData())

    # --- recording ------------------------------------------------------------------------------
    def toggle_recording(self, start: bool) -> None:
        """Start journaling a take (needs a running source) or close the current one."""
        if self.worker is None:
            self.banner.show_message("Nothing to record", "Start a camera or a video first, then press Record.",
                                     "warning")
            return
        if start:
            folder = Path(self.settings.takes_dir)
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                self.banner.show_message("Takes folder", f"Cannot create {folder} ({exc}); choose another takes "
                                         "folder in Settings.")
                return
            self.worker.start_recording(folder)
        else:
            self.worker.stop_recording()

    def _on_recording_started(self, path: str) -> None:
        self.recording.set_recording(True)
        self.statusBar().showMessage(f"Recording into {path}", STATUS_MS)

    def _on_recording_finished(self, take: TakeEntry) -> None:
        self.recording.set_recording(False)
        self.recording.add_take(take)
        self.statusBar().showMessage(f"Take saved: {take.path}", STATUS_MS)

    def export_bvh(self, request: ExportRequest) -> None:
        """Write the BVH file(s) of a take on a background thread."""
        self.statusBar().showMessage(f"Exporting {request.take.path.stem}...")
        self._background(lambda: takes_bridge.export(request), self._on_exported)

    def _on_exported(self, paths: list[Path]) -> None:
        self.statusBar().showMessage("Wrote " + ", ".join(str(p) for p in paths), STATUS_MS)
        self.last_export = paths

    # --- calibration and settings ------------------------------------------------------------------
    def browse_calibration(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load calibration", "", "Calibration (*.json *.yaml *.yml *.xml)")
        if path:
            self.load_calibration(path)

    def load_calibration(self, path: str | Path) -> bool:
        """Use a calibration file; a file that does not load is reported in the window and not used."""
        try:
            calibration = CameraCalibration.load(path)
        except (MocapError, FileNotFoundError, OSError) as exc:
            self.banner.show_message(*describe(exc))
            return False
        self.settings = dataclasses.replace(self.settings, calibration_path=str(path))
        save_settings(self.store, self.settings)
        self.set_calibration(calibration)
        return True

    def set_calibration(self, calibration: CameraCalibration | None) -> None:
        """Use this calibration from the next start on, and place the 3D view's floor and camera now."""
        self.calibration = calibration
        self.calibration_label.setText("uncalibrated (54 deg FOV assumed)" if calibration is None
                                       else calibration.summary())
        size = self.source_info.size if self.source_info is not None else (
            calibration.image_size if calibration is not None else (1280, 720))
        self.view3d.set_calibration(calibration, size)

    def open_calibration_wizard(self) -> None:
        if self.wizard is None:
            self.wizard = CalibrationWizard(self)
            self.wizard.calibration_changed.connect(self.set_calibration)
            self.wizard.finished.connect(self._wizard_closed)
        if self.worker is not None:
            self.worker.set_full_frames(True)  # the board is searched in the clean full-resolution frame
        self.wizard.show()
        self.wizard.raise_()

    def _wizard_closed(self) -> None:
        if self.worker is not None:
            self.worker.set_full_frames(False)

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec() != SettingsDialog.DialogCode.Accepted:
            return
        try:
            settings = dialog.settings()
        except ValueError as exc:
            self.banner.show_message("Settings not applied", str(exc), "warning")
            return
        self.apply_settings(settings)
        if self.worker is not None:
            self.statusBar().showMessage("Settings apply from the next Start", STATUS_MS)

    def apply_settings(self, settings: AppSettings) -> None:
        """Use and persist settings; loads the calibration file they name (a bad file is reported)."""
        self.settings = settings
        save_settings(self.store, settings)
        self.recording.set_defaults(settings.euler_order, settings.export_scale)
        if settings.calibration_path:
            self.load_calibration(settings.calibration_path)
        else:
            self.set_calibration(None)

    def about(self) -> None:
        QMessageBox.about(self, "About mocap", f"mocap {__version__}\nReal-time monocular motion capture: "
                          "webcam or video in, 3D skeletons and BVH out.")

    # --- helpers --------------------------------------------------------------------------------
    def _background(self, function: Any, on_done: Any) -> None:
        task: Any = None

        def done(result: Any) -> None:
            self._tasks.discard(task)
            on_done(result)

        def failed(message: str) -> None:
            self._tasks.discard(task)
            self.banner.show_message("Problem", message)

        task = run_in_background(function, done, failed)
        self._tasks.add(task)

    def _on_log(self, level: int, text: str) -> None:
        self.statusBar().showMessage(text, STATUS_MS)

    def screenshot(self) -> QPixmap:
        """The window as shown, 3D view included (``grab()`` alone leaves the 3D view's own window out)."""
        pixmap = self.grab()
        painter = QPainter(pixmap)
        painter.drawImage(self.view3d.mapTo(self, QPoint(0, 0)), self.view3d.grabFramebuffer())
        painter.end()
        return pixmap

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        """Stop the worker cooperatively and wait (bounded) so the take journal is closed cleanly."""
        if self.worker is not None:
            self.worker.stop()
        if self.thread is not None:
            self.thread.wait(STOP_WAIT_MS)
        if self.wizard is not None:
            self.wizard.shutdown()
        logging.getLogger().removeHandler(self.log_bridge)
        save_settings(self.store, self.settings)
        super().closeEvent(event)
