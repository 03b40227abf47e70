"""Intrinsics from synthetic boards with known K and distortion, and refusal of degenerate sets."""

from __future__ import annotations

import numpy as np
import pytest
from calibration_synth import calibration_views

from calibration.intrinsics import MIN_VIEWS, calibrate_intrinsics, coverage, select_views, view_geometry
from calibration.targets import Checkerboard
from mocap_app.errors import CalibrationError

BOARD = Checkerboard(9, 6, 0.025)
SIZE = (640, 480)
TRUE_K = np.array([[600.0, 0.0, 322.0], [0.0, 600.0, 236.0], [0.0, 0.0, 1.0]])
TRUE_DIST = np.array([-0.12, 0.05, 0.0, 0.0, 0.0])


VIEWS = 12


@pytest.fixture(scope="module")
def tilted_images():
    return calibration_views(BOARD, TRUE_K, TRUE_DIST, SIZE, VIEWS, np.random.default_rng(7), max_tilt_deg=40)


@pytest.fixture(scope="module")
def tilted_views(tilted_images):
    return [BOARD.detect(image) for image in tilted_images]


def test_recovers_known_intrinsics(tilted_views):
    assert all(d.found for d in tilted_views)
    result = calibrate_intrinsics(tilted_views, BOARD)
    focal_error = np.abs(np.diag(result.camera_matrix)[:2] / np.diag(TRUE_K)[:2] - 1.0)
    pp_error = np.abs(result.camera_matrix[:2, 2] - TRUE_K[:2, 2])
    print(f"synthetic: RMS {result.rms_px:.3f} px, focal error {100 * focal_error.max():.3f} %, "
          f"principal point error {pp_error.max():.2f} px, k1 {result.dist_coeffs[0]:.3f}")
    assert focal_error.max() < 0.01
    assert pp_error.max() < 2.0
    assert abs(result.dist_coeffs[0] - TRUE_DIST[0]) < 0.03
    assert result.rms_px < 0.5 and result.per_view_rms_px.shape == (VIEWS,)
    assert result.max_tilt_deg > 20


def test_view_selection_spreads_views(tilted_views):
    geometries = [view_geometry(d, BOARD) for d in tilted_views]
    picked = select_views(geometries, max_views=6)
    assert len(picked) == len(set(picked)) == 6
    assert geometries[picked[0]].tilt_deg == max(g.tilt_deg for g in geometries)
    assert coverage([tilted_views[i] for i in picked]) <= coverage(tilted_views)
    assert select_views(geometries, max_views=50) == list(range(VIEWS))


def test_refuses_board_free_images():
    rng = np.random.default_rng(1)
    blank = [BOARD.detect(rng.integers(0, 255, (240, 320), dtype=np.uint8)) for _ in range(3)]
    with pytest.raises(CalibrationError, match="No 9x6 inner corners.*board found in any of 3 images"):
        calibrate_intrinsics(blank, BOARD)


def test_refuses_too_few_views(tilted_views):
    with pytest.raises(CalibrationError, match=f"at least {MIN_VIEWS}"):
        calibrate_intrinsics(tilted_views[:MIN_VIEWS - 1], BOARD)


def test_refuses_fronto_parallel_views():
    images = calibration_views(BOARD, TRUE_K, np.zeros(5), SIZE, MIN_VIEWS, np.random.default_rng(3), max_tilt_deg=2)
    detections = [BOARD.detect(image) for image in images]
    assert all(d.found for d in detections)
    with pytest.raises(CalibrationError, match="face-on"):
        calibrate_intrinsics(detections, BOARD)


def test_refuses_wrong_board_size(tilted_images):
    # A 9x6 board told to be 8x5: nothing matches, and the message points at --board.
    wrong = Checkerboard(8, 5, 0.025)
    with pytest.raises(CalibrationError, match="--board"):
        calibrate_intrinsics([wrong.detect(image) for image in tilted_images[:2]], wrong)
