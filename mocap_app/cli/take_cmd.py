"""``mocap take``: manage recorded takes.

    mocap take recover takes/take.journal.jsonl --export takes/recovered/

A take is journalled to disk while it is captured (``*.journal.jsonl``); after a crash or power
loss, ``recover`` exports everything up to the last flush as BVH, skipping a torn last line.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import MocapError
from ..takes.journal import read_journal
from ..takes.recorder import export_take


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    recover = sub.add_parser("recover", help="export a take journal left by a crash as BVH")
    recover.add_argument("journal", type=Path, help="the take's .journal.jsonl file")
    recover.add_argument("--export", required=True, type=Path, metavar="DIR", help="folder for the BVH files")
    recover.add_argument("--fps", type=float, default=None, help="BVH frame rate (default: the take's rate)")
    recover.add_argument("--combined", action="store_true", help="also write all performers into one BVH")
    recover.add_argument("--no-foot-lock", action="store_true", help="export without the foot-lock pass")


def run(args: argparse.Namespace) -> int:
    if args.fps is not None and not args.fps > 0:
        raise MocapError(f"--fps must be positive, got {args.fps}.")
    take = read_journal(args.journal)
    written = export_take(take, args.export, fps=args.fps, combined=args.combined,
                          foot_lock=not args.no_foot_lock)
    frames = sum(len(p.times) for p in take.performers.values())
    print(f"recovered {frames} motion frames of {len(take.performers)} performer(s)"
          + (f", skipped {take.skipped_lines} damaged line(s)" if take.skipped_lines else ""))
    for path in written:
        print(path)
    return 0
