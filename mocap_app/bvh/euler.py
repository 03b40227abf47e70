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


def _axis_rotation(axis: str, radians: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotations by ``radians`` about one coordinate axis (right-handed)."""
    cos, sin = np.cos(radians), np.sin(radians)
    zero, one = np.zeros_like(radians), np.ones_like(radians)
    rows = {
        "X": ((one, zero, zero), (zero, cos, -sin), (zero, sin, cos)),
        "Y": ((cos, zero, sin), (zero, one, zero), (-sin, zero, cos)),
        "Z": ((cos, -sin, zero), (sin, cos, zero), (zero, zero, one)),
    }[axis]
    return np.stack([np.stack(row, axis=-1) for row in rows], axis=-2)


def euler_to_matrix(angles_deg: np.ndarray, axes: str) -> np.ndarray:
    """Rotation matrices from BVH Euler angles.

    Args:
        angles_deg: (..., K) angles in degrees, one per letter of ``axes``, in the file's channel order.
        axes: K axis letters (1 to 3), e.g. ``"ZXY"``; R = R_axes[0] @ R_axes[1] @ ...

    Returns:
        (..., 3, 3) float64 rotation matrices.
    """
    angles = np.deg2rad(np.asarray(angles_deg, dtype=np.float64))
    if angles.shape[-1] != len(axes):
        raise ValueError(f"Got {angles.shape[-1]} angles for the {len(axes)} axes {axes!r}.")
    result = np.broadcast_to(np.eye(3), angles.shape[:-1] + (3, 3))
    for position, axis in enumerate(axes):
        result = result @ _axis_rotation(axis, angles[..., position])
    return np.ascontiguousarray(result)


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
