"""``mocap synth``: render synthetic performers driven by BVH motion capture, with exact ground truth.

Examples::

    mocap synth --bvh walk.bvh --out clips/walk
    mocap synth --bvh salsa_a.bvh salsa_b.bvh --out clips/salsa --duration 10 --randomise --seed 3
    mocap synth --bvh mocap/train --out data/synth_train --dataset 5000 --width 640 --height 480
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
from pathlib import Path

import numpy as np

from ..errors import MocapError
from ..synth.appearance import preset_look, random_appearance
from ..synth.board import FLOOR_FILE, WAVE_FILE, render_board_session
from ..synth.clip import CameraSpec, place_camera, render_clip
from ..synth.dataset import generate_dataset
from ..synth.groundtruth import SCENE_FILE
from ..synth.motion import arrange, load_performer
from ..synth.render import Renderer
from ..synth.scene import default_stage, random_stage

#: Ranges the camera is drawn from with --randomise.
RANDOM_YAW_DEG = (-70.0, 70.0)
RANDOM_CAMERA_HEIGHT_M = (0.8, 2.2)
RANDOM_FOV_DEG = (42.0, 68.0)
#: Heights a performer can be given, metres (a child to a very tall adult).
MIN_HEIGHT_M, MAX_HEIGHT_M = 0.5, 2.5


def _positive(kind: type):
    def parse(text: str):
        value = kind(text)
        if not 0 < value < math.inf:  # (NaN and infinity too)
            raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
        return value
    return parse


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bvh", nargs="+", required=True, metavar="FILE",
                        help="BVH takes, one per performer (CMU MotionBuilder, 3ds Max or DAZ naming); with "
                             "--dataset, files or folders to draw random motions from")
    parser.add_argument("--out", required=True, type=Path, help="output folder (video, truth, calibration)")
    parser.add_argument("--seed", type=int, default=0, help="random seed for every random choice (default 0)")
    parser.add_argument("--randomise", action="store_true",
                        help="random appearance, stage and camera (each also has its own switch)")
    parser.add_argument("--random-appearance", action="store_true", help="random clothes, skin, build and height")
    parser.add_argument("--random-stage", action="store_true", help="random floor, walls and lights")
    parser.add_argument("--random-camera", action="store_true", help="random camera yaw, height and field of view")
    parser.add_argument("--performer-height", type=_positive(float), nargs="+", metavar="M",
                        help="standing height of each performer, metres (overrides the appearance)")
    parser.add_argument("--width", type=_positive(int), default=1280, help="image width, pixels (default 1280)")
    parser.add_argument("--height", type=_positive(int), default=720, help="image height, pixels (default 720)")
    parser.add_argument("--fps", type=_positive(float), default=30.0, help="frame rate of the clip (default 30)")
    parser.add_argument("--fov", type=_positive(float), default=54.0, help="vertical field of view, degrees")
    parser.add_argument("--distance", type=_positive(float), default=None,
                        help="camera distance from the performers, metres (default: nearest that frames them, "
                             ">= 3.6)")
    parser.add_argument("--camera-height", type=_positive(float), default=1.3, help="camera height, metres")
    parser.add_argument("--yaw", type=_finite, default=0.0, help="camera angle around the performers, degrees")
    parser.add_argument("--start", type=_finite, default=0.0, help="skip this many seconds of every take")
    parser.add_argument("--duration", type=_positive(float), default=None, help="render at most this many seconds")
    parser.add_argument("--bvh-fps", type=_positive(float), default=None,
                        help="true frame rate of the takes where their header is wrong (CMU's DAZ salsa: 60)")
    parser.add_argument("--dataset", type=_positive(int), metavar="N",
                        help="instead of a clip, write N random training images with COCO-format annotations")
    parser.add_argument("--max-people", type=_positive(int), default=4, help="with --dataset: 1..N performers")
    parser.add_argument("--calibration-board", action="store_true",
                        help="also render a checkerboard calibration session: board_wave.mp4 (board waved in "
                             "front of the camera) and board_floor.png (board lying on the floor)")
    parser.add_argument("--png", action="store_true", help="also write every frame as frames/NNNNNN.png")


def _bvh_files(entries: list[str]) -> list[Path]:
    files: list[Path] = []
    for entry in map(Path, entries):
        if entry.is_dir():
            files.extend(sorted(entry.rglob("*.bvh")))
        elif entry.is_file():
            files.append(entry)
        else:
            raise FileNotFoundError(f"No BVH file or folder at {entry}.")
    return files


def _dataset(args: argparse.Namespace) -> int:
    rate = generate_dataset(args.out, _bvh_files(args.bvh), args.dataset, args.seed, args.width, args.height,
                            args.max_people)
    print(f"wrote {args.dataset} images to {args.out} at {rate:.2f} images/s ({args.width}x{args.height})")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.dataset:
        return _dataset(args)
    if not 1 <= args.fov < 170:
        raise MocapError(f"--fov must be between 1 and 170 degrees, got {args.fov}.")
    if args.performer_height and len(args.performer_height) not in (1, len(args.bvh)):
        raise MocapError(f"--performer-height needs one height or one per --bvh file ({len(args.bvh)}).")
    if args.performer_height and not all(MIN_HEIGHT_M <= h <= MAX_HEIGHT_M for h in args.performer_height):
        raise MocapError(f"--performer-height is in metres, between {MIN_HEIGHT_M} and {MAX_HEIGHT_M}; "
                         f"got {' '.join(map(str, args.performer_height))}.")
    for path in args.bvh:
        if not Path(path).is_file():
            raise FileNotFoundError(f"No BVH file at {path}.")
    rng = np.random.default_rng(args.seed)
    looks = [random_appearance(rng) if args.randomise or args.random_appearance else preset_look(i)
             for i in range(len(args.bvh))]
    if args.performer_height:
        heights = args.performer_height * (len(args.bvh) if len(args.performer_height) == 1 else 1)
        looks = [dataclasses.replace(look, height_m=h) for look, h in zip(looks, heights, strict=True)]
    motions = arrange([load_performer(path, look, args.fps, args.start, args.duration, args.bvh_fps)
                       for path, look in zip(args.bvh, looks, strict=True)])
    spec = CameraSpec(width=args.width, height=args.height, distance_m=args.distance, height_m=args.camera_height,
                      yaw_deg=args.yaw, vertical_fov_deg=args.fov)
    if args.randomise or args.random_camera:
        spec = dataclasses.replace(spec, yaw_deg=float(rng.uniform(*RANDOM_YAW_DEG)),
                                   height_m=float(rng.uniform(*RANDOM_CAMERA_HEIGHT_M)),
                                   vertical_fov_deg=float(rng.uniform(*RANDOM_FOV_DEG)))
    camera = place_camera(spec, motions)
    room = float(np.linalg.norm(camera.centre[[0, 2]])) + 1.5
    stage = random_stage(rng, room) if args.randomise or args.random_stage else default_stage(room)
    summary = render_clip(args.out, motions, looks, stage, camera, png=args.png)
    if args.calibration_board:
        with Renderer() as renderer:
            board = render_board_session(args.out, camera, stage, renderer, seed=args.seed)
        scene_path = Path(args.out) / SCENE_FILE
        scene = json.loads(scene_path.read_text(encoding="utf-8"))
        scene["calibration_board"] = board
        scene_path.write_text(json.dumps(scene, indent=1), encoding="utf-8")
        spec = f"--board {board['board']} --square {board['square_m']}"
        print(f"calibration board: mocap calibrate intrinsics --video {Path(args.out) / WAVE_FILE} {spec} "
              f"--out cam.json; mocap calibrate ground --image {Path(args.out) / FLOOR_FILE} "
              f"--calibration cam.json {spec}")
    print(f"wrote {summary.frames} frames of {summary.performers} performer(s) to {summary.folder} "
          f"({camera.width}x{camera.height}, camera {np.linalg.norm(camera.centre[[0, 2]]):.1f} m away, "
          f"{summary.seconds_per_frame:.3f} s/frame)")
    return 0
