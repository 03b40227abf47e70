"""``mocap weights import``: take published or trained weights into the model store (needs torch)."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

from ..errors import MocapError

KINDS = {
    "selecsls60": "the SelecSLS-60 ImageNet checkpoint of the official PyTorch release (SelecSLS60_statedict.pth): "
                  "backbone initialisation for 'mocap train xnect-stage1'",
    "xnect-stage1": "a Stage I checkpoint (.pt) from 'mocap train xnect-stage1': exported as the xnect engine",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    importer = actions.add_parser("import", help="check a weights file and store it where the app looks",
                                  description="; ".join(f"{k}: {v}" for k, v in KINDS.items()))
    importer.add_argument("kind", choices=sorted(KINDS), help="what the file is")
    importer.add_argument("file", type=Path, help="the weights file")
    importer.add_argument("--size", type=int, nargs=2, default=[512, 320], metavar=("W", "H"),
                          help="xnect-stage1: engine input size, multiples of 16 (default 512 320)")


def run(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("torch") is None:
        raise MocapError("Importing weights needs torch: pip install 'mocap-app[train]'.")
    if not args.file.is_file():
        raise FileNotFoundError(f"No weights file at {args.file}.")
    from models import xnect_weights  # noqa: PLC0415

    if args.kind == "selecsls60":
        path, count = xnect_weights.import_selecsls60(args.file)
        print(f"mocap weights: SelecSLS-60 ImageNet weights ({count / 1e6:.2f}M parameters) stored as {path}")
    else:
        if any(v % 16 for v in args.size):
            raise MocapError("--size must be multiples of 16.")
        path = xnect_weights.import_stage1(args.file, tuple(args.size))
        print(f"mocap weights: XNect Stage I exported to {path} (+ .toml); 'mocap run --engine xnect' uses it")
    return 0
