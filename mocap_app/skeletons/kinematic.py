"""Degrees of freedom of the rig for kinematic fitting: which joint turns about which axes, how far.

The layout follows XNect's Stage III (3-DOF ball joints at the spine, neck, shoulders and hips,
hinge-like elbows and knees; Mehta et al. 2020, Ch. 8.3.2): 31 joint angles plus the root's 6
DOF. A joint's local rotation is the product of elementary rotations about its listed axes in the
listed order (intrinsic, ``R = R_a1(q1) @ R_a2(q2) @ ...``), relative to the rig's T-pose rest
pose; joints not listed keep their rest orientation (their rotation is not observable from body
joint positions: hands, toes, head roll).

Limits are *soft* anatomical limits (a penalty outside, nothing inside) in degrees, written for
the left side; the right side is the mirror image (across the body's x = 0 plane), which keeps the
x-axis angles and negates and swaps the y- and z-axis ranges. ``prior`` is the relaxed standing
pose (arms down) that a weak prior pulls under-determined angles towards.

Sign reminders in rest (T-pose) axes, y up, facing +z, the left arm along +x:
* spine/neck x > 0 bends forward; left arm z > 0 raises the arm, y < 0 swings it forward;
* left elbow y < 0 flexes; knee x > 0 flexes; hip x < 0 lifts the thigh forward, z > 0 abducts
  the left leg; foot x > 0 points the toes down.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .rig import RIG

_AXES = {"x": 0, "y": 1, "z": 2}

#  joint          axes   (min, max) degrees per axis              prior degrees per axis
_LEFT_TABLE: tuple[tuple[str, str, tuple[tuple[float, float], ...], tuple[float, ...]], ...] = (
    ("Spine",        "xzy", ((-30, 70), (-35, 35), (-40, 40)),    (0, 0, 0)),
    ("Spine2",       "xzy", ((-20, 45), (-25, 25), (-30, 30)),    (0, 0, 0)),
    ("Neck",         "xzy", ((-50, 60), (-45, 45), (-70, 70)),    (0, 0, 0)),
    ("LeftShoulder", "z",   ((-15, 35),),                         (0,)),
    ("LeftArm",      "yzx", ((-150, 60), (-100, 120), (-95, 95)), (0, -75, 0)),
    ("LeftForeArm",  "y",   ((-155, 5),),                         (-15,)),
    ("LeftUpLeg",    "xzy", ((-130, 40), (-35, 75), (-50, 50)),   (0, 0, 0)),
    ("LeftLeg",      "x",   ((-5, 155),),                         (5,)),
    ("LeftFoot",     "xy",  ((-50, 50), (-35, 35)),               (0, 0)),
)


@dataclass(frozen=True)
class JointDofs:
    """The fitted rotation axes of one rig joint.

    Attributes:
        joint: rig joint name.
        axes: axis indices (0 = x, 1 = y, 2 = z) in application order.
        lower: (n,) soft lower limits, radians.
        upper: (n,) soft upper limits, radians.
        prior: (n,) relaxed-pose angles, radians.
    """

    joint: str
    axes: tuple[int, ...]
    lower: np.ndarray
    upper: np.ndarray
    prior: np.ndarray


def _mirror(row: tuple) -> tuple:
    """Right-side row from a left-side row: x ranges stay, y/z ranges are negated and swapped."""
    joint, axes, limits, prior = row
    name = joint.replace("Left", "Right")
    new_limits, new_prior = [], []
    for axis, (low, high), angle in zip(axes, limits, prior, strict=True):
        if axis == "x":
            new_limits.append((low, high))
            new_prior.append(angle)
        else:
            new_limits.append((-high, -low))
            new_prior.append(-angle)
    return name, axes, tuple(new_limits), tuple(new_prior)


def _build() -> tuple[JointDofs, ...]:
    rows = []
    for row in _LEFT_TABLE:
        rows.append(row)
        if row[0].startswith("Left"):
            rows.append(_mirror(row))
    rows.sort(key=lambda r: RIG.index(r[0]))  # parent-first order, like the rig
    result = []
    for joint, axes, limits, prior in rows:
        result.append(JointDofs(
            joint=joint, axes=tuple(_AXES[a] for a in axes),
            lower=np.deg2rad([lim[0] for lim in limits]), upper=np.deg2rad([lim[1] for lim in limits]),
            prior=np.deg2rad(np.asarray(prior, dtype=np.float64))))
    return tuple(result)


#: The fitted joints of :data:`RIG`, parent-first; the root's 6 DOF come on top of these.
RIG_DOFS: tuple[JointDofs, ...] = _build()
#: Number of joint angles (excluding the root's 3 rotations and 3 translations).
NUM_JOINT_ANGLES = sum(len(d.axes) for d in RIG_DOFS)
#: Rig joints whose contact with the floor the fitter pins (ankles and toes).
FOOT_JOINTS = ("LeftFoot", "LeftToeBase", "RightFoot", "RightToeBase")
