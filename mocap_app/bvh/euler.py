"""Euler angles as BVH files use them, and their conversion to and from rotation matrices.

A BVH joint listing ``Zrotation Xrotation Yrotation`` means R = Rz @ Rx @ Ry: intrinsic rotations
applied to column vectors, so a child's position is ``parent_position + parent_R @ offset``. This is
scipy's uppercase (intrinsic) convention, ``Rotation.from_euler("ZXY", angles, degrees=True)``.
Angles are degrees throughout.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.spatial.transform import Rotation

#: The six Tait-Bryan orders a BVH joint may list its three rotation channels in.
EULER_ORDERS = ("ZXY", "XYZ", "XZY", "YXZ", "YZX", "ZYX")
#: Period of an Euler angle in degrees, used to keep converted angles continuous over time.
FULL_TURN_DEG = 360.0


def normalise_order(order: str) -> str:
    """Upper-case an Euler order and check it is one of :data:`EULER_ORDERS`.

    Raises:
        ValueError: naming the valid orders.
    """
    upper = str(order).strip().upper()
    if upper not in EULER_ORDERS:
        raise ValueError(f"Unknown Euler order {order!r}; use one of {', '.join(EULER_ORDERS)}.")
    return upper


#: For each axis, the axis index followed by the other two in cyclic order (i, j, k).
_CYCLIC_AXES = {"X": (0, 1, 2), "Y": (1, 2, 0), "Z": (2, 0, 1)}


def euler_to_matrix(angles_deg: np.ndarray, axes: str) -> np.ndarray:
    """Rotation matrices from BVH Euler angles.

    Args:
        angles_deg: (..., K) angles in degrees, one per letter of ``axes``, in the file's channel order.
        axes: K axis letters (1 to 3), e.g. ``"ZXY"``; R = R_axes[0] @ R_axes[1] @ ...

    Returns:
        (..., 3, 3) float64 rotation matrices.
    """
    angles = np.deg2rad(np.asarray(angles_deg, dtype=np.float64))
    if angles.shape[-1] != len(axes) or any(axis not in _CYCLIC_AXES for axis in axes):
        raise ValueError(f"Got {angles.shape[-1]} angles for the axes {axes!r}; axes are letters X, Y, Z.")
    result = np.zeros(angles.shape[:-1] + (3, 3))
    result[..., [0, 1, 2], [0, 1, 2]] = 1.0
    for position, axis in enumerate(axes):
        # Right-multiplying by a rotation about axis i mixes only columns j and k:
        # col_j' = c col_j + s col_k, col_k' = c col_k - s col_j.
        _, j, k = _CYCLIC_AXES[axis]
        cos = np.cos(angles[..., position])[..., None]
        sin = np.sin(angles[..., position])[..., None]
        column_j, column_k = result[..., :, j].copy(), result[..., :, k].copy()
        result[..., :, j] = cos * column_j + sin * column_k
        result[..., :, k] = cos * column_k - sin * column_j
    return result


def matrix_to_euler(matrices: np.ndarray, order: str, continuous_axis: int | None = 0) -> np.ndarray:
    """BVH Euler angles of rotation matrices.

    At gimbal lock the split between the first and third angle is arbitrary (scipy sets the third to
    zero); the rotation, and so every joint position, is still reproduced exactly.

    Args:
        matrices: (..., 3, 3) rotation matrices.
        order: one of :data:`EULER_ORDERS`.
        continuous_axis: axis of ``matrices`` that is time; angles are unwrapped along it (a jump
            of more than 180 degrees between frames becomes the equivalent small step) so that
            importers interpolating channels see no spurious spins. ``None`` leaves them in
            scipy's ranges.

    Returns:
        (..., 3) float64 angles in degrees, in the order's channel order.
    """
    order = normalise_order(order)
    matrices = np.asarray(matrices, dtype=np.float64)
    flat = matrices.reshape(-1, 3, 3)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Gimbal lock detected")
        angles = Rotation.from_matrix(flat).as_euler(order, degrees=True).reshape(matrices.shape[:-2] + (3,))
    if continuous_axis is not None and angles.ndim > 1 and angles.shape[continuous_axis] > 1:
        angles = np.unwrap(angles, period=FULL_TURN_DEG, axis=continuous_axis)
    return angles
