"""Left/right limb groups of each joint set: the joints a detector can label on the wrong side together.

Monocular detectors (BlazePose above all) confuse the left and right leg in profile views: the
knee, ankle, heel and toe of one leg come out labelled as the other's, while the hips, which sit
close together in such a view, keep their labels. A group here lists the LEFT joints of one limb
below its root (hip or shoulder), from the root outwards; the right joints are the schema's
``mirror`` of each, so the two index arrays of :func:`limb_swap_pairs` line up pair by pair.
:func:`limb_roots` gives the roots (the parents of the first joints), whose midpoint does not
depend on the labels.
"""

from __future__ import annotations

import numpy as np

from .mappings import get_skeleton

#: Joint set -> limb group name -> left joints of that limb below its root (the root stays put).
LIMB_GROUPS: dict[str, dict[str, tuple[str, ...]]] = {
    "blazepose33": {
        "legs": ("left_knee", "left_ankle", "left_heel", "left_foot_index"),
        "arms": ("left_elbow", "left_wrist", "left_pinky", "left_index", "left_thumb"),
    },
    "coco17": {"legs": ("left_knee", "left_ankle"), "arms": ("left_elbow", "left_wrist")},
    "mpi3dhp17": {"legs": ("left_knee", "left_ankle"), "arms": ("left_elbow", "left_wrist")},
    "vnect21": {"legs": ("left_knee", "left_ankle", "left_toe"), "arms": ("left_elbow", "left_wrist", "left_hand")},
    "rig22": {"legs": ("LeftLeg", "LeftFoot", "LeftToeBase"), "arms": ("LeftForeArm", "LeftHand")},
}


def limb_swap_pairs(joint_set: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Limb group name -> (left indices, right indices) in ``joint_set``'s own order.

    Exchanging ``values[..., left, :]`` with ``values[..., right, :]`` swaps that limb's sides.
    A joint set without an entry has no groups (empty dict), so nothing is ever swapped there.
    """
    schema = get_skeleton(joint_set)
    mirror = dict(zip(schema.joints, schema.mirror, strict=True))
    pairs = {}
    for group, left in LIMB_GROUPS.get(joint_set, {}).items():
        pairs[group] = (schema.indices(left), schema.indices([mirror[joint] for joint in left]))
    return pairs


def limb_roots(joint_set: str) -> dict[str, tuple[int, int]]:
    """Limb group name -> (left root, right root) indices: the parents of the group's first joints."""
    schema = get_skeleton(joint_set)
    return {group: (int(schema.parents[left[0]]), int(schema.parents[right[0]]))
            for group, (left, right) in limb_swap_pairs(joint_set).items()}
