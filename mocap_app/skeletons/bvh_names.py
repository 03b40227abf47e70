"""Joint-name conventions of third-party BVH files, mapped to the keypoints we observe.

Three conventions of the CMU motion capture database's community BVH conversions are known:

* ``cmu_motionbuilder``: Hips, LeftUpLeg, LeftLeg, LeftFoot, LeftToeBase, Spine, Spine1, Neck (upper
  chest), Neck1, Head, LeftShoulder (clavicle), LeftArm, LeftForeArm, LeftHand (units: CMU ASF units);
* ``cmu_3dsmax``: Hips, LeftHip, LeftKnee, LeftAnkle, LeftToe, Chest, lowerneck, Head,
  LeftCollar, LeftShoulder (= upper arm), LeftElbow, LeftWrist (units: ASF units or metres);
* ``cmu_daz_acrnn``: hip, abdomen, chest, neck, head, lCollar, lShldr, lForeArm, lHand, lThigh,
  lShin, lFoot, no toes (units: centimetres).

A fourth, ``rig22``, is the application's own rig (its BVH exports), so they can drive a figure too.

:data:`BVH_TO_RIG` maps every rig joint (and the five tips ``<joint>/end``: head top, finger and toe
tips) to weighted BVH joints (``<joint>/end`` = that joint's End Site), for driving the rig or a
synthetic figure from a take; a weight may be negative to extrapolate past a zero-length End Site.
Its ``Head/end`` rows place the head top in the rest pose only; a figure turns it with the head
joint's own rotation, from :func:`head_top_offset`.

:data:`BVH_TO_VNECT21` maps a ``vnect21`` keypoint to the BVH joint at that place, so ground-truth motion can
be turned into the observations a Stage I/II backend would produce; from there the ordinary
``vnect21 -> rig22`` mapping of :mod:`.mappings` applies. Keypoints a convention lacks (head top
and hands sit on end sites; daz has no toes) stay NaN.
"""

from __future__ import annotations

import numpy as np

from .keypoint_sets import VNECT21
from .rig import RIG


def _sides(table: dict[str, str], left: str, right: str) -> dict[str, str]:
    """Expand ``{"left_knee": "LeftKnee"}`` rows with their right-side twins."""
    result = dict(table)
    for key, value in table.items():
        if key.startswith("left_"):
            result["right_" + key[len("left_"):]] = value.replace(left, right, 1)
    return result


#: convention -> vnect21 keypoint -> BVH joint name.
BVH_TO_VNECT21: dict[str, dict[str, str]] = {
    "cmu_motionbuilder": _sides({
        "pelvis": "Hips", "spine": "Spine", "neck": "Neck1", "head": "Head",
        "left_shoulder": "LeftArm", "left_elbow": "LeftForeArm", "left_wrist": "LeftHand",
        "left_hip": "LeftUpLeg", "left_knee": "LeftLeg", "left_ankle": "LeftFoot", "left_toe": "LeftToeBase",
    }, "Left", "Right"),
    "cmu_3dsmax": _sides({
        "pelvis": "Hips", "spine": "Chest", "neck": "Neck", "head": "Head",
        "left_shoulder": "LeftShoulder", "left_elbow": "LeftElbow", "left_wrist": "LeftWrist",
        "left_hip": "LeftHip", "left_knee": "LeftKnee", "left_ankle": "LeftAnkle", "left_toe": "LeftToe",
    }, "Left", "Right"),
    "cmu_daz_acrnn": _sides({
        "pelvis": "hip", "spine": "abdomen", "neck": "neck", "head": "head",
        "left_shoulder": "lShldr", "left_elbow": "lForeArm", "left_wrist": "lHand",
        "left_hip": "lThigh", "left_knee": "lShin", "left_ankle": "lFoot",
    }, "l", "r"),
    # The application's own rig (its BVH exports and the parametric reference walk).
    "rig22": _sides({
        "pelvis": "Hips", "spine": "Spine1", "neck": "Neck", "head": "Head",
        "left_shoulder": "LeftArm", "left_elbow": "LeftForeArm", "left_wrist": "LeftHand",
        "left_hip": "LeftUpLeg", "left_knee": "LeftLeg", "left_ankle": "LeftFoot", "left_toe": "LeftToeBase",
    }, "Left", "Right"),
}

Sources = tuple[tuple[str, float], ...]


def _rig_sides(table: dict[str, Sources], left: str, right: str) -> dict[str, Sources]:
    """Expand left-side rig rows (``LeftArm``, ``LeftHand/end``) with their right-side twins."""
    result = dict(table)
    for key, sources in table.items():
        if key.startswith("Left"):
            result["Right" + key[len("Left"):]] = tuple((name.replace(left, right, 1), w) for name, w in sources)
    return result


