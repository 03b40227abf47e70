"""Calibration files: round trip in JSON/YAML/XML, OpenCV FileStorage compatibility, clear refusals."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from calibration.camera_file import FORMAT_VERSION, CameraCalibration
from calibration.ground import GroundPlane, frame_from_plane
from mocap_app.errors import CalibrationError

K = np.array([[812.5, 0.0, 641.25], [0.0, 811.75, 359.5], [0.0, 0.0, 1.0]])
DIST = np.array([-0.21, 0.08, 0.001, -0.0005, -0.01])


def _calibration(with_ground: bool = True) -> CameraCalibration:
    ground = None
    if with_ground:
        rotation, centre = frame_from_plane(np.array([0.0, -0.9, -0.4]), np.array([0.1, 1.4, 2.8]))
        ground = GroundPlane(rotation, centre, 0.31)
    return CameraCalibration((1280, 720), K, DIST, "checkerboard", 0.27, "9x6 inner corners, 25.0 mm squares",
                             24, ground)


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".xml"])
def test_round_trip(tmp_path, suffix):
    original = _calibration()
    path = original.save(tmp_path / f"cam0{suffix}")
    loaded = CameraCalibration.load(path)
    assert loaded.image_size == (1280, 720) and loaded.source == "checkerboard" and loaded.views == 24
    assert np.array_equal(loaded.camera_matrix, K) and np.array_equal(loaded.dist_coeffs, DIST)
    assert loaded.rms_px == 0.27 and loaded.board == original.board and loaded.version == FORMAT_VERSION
    assert np.allclose(loaded.ground.rotation_wc, original.ground.rotation_wc, atol=1e-12)
    assert np.allclose(loaded.ground.camera_centre_world, original.ground.camera_centre_world, atol=1e-12)
    assert loaded.ground.camera_height_m == pytest.approx(original.ground.camera_height_m)
    assert [p.name for p in tmp_path.iterdir()] == [f"cam0{suffix}"]  # no temporary left behind


def test_opencv_filestorage_reads_the_standard_names(tmp_path):
    path = _calibration().save(tmp_path / "cam0.json")
    storage = cv2.FileStorage(str(path), cv2.FILE_STORAGE_READ)
    assert np.array_equal(storage.getNode("camera_matrix").mat(), K)
    assert np.array_equal(storage.getNode("distortion_coefficients").mat().ravel(), DIST)
    assert int(storage.getNode("image_width").real()) == 1280
    storage.release()
    assert json.loads(path.read_text())["format"] == "mocap-camera-calibration"


def test_plain_lists_are_accepted_for_hand_edits(tmp_path):
    path = _calibration(with_ground=False).save(tmp_path / "cam0.json")
    data = json.loads(path.read_text())
    data["camera_matrix"] = K.ravel().tolist()
    path.write_text(json.dumps(data))
    assert np.array_equal(CameraCalibration.load(path).camera_matrix, K)


def _edited(tmp_path, edit) -> str:
    path = _calibration().save(tmp_path / "cam0.json")
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    return str(path)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d.pop("camera_matrix"), "missing field 'camera_matrix'"),
    (lambda d: d.pop("image_height"), "missing field 'image_height'"),
    (lambda d: d["ground"].pop("rotation_world_from_camera"), "missing field 'ground.rotation_world_from_camera'"),
    (lambda d: d.update(version=2), "unsupported version 2.*newer mocap"),
    (lambda d: d.update(format="something-else"), "format is 'something-else'"),
    (lambda d: d.update(source="guess"), "source 'guess'"),
    (lambda d: d["distortion_coefficients"].update(cols=3, data=[0.0, 0.0, 0.0]), "3 values"),
    (lambda d: d["camera_matrix"]["data"].__setitem__(0, -5.0), "fx, fy > 0"),
    (lambda d: d["ground"].update(camera_height_m=3.0), "disagrees"),
    (lambda d: d.update(image_width="wide"), "whole number"),
])
def test_bad_files_are_refused_with_the_field_named(tmp_path, edit, message):
    with pytest.raises(CalibrationError, match=message):
        CameraCalibration.load(_edited(tmp_path, edit))


def test_unreadable_and_missing_files(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "mocap-camera-calibration", "version": ')
    with pytest.raises(CalibrationError, match="not valid JSON"):
        CameraCalibration.load(broken)
    with pytest.raises(FileNotFoundError, match="mocap calibrate intrinsics"):
        CameraCalibration.load(tmp_path / "absent.json")
    with pytest.raises(CalibrationError, match="end in"):
        _calibration().save(tmp_path / "cam0.txt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.json"]


def test_resolution_check_names_both_sizes():
    calib = _calibration()
    calib.check_matches(1280, 720)
    with pytest.raises(CalibrationError, match="calibrated at 1280x720 but the source is 640x480"):
        calib.check_matches(640, 480)
