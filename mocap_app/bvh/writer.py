"""Writing BVH files that every common importer reads.

Layout: tab-indented HIERARCHY, one ``CHANNELS`` line per joint, ``End Site`` blocks, then
``MOTION``, ``Frames:``, ``Frame Time:`` (the shortest text that reads back as the same float) and
one line of space-separated values per frame. Numbers are fixed-point (no exponents, which some
importers reject) with enough decimals that a read-write-read round trip moves no joint by more
than a few micrometres.
"""

from __future__ import annotations

import logging
import math
import os
from os import PathLike
from pathlib import Path

import numpy as np

from .kinematics import change_order, scale_motion
from .skeleton import BVHMotion, BVHSkeleton, is_rotation

logger = logging.getLogger(__name__)

#: Decimals written for angles (degrees): 1e-6 degree moves a 2 m chain end by 0.04 micrometres.
ANGLE_DECIMALS = 6
#: Decimals written for lengths at scale 1; more are added when scaling down (e.g. cm to m).
LENGTH_DECIMALS = 6
#: Upper bound on length decimals, whatever the scale.
MAX_LENGTH_DECIMALS = 10


def _length_decimals(scale: float) -> int:
    """Decimals for lengths: keep every digit of the source's 6-decimal precision after scaling down."""
    extra = max(0, math.ceil(-math.log10(scale))) if scale < 1.0 else 0
    return min(LENGTH_DECIMALS + extra, MAX_LENGTH_DECIMALS)


def _format_vector(vector: np.ndarray, decimals: int) -> str:
    return " ".join(f"{round(float(value), decimals) + 0.0:.{decimals}f}" for value in vector)


def _depth_first(skeleton: BVHSkeleton) -> list[int]:
    """Joints in the order a BVH file lists them: each joint followed by its subtrees, roots in index order."""
    children: list[list[int]] = [[] for _ in skeleton.names]
    for joint, parent in enumerate(skeleton.parents):
        if parent >= 0:
            children[parent].append(joint)
    order: list[int] = []
    stack = [joint for joint, parent in enumerate(skeleton.parents) if parent < 0][::-1]
    while stack:
        joint = stack.pop()
        order.append(joint)
        stack.extend(children[joint][::-1])
    return order


def _hierarchy_lines(skeleton: BVHSkeleton, order: list[int], decimals: int) -> list[str]:
    """HIERARCHY lines, joints in depth-first ``order``; End Sites close leaf joints."""
    lines = ["HIERARCHY"]
    depth: list[int] = []
    for parent in skeleton.parents:  # parents come first, so their depth is known
        depth.append(0 if parent < 0 else depth[parent] + 1)
    for position, joint in enumerate(order):
        parent = skeleton.parents[joint]
        indent = "\t" * depth[joint]
        channels = skeleton.channels[joint]
        lines += [f"{indent}{'ROOT' if parent < 0 else 'JOINT'} {skeleton.names[joint]}", f"{indent}{{",
                  f"{indent}\tOFFSET {_format_vector(skeleton.offsets[joint], decimals)}",
                  f"{indent}\tCHANNELS {len(channels)}" + "".join(f" {c}" for c in channels)]
        if joint in skeleton.end_sites:
            lines += [f"{indent}\tEnd Site", f"{indent}\t{{",
                      f"{indent}\t\tOFFSET {_format_vector(skeleton.end_sites[joint], decimals)}", f"{indent}\t}}"]
        # Close this joint and every ancestor whose subtree ends here.
        next_depth = depth[order[position + 1]] if position + 1 < len(order) else 0
        lines += ["\t" * level + "}" for level in range(depth[joint], next_depth - 1, -1)]
    return lines


def format_bvh(motion: BVHMotion, length_decimals: int = LENGTH_DECIMALS) -> str:
    """The BVH text of a take, written as it is (no order or unit change).

    Joints are listed depth-first; a skeleton built in another (parent-first) order is written with
    its motion columns permuted to match, so it reads back with joints in depth-first order.
    """
    skeleton = motion.skeleton
    order = _depth_first(skeleton)
    starts = skeleton.channel_starts
    columns = np.concatenate([np.arange(starts[j], starts[j + 1]) for j in order]).astype(np.int64)
    lines = _hierarchy_lines(skeleton, order, length_decimals)
    lines += ["MOTION", f"Frames: {motion.num_frames}", f"Frame Time: {motion.frame_time!r}"]
    decimals = np.array([ANGLE_DECIMALS if is_rotation(skeleton.channels[j][k]) else length_decimals
                         for j in order for k in range(len(skeleton.channels[j]))], dtype=np.int64)
    row_format = " ".join(f"%.{d}f" for d in decimals)
    # Round per column first so that tiny negatives print as 0 rather than -0.000000.
    scale = 10.0 ** decimals
    values = np.round(motion.values[:, columns] * scale) / scale + 0.0
    lines.extend(row_format % tuple(row) for row in values.tolist())
    return "\n".join(lines) + "\n"


def write_bvh(path: str | PathLike, motion: BVHMotion, order: str | None = None, scale: float = 1.0) -> None:
    """Write a take to a BVH file, atomically (a reader never sees a half-written file).

    Args:
        path: destination; its folder must exist.
        motion: the take, in its own units.
        order: Euler order for every rotating joint (e.g. ``"ZXY"``); ``None`` keeps each joint's.
        scale: factor applied to every length (offsets, end sites, position channels), e.g. 0.01
            for centimetres to metres.

    Raises:
        ValueError: unknown order or a non-positive scale.
        FileNotFoundError: the destination folder does not exist.
    """
    path = Path(path)
    if order is not None:
        motion = change_order(motion, order)
    if scale != 1.0:
        motion = scale_motion(motion, scale)
    text = format_bvh(motion, _length_decimals(scale))
    if not path.parent.is_dir():
        raise FileNotFoundError(f"Cannot write {path}: the folder {path.parent} does not exist.")
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # same folder: os.replace stays atomic
    try:
        with open(temporary, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    logger.info("Wrote %s: %d frames, %d joints", path, motion.num_frames, motion.skeleton.num_joints)
