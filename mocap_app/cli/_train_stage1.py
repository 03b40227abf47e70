"""Arguments and run of ``mocap train xnect-stage1`` (kept apart from the command table module)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import MocapError


def add_stage1_arguments(commands: argparse._SubParsersAction) -> None:
    stage1 = commands.add_parser(
        "xnect-stage1", help="train XNect Stage I (COCO 2D + MuCo-style 3D, or distil BlazePose on your videos)",
        description="Train XNect Stage I: heatmaps + PAFs from COCO keypoint JSON, channel-sparse 3D encodings "
                    "from MuCo-3DHP-style JSON, or both from the BlazePose engine run over your own videos "
                    "(--distill). Writes a checkpoint and the ONNX engine into the model store.")
    stage1.add_argument("--coco-json", type=Path, metavar="FILE", help="COCO person keypoints JSON (2D + PAFs)")
    stage1.add_argument("--coco-images", type=Path, metavar="DIR", help="images the COCO JSON refers to")
    stage1.add_argument("--muco-json", type=Path, metavar="FILE",
                        help="MuCo-3DHP-style JSON (keypoints_img, keypoints_cam in mm, 21 joints in vnect21 order)")
    stage1.add_argument("--muco-images", type=Path, metavar="DIR", help="images the MuCo JSON refers to")
    stage1.add_argument("--distill", type=Path, metavar="DIR",
                        help="folder of your videos: label them with the BlazePose engine and train on that")
    stage1.add_argument("--distill-every", type=int, default=5, metavar="N", help="use every N-th frame (default 5)")
    stage1.add_argument("--variant", default="xnect", help="network variant: xnect (SelecSLS-60) or xnect_tiny")
    stage1.add_argument("--size", type=int, nargs=2, default=[384, 256], metavar=("W", "H"),
                        help="training crop size, multiples of 16 (default 384 256)")
    stage1.add_argument("--export-size", type=int, nargs=2, default=[512, 320], metavar=("W", "H"),
                        help="input size of the exported engine (default 512 320)")
    stage1.add_argument("--steps", type=int, default=100000, help="optimiser steps (default 100000)")
    stage1.add_argument("--batch", type=int, default=8, help="images per step (default 8)")
    stage1.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (default 1e-3)")
    stage1.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    stage1.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    stage1.add_argument("--device", default="cpu", help="torch device (cpu, cuda)")
    stage1.add_argument("--init", type=Path, metavar="FILE",
                        help="backbone init: SelecSLS60_statedict.pth (default: the one 'mocap weights import "
                             "selecsls60' stored, if any)")
    stage1.add_argument("--resume", type=Path, metavar="FILE.pt", help="continue from a Stage I checkpoint")
    stage1.add_argument("--out", type=Path, metavar="FILE.onnx",
                        help="exported engine (default: the model store's xnect/stage1.onnx)")


def run_stage1(args: argparse.Namespace, command: str) -> int:
    if not (args.coco_json or args.muco_json or args.distill):
        raise MocapError("Give training data: --coco-json/--coco-images, --muco-json/--muco-images and/or "
                         "--distill VIDEO_DIR.")
    for json_arg, images_arg, name in ((args.coco_json, args.coco_images, "coco"),
                                       (args.muco_json, args.muco_images, "muco")):
        if (json_arg is None) != (images_arg is None):
            raise MocapError(f"--{name}-json and --{name}-images go together.")
    if any(v % 16 for v in args.size + args.export_size):
        raise MocapError("--size and --export-size must be multiples of 16.")
    from models.xnect_train_stage1 import Stage1TrainConfig, run_stage1_training  # noqa: PLC0415

    config = Stage1TrainConfig(variant=args.variant, size=tuple(args.size), steps=args.steps, batch=args.batch,
                               lr=args.lr, seed=args.seed, threads=args.threads, device=args.device)
    out = run_stage1_training(config, coco=(args.coco_json, args.coco_images) if args.coco_json else None,
                              muco=(args.muco_json, args.muco_images) if args.muco_json else None,
                              distill=args.distill, distill_every=args.distill_every, init=args.init,
                              resume=args.resume, out=args.out, export_size=tuple(args.export_size), command=command)
    print(f"mocap train: wrote {out} (+ .toml, checkpoint {out.with_suffix('.pt')})")
    return 0
