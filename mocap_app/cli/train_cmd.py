"""``mocap train``: train the XNect networks (needs the ``train`` extra: torch, imported only here).

* ``xnect-stage2``: Stage II from motion capture alone (simulated Stage I outputs), exported to ONNX
  with a sidecar holding the metrics and the reproduce command; ``--ablation`` also trains the
  reduced inputs and prints every MPJPE. ``--inputs 2d+conf`` trains the 2D-only lifter
  (``stage2_2d.onnx``) that MultiPoseNet and ``mocap fit`` use for 2D-only observations.
* ``xnect-stage1``: Stage I on COCO keypoint JSON (2D + PAFs) and MuCo-3DHP-style JSON (3D
  encodings), or ``--distill VIDEOS`` to learn from the BlazePose engine's output on your own videos.
"""

from __future__ import annotations

import argparse
import importlib.util
import shlex
import sys
from pathlib import Path

from ..errors import MocapError
from ..xnect.features import INPUT_MODES

#: Where the shipped Stage II weights live inside the package: with encodings, and the 2D-only lifter.
PACKAGED_STAGE2 = Path(__file__).resolve().parents[1] / "xnect" / "stage2.onnx"
PACKAGED_STAGE2_2D = PACKAGED_STAGE2.with_name("stage2_2d.onnx")
#: The XNect Stage II input (with Stage I's encodings); the other INPUT_MODES make the 2D-only lifter.
XNECT_INPUTS = "2d+conf+enc"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="network", required=True, metavar="NETWORK")
    stage2 = commands.add_parser("xnect-stage2", help="train XNect Stage II on simulated Stage I outputs",
                                 description="Train XNect Stage II from BVH motion capture: random virtual cameras "
                                             "and placements, noisy 2D, dropouts, occluders and noisy channel-sparse "
                                             "encodings; smooth-L1 loss. Exports ONNX + sidecar.")
    stage2.add_argument("--train", type=Path, required=True, metavar="DIR", help="folder of training BVH files")
    stage2.add_argument("--eval", type=Path, required=True, metavar="DIR", help="folder of held-out BVH files")
    stage2.add_argument("--inputs", choices=list(INPUT_MODES), default=XNECT_INPUTS,
                        help="network input: Stage I 2D + confidences + 3D encodings (XNect, default), or 2D "
                             "(+ confidences) only: the lifter for 2D front ends")
    stage2.add_argument("--out", type=Path, default=None, metavar="FILE.onnx",
                        help="output network (default: the package's own stage2.onnx, or stage2_2d.onnx for "
                             "2D-only inputs)")
    stage2.add_argument("--steps", type=int, default=1500, help="optimiser steps per network (default 1500)")
    stage2.add_argument("--batch", type=int, default=256, help="people per step (default 256)")
    stage2.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    stage2.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    stage2.add_argument("--ablation", action="store_true",
                        help="also train the inputs that leave feature groups out and report them all")

    from ._train_stage1 import add_stage1_arguments
    add_stage1_arguments(commands)
    from ._train_multiposenet import add_multiposenet_arguments
    add_multiposenet_arguments(commands)


def _require_torch() -> None:
    if importlib.util.find_spec("torch") is None:
        raise MocapError("Training needs torch: pip install 'mocap-app[train]' (torch==2.13.0, CPU build).")


def run(args: argparse.Namespace) -> int:
    _require_torch()
    argv = sys.argv[sys.argv.index("train") + 1:] if "train" in sys.argv else []
    command = "mocap train " + " ".join(shlex.quote(arg) for arg in argv)
    if args.network == "xnect-stage2":
        return _stage2(args, command)
    if args.network in ("prn", "multiposenet"):
        from ._train_multiposenet import run_multiposenet
        return int(run_multiposenet(args, command) or 0)
    from ._train_stage1 import run_stage1
    return run_stage1(args, command)


def _stage2(args: argparse.Namespace, command: str) -> int:
    for folder in (args.train, args.eval):
        if not folder.is_dir():
            raise MocapError(f"{folder} is not a folder of BVH files.")
    if args.steps < 1 or args.batch < 2:
        raise MocapError("--steps must be at least 1 and --batch at least 2.")
    from models.xnect_train_stage2 import Stage2TrainConfig, run_stage2_training  # noqa: PLC0415

    out = args.out or (PACKAGED_STAGE2 if args.inputs == XNECT_INPUTS else PACKAGED_STAGE2_2D)
    config = Stage2TrainConfig(steps=args.steps, batch=args.batch, seed=args.seed, threads=args.threads,
                               mode=args.inputs)
    metrics = run_stage2_training(args.train, args.eval, out, config, ablation=args.ablation, command=command)
    print(f"{'Stage II input':<14} {'joints':<10} {'MPJPE mm':>9} {'scaled':>7} {'detected':>9} {'undetected':>10}"
          f"   (simulated eval, {metrics[0].samples} people)")
    for m in metrics:
        print(f"{m.mode:<14} {m.input_set:<10} {m.mpjpe_mm:>9.1f} {m.scaled_mpjpe_mm:>7.1f} {m.visible_mpjpe_mm:>9.1f} "
              f"{m.occluded_mpjpe_mm:>10.1f}")
    print(f"mocap train: wrote {out} and {out.with_suffix('.toml')}")
    return 0
