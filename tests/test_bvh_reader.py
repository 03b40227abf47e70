"""Reading BVH: every shared mocap file parses, the Euler convention is BVH's, FK puts joints where they belong."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SHARED_DATA
from scipy.spatial.transform import Rotation

from mocap_app.bvh import (
    EULER_ORDERS,
    POSITION_CHANNELS,
    BVHMotion,
    BVHSkeleton,
    euler_to_matrix,
    forward_kinematics,
    matrix_to_euler,
    parse_bvh,
    read_bvh,
)

MOCAP = SHARED_DATA / "mocap"
ALL_FILES = sorted(MOCAP.rglob("*.bvh")) if MOCAP.is_dir() else []
#: Each convention's per-joint rotation orders (root excluded) and joint count.
CONVENTIONS = {
    "cmu_motionbuilder": ({"ZYX"}, 31),
    "cmu_daz_acrnn": ({"ZXY"}, 43),
    "cmu_3dsmax": ({"ZYX", "ZXY"}, 31),
}


def _declared_frames(path) -> int:
    for line in path.read_text(errors="replace").splitlines():
        if line.strip().lower().startswith("frames"):
            return int(line.split(":")[1])
    raise AssertionError(f"no Frames line in {path}")


def test_all_52_shared_files_are_present(shared_data):
    assert len(ALL_FILES) == 52


@pytest.mark.parametrize("path", ALL_FILES, ids=[str(p.relative_to(MOCAP)) for p in ALL_FILES])
def test_every_shared_file_parses(path, shared_data):
    motion = read_bvh(path)
    skeleton = motion.skeleton
    orders, joints = CONVENTIONS[path.relative_to(MOCAP).parts[1]]
    assert skeleton.num_joints == joints
    assert {skeleton.rotation_axes(j) for j in range(1, joints)} == orders
    assert skeleton.channels[0][:3] == POSITION_CHANNELS and skeleton.parents[0] == -1
    assert motion.num_frames == _declared_frames(path)
    assert motion.values.shape == (motion.num_frames, skeleton.num_channels)
    assert np.all(np.isfinite(motion.values))
    assert 100.0 < motion.fps < 140.0  # CMU material is 120 fps
    positions = forward_kinematics(motion)
    assert positions.shape == (motion.num_frames, joints, 3) and np.all(np.isfinite(positions))
    # y is up: the head stays well above the feet on (almost) every frame.
    head = next(i for i, n in enumerate(skeleton.names) if n.lower() == "head")
    foot = next(i for i, n in enumerate(skeleton.names) if n in ("LeftFoot", "LeftAnkle", "lFoot"))
    assert np.mean(positions[:, head, 1] > positions[:, foot, 1]) > 0.9


@pytest.mark.parametrize("order", EULER_ORDERS)
def test_channel_order_is_intrinsic_like_scipy_uppercase(order):
    angles = np.random.default_rng(0).uniform(-180, 180, size=(50, 3))
    expected = Rotation.from_euler(order, angles, degrees=True).as_matrix()
    np.testing.assert_allclose(euler_to_matrix(angles, order), expected, atol=1e-12)
    # Explicitly: "Zrotation Xrotation Yrotation" is Rz @ Rx @ Ry.
    single = [euler_to_matrix(angles[:, [k]], axis) for k, axis in enumerate(order)]
    np.testing.assert_allclose(euler_to_matrix(angles, order), single[0] @ single[1] @ single[2], atol=1e-12)
    # And back: angles that rebuild the same matrix.
    np.testing.assert_allclose(euler_to_matrix(matrix_to_euler(expected, order), order), expected, atol=1e-12)


def test_matrix_to_euler_survives_gimbal_lock():
    angles = np.array([[30.0, 90.0, 10.0], [-45.0, -90.0, 80.0]])
    matrices = euler_to_matrix(angles, "ZXY")
    np.testing.assert_allclose(euler_to_matrix(matrix_to_euler(matrices, "ZXY"), "ZXY"), matrices, atol=1e-9)


def test_forward_kinematics_by_hand():
    # Root at (1, 2, 3) turned 90 degrees about z: the child, 10 units along the root's x, lands 10 up.
    # The child turns 90 degrees about y, so the grandchild's offset (0, 0, 5) becomes +x locally and
    # then +y in the world: 5 more up.
    rotations = ("Zrotation", "Xrotation", "Yrotation")
    skeleton = BVHSkeleton(("a", "b", "c"), (-1, 0, 1), np.array([[0, 0, 0], [10, 0, 0], [0, 0, 5.0]]),
                           (POSITION_CHANNELS + rotations, rotations, rotations), {2: np.array([0, 0, 1.0])})
    values = np.array([[1, 2, 3, 90, 0, 0, 0, 0, 90, 0, 0, 0.0]])
    positions = forward_kinematics(BVHMotion(skeleton, 1 / 30, values))[0]
    np.testing.assert_allclose(positions, [[1, 2, 3], [1, 12, 3], [1, 17, 3]], atol=1e-12)


def test_tolerates_crlf_tabs_trailing_spaces_and_lowercase_channels():
    text = ("HIERARCHY\r\nROOT Hips \r\n{\r\n\tOFFSET 0 0 0 \r\n\tCHANNELS 6 xposition YPOSITION Zposition "
            "zrotation Xrotation Yrotation \r\n\tEnd Site named\r\n\t{\r\n\t\tOFFSET 0 1 0\r\n\t}\r\n}\r\n"
            "MOTION\r\nFrames:\t2\r\nFrame Time:\t.0083333\r\n1 2 3 4 5 6 \r\n\r\n7 8 9 10 11 12\r\n\r\n")
    motion = parse_bvh(text)
    assert motion.frame_time == 0.0083333 and motion.num_frames == 2
    assert motion.skeleton.channels[0] == ("Xposition", "Yposition", "Zposition", "Zrotation", "Xrotation",
                                           "Yrotation")
    np.testing.assert_array_equal(motion.root_positions(), [[1, 2, 3], [7, 8, 9]])
