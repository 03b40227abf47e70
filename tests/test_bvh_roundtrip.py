"""Read, write, read: every joint of every training file stays put, in its own order or another one."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SHARED_DATA

from mocap_app.bvh import (
    EULER_ORDERS,
    POSITION_CHANNELS,
    BVHMotion,
    BVHSkeleton,
    change_order,
    format_bvh,
    forward_kinematics,
    parse_bvh,
    read_bvh,
    write_bvh,
)

TRAIN = SHARED_DATA / "mocap" / "train"
TRAIN_FILES = sorted(TRAIN.rglob("*.bvh")) if TRAIN.is_dir() else []
#: 0.01 cm in file units for files in metres, the largest unit here (CMU units and cm are finer),
#: so holding every file to it holds every file to 0.01 cm.
TOLERANCE = 1e-4


def _max_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Largest distance between corresponding joints, (F, J, 3) arrays."""
    return float(np.linalg.norm(a - b, axis=-1).max())


def _other_order(motion: BVHMotion, index: int) -> str:
    """An order differing from the file's most common one, cycling through the candidates."""
    skeleton = motion.skeleton
    axes = [skeleton.rotation_axes(j) for j in range(skeleton.num_joints)]
    common = max(set(axes), key=axes.count)
    candidates = [order for order in EULER_ORDERS if order != common]
    return candidates[index % len(candidates)]


@pytest.mark.parametrize("index", range(len(TRAIN_FILES)), ids=[str(p.relative_to(TRAIN)) for p in TRAIN_FILES])
def test_round_trip_keeps_every_joint(index, tmp_path, shared_data):
    source = read_bvh(TRAIN_FILES[index])
    expected = forward_kinematics(source)

    write_bvh(tmp_path / "same.bvh", source)
    same = read_bvh(tmp_path / "same.bvh")
    assert same.skeleton.names == source.skeleton.names and same.skeleton.channels == source.skeleton.channels
    assert same.frame_time == source.frame_time  # exact, not rounded
    assert _max_distance(forward_kinematics(same), expected) < TOLERANCE

    order = _other_order(source, index)
    write_bvh(tmp_path / "reordered.bvh", source, order=order)
    reordered = read_bvh(tmp_path / "reordered.bvh")
    assert {reordered.skeleton.rotation_axes(j) for j in range(reordered.skeleton.num_joints)} == {order}
    np.testing.assert_allclose(reordered.skeleton.offsets, source.skeleton.offsets, atol=1e-6)
    assert _max_distance(forward_kinematics(reordered), expected) < TOLERANCE


def test_unit_change_scales_positions_exactly(tmp_path, shared_data):
    source = read_bvh(TRAIN / "cmu_3dsmax" / "131_01.bvh")
    write_bvh(tmp_path / "small.bvh", source, order="ZXY", scale=0.01)
    small = read_bvh(tmp_path / "small.bvh")
    np.testing.assert_allclose(forward_kinematics(small) * 100.0, forward_kinematics(source), atol=1e-4)
    assert small.num_frames == source.num_frames and small.frame_time == source.frame_time


def test_converted_angles_have_no_full_turn_jumps(shared_data):
    source = read_bvh(TRAIN / "cmu_motionbuilder" / "05_06.bvh")
    steps = np.abs(np.diff(change_order(source, "XZY").values, axis=0))
    assert steps.max() < 180.0


def test_skeleton_in_breadth_first_order_is_written_depth_first():
    rotations = ("Zrotation", "Xrotation", "Yrotation")
    skeleton = BVHSkeleton(("Hips", "LeftUpLeg", "Spine", "LeftLeg"), (-1, 0, 0, 1),
                           np.array([[0, 90, 0], [10, -5, 0], [0, 10, 0], [0, -40, 0.0]]),
                           (POSITION_CHANNELS + rotations, rotations, rotations, rotations),
                           {3: np.array([0, -40, 0.0]), 2: np.array([0, 20, 0.0])})
    motion = BVHMotion(skeleton, 1 / 30, np.random.default_rng(0).uniform(-50, 50, size=(5, 15)))
    back = parse_bvh(format_bvh(motion))
    assert back.skeleton.names == ("Hips", "LeftUpLeg", "LeftLeg", "Spine")
    same_joints = [back.skeleton.index(name) for name in skeleton.names]
    assert _max_distance(forward_kinematics(back)[:, same_joints], forward_kinematics(motion)) < TOLERANCE