#: convention -> rig joint (or ``<joint>/end`` tip) -> ((BVH joint or ``<joint>/end``, weight), ...).
BVH_TO_RIG: dict[str, dict[str, Sources]] = {
    "cmu_motionbuilder": _rig_sides({
        "Hips": (("Hips", 1.0),), "Spine": (("Spine", 1.0),), "Spine1": (("Spine1", 1.0),),
        "Spine2": (("Spine1", 0.5), ("Neck1", 0.5)), "Neck": (("Neck1", 1.0),), "Head": (("Head", 1.0),),
        "Head/end": (("Head", 2.0), ("Neck1", -1.0)),
        "LeftShoulder": (("LeftShoulder", 1.0),), "LeftArm": (("LeftArm", 1.0),),
        "LeftForeArm": (("LeftForeArm", 1.0),), "LeftHand": (("LeftHand", 1.0),),
        "LeftHand/end": (("LeftHandIndex1", 1.0),),
        "LeftUpLeg": (("LeftUpLeg", 1.0),), "LeftLeg": (("LeftLeg", 1.0),), "LeftFoot": (("LeftFoot", 1.0),),
        "LeftToeBase": (("LeftToeBase", 1.0),), "LeftToeBase/end": (("LeftToeBase", 1.5), ("LeftFoot", -0.5)),
    }, "Left", "Right"),
    "cmu_3dsmax": _rig_sides({
        "Hips": (("Hips", 1.0),), "Spine": (("Chest", 1.0),), "Spine1": (("Chest", 0.5), ("Chest2", 0.5)),
        "Spine2": (("Chest2", 1.0),), "Neck": (("Neck", 1.0),), "Head": (("Head", 1.0),),
        "Head/end": (("Head/end", 1.0),),
        "LeftShoulder": (("LeftCollar", 1.0),), "LeftArm": (("LeftShoulder", 1.0),),
        "LeftForeArm": (("LeftElbow", 1.0),), "LeftHand": (("LeftWrist", 1.0),),
        "LeftHand/end": (("LFingers", 1.0),),
        "LeftUpLeg": (("LeftHip", 1.0),), "LeftLeg": (("LeftKnee", 1.0),), "LeftFoot": (("LeftAnkle", 1.0),),
        "LeftToeBase": (("LeftToe", 1.0),), "LeftToeBase/end": (("LeftToe/end", 1.0),),
    }, "Left", "Right"),
    "cmu_daz_acrnn": _rig_sides({
        "Hips": (("hip", 1.0),), "Spine": (("abdomen", 1.0),), "Spine1": (("abdomen", 0.5), ("chest", 0.5)),
        "Spine2": (("chest", 1.0),), "Neck": (("neck", 1.0),), "Head": (("head", 1.0),),
        "Head/end": (("head", 3.0), ("neck", -2.0)),
        "LeftShoulder": (("lCollar", 1.0),), "LeftArm": (("lShldr", 1.0),),
        "LeftForeArm": (("lForeArm", 1.0),), "LeftHand": (("lHand", 1.0),),
        "LeftHand/end": (("lMid2", 1.0),),
        "LeftUpLeg": (("lThigh", 1.0),), "LeftLeg": (("lShin", 1.0),), "LeftFoot": (("lFoot", 1.0),),
        "LeftToeBase": (("lFoot", 0.4), ("lFoot/end", 0.6)), "LeftToeBase/end": (("lFoot/end", 1.0),),
    }, "l", "r"),
}


# The same MotionBuilder-friendly conversion in its older release (e.g. CMU 01_01): the finger tip
# joint is ``LFingers``/``RFingers`` instead of ``LeftHandIndex1``/``RightHandIndex1``.
BVH_TO_RIG["cmu_motionbuilder_lfingers"] = {
    **BVH_TO_RIG["cmu_motionbuilder"],
    "LeftHand/end": (("LFingers", 1.0),), "RightHand/end": (("RFingers", 1.0),),
}


# The application's own rig (files from ``mocap`` itself, e.g. the parametric demo motion or an
# exported take): every joint is itself, the tips are its End Sites. Checked last, after the CMU flavours.
BVH_TO_RIG["rig22"] = {
    **{joint: ((joint, 1.0),) for joint in RIG.joints},
    **{f"{joint}/end": ((f"{joint}/end", 1.0),) for joint in RIG.end_sites},
}


