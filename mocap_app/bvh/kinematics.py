"""Forward kinematics of BVH takes, and the exact rewrites a converter needs (Euler order, units).

Everything is vectorised over frames: the only Python loops run over joints.
"""

from __future__ import annotations

import numpy as np

from .euler import matrix_to_euler, normalise_order
from .skeleton import BVHMotion, BVHSkeleton, is_rotation


def with_end_sites(motion: BVHMotion) -> tuple[BVHMotion, dict[str, int]]:
    """The same take with every End Site turned into a channel-less joint, so FK also places it.

    Head tops, finger and toe tips exist only as End Sites in most BVH files; renderers and
    training simulators need their positions as joints.

    Returns:
        The extended take (End Site joints appended after the original joints, named
        ``"<parent>__end_site"``) and a map ``"<parent>/end" -> index`` of those joints.
    """
    skeleton = motion.skeleton
    names, parents = list(skeleton.names), list(skeleton.parents)
    offsets, channels = list(skeleton.offsets), list(skeleton.channels)
    ends = {}
    for joint, offset in sorted(skeleton.end_sites.items()):
        ends[f"{skeleton.names[joint]}/end"] = len(names)
        names.append(f"{skeleton.names[joint]}__end_site")
        parents.append(joint)
        offsets.append(offset)
        channels.append(())
    extended = BVHSkeleton(tuple(names), tuple(parents), np.array(offsets), tuple(channels), {})
    return BVHMotion(extended, motion.frame_time, motion.values), ends


def forward_kinematics(motion: BVHMotion) -> np.ndarray:
    """World position of every joint on every frame.

    A child is at ``parent_position + parent_world_R @ local_translation`` and turns by
    ``parent_world_R @ local_R``, with the local rotation built from the joint's Euler channels.

    Returns:
        (F, J, 3) float64 positions in file units.
    """
    # Joint-major (J, F, ...) contiguous blocks: each step below is one batched product over frames.
    translations = np.ascontiguousarray(motion.local_translations().transpose(1, 0, 2))
    rotations = np.ascontiguousarray(motion.local_rotations().transpose(1, 0, 2, 3))
    world_rotations = np.empty_like(rotations)
    positions = np.empty_like(translations)
    for joint, parent in enumerate(motion.skeleton.parents):
        if parent < 0:
            world_rotations[joint] = rotations[joint]
            positions[joint] = translations[joint]
        else:
            np.matmul(world_rotations[parent], rotations[joint], out=world_rotations[joint])
            positions[joint] = positions[parent] + np.einsum("fij,fj->fi", world_rotations[parent], translations[joint])
    return np.ascontiguousarray(positions.transpose(1, 0, 2))


def change_order(motion: BVHMotion, order: str) -> BVHMotion:
    """The same take with every rotating joint's channels in one Euler order.

    Joints already listing exactly ``order`` keep their values bit for bit; others are converted
    through rotation matrices (angles unwrapped over time). Position channels stay first, unchanged.

    Args:
        motion: the take to rewrite.
        order: target order, one of :data:`~mocap_app.bvh.euler.EULER_ORDERS`.

    Returns:
        A new :class:`BVHMotion` whose joints each have their position channels then
        ``{order[0]}rotation {order[1]}rotation {order[2]}rotation`` (joints without rotation keep none).
    """
    order = normalise_order(order)
    skeleton = motion.skeleton
    rotation_names = tuple(f"{axis}rotation" for axis in order)
    local_rotations = None  # computed only if some joint needs converting
    channels, blocks = [], []
    for joint, joint_channels in enumerate(skeleton.channels):
        start = skeleton.channel_starts[joint]
        position_columns = [start + k for k, c in enumerate(joint_channels) if not is_rotation(c)]
        new_channels = tuple(joint_channels[column - start] for column in position_columns)
        blocks.append(motion.values[:, position_columns])
        axes = skeleton.rotation_axes(joint)
        if axes == order:
            rotation_columns = [start + k for k, c in enumerate(joint_channels) if is_rotation(c)]
            blocks.append(motion.values[:, rotation_columns])
        elif axes:
            if local_rotations is None:
                local_rotations = motion.local_rotations()
            blocks.append(matrix_to_euler(local_rotations[:, joint], order))
        channels.append(new_channels + (rotation_names if axes else ()))
    new_skeleton = BVHSkeleton(skeleton.names, skeleton.parents, skeleton.offsets, tuple(channels),
                               skeleton.end_sites)
    values = np.concatenate(blocks, axis=1) if blocks else np.zeros((motion.num_frames, 0))
    return BVHMotion(new_skeleton, motion.frame_time, values)


def scale_motion(motion: BVHMotion, factor: float) -> BVHMotion:
    """The same take with every length (offsets, end sites, position channels) multiplied by ``factor``."""
    if not np.isfinite(factor) or factor <= 0:
        raise ValueError(f"A length scale must be a positive number, got {factor}.")
    skeleton = motion.skeleton
    new_skeleton = BVHSkeleton(skeleton.names, skeleton.parents, skeleton.offsets * factor, skeleton.channels,
                               {joint: offset * factor for joint, offset in skeleton.end_sites.items()})
    column_scale = np.ones(skeleton.num_channels)
    for joint, joint_channels in enumerate(skeleton.channels):
        for column, channel in enumerate(joint_channels, start=skeleton.channel_starts[joint]):
            if not is_rotation(channel):
                column_scale[column] = factor
    return BVHMotion(new_skeleton, motion.frame_time, motion.values * column_scale)

