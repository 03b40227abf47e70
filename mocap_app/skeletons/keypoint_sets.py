"""The keypoint sets the application consumes, in each set's own published order.

* ``coco17``: MS-COCO person keypoints (MultiPoseNet, XNect's 2D branch, most 2D detectors).
* ``blazepose33``: BlazePose GHUM's 33 landmarks (the default engine).
* ``mpi3dhp17``: the MPI-INF-3DHP / Human3.6M "universal" 17 joints, pelvis at index 14.
* ``vnect21``: the 17 above plus hands and foot tips (VNect / XNect Stage II output).
"""

from __future__ import annotations

from .schema import SkeletonSchema, mirrored_names


def _schema(name: str, table: tuple[tuple[str, str | None], ...]) -> SkeletonSchema:
    """Build a schema from (joint, parent) rows; parents are names so the tables stay readable."""
    names = tuple(row[0] for row in table)
    order = {joint: index for index, joint in enumerate(names)}
    parents = tuple(-1 if parent is None else order[parent] for _, parent in table)
    return SkeletonSchema(name=name, joints=names, parents=parents, mirror=mirrored_names(names, "left_", "right_"))


COCO17 = _schema("coco17", (
    ("nose", None),
    ("left_eye", "nose"), ("right_eye", "nose"),
    ("left_ear", "left_eye"), ("right_ear", "right_eye"),
    ("left_shoulder", None), ("right_shoulder", "left_shoulder"),
    ("left_elbow", "left_shoulder"), ("right_elbow", "right_shoulder"),
    ("left_wrist", "left_elbow"), ("right_wrist", "right_elbow"),
    ("left_hip", "left_shoulder"), ("right_hip", "right_shoulder"),
    ("left_knee", "left_hip"), ("right_knee", "right_hip"),
    ("left_ankle", "left_knee"), ("right_ankle", "right_knee"),
))

BLAZEPOSE33 = _schema("blazepose33", (
    ("nose", None),
    ("left_eye_inner", "nose"), ("left_eye", "left_eye_inner"), ("left_eye_outer", "left_eye"),
    ("right_eye_inner", "nose"), ("right_eye", "right_eye_inner"), ("right_eye_outer", "right_eye"),
    ("left_ear", "left_eye_outer"), ("right_ear", "right_eye_outer"),
    ("mouth_left", "mouth_right"), ("mouth_right", None),
    ("left_shoulder", None), ("right_shoulder", "left_shoulder"),
    ("left_elbow", "left_shoulder"), ("right_elbow", "right_shoulder"),
    ("left_wrist", "left_elbow"), ("right_wrist", "right_elbow"),
    ("left_pinky", "left_wrist"), ("right_pinky", "right_wrist"),
    ("left_index", "left_wrist"), ("right_index", "right_wrist"),
    ("left_thumb", "left_wrist"), ("right_thumb", "right_wrist"),
    ("left_hip", "left_shoulder"), ("right_hip", "right_shoulder"),
    ("left_knee", "left_hip"), ("right_knee", "right_hip"),
    ("left_ankle", "left_knee"), ("right_ankle", "right_knee"),
    ("left_heel", "left_ankle"), ("right_heel", "right_ankle"),
    ("left_foot_index", "left_ankle"), ("right_foot_index", "right_ankle"),
))

_MPI17_TABLE = (
    ("head_top", "neck"),
    ("neck", "spine"),
    ("right_shoulder", "neck"), ("right_elbow", "right_shoulder"), ("right_wrist", "right_elbow"),
    ("left_shoulder", "neck"), ("left_elbow", "left_shoulder"), ("left_wrist", "left_elbow"),
    ("right_hip", "pelvis"), ("right_knee", "right_hip"), ("right_ankle", "right_knee"),
    ("left_hip", "pelvis"), ("left_knee", "left_hip"), ("left_ankle", "left_knee"),
    ("pelvis", None),
    ("spine", "pelvis"),
    ("head", "neck"),
)

MPI3DHP17 = _schema("mpi3dhp17", _MPI17_TABLE)

VNECT21 = _schema("vnect21", _MPI17_TABLE + (
    ("right_hand", "right_wrist"), ("left_hand", "left_wrist"),
    ("right_toe", "right_ankle"), ("left_toe", "left_ankle"),
))

#: The root joint of the MPI-INF-3DHP family, relative to which 3D poses are given.
MPI3DHP_ROOT = "pelvis"
