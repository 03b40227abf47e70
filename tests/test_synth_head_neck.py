"""Heads of BVH-driven synthetic performers: stature to the head top and the head's own orientation.

Loads real training takes of the three skeleton families (their rest poses and one DAZ frame):
every family stands the requested height to the head top (DAZ skeletons' short neck is lengthened),
and the head top turns with the head joint's own rotation, not the neck's.
"""

from __future__ import annotations

import numpy as np
import pytest

from mocap_app.bvh import BVHMotion, forward_kinematics, read_bvh, with_end_sites
from mocap_app.skeletons.bvh_names import BVH_TO_RIG, head_top_offset, rig_sources
from mocap_app.synth.appearance import Appearance
from mocap_app.synth.body import DRIVER_JOINTS
from mocap_app.synth.motion import driving_poses, proportions, retarget

TRAIN = "mocap/train"
TAKES = {"daz": "cmu_daz_acrnn/martial/05.bvh", "3dsmax": "cmu_3dsmax/131_01.bvh",
         "motionbuilder": "cmu_motionbuilder/01_01.bvh"}
#: How far from the requested height the T-pose may stand to the head top, metres.
STATURE_TOLERANCE_M = {"daz": 0.005, "3dsmax": 0.015, "motionbuilder": 0.02}
_ROW = {name: index for index, name in enumerate(DRIVER_JOINTS)}


@pytest.fixture(scope="module")
def takes(shared_data):
    return {family: read_bvh(shared_data / TRAIN / path) for family, path in TAKES.items()}


def _rest(motion: BVHMotion, head_x_deg: float = 0.0, neck_x_deg: float = 0.0) -> BVHMotion:
    """One frame of ``motion``'s rest pose, with the DAZ head and neck joints pitched about x."""
    values = np.zeros((1, motion.skeleton.num_channels))
    for joint, angle in (("head", head_x_deg), ("neck", neck_x_deg)):
        if angle:
            index = motion.skeleton.index(joint)
            column = motion.skeleton.channel_starts[index] + motion.skeleton.channels[index].index("Xrotation")
            values[0, column] = angle
    return BVHMotion(motion.skeleton, motion.frame_time, values)


def _head_up(pose: np.ndarray) -> np.ndarray:
    up = pose[_ROW["HeadTop"]] - pose[_ROW["Head"]]
    return up / np.linalg.norm(up)


@pytest.mark.parametrize("family", list(TAKES))
@pytest.mark.parametrize("height", [1.73, 1.60])
def test_every_family_stands_the_requested_height(takes, family, height):
    motion = takes[family]
    pose = retarget(driving_poses(_rest(motion)), proportions(motion), Appearance(height_m=height))[0]
    stature = pose[_ROW["HeadTop"], 1]
    assert abs(stature - height) < STATURE_TOLERANCE_M[family] * height / 1.73
    # Adult neck: the head joint (skull base) 14-15 cm below the vertex and above the neck joint.
    neck = np.linalg.norm(pose[_ROW["Head"]] - pose[_ROW["Neck"]]) * 1.73 / height
    assert 0.13 < neck < 0.16
    shoulders = pose[_ROW["LeftArm"], 1] * 1.73 / height
    assert 1.36 < shoulders < 1.41


def test_daz_neck_is_lengthened_and_cmu_necks_kept(takes):
    assert proportions(takes["daz"])["neck_scale"] > 1.5
    assert proportions(takes["3dsmax"])["neck_scale"] == 1.0
    assert proportions(takes["motionbuilder"])["neck_scale"] == 1.0


def _rotation_x(degrees: float) -> np.ndarray:
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def test_rest_head_top_is_where_the_table_puts_it(takes):
    for motion in takes.values():
        extended, ends = with_end_sites(_rest(motion))
        positions = forward_kinematics(extended)[0]
        index = {name: i for i, name in enumerate(motion.skeleton.names)} | ends
        _, table = rig_sources(motion.skeleton.names)
        expected = sum(weight * positions[index[name]] for name, weight in table["Head/end"])
        assert np.allclose(driving_poses(_rest(motion))[0, _ROW["HeadTop"]], expected)


def test_head_top_follows_the_head_joint_not_the_neck(takes):
    motion = takes["daz"]
    rest = driving_poses(_rest(motion))[0]
    pitched = driving_poses(_rest(motion, head_x_deg=20.0))[0]
    # The head joint's own 20 degree pitch turns the skull's axis by 20 degrees about x ...
    assert np.allclose(_head_up(pitched), _rotation_x(20.0) @ _head_up(rest))
    # ... and moves neither the head joint nor the neck.
    assert np.allclose(pitched[_ROW["Head"]], rest[_ROW["Head"]])
    assert np.allclose(pitched[_ROW["Neck"]], rest[_ROW["Neck"]])
    # A neck pitch carries the head with it (the head joint is its child).
    both = driving_poses(_rest(motion, head_x_deg=20.0, neck_x_deg=-20.0))[0]
    assert np.allclose(_head_up(both), _head_up(rest))


def test_captured_daz_head_keeps_its_own_pitch(takes):
    """martial/05 at 5 s: the neck leans 38 degrees forward, the head joint turns it back upright."""
    motion = takes["daz"]
    frame = BVHMotion(motion.skeleton, motion.frame_time, motion.values[300:301])  # 5 s (60 Hz; the header says 120)
    pose = driving_poses(frame)[0]
    forward = np.cross(pose[_ROW["LeftUpLeg"]] - pose[_ROW["RightUpLeg"]], [0.0, 1.0, 0.0])
    forward /= np.linalg.norm(forward)
    neck = pose[_ROW["Head"]] - pose[_ROW["Neck"]]
    neck /= np.linalg.norm(neck)
    # Forward lean in degrees (positive: chin down). Extrapolating the neck drew the head 38 degrees down.
    assert np.degrees(np.arcsin(neck @ forward)) > 30.0
    assert abs(np.degrees(np.arcsin(_head_up(pose) @ forward))) < 10.0


def test_head_top_offset_is_the_rest_tip_in_the_head_frame():
    rest = {"Head": np.array([0.0, 10.0, 1.0]), "Neck1": np.array([0.0, 8.0, 1.0]),
            "head": np.array([0.0, 10.0, 1.0]), "neck": np.array([0.0, 9.0, 0.0]),
            "Head/end": np.array([0.0, 11.0, 2.0])}
    joint, offset = head_top_offset(BVH_TO_RIG["cmu_motionbuilder"], rest)
    assert joint == "Head" and np.allclose(offset, [0.0, 2.0, 0.0])
    joint, offset = head_top_offset(BVH_TO_RIG["cmu_daz_acrnn"], rest)
    assert joint == "head" and np.allclose(offset, [0.0, 2.0, 2.0])
    joint, offset = head_top_offset(BVH_TO_RIG["cmu_3dsmax"], rest)
    assert joint == "Head" and np.allclose(offset, [0.0, 1.0, 1.0])
