"""``mocap models``: fetch the BlazePose networks (download, verify, convert) and show where they are."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..models_store import BLAZEPOSE_FILES, WHEEL_REQUIREMENT, blazepose_dir, fetch_blazepose, is_complete


def add_arguments(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    fetch = commands.add_parser(
        "fetch", help=f"download {WHEEL_REQUIREMENT} from PyPI, verify and convert the BlazePose models",
        description=f"Download the {WHEEL_REQUIREMENT} wheel from PyPI (pip download --no-deps), extract the two "
                    "BlazePose .tflite files, verify their sha256, convert them to ONNX and store them in the user "
                    "cache directory. Does nothing when they are already there.")
    fetch.add_argument("--from-wheel", type=Path, metavar="PATH",
                       help=f"use a {WHEEL_REQUIREMENT} wheel already on disk (machines without network)")
    fetch.add_argument("--force", action="store_true", help="convert again even if the models are present")
    commands.add_parser("status", help="show where the models are stored and whether they are complete")


def run(args: argparse.Namespace) -> int:
    folder = blazepose_dir()
    if args.action == "status":
        state = "complete" if is_complete(folder) else "missing (run 'mocap models fetch')"
        print(f"blazepose: {state}")
        print(f"  folder: {folder}")
        for model in BLAZEPOSE_FILES:
            onnx = folder / f"{model.name}.onnx"
            print(f"  {model.name}: {'present' if onnx.is_file() else 'missing'}  (sha256 {model.sha256[:12]}...)")
        return 0 if is_complete(folder) else 1
    if not args.force and args.from_wheel is None and is_complete(folder):
        print(f"BlazePose models already in {folder} (use --force to convert again).")
        return 0
    steps = 0

    def step(text: str) -> None:
        nonlocal steps
        steps += 1
        print(f"[{steps}] {text} ...", file=sys.stderr, flush=True)

    folder = fetch_blazepose(from_wheel=args.from_wheel, force=args.force or args.from_wheel is not None, step=step)
    print(f"BlazePose models ready in {folder}")
    return 0
