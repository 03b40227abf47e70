"""Pose distances that do not care which side a detector called left.

Single-view pose networks swap a person's left and right limbs now and then (a walker seen from
the side: which leg is in front is ambiguous from one frame). A plain mean joint distance then
jumps to a body width or more, 2D and 3D alike, and the tracker would take the same person for a
newcomer. Here every left/right pair of joints is compared both ways and the better way is kept,
pair by pair (a detector may swap the legs and not the arms).
"""

from __future__ import annotations

import numpy as np

from ..skeletons import RIG

#: (J,) index of each rig joint's left/right counterpart (itself for central joints).
RIG_MIRROR = RIG.mirror_indices


def swap_invariant_distances(pose: np.ndarray, reference: np.ndarray,
                             mirror: np.ndarray = RIG_MIRROR) -> tuple[np.ndarray, np.ndarray]:
    """Per-joint distances of ``pose`` to ``reference`` with each left/right pair matched the better way.

    Args:
        pose: (J, D) joints, NaN where unseen.
        reference: (J, D) joints in the same units and joint order.
        mirror: (J,) each joint's left/right counterpart.

    Returns:
        ``(distances, swapped)``: (J,) distance of each reference joint to the pose joint matched to
        it (NaN where either is unseen), and (J,) bool, ``True`` where that pose joint is the mirror
        one. A pair is swapped when that matches more of its joints, or as many with a smaller
        summed distance (a pose joint is never matched twice).
    """
    same = np.linalg.norm(pose - reference, axis=-1)
    cross = np.linalg.norm(pose[mirror] - reference, axis=-1)
    count_same = np.isfinite(same).astype(int) + np.isfinite(same[mirror])
    count_cross = np.isfinite(cross).astype(int) + np.isfinite(cross[mirror])
    sum_same = np.nan_to_num(same) + np.nan_to_num(same[mirror])
    sum_cross = np.nan_to_num(cross) + np.nan_to_num(cross[mirror])
    # More joints matched wins; on a tie, the smaller summed distance (central joints never swap).
    swapped = (count_cross > count_same) | ((count_cross == count_same) & (sum_cross < sum_same))
    return np.where(swapped, cross, same), swapped


def aligned_to(pose: np.ndarray, swapped: np.ndarray, mirror: np.ndarray = RIG_MIRROR) -> np.ndarray:
    """``pose`` with the joints :func:`swap_invariant_distances` found swapped put back in the reference's order."""
    return np.where(swapped[:, None], pose[mirror], pose)


def mean_distance(distances: np.ndarray, min_joints: int = 2) -> float | None:
    """Mean of the finite ``distances``; ``None`` when fewer than ``min_joints`` are finite."""
    finite = distances[np.isfinite(distances)]
    return float(finite.mean()) if len(finite) >= min_joints else None