def rig_sources(names: tuple[str, ...] | list[str]) -> tuple[str, dict[str, Sources]]:
    """(convention, :data:`BVH_TO_RIG` table) for a BVH skeleton's joint names.

    Raises:
        KeyError: no known convention matches; the message lists the known ones.
    """
    present = set(names)
    for convention, table in BVH_TO_RIG.items():
        needed = {name.split("/")[0] for sources in table.values() for name, _ in sources}
        if needed <= present:
            return convention, table
    raise KeyError(f"Unknown BVH joint naming (first joints: {', '.join(list(names)[:6])}); known conventions: "
                   f"{', '.join(BVH_TO_RIG)}.")


#: Length units a BVH file may use, metres per unit (CMU ASF units: 1/0.45 inch).
BVH_UNITS_M = {"m": 1.0, "cm": 0.01, "inch": 0.0254, "cmu_asf": 2.54 / 45.0}
#: Typical floor-to-head-joint height of an adult, metres, for guessing a file's unit.
TYPICAL_HEAD_HEIGHT_M = 1.5


def detect_convention(names: tuple[str, ...] | list[str]) -> str:
    """Which known convention a BVH skeleton's joint names follow.

    Raises:
        ValueError: none matches, listing the known conventions.
    """
    present = set(names)
    for convention, table in BVH_TO_VNECT21.items():
        if set(table.values()) <= present:
            return convention
    raise ValueError(f"Unknown BVH joint naming (first joints: {', '.join(list(names)[:6])}); known conventions: "
                     f"{', '.join(BVH_TO_VNECT21)}.")


def vnect21_from_bvh(names: tuple[str, ...] | list[str], positions: np.ndarray) -> np.ndarray:
    """(F, 21, 3) ``vnect21`` keypoints from (F, J, 3) BVH joint positions (NaN where absent)."""
    table = BVH_TO_VNECT21[detect_convention(names)]
    index = {name: i for i, name in enumerate(names)}
    result = np.full(positions.shape[:-2] + (VNECT21.num_joints, 3), np.nan)
    for keypoint, joint in table.items():
        result[..., VNECT21.index(keypoint), :] = positions[..., index[joint], :]
    return result


def guess_unit(keypoints: np.ndarray) -> float:
    """Metres per file unit, from the median height of the head keypoint above the lowest ankle/toe.

    Args:
        keypoints: (F, 21, 3) ``vnect21`` keypoints in file units, y up.
    """
    head = keypoints[:, VNECT21.index("head"), 1]
    feet = np.nanmin(keypoints[:, VNECT21.indices(["left_ankle", "right_ankle"]), 1], axis=1)
    height = float(np.nanmedian(head - feet))
    return min(BVH_UNITS_M.values(), key=lambda unit: abs(np.log(height * unit / TYPICAL_HEAD_HEIGHT_M)))


#: ``vnect21`` keypoints that sit on End Sites (or finger joints) in CMU files: the :data:`BVH_TO_RIG`
#: tip that gives each. Used to complete :func:`vnect21_from_bvh` for Stage II training targets.
VNECT21_TIPS: dict[str, str] = {"head_top": "Head/end", "left_hand": "LeftHand/end", "right_hand": "RightHand/end"}


#: The rig tip that moves rigidly with a rig joint's own rotation: the head top with the head.
HEAD_TOP_TIP, HEAD_JOINT = "Head/end", "Head"


def head_top_offset(table: dict[str, Sources], rest: dict[str, np.ndarray]) -> tuple[str, np.ndarray]:
    """The BVH joint the head top turns with, and the head top's offset from it in that joint's frame.

    The tip rows of :data:`BVH_TO_RIG` place the head top by extrapolating the neck bone (MotionBuilder,
    DAZ), a point that only the neck's rotation moves, or at the head's End Site (3ds Max). The head
    joint's own rotation, the captured head orientation, was lost for the first two: DAZ takes carry
    up to 30 degrees of it (martial/05: the head about 5 degrees chin-up on a neck leaning 30 degrees
    forward, drawn 30 degrees chin-down). Here the rows are read in the rest pose
    (every channel zero, where every joint's frame is the world's), and the head top becomes a point
    fixed in the head joint's frame: the same point as the row gives in the rest pose, following
    the head joint's rotation in every other pose, in every family.

    Args:
        table: a :data:`BVH_TO_RIG` table (its ``Head`` row must be one BVH joint).
        rest: BVH joint or ``<joint>/end`` name -> (3,) rest-pose position, file units.

    Returns:
        (BVH head joint name, (3,) offset in file units).
    """
    (joint, _), = table[HEAD_JOINT]
    top = sum(weight * np.asarray(rest[name], dtype=np.float64) for name, weight in table[HEAD_TOP_TIP])
    return joint, top - np.asarray(rest[joint], dtype=np.float64)
