"""Ground plane from a board on the floor (never upside down), and the floor from feet without one."""

from __future__ import annotations

import numpy as np
import pytest
from calibration_synth import floor_scene

from calibration.ground import GroundPlane, estimate_ground, frame_from_plane
from calibration.targets import Checkerboard
from calibration.uncalibrated import assumed_calibration, estimate_floor_from_feet
from mocap_app.conventions import default_intrinsics, opencv_to_world, world_to_opencv
from mocap_app.errors import CalibrationError

BOARD = Checkerboard(9, 6, 0.05)
SIZE = (1280, 720)
K = np.array([[1000.0, 0.0, 640.0], [0.0, 1000.0, 360.0], [0.0, 0.0, 1.0]])
UP = np.array([0.0, 1.0, 0.0])


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1.0, 1.0))))


@pytest.mark.parametrize("flip", [False, True], ids=["board-as-laid", "board-turned-180"])
def test_floor_from_board_matches_truth_and_is_upright(flip):
    rng = np.random.default_rng(11)
    image, rotation_wc = floor_scene(BOARD, K, SIZE, height_m=1.35, tilt_deg=30.0, roll_deg=3.0,
                                     distance_m=1.9, yaw_deg=15.0, flip=flip, rng=rng)
    detection = BOARD.detect(image)
    assert detection.found
    ground = estimate_ground([detection], BOARD, K, np.zeros(5))
    normal_error = _angle_deg(ground.up_camera, rotation_wc.T @ UP)
    height_error = abs(ground.camera_height_m - 1.35)
    print(f"flip={flip}: normal error {normal_error:.3f} deg, height error {100 * height_error:.2f} cm, "
          f"tilt {ground.camera_tilt_deg:.2f} deg")
    assert normal_error < 1.0
    assert height_error < 0.01
    assert ground.camera_height_m > 0 and abs(ground.camera_tilt_deg - 30.0) < 1.0
    # The board's corners land on the floor (y = 0) in the world frame, in front of the camera.
    camera_points = world_to_opencv(np.array([[0.0, 0.0, -1.9]]), rotation_wc, np.array([0.0, 1.35, 0.0]))
    world = opencv_to_world(camera_points, ground.rotation_wc, ground.camera_centre_world)
    assert abs(world[0, 1]) < 0.01 and world[0, 2] < ground.camera_centre_world[2]


def test_frame_from_plane_is_a_right_handed_frame_with_the_camera_above():
    for sign in (1.0, -1.0):  # either sign of the normal gives the same, upright frame
        rotation, centre = frame_from_plane(sign * np.array([0.0, -1.0, 0.0]), np.array([0.0, 1.5, 3.0]))
        assert np.allclose(rotation @ rotation.T, np.eye(3)) and np.isclose(np.linalg.det(rotation), 1.0)
        assert np.isclose(centre[1], 1.5)
        # A level camera: the world is the camera turned upright (x right, y up, z towards the camera).
        assert np.allclose(rotation, np.diag([1.0, -1.0, -1.0]))


def test_ground_refuses_images_without_the_board():
    blank = BOARD.detect(np.full((360, 640), 128, dtype=np.uint8))
    with pytest.raises(CalibrationError, match="No 9x6 inner corners"):
        estimate_ground([blank], BOARD, K, np.zeros(5))


def _walking_feet(rng: np.random.Generator, frames: int = 90) -> np.ndarray:
    """(T, 2, 3) world-space feet of a performer wandering over a 2 x 2 m area, with some jumps."""
    centre = np.stack([rng.uniform(-1.0, 1.0, frames), np.zeros(frames), rng.uniform(-4.5, -2.5, frames)], axis=1)
    feet = np.repeat(centre[:, None, :], 2, axis=1)
    feet[:, 0, 0] -= 0.12
    feet[:, 1, 0] += 0.12
    feet[::2, 1, 1] += rng.uniform(0.05, 0.3, len(feet[::2]))  # one foot swinging
    feet[::15, :, 1] += 0.35  # jumps
    feet += rng.normal(0.0, 0.01, feet.shape)
    return feet


def test_floor_from_feet_without_a_board():
    rng = np.random.default_rng(2)
    tilt = np.radians(12.0)
    rotation_wc = np.array([[1.0, 0.0, 0.0], [0.0, -np.cos(tilt), -np.sin(tilt)],
                            [0.0, np.sin(tilt), -np.cos(tilt)]])
    centre = np.array([0.0, 2.1, 0.0])
    feet_cam = world_to_opencv(_walking_feet(rng), rotation_wc, centre)
    feet_cam[5] = np.nan  # a frame without feet
    ground = estimate_floor_from_feet(feet_cam)
    assert ground.source == "feet" and np.isnan(ground.rms_px)
    normal_error = _angle_deg(ground.up_camera, rotation_wc.T @ UP)
    print(f"feet: normal error {normal_error:.2f} deg, height {ground.camera_height_m:.3f} m (true 2.100)")
    assert normal_error < 2.0
    assert abs(ground.camera_height_m - 2.1) < 0.03


def test_floor_from_feet_refuses_too_few_frames_and_upside_down():
    with pytest.raises(CalibrationError, match="frames show a foot"):
        estimate_floor_from_feet(np.full((40, 2, 3), np.nan))
    above = np.tile(np.array([0.0, -1.0, 3.0]), (30, 2, 1)) + np.random.default_rng(0).normal(0, 0.01, (30, 2, 3))
    with pytest.raises(CalibrationError, match="upside down"):
        estimate_floor_from_feet(above, prior_tilt_deg=0.0)


def test_assumed_calibration_says_what_it_is():
    calib = assumed_calibration(640, 480)
    assert calib.source == "assumed-fov" and np.allclose(calib.camera_matrix, default_intrinsics(640, 480))
    assert "assumed 54 deg vertical field of view" in calib.summary() and "floor not calibrated" in calib.summary()
    feet_ground = GroundPlane(np.diag([1.0, -1.0, -1.0]), np.array([0.0, 1.2, 0.0]), float("nan"), "feet")
    assert "estimated from the feet" in calib.with_ground(feet_ground).summary()


def test_floor_from_feet_of_a_short_take_with_scattered_contacts_is_finite():
    # Ten frames whose lowest feet sit at two heights 20 cm apart: no contact lies near the median
    # of the low ones, which once left the floor's origin as the mean of nothing (NaN).
    heights = np.array([0.0, 0.0, 0.0, 0.2, 0.2, 0.2, 0.4, 0.4, 0.4, 0.4])
    x = np.linspace(-0.5, 0.5, 10)
    feet_cam = np.stack([x, 1.5 - heights, 3.0 + 0.1 * np.cos(7 * x)], axis=1)[:, None, :]
    ground = estimate_floor_from_feet(feet_cam)
    assert np.isfinite(ground.camera_centre_world).all()
    assert 1.2 < ground.camera_height_m < 1.6
