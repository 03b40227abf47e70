"""The calibration wizard: live board corners, a coverage map, running RMS, the floor step, save and load.

It calls the same functions as ``mocap calibrate`` (:mod:`calibration.targets`,
:mod:`calibration.intrinsics`, :mod:`calibration.ground`, :mod:`calibration.camera_file`); board
detection and solving run on a helper thread, so a slow ``findChessboardCornersSB`` never freezes
the window. Frames come from whatever source the main window is running, or from image files.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QObject, QRectF, QSize, QThread, Signal, Slot
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import (
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from calibration.camera_file import CameraCalibration
from calibration.frames import read_image
from calibration.ground import GroundPlane, estimate_ground
from calibration.intrinsics import COVERAGE_GRID, MIN_VIEWS, IntrinsicsResult, calibrate_intrinsics, coverage
from calibration.targets import BoardDetection, Checkerboard
from mocap_app.errors import MocapError

from .frame_view import display_image
from .video_panel import VideoPanel

logger = logging.getLogger(__name__)

DEFAULT_BOARD = "9x6"
DEFAULT_SQUARE_MM = 25.0
CELL_EMPTY = QColor(60, 62, 70)
CELL_FULL = QColor(0, 158, 115)
#: Corners in one cell at which its colour is fully saturated.
CELL_SATURATION = 12
COVERAGE_SIZE = QSize(240, 150)
#: Width of the wizard's step column, pixels.
SIDE_WIDTH_PX = 320
#: RMS reprojection errors (pixels) below which a calibration is called good / usable.
RMS_GOOD_PX = 0.5
RMS_USABLE_PX = 1.0


def rms_verdict(rms_px: float) -> str:
    """What an RMS reprojection error means for the user."""
    if rms_px < RMS_GOOD_PX:
        return "good"
    if rms_px < RMS_USABLE_PX:
        return "usable; more varied views may improve it"
    return "poor: check the board size and square, keep the board flat and the image sharp"


class CalibrationWorker(QObject):
    """Board detection and solving, on its own thread; each request answers with one signal."""

    detected = Signal(object, object)    # BoardDetection, QImage of the frame with the corners drawn
    file_detected = Signal(object, str)  # BoardDetection (None: unreadable), file name or the reason
    calibrated = Signal(object)          # IntrinsicsResult
    ground_ready = Signal(object)        # GroundPlane
    failed = Signal(str)

    @Slot(object, object, object)
    def detect(self, board: Checkerboard, image: np.ndarray, bounds: tuple[int, int] | None) -> None:
        """Search one (H, W, 3) BGR frame; answer with the detection and a display image fitting ``bounds``."""
        detection = board.detect(image)
        overlay = image
        if detection.found:
            overlay = image.copy()
            cv2.drawChessboardCorners(overlay, board.pattern_size,
                                      detection.corners.astype(np.float32).reshape(-1, 1, 2), True)
        self.detected.emit(detection, display_image(overlay, bounds))

    @Slot(object, object)
    def detect_files(self, board: Checkerboard, paths: list[str]) -> None:
        for path in paths:
            try:
                self.file_detected.emit(board.detect(read_image(path)), Path(path).name)
            except (MocapError, OSError) as exc:
                self.file_detected.emit(None, str(exc))

    @Slot(object, object)
    def calibrate(self, board: Checkerboard, detections: list[BoardDetection]) -> None:
        try:
            self.calibrated.emit(calibrate_intrinsics(detections, board))
        except MocapError as exc:
            self.failed.emit(str(exc))

    @Slot(object, object, object)
    def ground(self, board: Checkerboard, detection: BoardDetection, intrinsics: CameraCalibration) -> None:
        try:
            self.ground_ready.emit(estimate_ground([detection], board, intrinsics.camera_matrix,
                                                   intrinsics.dist_coeffs))
        except MocapError as exc:
            self.failed.emit(str(exc))


class CoverageMap(QWidget):
    """Image cells shaded by how many captured corners fell in them (where views have been taken)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(COVERAGE_SIZE)
        self.counts = np.zeros(COVERAGE_GRID[::-1], dtype=np.int64)

    def set_detections(self, detections: list[BoardDetection]) -> None:
        self.counts[:] = 0
        for detection in detections:
            width, height = detection.image_size
            corners = detection.corners[np.isfinite(detection.corners).all(axis=1)]
            cols = np.clip((corners[:, 0] / width * COVERAGE_GRID[0]).astype(int), 0, COVERAGE_GRID[0] - 1)
            rows = np.clip((corners[:, 1] / height * COVERAGE_GRID[1]).astype(int), 0, COVERAGE_GRID[1] - 1)
            np.add.at(self.counts, (rows, cols), 1)
        self.update()

    def paintEvent(self, event: object) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        rows, cols = self.counts.shape
        cell_w, cell_h = self.width() / cols, self.height() / rows
        for row in range(rows):
            for col in range(cols):
                t = min(1.0, self.counts[row, col] / CELL_SATURATION)
                colour = QColor.fromRgbF(*(a + t * (b - a) for a, b in zip(CELL_EMPTY.getRgbF()[:3],
                                                                           CELL_FULL.getRgbF()[:3], strict=True)))
                painter.fillRect(QRectF(col * cell_w + 1, row * cell_h + 1, cell_w - 2, cell_h - 2), colour)


