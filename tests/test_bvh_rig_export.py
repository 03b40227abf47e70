"""Exporting the app's rig: T-pose rest, centimetres, y up, Hips with 6 channels, poses reproduced exactly."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from mocap_app.bvh import EULER_ORDERS, forward_kinematics, motion_from_rig, read_bvh, write_bvh
from mocap_app.skeletons import RIG

FRAME_TIME = 1.0 / 30.0


def _identity(frames: int) -> np.ndarray:
    quaternions = np.zeros((frames, RIG.num_joints, 4))
    quaternions[..., 3] = 1.0
    return quaternions


def _rig_fk(root_m: np.ndarray, quaternions: np.ndarray, offsets_m: np.ndarray) -> np.ndarray:
    """Independent reference: world joint positions (F, J, 3) in metres straight from the quaternions."""
    frames = len(root_m)
    world = [None] * RIG.num_joints
    positions = np.zeros((frames, RIG.num_joints, 3))
    for joint, parent in enumerate(RIG.parents):
        local = Rotation.from_quat(quaternions[:, joint])
        if parent < 0:
            world[joint], positions[:, joint] = local, root_m
        else:
            world[joint] = world[parent] * local
            positions[:, joint] = positions[:, parent] + world[parent].apply(offsets_m[joint])
    return positions


def test_identity_rotations_give_the_t_pose_in_centimetres(tmp_path):
    rest_cm = RIG.rest_positions() * 100.0
    root = np.tile(RIG.rest_positions()[0], (3, 1))
    write_bvh(tmp_path / "tpose.bvh", motion_from_rig(root, _identity(3), FRAME_TIME))
    motion = read_bvh(tmp_path / "tpose.bvh")
    positions = forward_kinematics(motion)
    np.testing.assert_allclose(positions, np.broadcast_to(rest_cm, positions.shape), atol=1e-6)
    # The rest pose itself (the file's OFFSETs) is the same T-pose, standing on the floor, y up.
    np.testing.assert_allclose(motion.skeleton.rest_positions(), rest_cm, atol=1e-6)
    head, foot = RIG.index("Head"), RIG.index("LeftFoot")
    assert rest_cm[head, 1] > 150.0 and 0.0 < rest_cm[foot, 1] < 15.0
    # Arms straight out along x (the T), left arm towards +x.
    assert rest_cm[RIG.index("LeftHand"), 0] > 60.0 and abs(rest_cm[RIG.index("LeftHand"), 1]
                                                            - rest_cm[RIG.index("LeftArm"), 1]) < 1e-6


def test_channel_layout_names_and_end_sites():
    motion = motion_from_rig(np.zeros((1, 3)), _identity(1), FRAME_TIME, order="ZXY")
    skeleton = motion.skeleton
    assert skeleton.names == RIG.joints and skeleton.parents == RIG.parents
    assert skeleton.channels[0] == ("Xposition", "Yposition", "Zposition", "Zrotation", "Xrotation", "Yrotation")
    assert all(c == ("Zrotation", "Xrotation", "Yrotation") for c in skeleton.channels[1:])
    assert {skeleton.names[j] for j in skeleton.end_sites} == set(RIG.end_sites)
    np.testing.assert_allclose(skeleton.end_sites[RIG.index("Head")], np.array(RIG.end_sites["Head"]) * 100.0)


@pytest.mark.parametrize("order", EULER_ORDERS)
def test_random_poses_survive_the_file_in_every_order(order, tmp_path):
    rng = np.random.default_rng(7)
    frames = 40
    quaternions = Rotation.random(frames * RIG.num_joints, random_state=rng).as_quat().reshape(frames, -1, 4)
    root = rng.normal([0.0, 0.95, 2.0], 0.3, size=(frames, 3))
    offsets = RIG.rest_offsets * rng.uniform(0.9, 1.1, size=(RIG.num_joints, 1))  # a performer's own bones
    write_bvh(tmp_path / "take.bvh", motion_from_rig(root, quaternions, FRAME_TIME, offsets, order=order))
    motion = read_bvh(tmp_path / "take.bvh")
    assert motion.num_frames == frames and motion.frame_time == FRAME_TIME
    np.testing.assert_allclose(forward_kinematics(motion), _rig_fk(root, quaternions, offsets) * 100.0, atol=1e-4)


def test_nan_or_bad_shapes_are_refused():
    root = np.zeros((2, 3))
    rotations = _identity(2)
    rotations[1, 4, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        motion_from_rig(root, rotations, FRAME_TIME)
    with pytest.raises(ValueError, match="NaN"):
        motion_from_rig(np.full((2, 3), np.nan), _identity(2), FRAME_TIME)
    with pytest.raises(ValueError, match="shape"):
        motion_from_rig(root, _identity(3), FRAME_TIME)
    with pytest.raises(ValueError, match="zero quaternions"):
        motion_from_rig(root, np.zeros((2, RIG.num_joints, 4)), FRAME_TIME)
    with pytest.raises(ValueError, match="Euler order"):
        motion_from_rig(root, _identity(2), FRAME_TIME, order="XXY")
    with pytest.raises(ValueError, match="frame_time"):
        motion_from_rig(root, _identity(2), 0.0)
