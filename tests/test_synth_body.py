"""Synthetic performers have a human build around the joints the truth reports.

The rendered body decides where a 2D detector puts a shoulder or a hip, so the figure's shape
around those joints must be a person's: hip joints at the middle height of the pelvis, shoulder
joints under a shoulder about 5 cm high, sternum and trapezius at their anatomical heights, and an
adult head whose top is the rig's head top, with the eyes at half its height and the ears beside them.
"""

from __future__ import annotations

import numpy as np
import pytest

from mocap_app.skeletons import BLAZEPOSE33, RIG
from mocap_app.synth.appearance import Appearance
from mocap_app.synth.body import DRIVER_JOINTS, TIP_PARENTS, build_body, surface_landmarks

_ROW = {name: index for index, name in enumerate(DRIVER_JOINTS)}


def _rest_pose() -> np.ndarray:
    """(27, 3) the rig's T-pose with its tips, metres, facing +z."""
    rest = RIG.rest_positions()
    tips = [rest[RIG.index(parent)] + np.array(RIG.end_sites[parent]) for parent in TIP_PARENTS.values()]
    return np.concatenate([rest, tips])


def _material_points(pose: np.ndarray, look: Appearance, colour: tuple[float, float, float]) -> np.ndarray:
    mesh = build_body(pose, look)
    return mesh.positions[np.all(np.isclose(mesh.colours, colour), axis=1)].astype(np.float64)


@pytest.fixture(scope="module")
def look() -> Appearance:
    return Appearance(shirt=(0.8, 0.1, 0.1), trousers=(0.1, 0.1, 0.6))


def test_hip_joints_sit_at_the_middle_height_of_the_pelvis(look):
    pose = _rest_pose()
    hips = 0.5 * (pose[_ROW["LeftUpLeg"]] + pose[_ROW["RightUpLeg"]])
    trousers = _material_points(pose, look, look.trousers)
    pelvis = trousers[np.abs(trousers[:, 0]) < 0.012]         # the midline: no thigh reaches there
    above, below = pelvis[:, 1].max() - hips[1], hips[1] - pelvis[:, 1].min()
    assert 0.09 < above < 0.14                                 # up to the iliac crests
    assert 0.07 < below < 0.12                                 # down to the buttocks' lower edge


def test_shoulder_joints_sit_under_the_shoulders_and_the_neck_base_above_them(look):
    pose = _rest_pose()
    shirt = _material_points(pose, look, look.shirt)
    for side in ("Left", "Right"):
        joint = pose[_ROW[f"{side}Arm"]]
        over = shirt[np.linalg.norm(shirt[:, [0, 2]] - joint[[0, 2]], axis=1) < 0.02]
        assert 0.04 < over[:, 1].max() - joint[1] < 0.07      # skin over the shoulder joint
    shoulders = 0.5 * (pose[_ROW["LeftArm"]] + pose[_ROW["RightArm"]])
    midline = shirt[np.abs(shirt[:, 0]) < 0.02]
    front, back = midline[midline[:, 2] > 0.06], midline[midline[:, 2] < -0.03]
    assert 0.02 < front[:, 1].max() - shoulders[1] < 0.07     # top of the sternum
    assert 0.07 < back[:, 1].max() - shoulders[1] < 0.12      # base of the neck at the back (trapezius)


def test_the_pelvis_follows_the_hip_joints_not_the_capture_skeletons_root(look):
    # Capture skeletons put their root joint anywhere from 3 cm below to 10 cm above the hip joints.
    pose = _rest_pose()
    moved = pose.copy()
    for joint in ("Hips", "Spine"):
        moved[_ROW[joint]] += [0.0, 0.08, 0.0]
    assert np.allclose(_material_points(pose, look, look.trousers), _material_points(moved, look, look.trousers),
                       atol=1e-5)


def _head_frame_landmarks(pose: np.ndarray, look: Appearance) -> dict[str, np.ndarray]:
    """Face landmarks relative to the head top, metres (the rest pose's head frame is the world's)."""
    landmarks = surface_landmarks(pose, look) - pose[_ROW["HeadTop"]]
    return {name: landmarks[BLAZEPOSE33.index(name)] for name in BLAZEPOSE33.joints[:11]}


def test_the_head_reaches_the_rigs_head_top_and_the_eyes_sit_at_half_its_height(look):
    pose = _rest_pose()
    top = pose[_ROW["HeadTop"]]
    skin, hair = _material_points(pose, look, look.skin), _material_points(pose, look, look.hair)
    assert -0.005 < skin[:, 1].max() - top[1] < 0.005           # the skull's vertex (stature is to the head top)
    assert 0.0 <= hair[:, 1].max() - top[1] < 0.015
    face = skin[(skin[:, 2] > top[2] + 0.05) & (skin[:, 1] > pose[_ROW["LeftArm"], 1])]  # in front of the neck
    height = top[1] - face[:, 1].min()                           # vertex to chin
    assert 0.21 < height < 0.245
    points = _head_frame_landmarks(pose, look)
    for side in ("left", "right"):
        assert 0.45 < -points[f"{side}_eye"][1] / height < 0.55
        assert points[f"{side}_eye_inner"][1] == pytest.approx(points[f"{side}_eye"][1], abs=0.005)
    assert 0.6 < -points["nose"][1] / height < 0.7
    assert 0.75 < -points["mouth_left"][1] / height < 0.85


def test_the_ears_sit_beside_the_head_between_eye_and_nose_level_behind_the_face(look):
    points = _head_frame_landmarks(_rest_pose(), look)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        ear, eye = points[f"{side}_ear"], points[f"{side}_eye"]
        assert 0.065 < sign * ear[0] < 0.085                    # head 15.5 cm wide, ear standing off it
        assert points["nose"][1] < ear[1] < eye[1]
        assert 0.07 < eye[2] - ear[2] < 0.11                    # the eyes 7-11 cm in front of the ear
    assert 0.015 < points["nose"][2] - points["left_eye"][2] < 0.04   # the nose's tip stands out