class CalibrationWizard(QDialog):
    """Step 1: capture board views until the RMS is low; step 2: the board on the floor; then save.

    Signals:
        calibration_changed(CameraCalibration): a calibration was solved, saved or loaded.
        board_searched(BoardDetection): a live frame was searched for the board (found or not).
        request_detect(board, image), request_calibrate(board, detections), request_ground(...):
            queued calls into the helper thread.
    """

    calibration_changed = Signal(object)
    board_searched = Signal(object)
    request_detect = Signal(object, object, object)
    request_files = Signal(object, object)
    request_calibrate = Signal(object, object)
    request_ground = Signal(object, object, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Camera calibration")
        self.detections: list[BoardDetection] = []
        self.result: IntrinsicsResult | None = None
        self.calibration: CameraCalibration | None = None
        self._latest: BoardDetection | None = None
        self._busy = False

        # Panels
        self.board_spec = QLineEdit(DEFAULT_BOARD)
        self.board_spec.setToolTip("INNER corners, columns x rows: a board of 10x7 squares is 9x6")
        self.square_mm = QDoubleSpinBox()
        self.square_mm.setRange(1.0, 500.0)
        self.square_mm.setValue(DEFAULT_SQUARE_MM)
        self.square_mm.setSuffix(" mm")
        self.live = VideoPanel()
        self.live.clear("Start a camera or video in the main window, or add images of the board.")
        self.coverage_map = CoverageMap()
        self.views_label = QLabel("0 views")
        self.rms_label = QLabel(f"RMS: - (needs {MIN_VIEWS} views)")
        self.ground_label = QLabel("Floor: not calibrated")
        self.status = QLabel("Hold the board in view: all over the image, tilted left, right, up and down.")
        for label in (self.views_label, self.rms_label, self.status):
            label.setWordWrap(True)
        self.ground_label.setMinimumHeight(2 * self.ground_label.fontMetrics().lineSpacing() + 4)  # two lines
        coverage_caption = QLabel("Where board corners have been captured:")
        self.capture_button = QPushButton("Capture view")
        self.add_images_button = QPushButton("Add images...")
        self.floor_button = QPushButton("Capture floor (board lying on the floor)")
        self.save_button = QPushButton("Save...")
        self.load_button = QPushButton("Load...")
        self.clear_button = QPushButton("Start over")

        # Layout
        board_form = QFormLayout()
        board_form.addRow("Board", self.board_spec)
        board_form.addRow("Square", self.square_mm)
        step1 = QGroupBox("1. Intrinsics")
        step1_layout = QVBoxLayout(step1)
        step1_layout.addLayout(board_form)
        step1_layout.addWidget(coverage_caption)
        step1_layout.addWidget(self.coverage_map)
        step1_layout.addWidget(self.views_label)
        step1_layout.addWidget(self.rms_label)
        step1_layout.addWidget(self.capture_button)
        step1_layout.addWidget(self.add_images_button)
        step2 = QGroupBox("2. Ground plane")
        step2_layout = QVBoxLayout(step2)
        step2_layout.addWidget(self.ground_label)
        step2_layout.addWidget(self.floor_button)
        step3 = QGroupBox("3. File")
        step3_layout = QGridLayout(step3)
        step3_layout.addWidget(self.save_button, 0, 0)
        step3_layout.addWidget(self.load_button, 0, 1)
        step3_layout.addWidget(self.clear_button, 1, 0, 1, 2)
        side_box = QWidget()
        side_box.setFixedWidth(SIDE_WIDTH_PX)
        side = QVBoxLayout(side_box)
        side.setContentsMargins(0, 0, 0, 0)
        for group in (step1, step2, step3):
            side.addWidget(group)
        side.addStretch(1)
        layout = QGridLayout(self)
        layout.addWidget(self.live, 0, 0)
        layout.addWidget(side_box, 0, 1)
        layout.addWidget(self.status, 1, 0, 1, 2)
        layout.setColumnStretch(0, 1)

        # Helper thread
        self._thread = QThread(self)
        self._worker = CalibrationWorker()
        self._worker.moveToThread(self._thread)
        self._thread.start()

        # Connections
        self.request_detect.connect(self._worker.detect)
        self.request_files.connect(self._worker.detect_files)
        self.request_calibrate.connect(self._worker.calibrate)
        self.request_ground.connect(self._worker.ground)
        self._worker.detected.connect(self._on_detected)
        self._worker.file_detected.connect(self._on_file_detected)
        self._worker.calibrated.connect(self._on_calibrated)
        self._worker.ground_ready.connect(self._on_ground)
        self._worker.failed.connect(self._on_failed)
        self.capture_button.clicked.connect(self.capture_view)
        self.add_images_button.clicked.connect(self._add_images)
        self.floor_button.clicked.connect(self.capture_floor)
        self.save_button.clicked.connect(self._save_dialog)
        self.load_button.clicked.connect(self._load_dialog)
        self.clear_button.clicked.connect(self.start_over)
        self._update_labels()

    # --- inputs -----------------------------------------------------------------------------
    def board(self) -> Checkerboard:
        """The board described by the form (``CalibrationError`` when the text is not CxR)."""
        return Checkerboard.from_spec(self.board_spec.text(), self.square_mm.value() / 1000.0)

    def feed_frame(self, image: np.ndarray) -> None:
        """A live frame; searched for the board when the helper thread is free (older frames are skipped)."""
        if self._busy or not self.isVisible():
            return
        try:
            board = self.board()
        except MocapError as exc:
            self.status.setText(str(exc))
            return
        self._busy = True
        size = self.live.display_size()
        self.request_detect.emit(board, image, (size.width(), size.height()))

    def add_image_files(self, paths: list[str]) -> None:
        """Search image files for the board (on the helper thread); every view that shows it is captured."""
        try:
            self.request_files.emit(self.board(), list(paths))
        except MocapError as exc:
            self.status.setText(str(exc))

    # --- steps ------------------------------------------------------------------------------
    def capture_view(self) -> None:
        """Keep the latest live detection as a calibration view."""
        if self._latest is None or not self._latest.found:
            self.status.setText("No board in the current frame: hold the whole board in view, well lit.")
            return
        self._capture(self._latest)

    def capture_floor(self) -> None:
        """Estimate the ground plane from the latest detection of the board lying on the floor."""
        intrinsics = self.current_intrinsics()
        if intrinsics is None:
            self.status.setText("Calibrate the intrinsics (or load a calibration) before the floor step.")
            return
        if self._latest is None or not self._latest.found:
            self.status.setText("No board in the current frame: lay the whole board flat on the floor in view.")
            return
        self.request_ground.emit(self.board(), self._latest, intrinsics)

    def current_intrinsics(self) -> CameraCalibration | None:
        """The intrinsics solved here, or loaded."""
        if self.result is not None:
            board = self.board()
            return CameraCalibration(self.result.image_size, self.result.camera_matrix, self.result.dist_coeffs,
                                     "checkerboard", self.result.rms_px, board.describe(),
                                     len(self.result.view_names),
                                     ground=None if self.calibration is None else self.calibration.ground)
        return self.calibration

    def save(self, path: str | Path) -> Path:
        """Write the current calibration (``CalibrationError`` when there is none or the path is bad)."""
        calibration = self.current_intrinsics()
        if calibration is None:
            raise MocapError(f"Nothing to save yet: capture at least {MIN_VIEWS} board views first.")
        written = calibration.save(path)
        self.calibration = calibration
        self.status.setText(f"Saved {written}")
        self.calibration_changed.emit(calibration)
        return written

    def load(self, path: str | Path) -> CameraCalibration:
        """Read a calibration file and use it (raises ``CalibrationError``/``FileNotFoundError``)."""
        calibration = CameraCalibration.load(path)
        self.calibration, self.result = calibration, None
        self.status.setText(f"Loaded {path}: {calibration.summary()}")
        self._update_labels()
        self.calibration_changed.emit(calibration)
        return calibration

    def start_over(self) -> None:
        self.detections.clear()
        self.result = None
        self.coverage_map.set_detections([])
        self._update_labels()

    # --- helper-thread answers -----------------------------------------------------------------
    def _capture(self, detection: BoardDetection) -> None:
        if self.detections and detection.image_size != self.detections[0].image_size:
            self.status.setText("This view has another resolution than the first; calibrate one resolution at a time.")
            return
        self.detections.append(detection)
        self.coverage_map.set_detections(self.detections)
        self._update_labels()
        if len(self.detections) >= MIN_VIEWS:
            self.request_calibrate.emit(self.board(), list(self.detections))

    def _on_detected(self, detection: BoardDetection, overlay: QImage) -> None:
        self._busy = False
        self._latest = detection
        self.live.set_frame(overlay)
        if not detection.found:
            self.status.setText(f"Board: {detection.status.value}")
        else:
            self.status.setText("Board found: press 'Capture view' (vary position and tilt between views).")
        self.board_searched.emit(detection)

    def _on_file_detected(self, detection: BoardDetection | None, name: str) -> None:
        if detection is None:
            self.status.setText(name)
        elif detection.found:
            self._capture(detection)
        else:
            self.status.setText(f"{name}: {detection.status.value}")

    def _on_calibrated(self, result: IntrinsicsResult) -> None:
        self.result = result
        self._update_labels()
        self.calibration_changed.emit(self.current_intrinsics())

    def _on_ground(self, ground: GroundPlane) -> None:
        base = self.current_intrinsics()
        self.calibration = base.with_ground(ground)
        self.ground_label.setText(f"Floor: camera {ground.camera_height_m:.2f} m high,\ntilted "
                                  f"{ground.camera_tilt_deg:.1f} deg down (RMS {ground.rms_px:.2f} px)")
        self.calibration_changed.emit(self.current_intrinsics())

    def _on_failed(self, message: str) -> None:
        self.status.setText(message)

    def _update_labels(self) -> None:
        self.views_label.setText(f"{len(self.detections)} views, image coverage "
                                 f"{100 * coverage(self.detections):.0f}%")
        if self.result is not None:
            self.rms_label.setText(f"RMS: {self.result.rms_px:.3f} px over {len(self.result.view_names)} views "
                                   f"({rms_verdict(self.result.rms_px)})")
        elif self.calibration is not None:
            rms = self.calibration.rms_px
            self.rms_label.setText("RMS: " + (f"{rms:.3f} px (loaded)" if rms is not None else "- (loaded)"))
        else:
            self.rms_label.setText(f"RMS: - (needs {MIN_VIEWS} views)")
        ground = None if self.calibration is None else self.calibration.ground
        if ground is not None:
            self.ground_label.setText(f"Floor: camera {ground.camera_height_m:.2f} m high,\ntilted "
                                      f"{ground.camera_tilt_deg:.1f} deg down")

    # --- dialogs ------------------------------------------------------------------------------
    def _add_images(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Board images", "", "Images (*.png *.jpg *.jpeg *.bmp *.tif)")
        if paths:
            self.add_image_files(paths)

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save calibration", "camera.json",
                                              "Calibration (*.json *.yaml *.xml)")
        if path:
            try:
                self.save(path)
            except (MocapError, OSError) as exc:
                self.status.setText(str(exc))

    def _load_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load calibration", "", "Calibration (*.json *.yaml *.yml *.xml)")
        if path:
            try:
                self.load(path)
            except (MocapError, OSError) as exc:
                self.status.setText(str(exc))

    def shutdown(self) -> None:
        """Stop the helper thread (the window calls this when it closes)."""
        self._thread.quit()
        self._thread.wait()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(1000, 600)

