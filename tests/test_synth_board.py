"""A rendered calibration session: OpenCV finds the board where the truth says, and K comes back."""

from __future__ import annotations

import json

import cv2
import numpy as np

from calibration.intrinsics import calibrate_intrinsics
from calibration.targets import Checkerboard
from mocap_app.synth.board import (
    BOARD_COLUMNS,
    BOARD_ROWS,
    BOARD_SQUARE_M,
    FLOOR_FILE,
    TRUTH_FILE,
    WAVE_FILE,
    render_board_session,
)
from mocap_app.synth.camera import look_at_camera
from mocap_app.synth.render import Renderer
from mocap_app.synth.scene import default_stage


def _matches(detected: np.ndarray, truth: np.ndarray) -> float:
    """Largest distance from a truth corner to the nearest detected corner (the detector may flip the order)."""
    return float(np.linalg.norm(truth[:, None] - detected[None], axis=-1).min(axis=1).max())


def test_board_session_calibrates_the_virtual_camera(tmp_path):
    camera = look_at_camera((0.0, 1.0, 0.0), 3.6, 1.3, 0.0, 640, 480)
    with Renderer() as renderer:
        render_board_session(tmp_path, camera, default_stage(), renderer, frames=8, seed=2)
    truth = [json.loads(line) for line in (tmp_path / TRUTH_FILE).read_text().splitlines()]
    board = Checkerboard(BOARD_COLUMNS, BOARD_ROWS, BOARD_SQUARE_M)
    capture = cv2.VideoCapture(str(tmp_path / WAVE_FILE))
    detections = []
    for record in truth[:-1]:
        ok, image = capture.read()
        assert ok
        detection = board.detect(image)
        detections.append(detection)
        if detection.found:
            assert _matches(detection.corners, np.array(record["corners_px"])) < 1.0
    assert sum(d.found for d in detections) >= 6
    floor = board.detect(cv2.imread(str(tmp_path / FLOOR_FILE)))
    assert floor.found and _matches(floor.corners, np.array(truth[-1]["corners_px"])) < 1.0
    result = calibrate_intrinsics(detections, board)
    np.testing.assert_allclose(result.camera_matrix[[0, 1], [0, 1]], camera.K[[0, 1], [0, 1]], rtol=0.02)
