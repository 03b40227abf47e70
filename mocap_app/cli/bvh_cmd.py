"""``mocap bvh``: inspect a BVH file, or rewrite it with another Euler order or length unit.

    mocap bvh info take.bvh
    mocap bvh convert take.bvh take_zxy.bvh --order ZXY
    mocap bvh convert take.bvh take_m.bvh --scale m            # centimetres (--from-units) to metres
    mocap bvh convert cmu.bvh cmu_cm.bvh --scale 5.644         # any factor
"""

from __future__ import annotations

import argparse

import numpy as np

from ..bvh import EULER_ORDERS, read_bvh, write_bvh

#: Length units a file can be converted between, as units per metre.
UNITS_PER_METRE = {"m": 1.0, "cm": 100.0, "mm": 1000.0, "inch": 1.0 / 0.0254}
#: ``--order`` value that keeps each joint's own order.
KEEP = "keep"


def _order(text: str) -> str:
    value = text.strip()
    if value.lower() == KEEP:
        return KEEP
    if value.upper() not in EULER_ORDERS:
        raise argparse.ArgumentTypeError(f"{text!r} is not an Euler order; use {', '.join(EULER_ORDERS)} or {KEEP}")
    return value.upper()


def _scale(text: str) -> str | float:
    value = text.strip().lower()
    if value in UNITS_PER_METRE:
        return value
    try:
        factor = float(value)
    except ValueError:
        factor = float("nan")
    if not np.isfinite(factor) or factor <= 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a unit ({', '.join(UNITS_PER_METRE)}) nor a positive factor")
    return factor


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    info = sub.add_parser("info", help="joints, frames, frame rate and duration of a BVH file")
    info.add_argument("file", help="BVH file to inspect")
    convert = sub.add_parser("convert", help="rewrite a BVH with another Euler order or length unit",
                             description="Rewrite a BVH file, keeping its skeleton and motion exactly.")
    convert.add_argument("input", help="BVH file to read")
    convert.add_argument("output", help="BVH file to write (replaced atomically if it exists)")
    convert.add_argument("--order", type=_order, default=KEEP,
                         help=f"Euler order for every joint: {', '.join(EULER_ORDERS)} or {KEEP} (default: {KEEP})")
    convert.add_argument("--scale", type=_scale, default=1.0,
                         help="target unit (m, cm, mm, inch; converted from --from-units) or a plain factor "
                              "(default: 1, lengths unchanged)")
    convert.add_argument("--from-units", choices=sorted(UNITS_PER_METRE), default="cm",
                         help="unit of the input file's lengths when --scale names a unit (default: cm)")


def _info(path: str) -> int:
    motion = read_bvh(path)
    skeleton = motion.skeleton
    orders: dict[str, int] = {}
    for joint in range(skeleton.num_joints):
        axes = skeleton.rotation_axes(joint) or "none"
        orders[axes] = orders.get(axes, 0) + 1
    rest = skeleton.rest_positions()
    ends = [rest[joint] + offset for joint, offset in skeleton.end_sites.items()]
    heights = np.concatenate([rest[:, 1], [end[1] for end in ends]])
    print(f"file        {path}")
    print(f"joints      {skeleton.num_joints}: {', '.join(skeleton.names)}")
    print(f"channels    {skeleton.num_channels} per frame; rotation orders "
          + ", ".join(f"{axes} ({count} joints)" for axes, count in orders.items()))
    print(f"frames      {motion.num_frames}")
    print(f"frame time  {motion.frame_time!r} s ({motion.fps:.3f} fps)")
    print(f"duration    {motion.duration:.3f} s")
    print(f"rest height {heights.max() - heights.min():.3f} file units (y extent of the rest pose)")
    return 0


def _convert(args: argparse.Namespace) -> int:
    motion = read_bvh(args.input)
    if isinstance(args.scale, str):
        factor = UNITS_PER_METRE[args.scale] / UNITS_PER_METRE[args.from_units]
    else:
        factor = float(args.scale)
    order = None if args.order == KEEP else args.order
    write_bvh(args.output, motion, order=order, scale=factor)
    print(f"wrote {args.output}: {motion.num_frames} frames, {motion.skeleton.num_joints} joints, "
          f"order {order or 'as in the input'}, lengths x{factor:g}")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.action == "info":
        return _info(args.file)
    return _convert(args)
