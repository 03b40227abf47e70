"""Benchmark BVH reading, forward kinematics and writing, and measure the round-trip error.

    .venv/bin/python scripts/bench_bvh.py ../shared/data/mocap/train [--order ZXY]

Prints, for the largest file, the time to read, run FK and format it, then the largest joint
displacement (file units) after read -> write -> read over every file, keeping each joint's order
and rewriting all joints in ``--order``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from mocap_app.bvh import EULER_ORDERS, format_bvh, forward_kinematics, read_bvh, write_bvh


def _best_of(repeats: int, function) -> float:
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        timings.append(time.perf_counter() - start)
    return min(timings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="folder searched recursively for .bvh files")
    parser.add_argument("--order", default="ZXY", choices=EULER_ORDERS, help="order for the reordered round trip")
    parser.add_argument("--repeats", type=int, default=5, help="timing repeats (best is reported)")
    args = parser.parse_args(argv)
    files = sorted(args.folder.rglob("*.bvh"))
    if not files:
        print(f"no .bvh files under {args.folder}", file=sys.stderr)
        return 2

    largest = max(files, key=lambda path: path.stat().st_size)
    motion = read_bvh(largest)
    print(f"largest file {largest.name}: {motion.num_frames} frames, {motion.skeleton.num_joints} joints")
    print(f"  read   {_best_of(args.repeats, lambda: read_bvh(largest)) * 1000:7.1f} ms")
    print(f"  FK     {_best_of(args.repeats, lambda: forward_kinematics(motion)) * 1000:7.1f} ms")
    print(f"  format {_best_of(args.repeats, lambda: format_bvh(motion)) * 1000:7.1f} ms")

    worst = {"kept order": 0.0, f"order {args.order}": 0.0}
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "round_trip.bvh"
        for path in files:
            source = read_bvh(path)
            expected = forward_kinematics(source)
            for label, order in (("kept order", None), (f"order {args.order}", args.order)):
                write_bvh(target, source, order=order)
                error = float(np.linalg.norm(forward_kinematics(read_bvh(target)) - expected, axis=-1).max())
                worst[label] = max(worst[label], error)
    for label, error in worst.items():
        print(f"round trip over {len(files)} files, {label}: max joint error {error:.3g} file units")
    return 0


if __name__ == "__main__":
    sys.exit(main())
