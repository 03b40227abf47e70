"""Analytic two-bone IK of a leg (UpLeg -> Leg -> Foot), vectorised over frames, for the foot lock.

The knee stays a hinge: the thigh turns so that its bend plane follows the target, and the shin
turns about the knee's own axis; the bone lengths are kept. Used by :mod:`.foot_lock`.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

#: Fraction of the full leg length the IK reaches at most (a fully straight knee has no bend plane).
MAX_REACH_FRACTION = 0.9995
#: Smallest vector length normalised.
EPS = 1e-9


def normalise(v: np.ndarray) -> np.ndarray:
    """(..., 3) unit vectors along ``v`` (zero vectors stay near zero)."""
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), EPS)


def _frame(first: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """(F, 3, 3) orthonormal frames with columns (first, normal, first x normal)."""
    return np.stack([first, normal, np.cross(first, normal)], axis=-1)


def two_bone_ik(hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray, target: np.ndarray, knee_axis: np.ndarray,
                thigh: float, shin: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Analytic two-bone IK, vectorised over frames.

    Args:
        hip, knee, ankle, target: (F, 3) world positions, metres.
        knee_axis: (F, 3) the knee's hinge axis in world, used where the leg is straight.
        thigh, shin: bone lengths, metres.

    Returns:
        (F, 3, 3) world rotation to apply to the thigh, (F, 3, 3) to the shin (on top of the thigh's),
        and (F,) how far the target lies beyond the leg's reach (metres, <= 0 when reachable).
    """
    normal = np.cross(knee - hip, ankle - knee)
    straight = np.linalg.norm(normal, axis=1) < 1e-6 * thigh * shin
    normal = normalise(np.where(straight[:, None], knee_axis, normal))
    to_target = target - hip
    distance = np.linalg.norm(to_target, axis=1)
    reach = MAX_REACH_FRACTION * (thigh + shin)
    overreach = distance - reach
    distance = np.clip(distance, abs(thigh - shin) + 1e-6, reach)
    u = normalise(to_target)
    v = normalise(np.cross(u, normal))
    cos_hip = np.clip((thigh ** 2 + distance ** 2 - shin ** 2) / (2 * thigh * distance), -1.0, 1.0)
    new_knee = hip + thigh * (cos_hip[:, None] * u + np.sqrt(1 - cos_hip ** 2)[:, None] * v)
    new_ankle = hip + distance[:, None] * u
    new_normal = normalise(np.cross(new_knee - hip, new_ankle - new_knee))
    # Thigh: map (old thigh, old bend normal) onto (new thigh, new bend normal), so the knee's
    # hinge axis follows the bend plane and the knee stays a pure hinge.
    old = _frame(normalise(knee - hip), normal)
    thigh_turn = _frame(normalise(new_knee - hip), new_normal) @ old.transpose(0, 2, 1)
    shin_now = normalise(np.einsum("fij,fj->fi", thigh_turn, ankle - knee))
    shin_want = normalise(new_ankle - new_knee)
    angle = np.arctan2(np.einsum("fi,fi->f", np.cross(shin_now, shin_want), new_normal),
                       np.einsum("fi,fi->f", shin_now, shin_want))
    shin_turn = Rotation.from_rotvec(new_normal * angle[:, None]).as_matrix()
    return thigh_turn, shin_turn, overreach
