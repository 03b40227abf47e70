"""``mocap train prn`` and ``mocap train multiposenet`` (sub-commands of ``mocap train``; torch inside).

* ``prn``: the Pose Residual Network from keypoint annotations alone (synthetic crowds from BVH,
  optionally a COCO keypoint JSON), exported to ONNX, then evaluated on held-out synthetic crowds
  (ground-truth keypoints and boxes in, OKS AP out) next to the "max" and "nearest box" baselines.
* ``multiposenet``: the image network on COCO-format data, in the paper's order: ``--stage
  keypoints`` (backbone + keypoint subnet), then ``--stage detector`` (backbone frozen).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..backends.multiposenet import PACKAGED_PRN, multiposenet_dir
from ..errors import MocapError

DEFAULT_EVAL_SCENES = 500
EVAL_SEED = 2024


def add_multiposenet_arguments(commands: argparse._SubParsersAction) -> None:
    prn = commands.add_parser("prn", help="train the Pose Residual Network on synthetic crowds (+ COCO JSON)",
                              description="Train MultiPoseNet's PRN from keypoints alone, export ONNX + sidecar, "
                                          "and report OKS AP on held-out synthetic crowds vs two baselines.")
    prn.add_argument("--mocap", type=Path, required=True, metavar="DIR", help="folder of training BVH files")
    prn.add_argument("--eval-mocap", type=Path, required=True, metavar="DIR", help="folder of held-out BVH files")
    prn.add_argument("--coco", type=Path, metavar="JSON", help="COCO person-keypoints file mixed into training")
    prn.add_argument("--out", type=Path, default=PACKAGED_PRN, metavar="FILE.onnx",
                     help="output network (default: the package's own prn.onnx)")
    prn.add_argument("--variant", default="prn_compact", help="PRN size (models/prn.py PRN_VARIANTS)")
    prn.add_argument("--steps", type=int, default=1400, help="optimiser steps (default 1400)")
    prn.add_argument("--batch", type=int, default=64, help="people per step (default 64)")
    prn.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    prn.add_argument("--eval-scenes", type=int, default=DEFAULT_EVAL_SCENES, help="held-out scenes (default 500)")
    prn.add_argument("--eval-only", action="store_true",
                     help="only evaluate the existing --out network (results go into its sidecar)")

    net = commands.add_parser("multiposenet", help="train the MultiPoseNet image network on COCO-format data",
                              description="Train MultiPoseNet on a COCO person-keypoints JSON and its images: "
                                          "first --stage keypoints, then --stage detector (backbone frozen). "
                                          "Checkpoints (safetensors) and the exported ONNX go to --out.")
    net.add_argument("--coco", type=Path, required=True, metavar="JSON", help="COCO person-keypoints annotations")
    net.add_argument("--images", type=Path, required=True, metavar="DIR", help="folder the file_names are in")
    net.add_argument("--stage", choices=("keypoints", "detector"), required=True)
    net.add_argument("--variant", default="r50", help="r50, r101, r101_dil or tiny (default r50)")
    net.add_argument("--size", type=int, nargs=2, default=(384, 576), metavar=("H", "W"),
                     help="training and export input size (default 384 576)")
    net.add_argument("--steps", type=int, default=20000, help="optimiser steps (default 20000)")
    net.add_argument("--batch", type=int, default=8, help="images per step (default 8)")
    net.add_argument("--lr", type=float, default=1e-4, help="Adam learning rate (default 1e-4)")
    net.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    net.add_argument("--out", type=Path, default=None, metavar="DIR", help="default: the model store")


def run_multiposenet(args: argparse.Namespace, command: str) -> int | None:
    """Run ``prn`` or ``multiposenet``; ``None`` when ``args.network`` is neither."""
    if args.network == "prn":
        return _prn(args, command)
    if args.network == "multiposenet":
        return _network(args, command)
    return None


def _prn(args: argparse.Namespace, command: str) -> int:
    from engines.engine import load_engine, read_sidecar

    from ..multiposenet.crowds import PosePool
    from ..multiposenet.prn_eval import eval_scenes, evaluate_methods, format_table
    from ..multiposenet.prn_io import assign_max, assign_nearest, assign_prn

    for folder in (args.mocap, args.eval_mocap):
        if not folder.is_dir():
            raise MocapError(f"{folder} is not a folder of BVH files.")
    if args.steps < 1 or args.batch < 2 or args.eval_scenes < 1:
        raise MocapError("--steps and --eval-scenes must be at least 1, --batch at least 2.")
    if args.out.name != "prn.onnx":
        raise MocapError("--out must be a file named prn.onnx (its sidecar prn.toml goes beside it).")
    training: dict = {}
    if not args.eval_only:
        from models.multiposenet_export import export_prn
        from models.prn import PRN_VARIANTS
        from models.prn_train import PrnTrainConfig, coco_scenes, train_prn

        if args.variant not in PRN_VARIANTS:
            raise MocapError(f"Unknown PRN variant {args.variant!r}; valid: {', '.join(PRN_VARIANTS)}.")
        config = PrnTrainConfig(variant=args.variant, steps=args.steps, batch=args.batch, seed=args.seed)
        coco = coco_scenes(args.coco) if args.coco else []
        model = train_prn(PosePool.from_folder(args.mocap), config, coco)
        training = {"command": command, "steps": args.steps, "batch": args.batch, "seed": args.seed,
                    "data": f"synthetic crowds from {args.mocap}" + (f" + {args.coco}" if args.coco else "")}
        export_prn(model, args.out.parent, training)
    engine = load_engine(args.out)
    grid = (int(engine.sidecar["crop"]["rows"]), int(engine.sidecar["crop"]["cols"]))

    def prn(crops):
        return engine.run({"crops": crops})["probabilities"] if len(crops) else crops

    scenes = eval_scenes(PosePool.from_folder(args.eval_mocap), args.eval_scenes, seed=EVAL_SEED)
    methods = {"prn": lambda p, b: assign_prn(p, b, prn, grid), "max": assign_max, "nearest": assign_nearest}
    scores = evaluate_methods(scenes, methods)
    print(f"PRN assignment, ground-truth keypoints and boxes, {args.eval_scenes} held-out synthetic crowds "
          f"({scores[0].people} people) from {args.eval_mocap}; OKS AP (pycocotools):")
    print(format_table(scores))
    from models.export import dump_toml

    sidecar_path = args.out.with_suffix(".toml")
    sidecar = read_sidecar(args.out)
    sidecar["evaluation"] = {"data": f"{args.eval_scenes} synthetic crowds from {args.eval_mocap}, seed "
                                     f"{EVAL_SEED}; ground-truth keypoints and boxes; OKS AP in percent",
                             **{row.method: {k: round(v, 2) for k, v in row.stats.items()} for row in scores}}
    sidecar_path.write_text(dump_toml(sidecar) + "\n", encoding="utf-8")
    print(f"mocap train: wrote {args.out} and {sidecar_path}")
    return 0


def _network(args: argparse.Namespace, command: str) -> int:
    from models.multiposenet_train import NetTrainConfig, train_network

    if not args.coco.is_file():
        raise FileNotFoundError(f"No annotations at {args.coco}. Give a COCO person-keypoints JSON.")
    if not args.images.is_dir():
        raise NotADirectoryError(f"No image folder at {args.images}.")
    if args.steps < 1 or args.batch < 1 or min(args.size) < 64 or any(s % 32 for s in args.size):
        raise MocapError("--steps and --batch must be at least 1; --size H W must be multiples of 32, >= 64.")
    out = args.out or multiposenet_dir()
    config = NetTrainConfig(variant=args.variant, stage=args.stage, size=tuple(args.size), steps=args.steps,
                            batch=args.batch, lr=args.lr, seed=args.seed)
    onnx_path, losses = train_network(args.coco, args.images, out, config, command)
    print(f"mocap train: {args.stage} loss {losses[0]:.4f} -> {losses[-1]:.4f} over {len(losses)} steps; "
          f"wrote {onnx_path}")
    return 0
