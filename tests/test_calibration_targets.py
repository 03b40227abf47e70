"""Checkerboard detection: the real sample images, printed boards, and why a board was not found."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from calibration.board_render import board_image, write_board
from calibration.intrinsics import calibrate_intrinsics
from calibration.targets import Checkerboard, DetectionStatus
from mocap_app.errors import CalibrationError

BOARD = Checkerboard(9, 6, 0.025)


@pytest.fixture(scope="module")
def real_detections(shared_data):
    files = sorted((shared_data / "checkerboard").glob("*.jpg"))
    assert len(files) == 26
    return files, [BOARD.detect(cv2.imread(str(path))) for path in files]


def test_every_real_board_is_found_and_calibrates_below_one_pixel(real_detections):
    files, detections = real_detections
    missing = [path.name for path, det in zip(files, detections, strict=True) if not det.found]
    assert missing == []
    for det in detections:
        assert det.corners.shape == (54, 2) and np.isfinite(det.corners).all()
    # left*.jpg and right*.jpg come from the two cameras of a stereo pair: calibrate each, and both together.
    for prefix in ("left", "right", ""):
        chosen = [d for p, d in zip(files, detections, strict=True) if p.name.startswith(prefix)]
        result = calibrate_intrinsics(chosen, BOARD)
        print(f"{prefix or 'all'}: {len(chosen)} views, RMS {result.rms_px:.3f} px, "
              f"fx {result.camera_matrix[0, 0]:.1f} fy {result.camera_matrix[1, 1]:.1f}")
        assert result.rms_px < 1.0
        assert len(result.per_view_rms_px) == len(chosen)


def test_misses_are_explained(shared_data):
    grey = cv2.imread(str(shared_data / "checkerboard" / "left01.jpg"), cv2.IMREAD_GRAYSCALE)
    assert BOARD.detect((grey * 0.05).astype(np.uint8)).found  # very dim but intact: still found
    assert BOARD.detect(np.full_like(grey, 4)).status is DetectionStatus.TOO_DARK
    assert BOARD.detect(cv2.GaussianBlur(grey, (0, 0), 25)).status is DetectionStatus.TOO_BLURRY
    noise = np.random.default_rng(0).integers(0, 255, grey.shape, dtype=np.uint8)
    assert BOARD.detect(noise).status is DetectionStatus.NOT_FOUND
    printed, _ = board_image(BOARD, dpi=100)
    printed = cv2.copyMakeBorder(printed, 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=90)
    for columns, rows in ((8, 5), (7, 6), (5, 4)):  # told the wrong size: never a partial board
        wrong = Checkerboard(columns, rows, 0.025).detect(printed)
        assert not wrong.found and np.isnan(wrong.corners).all() and wrong.corners.shape == (columns * rows, 2)


def test_board_spec_is_validated():
    assert Checkerboard.from_spec("9x6", 0.03).pattern_size == (9, 6)
    for spec, square in (("9by6", 0.025), ("2x6", 0.025), ("7x7", 0.025), ("9x6", 0.0), ("9x6", -1.0)):
        with pytest.raises(CalibrationError):
            Checkerboard.from_spec(spec, square)


def test_object_points_are_metric():
    points = BOARD.object_points()
    assert points.shape == (54, 3) and np.all(points[:, 2] == 0)
    assert np.isclose(points[1, 0] - points[0, 0], 0.025) and np.isclose(points[9, 1] - points[0, 1], 0.025)


def test_printed_png_is_detected_with_the_stated_square(tmp_path):
    printed = write_board(tmp_path / "board.png", BOARD, dpi=150)
    image = cv2.imread(str(printed.path), cv2.IMREAD_GRAYSCALE)
    detection = BOARD.detect(image)
    assert detection.found
    spacing = np.linalg.norm(np.diff(detection.corners.reshape(6, 9, 2), axis=1), axis=2).mean()
    assert spacing / 150 * 0.0254 == pytest.approx(printed.square_m, rel=0.01)
    assert abs(printed.square_m - 0.025) < 0.0254 / 150
    assert b"pHYs" in printed.path.read_bytes()[:64]
    raster, square_m = board_image(BOARD, dpi=150)
    assert raster.shape == image.shape and square_m == printed.square_m


def test_printed_pdf_is_a_valid_true_size_page(tmp_path):
    data = write_board(tmp_path / "board.pdf", BOARD, paper="A4").path.read_bytes()
    assert data.startswith(b"%PDF-1.4") and data.rstrip().endswith(b"%%EOF")
    xref_at = int(data.rsplit(b"startxref", 1)[1].split()[0])
    assert data[xref_at:].startswith(b"xref")
    offsets = [int(line.split()[0]) for line in data[xref_at:].split(b"\n")[3:8]]
    for number, offset in enumerate(offsets, start=1):
        assert data[offset:].startswith(b"%d 0 obj" % number)
    square_pt = 0.025 / 0.0254 * 72
    rectangles = [line.split() for line in data.split(b"\n") if line.endswith(b" re f")]
    assert len(rectangles) == (10 * 7 + 1) // 2
    assert all(float(r[2]) == pytest.approx(square_pt, abs=1e-3) for r in rectangles)
    with pytest.raises(CalibrationError, match="does not fit"):
        write_board(tmp_path / "huge.pdf", Checkerboard(9, 6, 0.08), paper="A4")
