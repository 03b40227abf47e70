"""The calibration wizard in a real window, fed synthetic board pictures with known intrinsics and floor.

Each step is checked through what the user sees: the corner overlay on the live picture, the
coverage map filling, the running RMS, the floor step's camera height, then save and load, and
the main window picking the calibration up.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("pytestqt")

from calibration.camera_file import CameraCalibration  # noqa: E402
from calibration.intrinsics import MIN_VIEWS  # noqa: E402
from calibration.targets import Checkerboard  # noqa: E402
from mocap_app.errors import CalibrationError  # noqa: E402
from ui.calibration_wizard import CalibrationWizard  # noqa: E402
from ui.main_window import MainWindow  # noqa: E402
from ui.theme import apply_theme  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from calibration_synth import calibration_views, floor_scene  # noqa: E402
from ui_support import artifact_path, qimage_rgb  # noqa: E402

BOARD = Checkerboard(9, 6, 0.025)
SIZE = (640, 480)
TRUE_K = np.array([[600.0, 0.0, 322.0], [0.0, 600.0, 236.0], [0.0, 0.0, 1.0]])
VIEWS = MIN_VIEWS + 1
CAMERA_HEIGHT_M = 0.7
CAMERA_TILT_DEG = 35.0
DETECT_TIMEOUT_MS = 20_000
#: A pixel counts as "coloured" (the corner overlay on a grey picture) above this channel spread.
COLOUR_SPREAD = 80


def bgr(gray: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)


def coloured_pixels(wizard: CalibrationWizard) -> int:
    rgb = qimage_rgb(wizard.live.current_image()).astype(int)
    return int((rgb.max(axis=2) - rgb.min(axis=2) > COLOUR_SPREAD).sum())


def show(qtbot, wizard: CalibrationWizard, image: np.ndarray) -> object:
    """Feed one live frame and wait for the wizard's answer (the detection)."""
    with qtbot.waitSignal(wizard.board_searched, timeout=DETECT_TIMEOUT_MS) as searched:
        wizard.feed_frame(image)
    return searched.args[0]


@pytest.fixture(scope="module")
def pictures() -> dict[str, object]:
    rng = np.random.default_rng(7)
    views = [bgr(v) for v in calibration_views(BOARD, TRUE_K, np.zeros(5), SIZE, VIEWS, rng, max_tilt_deg=40)]
    floor, _ = floor_scene(BOARD, TRUE_K, SIZE, CAMERA_HEIGHT_M, CAMERA_TILT_DEG, 0.0, 1.0, 10.0, False,
                           np.random.default_rng(3))
    empty = np.full((SIZE[1], SIZE[0], 3), 110, np.uint8)
    return {"views": views, "floor": bgr(floor), "empty": empty}


@pytest.fixture
def window(qtbot, tmp_path: Path) -> MainWindow:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    apply_theme(QApplication.instance())  # look as the application does
    win = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    yield win
    if win.wizard is not None:
        win.wizard.shutdown()


def test_wizard_steps_from_board_views_to_saved_file(qtbot, window: MainWindow, pictures, tmp_path: Path):
    window.open_calibration_wizard()
    wizard = window.wizard
    wizard.resize(1100, 640)
    qtbot.waitExposed(wizard)
    wizard.board_spec.setText("9x6")
    wizard.square_mm.setValue(1000 * BOARD.square_m)

    # Steps out of order and frames without a board are explained, not errors.
    wizard.capture_floor()
    assert "before the floor step" in wizard.status.text()
    assert not show(qtbot, wizard, pictures["empty"]).found
    wizard.capture_view()
    assert "No board in the current frame" in wizard.status.text() and wizard.detections == []

    # Step 1: every view shows its corners, fills the coverage map, and from MIN_VIEWS on the RMS.
    for count, image in enumerate(pictures["views"], start=1):
        assert show(qtbot, wizard, image).found
        assert coloured_pixels(wizard) > 100, "no corner overlay on the live picture"
        wizard.capture_view()
        assert wizard.coverage_map.counts.sum() == count * BOARD.num_corners
        assert wizard.views_label.text().startswith(f"{count} views")
        if count < MIN_VIEWS:
            assert "needs" in wizard.rms_label.text()
    qtbot.waitUntil(lambda: f"over {VIEWS} views" in wizard.rms_label.text(), timeout=DETECT_TIMEOUT_MS)
    rms = float(re.search(r"RMS: ([0-9.]+) px", wizard.rms_label.text()).group(1))
    assert 0.0 < rms < 0.5
    assert (wizard.coverage_map.counts > 0).sum() > 8  # several cells of the image covered
    assert window.calibration is not None and window.calibration.ground is None  # handed to the window

    # Step 2: the board on the floor gives the camera's height and tilt.
    assert show(qtbot, wizard, pictures["floor"]).found
    with qtbot.waitSignal(wizard.calibration_changed, timeout=DETECT_TIMEOUT_MS):
        wizard.capture_floor()
    height, tilt = map(float, re.search(r"camera ([0-9.]+) m high,\s+tilted ([0-9.]+) deg", wizard.ground_label.text())
                       .groups())
    assert abs(height - CAMERA_HEIGHT_M) < 0.03 and abs(tilt - CAMERA_TILT_DEG) < 1.5
    assert window.calibration.ground is not None and "floor" in window.calibration_label.text()

    shot = artifact_path(tmp_path, "screenshot_calibration.png")
    assert wizard.grab().save(str(shot)) and shot.stat().st_size > 10_000

    # Step 3: save, and load into a fresh wizard.
    path = wizard.save(tmp_path / "camera.json")
    saved = CameraCalibration.load(path)
    assert saved.image_size == SIZE and saved.ground is not None
    assert abs(saved.camera_matrix[0, 0] - TRUE_K[0, 0]) / TRUE_K[0, 0] < 0.02

    fresh = CalibrationWizard()
    qtbot.addWidget(fresh)
    try:
        loaded = []
        fresh.calibration_changed.connect(loaded.append)
        fresh.load(path)
        assert len(loaded) == 1 and "(loaded)" in fresh.rms_label.text()
        assert f"camera {height:.2f} m high" in fresh.ground_label.text()
        broken = tmp_path / "broken.json"
        broken.write_text("{ not json")
        with pytest.raises((CalibrationError, ValueError)):
            fresh.load(broken)
        assert fresh.calibration is loaded[0]  # a file that does not load changes nothing
    finally:
        fresh.shutdown()
