"""The application's own skeleton: the one that is fitted, shown and exported as BVH.

22 joints named as animators expect (Mixamo/HumanIK style), so Blender, Maya, MotionBuilder,
Unity and Unreal retarget it without renaming. The rest pose is a T-pose in world axes (y up,
character facing +z, its left towards +x), in metres, for a 1.73 m tall person; per-performer
bone lengths scale these offsets. BVH writing converts to centimetres.
"""

from __future__ import annotations

import numpy as np

from .schema import SkeletonSchema, mirrored_names

#        joint            parent          rest offset from parent (m)
_RIG_TABLE = (
    ("Hips",           None,           (0.000, 0.950, 0.000)),
    ("Spine",          "Hips",         (0.000, 0.100, 0.000)),
    ("Spine1",         "Spine",        (0.000, 0.120, 0.000)),
    ("Spine2",         "Spine1",       (0.000, 0.120, 0.000)),
    ("Neck",           "Spine2",       (0.000, 0.160, 0.000)),
    ("Head",           "Neck",         (0.000, 0.100, 0.020)),
    ("LeftShoulder",   "Spine2",       (0.030, 0.120, 0.000)),
    ("LeftArm",        "LeftShoulder", (0.150, 0.000, 0.000)),
    ("LeftForeArm",    "LeftArm",      (0.280, 0.000, 0.000)),
    ("LeftHand",       "LeftForeArm",  (0.250, 0.000, 0.000)),
    ("RightShoulder",  "Spine2",       (-0.030, 0.120, 0.000)),
    ("RightArm",       "RightShoulder", (-0.150, 0.000, 0.000)),
    ("RightForeArm",   "RightArm",     (-0.280, 0.000, 0.000)),
    ("RightHand",      "RightForeArm", (-0.250, 0.000, 0.000)),
    ("LeftUpLeg",      "Hips",         (0.090, -0.050, 0.000)),
    ("LeftLeg",        "LeftUpLeg",    (0.000, -0.420, 0.000)),
    ("LeftFoot",       "LeftLeg",      (0.000, -0.410, 0.000)),
    ("LeftToeBase",    "LeftFoot",     (0.000, -0.060, 0.130)),
    ("RightUpLeg",     "Hips",         (-0.090, -0.050, 0.000)),
    ("RightLeg",       "RightUpLeg",   (0.000, -0.420, 0.000)),
    ("RightFoot",      "RightLeg",     (0.000, -0.410, 0.000)),
    ("RightToeBase",   "RightFoot",    (0.000, -0.060, 0.130)),
)

#: Leaf extents written as BVH End Sites (head top, finger tips, toe tips), metres.
_END_SITES = {
    "Head": (0.0, 0.180, 0.0),
    "LeftHand": (0.180, 0.0, 0.0),
    "RightHand": (-0.180, 0.0, 0.0),
    "LeftToeBase": (0.0, 0.0, 0.060),
    "RightToeBase": (0.0, 0.0, 0.060),
}

_NAMES = tuple(row[0] for row in _RIG_TABLE)

RIG = SkeletonSchema(
    name="rig22",
    joints=_NAMES,
    parents=tuple(-1 if row[1] is None else _NAMES.index(row[1]) for row in _RIG_TABLE),
    mirror=mirrored_names(_NAMES),
    rest_offsets=np.array([row[2] for row in _RIG_TABLE], dtype=np.float64),
    end_sites=_END_SITES,
)

#: Height of the rest pose from the floor to the head top, metres (scales per performer).
RIG_REST_HEIGHT_M = float(RIG.rest_positions()[RIG.index("Head"), 1] + _END_SITES["Head"][1])
