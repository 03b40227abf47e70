"""Uncalibrated takes are exported standing on the floor estimated from the performers' feet."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from mocap_app.bvh import forward_kinematics, read_bvh
from mocap_app.conventions import opencv_to_world, world_to_opencv
from mocap_app.skeletons import RIG
from mocap_app.takes.journal import read_journal
from mocap_app.takes.recorder import TakeRecorder
from mocap_app.types import MotionFrame

# A camera 1.6 m above the floor, tilted 15 degrees down: world (floor) <- camera.
_TILT = Rotation.from_euler("x", 15, degrees=True).as_matrix()
R_FLOOR_FROM_CAMERA = _TILT @ np.diag([1.0, -1.0, -1.0])
CAMERA_IN_FLOOR_WORLD = np.array([0.0, 1.6, 0.0])


def _walk_in_camera_upright_world(frames: int) -> list[MotionFrame]:
    """A T-posed performer walking across the floor, expressed in the uncalibrated (upright camera) world."""
    rest = RIG.rest_positions()
    motion = []
    for f in range(frames):
        hips_floor = np.array([-1.0 + 2.0 * f / frames, rest[0, 1], -4.0])  # 4 m in front, floor world
        hips_camera = R_FLOOR_FROM_CAMERA.T @ (hips_floor - CAMERA_IN_FLOOR_WORLD)
        hips_upright = opencv_to_world(hips_camera)
        # The body is upright in the floor world: in the upright-camera world it leans by the tilt.
        turn = Rotation.from_matrix(np.diag([1.0, -1.0, -1.0]) @ R_FLOOR_FROM_CAMERA.T)
        rotations = np.tile([0.0, 0.0, 0.0, 1.0], (RIG.num_joints, 1))
        rotations[0] = turn.as_quat()
        positions = world_to_opencv(rest)  # placeholder world positions (not used by export)
        motion.append(MotionFrame(1, f, f / 30.0, hips_upright, rotations, positions))
    return motion


def test_uncalibrated_take_stands_on_the_estimated_floor(tmp_path):
    recorder = TakeRecorder(tmp_path / "take.journal.jsonl", floor_calibrated=False)
    recorder.record(_walk_in_camera_upright_world(60))
    assert read_journal(tmp_path / "take.journal.jsonl").floor_calibrated is False
    (path,) = recorder.finalize(tmp_path / "out", foot_lock=False)
    positions = forward_kinematics(read_bvh(path)) / 100.0
    toes = positions[:, RIG.indices(["LeftToeBase", "RightToeBase"]), 1]
    head = positions[:, RIG.index("Head"), 1]
    assert np.abs(toes - 0.01).max() < 0.03         # on the floor, not 1.6 m below the camera
    assert np.ptp(toes) < 0.03                      # and level: the camera's tilt is taken out
    assert (head > 1.4).all()


def test_calibrated_take_is_left_where_it_is(tmp_path):
    recorder = TakeRecorder(tmp_path / "take.journal.jsonl")
    frames = _walk_in_camera_upright_world(20)
    recorder.record(frames)
    (path,) = recorder.finalize(tmp_path / "out", foot_lock=False)
    hips = forward_kinematics(read_bvh(path))[:, 0] / 100.0
    np.testing.assert_allclose(hips[0], frames[0].root_position, atol=1e-4)
