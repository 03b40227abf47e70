"""Every conversion between joint sets, in one table.

A mapping says, for each target joint, which source joints give it: one joint (a rename), the mean
of several (e.g. the pelvis as the mean of both hips), or nothing (the target joint stays NaN).
:func:`map_joints` applies it to any array whose second-to-last axis is the source set's joints,
keeping NaN where a source joint is missing, so every caller treats missing joints the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from .keypoint_sets import BLAZEPOSE33, COCO17, MPI3DHP17, VNECT21
from .rig import RIG
from .schema import SkeletonSchema

# Target joint -> source joints averaged; a target missing from a table has no source (NaN).
_TO_RIG: dict[str, dict[str, tuple[str, ...]]] = {
    "coco17": {
        "Hips": ("left_hip", "right_hip"),
        "Neck": ("left_shoulder", "right_shoulder"),
        "Head": ("left_ear", "right_ear"),
        "LeftArm": ("left_shoulder",), "LeftForeArm": ("left_elbow",), "LeftHand": ("left_wrist",),
        "RightArm": ("right_shoulder",), "RightForeArm": ("right_elbow",), "RightHand": ("right_wrist",),
        "LeftUpLeg": ("left_hip",), "LeftLeg": ("left_knee",), "LeftFoot": ("left_ankle",),
        "RightUpLeg": ("right_hip",), "RightLeg": ("right_knee",), "RightFoot": ("right_ankle",),
    },
    "blazepose33": {
        "Hips": ("left_hip", "right_hip"),
        "Neck": ("left_shoulder", "right_shoulder"),
        "Head": ("left_ear", "right_ear"),
        "LeftArm": ("left_shoulder",), "LeftForeArm": ("left_elbow",), "LeftHand": ("left_wrist",),
        "RightArm": ("right_shoulder",), "RightForeArm": ("right_elbow",), "RightHand": ("right_wrist",),
        "LeftUpLeg": ("left_hip",), "LeftLeg": ("left_knee",), "LeftFoot": ("left_ankle",),
        "LeftToeBase": ("left_foot_index",),
        "RightUpLeg": ("right_hip",), "RightLeg": ("right_knee",), "RightFoot": ("right_ankle",),
        "RightToeBase": ("right_foot_index",),
    },
    "mpi3dhp17": {
        "Hips": ("pelvis",), "Spine1": ("spine",), "Neck": ("neck",), "Head": ("head",),
        "LeftArm": ("left_shoulder",), "LeftForeArm": ("left_elbow",), "LeftHand": ("left_wrist",),
        "RightArm": ("right_shoulder",), "RightForeArm": ("right_elbow",), "RightHand": ("right_wrist",),
        "LeftUpLeg": ("left_hip",), "LeftLeg": ("left_knee",), "LeftFoot": ("left_ankle",),
        "RightUpLeg": ("right_hip",), "RightLeg": ("right_knee",), "RightFoot": ("right_ankle",),
    },
}
_TO_RIG["vnect21"] = {**_TO_RIG["mpi3dhp17"], "LeftToeBase": ("left_toe",), "RightToeBase": ("right_toe",)}

_BETWEEN_SETS: dict[tuple[str, str], dict[str, tuple[str, ...]]] = {
    # BlazePose's 33 contain COCO's 17 under the same names.
    ("blazepose33", "coco17"): {joint: (joint,) for joint in COCO17.joints},
    ("coco17", "mpi3dhp17"): {
        **{joint: (joint,) for joint in MPI3DHP17.joints if joint in COCO17.joints},
        "pelvis": ("left_hip", "right_hip"),
        "neck": ("left_shoulder", "right_shoulder"),
        "head": ("left_ear", "right_ear"),
    },
    ("vnect21", "mpi3dhp17"): {joint: (joint,) for joint in MPI3DHP17.joints},
    # The body joints only; the face needs the head's orientation (skeletons/face.py adds it).
    ("vnect21", "coco17"): {joint: (joint,) for joint in COCO17.joints if joint in VNECT21.joints},
}
_BETWEEN_SETS[("blazepose33", "mpi3dhp17")] = _BETWEEN_SETS[("coco17", "mpi3dhp17")]
_BETWEEN_SETS[("blazepose33", "vnect21")] = {
    **_BETWEEN_SETS[("coco17", "mpi3dhp17")],
    "right_hand": ("right_index",), "left_hand": ("left_index",),
    "right_toe": ("right_foot_index",), "left_toe": ("left_foot_index",),
}

#: Every joint set by name; the registry the rest of the code looks schemas up in.
SKELETONS: dict[str, SkeletonSchema] = {s.name: s for s in (RIG, COCO17, BLAZEPOSE33, MPI3DHP17, VNECT21)}


@dataclass(frozen=True)
class JointMapping:
    """A linear map from one joint set to another.

    Attributes:
        source: source set name.
        target: target set name.
        weights: (J_target, J_source) float64; each row sums to 1, or is all zero where the target
            joint has no source.
    """

    source: str
    target: str
    weights: np.ndarray

    @property
    def available(self) -> np.ndarray:
        """(J_target,) bool: which target joints the source set provides."""
        return self.weights.sum(axis=1) > 0


def get_skeleton(name: str) -> SkeletonSchema:
    """Look a joint set up by name, with an error that lists the valid names."""
    try:
        return SKELETONS[name]
    except KeyError:
        raise KeyError(f"Unknown joint set {name!r}; valid: {', '.join(sorted(SKELETONS))}") from None


@cache
def get_mapping(source: str, target: str) -> JointMapping:
    """The mapping from joint set ``source`` to joint set ``target`` (identity when equal)."""
    src, dst = get_skeleton(source), get_skeleton(target)
    if source == target:
        table = {joint: (joint,) for joint in src.joints}
    elif target == RIG.name and source in _TO_RIG:
        table = _TO_RIG[source]
    elif (source, target) in _BETWEEN_SETS:
        table = _BETWEEN_SETS[(source, target)]
    else:
        known = sorted([f"{s}->{RIG.name}" for s in _TO_RIG] + [f"{s}->{t}" for s, t in _BETWEEN_SETS])
        raise KeyError(f"No mapping from {source!r} to {target!r}; known: {', '.join(known)}")
    weights = np.zeros((dst.num_joints, src.num_joints))
    for joint, sources in table.items():
        row = dst.index(joint)
        for name in sources:
            weights[row, src.index(name)] = 1.0 / len(sources)
    weights.setflags(write=False)
    return JointMapping(source=source, target=target, weights=weights)


def map_joints(values: np.ndarray, source: str, target: str) -> np.ndarray:
    """Convert per-joint values (positions, confidences) from one joint set to another.

    Args:
        values: (..., J_source, D) array; NaN marks a missing joint. Pass per-joint scalars such as
            confidences as ``scores[..., None]``.
        source: source joint set name.
        target: target joint set name.

    Returns:
        (..., J_target, D) float64. A target joint is NaN when it has no source or when any of its
        sources is NaN.
    """
    mapping = get_mapping(source, target)
    array = np.asarray(values, dtype=np.float64)
    if array.ndim < 2 or array.shape[-2] != mapping.weights.shape[1]:
        raise ValueError(f"Expected (..., {mapping.weights.shape[1]}, D) {source} joints, got shape {array.shape}.")
    # A target joint is missing if any of its sources is missing: propagate NaN through the mean.
    missing_src = np.isnan(array).any(axis=-1)  # (..., J_source)
    missing_dst = (missing_src[..., None, :] & (mapping.weights > 0)).any(axis=-1) | ~mapping.available
    result = np.einsum("ts,...sd->...td", mapping.weights, np.nan_to_num(array))
    result[missing_dst] = np.nan
    return result
