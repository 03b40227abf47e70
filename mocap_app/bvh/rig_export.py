"""BVH takes of the application's own rig (:data:`mocap_app.skeletons.RIG`).

The file is what animation tools expect without any fixing by hand: centimetres, y up, the
character facing +z, a T-pose rest pose (all rotations zero is the T-pose), Mixamo/HumanIK joint
names, the root (``Hips``) with ``Xposition Yposition Zposition`` and three rotations, every other
joint three rotations, all in one Euler order (default ZXY).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from ..conventions import BVH_UNITS_PER_METRE, DEFAULT_EULER_ORDER
from ..skeletons import RIG
from .euler import matrix_to_euler, normalise_order
from .skeleton import POSITION_CHANNELS, BVHMotion, BVHSkeleton

#: Quaternions shorter than this are treated as missing data rather than normalised.
MIN_QUATERNION_NORM = 1e-9


def _check(name: str, array: np.ndarray, shape: tuple[int, ...]) -> None:
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {array.shape}.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values; fill or drop those frames before exporting.")


def rig_skeleton(rest_offsets_m: np.ndarray | None = None, order: str = DEFAULT_EULER_ORDER) -> BVHSkeleton:
    """The BVH hierarchy of the rig in centimetres.

    Args:
        rest_offsets_m: (J, 3) T-pose offsets of a performer, metres, world axes; ``None`` for
            ``RIG.rest_offsets``. End sites are scaled by the ratio of total bone lengths.
        order: Euler order of every joint's rotation channels.

    Returns:
        The skeleton; its root OFFSET is the rest position of ``Hips`` (so the rest pose stands on the floor).
    """
    order = normalise_order(order)
    offsets = RIG.rest_offsets if rest_offsets_m is None else np.asarray(rest_offsets_m, dtype=np.float64)
    _check("rest_offsets_m", offsets, (RIG.num_joints, 3))
    non_root = np.array([parent >= 0 for parent in RIG.parents])
    end_site_scale = (np.linalg.norm(offsets[non_root], axis=1).sum()
                      / np.linalg.norm(RIG.rest_offsets[non_root], axis=1).sum())
    rotations = tuple(f"{axis}rotation" for axis in order)
    channels = tuple((POSITION_CHANNELS + rotations) if parent < 0 else rotations for parent in RIG.parents)
    end_sites = {RIG.index(name): np.asarray(offset) * end_site_scale * BVH_UNITS_PER_METRE
                 for name, offset in RIG.end_sites.items()}
    return BVHSkeleton(RIG.joints, RIG.parents, offsets * BVH_UNITS_PER_METRE, channels, end_sites)


def motion_from_rig(root_positions_m: np.ndarray, local_rotations: np.ndarray, frame_time: float,
                    rest_offsets_m: np.ndarray | None = None, order: str = DEFAULT_EULER_ORDER) -> BVHMotion:
    """A BVH take of the rig from fitted poses.

    Args:
        root_positions_m: (F, 3) world position of ``Hips`` per frame, metres (y up, floor y = 0).
        local_rotations: (F, J, 4) unit quaternions (x, y, z, w) of each rig joint relative to its
            parent, in the T-pose frame (identity everywhere gives the T-pose); for the root, its
            world rotation.
        frame_time: seconds per frame.
        rest_offsets_m: (J, 3) per-performer T-pose offsets, metres; ``None`` for ``RIG.rest_offsets``.
        order: Euler order of the rotation channels.

    Returns:
        The take in centimetres; angles are unwrapped over time so no channel jumps by 360 degrees.

    Raises:
        ValueError: wrong shapes, NaN or infinite inputs, zero quaternions, a non-positive frame time.
    """
    order = normalise_order(order)
    positions = np.asarray(root_positions_m, dtype=np.float64)
    quaternions = np.asarray(local_rotations, dtype=np.float64)
    frames = positions.shape[0] if positions.ndim else 0
    _check("root_positions_m", positions, (frames, 3))
    _check("local_rotations", quaternions, (frames, RIG.num_joints, 4))
    if np.any(np.linalg.norm(quaternions, axis=-1) < MIN_QUATERNION_NORM):
        raise ValueError("local_rotations contains zero quaternions; every joint needs a unit quaternion.")
    skeleton = rig_skeleton(rest_offsets_m, order)
    matrices = Rotation.from_quat(quaternions.reshape(-1, 4)).as_matrix().reshape(frames, RIG.num_joints, 3, 3)
    angles = matrix_to_euler(matrices, order, continuous_axis=0)  # (F, J, 3), root first
    values = np.concatenate([positions * BVH_UNITS_PER_METRE, angles.reshape(frames, -1)], axis=1)
    return BVHMotion(skeleton, frame_time, values)
