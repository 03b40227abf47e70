"""BVH files: reading any common flavour, forward kinematics, writing, and exporting the app's rig.

Units stay those of the file (our own files are centimetres, y up, T-pose rest, Euler ZXY: see
:mod:`mocap_app.conventions`). ``Zrotation Xrotation Yrotation`` means R = Rz @ Rx @ Ry applied to
column vectors; a child sits at ``parent_position + parent_R @ offset``.

Example:
    >>> motion = read_bvh("take.bvh")                     # doctest: +SKIP
    >>> positions = forward_kinematics(motion)             # (F, J, 3) file units
    >>> write_bvh("take_zxy_m.bvh", motion, order="ZXY", scale=0.01)  # doctest: +SKIP
"""

from .euler import EULER_ORDERS, euler_to_matrix, matrix_to_euler, normalise_order
from .kinematics import change_order, forward_kinematics, scale_motion, with_end_sites
from .reader import parse_bvh, read_bvh
from .rig_export import motion_from_rig, rig_skeleton
from .skeleton import CHANNEL_NAMES, POSITION_CHANNELS, ROTATION_CHANNELS, BVHMotion, BVHSkeleton
from .writer import format_bvh, write_bvh

__all__ = [
    "CHANNEL_NAMES", "EULER_ORDERS", "POSITION_CHANNELS", "ROTATION_CHANNELS", "BVHMotion", "BVHSkeleton",
    "change_order", "euler_to_matrix", "format_bvh", "forward_kinematics", "matrix_to_euler", "motion_from_rig",
    "normalise_order", "parse_bvh", "read_bvh", "rig_skeleton", "scale_motion", "with_end_sites", "write_bvh",
]
