"""PAF grouping: exact target maps of several people decode back to those people; no neck, no person."""

from __future__ import annotations

import numpy as np
from xnect_support import place_people

from mocap_app.skeletons.xnect import ANCHOR_JOINT, STAGE1_SET, bone_vectors
from mocap_app.xnect.decode import find_peaks, group_people, map_to_image
from models.xnect_targets import render_targets

STRIDE = 8
SIZE = (256, 160)
MAP = (SIZE[0] // STRIDE, SIZE[1] // STRIDE)


def _decode(joints2d, joints3d, visible):
    targets = render_targets(joints2d, visible, MAP, STRIDE, joints3d=joints3d)
    return group_people(targets.heatmaps, targets.pafs, targets.encodings)


def _match(decoded_px: np.ndarray, truth_px: np.ndarray) -> np.ndarray:
    """For each true person, the decoded person whose neck is nearest."""
    neck = STAGE1_SET.index(ANCHOR_JOINT)
    distance = np.linalg.norm(decoded_px[None, :, neck] - truth_px[:, None, neck], axis=-1)
    return distance.argmin(axis=1)


def test_three_people_recovered_with_subpixel_joints_and_encodings() -> None:
    joints2d, joints3d = place_people([(60, 80), (130, 84), (200, 78)], image_size=SIZE)
    visible = np.ones(joints2d.shape[:2], bool)
    people = _decode(joints2d, joints3d, visible)
    assert len(people.joints) == 3
    decoded = map_to_image(people.joints, STRIDE)
    order = _match(decoded, joints2d)
    assert sorted(order) == [0, 1, 2]
    error = np.linalg.norm(decoded[order] - joints2d, axis=-1)
    assert people.visible.all()
    assert error.max() < 0.35 * STRIDE            # sub-cell: well under one 8 px cell everywhere
    # The encoding read at each joint carries that joint's own bone (joint minus parent).
    bones = bone_vectors(joints3d)
    own = people.encodings[order].reshape(3, STAGE1_SET.num_joints, STAGE1_SET.num_joints, 3)
    own = own[:, np.arange(STAGE1_SET.num_joints), np.arange(STAGE1_SET.num_joints)]
    root = STAGE1_SET.index("pelvis")
    keep = np.arange(STAGE1_SET.num_joints) != root
    assert np.abs(own[:, keep] - bones[:, keep]).max() < 0.02


def test_person_without_neck_is_dropped_and_partial_people_kept() -> None:
    joints2d, joints3d = place_people([(60, 80), (130, 84), (200, 78)], image_size=SIZE, seed=1)
    visible = np.ones(joints2d.shape[:2], bool)
    visible[1, STAGE1_SET.index("neck")] = False                   # person 1: neck occluded
    legs = STAGE1_SET.indices(["left_knee", "left_ankle", "right_knee", "right_ankle"])
    visible[2, legs] = False                                       # person 2: legs hidden
    people = _decode(joints2d, joints3d, visible)
    assert len(people.joints) == 2
    decoded = map_to_image(people.joints, STRIDE)
    necks = decoded[:, STAGE1_SET.index("neck")]
    truth = joints2d[[0, 2], STAGE1_SET.index("neck")]
    assert np.linalg.norm(necks[None] - truth[:, None], axis=-1).min(axis=1).max() < 3.0
    partial = np.argmin(np.linalg.norm(necks - joints2d[2, STAGE1_SET.index("neck")], axis=-1))
    assert not people.visible[partial, legs].any()
    assert people.visible[partial].sum() == STAGE1_SET.num_joints - len(legs)
    assert (people.encodings[partial, legs] == 0).all()


def test_peak_refinement_is_subpixel() -> None:
    y, x = np.mgrid[0:20, 0:30]
    heatmap = np.exp(-((x - 12.3) ** 2 + (y - 7.6) ** 2) / 2.0)[None]
    (peak,) = find_peaks(heatmap, 0.1)
    assert peak.shape == (1, 3)
    assert abs(peak[0, 0] - 12.3) < 0.1 and abs(peak[0, 1] - 7.6) < 0.1
