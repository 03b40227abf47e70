"""``mocap calibrate``: the two-step flow end to end, and one-line refusals that write nothing."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest
from calibration_synth import floor_scene

from calibration.camera_file import CameraCalibration
from calibration.targets import Checkerboard
from mocap_app.cli import main

K = np.array([[1000.0, 0.0, 640.0], [0.0, 1000.0, 360.0], [0.0, 0.0, 1.0]])


def _refused(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) >= 1 and err[-1].startswith("mocap calibrate: error: ")
    return err[-1]


@pytest.fixture()
def left_images(shared_data, tmp_path):
    folder = tmp_path / "shots"
    folder.mkdir()
    for path in sorted((shared_data / "checkerboard").glob("left0*.jpg")):
        shutil.copy(path, folder / path.name)
    return folder


def test_intrinsics_then_show(left_images, tmp_path, capsys):
    out = tmp_path / "cam0.json"
    assert main(["calibrate", "intrinsics", "--images", str(left_images), "--board", "9x6", "--square", "0.025",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "RMS reprojection error" in printed and "9 of 9 show the board" in printed
    calib = CameraCalibration.load(out)
    assert calib.source == "checkerboard" and calib.image_size == (640, 480) and calib.rms_px < 1.0
    assert main(["calibrate", "show", str(out)]) == 0
    assert "checkerboard intrinsics at 640x480" in capsys.readouterr().out


def test_intrinsics_refusals_write_nothing(left_images, tmp_path, capsys):
    out = tmp_path / "cam0.json"
    few = tmp_path / "few"
    few.mkdir()
    for path in sorted(left_images.iterdir())[:3]:
        shutil.copy(path, few / path.name)
    assert "at least 5" in _refused(capsys, ["calibrate", "intrinsics", "--images", str(few), "--out", str(out)])
    blank = tmp_path / "blank"
    blank.mkdir()
    for i in range(2):
        cv2.imwrite(str(blank / f"{i}.png"), np.full((240, 320), 8, dtype=np.uint8))
    assert "too dark" in _refused(capsys, ["calibrate", "intrinsics", "--images", str(blank), "--out", str(out)])
    assert "--board" in _refused(capsys, ["calibrate", "intrinsics", "--images", str(few), "--board", "9by6",
                                          "--out", str(out)])
    assert "square" in _refused(capsys, ["calibrate", "intrinsics", "--images", str(few), "--square", "-1",
                                         "--out", str(out)])
    assert "No image folder" in _refused(capsys, ["calibrate", "intrinsics", "--images", str(tmp_path / "nope"),
                                                  "--out", str(out)])
    assert not out.exists()


def test_ground_updates_the_file_and_refuses_another_resolution(tmp_path, capsys):
    board = Checkerboard(9, 6, 0.05)
    image, _ = floor_scene(board, K, (1280, 720), 1.5, 35.0, 0.0, 2.0, 0.0, False, np.random.default_rng(4))
    floor = tmp_path / "floor.png"
    cv2.imwrite(str(floor), image)
    calib_path = CameraCalibration((1280, 720), K, np.zeros(5), "checkerboard", 0.2).save(tmp_path / "cam0.yaml")
    assert main(["calibrate", "ground", "--image", str(floor), "--calibration", str(calib_path),
                 "--board", "9x6", "--square", "0.05"]) == 0
    assert "camera height 1.5" in capsys.readouterr().out
    ground = CameraCalibration.load(calib_path).ground
    assert ground is not None and abs(ground.camera_height_m - 1.5) < 0.01
    small = tmp_path / "small.png"
    cv2.imwrite(str(small), cv2.resize(image, (640, 360)))
    before = calib_path.read_bytes()
    message = _refused(capsys, ["calibrate", "ground", "--image", str(small), "--calibration", str(calib_path),
                                "--board", "9x6", "--square", "0.05"])
    assert "calibrated at 1280x720 but the source is 640x360" in message
    assert calib_path.read_bytes() == before


def test_show_refuses_a_broken_file(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "mocap-camera-calibration", "version": 1}')
    assert "missing field" in _refused(capsys, ["calibrate", "show", str(bad)])


def test_board_pdf_and_png(tmp_path, capsys):
    assert main(["calibrate", "board", "--out", str(tmp_path / "board.pdf")]) == 0
    assert main(["calibrate", "board", "--out", str(tmp_path / "board.png"), "--dpi", "100"]) == 0
    assert "--square 0.0249" in capsys.readouterr().out  # 25 mm rounded to 98 whole pixels at 100 DPI
    assert (tmp_path / "board.pdf").read_bytes().startswith(b"%PDF")
    assert ".pdf or .png" in _refused(capsys, ["calibrate", "board", "--out", str(tmp_path / "board.svg")])
