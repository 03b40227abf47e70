"""``mocap demo``: the whole application on a clip it makes itself, for machines without a camera.

    mocap models fetch          # once
    mocap demo --out demo       # render, capture, export, measure

Renders a performer doing the project's own parametric walk and wave (no third-party data, no
webcam), runs the full pipeline on it with the rendered camera's calibration, and writes into the
output folder:

* ``video.mp4`` the rendered clip, with ``truth.jsonl``, ``scene.json`` and ``calibration.json``
  (the folder is a clip ``mocap eval video`` accepts);
* ``overlay.mp4`` the clip with every fitted skeleton drawn in its performer's colour;
* ``performer_<id>.bvh`` the captured motion (and ``take.journal.jsonl``, its crash-safe journal);
* ``reference.bvh`` the parametric motion itself, for comparison in an animation tool;

then prints the accuracy against the truth and the total time.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

from ..backends import BACKENDS, DEFAULT_BACKEND
from ..bvh import write_bvh
from ..errors import MocapError, WeightsMissingError
from ..evaluation.video_eval import evaluate_run
from ..evaluation.video_run import make_pipeline, run_clip
from ..fitting.camera import FitCamera
from ..skeletons import RIG
from ..synth.appearance import preset_look
from ..synth.clip import CameraSpec, calibration_for, place_camera, render_clip
from ..synth.groundtruth import read_clip_truth
from ..synth.motion import arrange
from ..synth.parametric import performer_motion, walk_and_wave
from ..synth.scene import default_stage
from ..takes.recorder import TakeRecorder, new_journal_path
from ..types import Frame, FrameObservations, FrameResult, MotionFrame, Observation
from .eval_video_cmd import report_table
from .run_cmd import OverlayWriter

OVERLAY_FILE = "overlay.mp4"
REFERENCE_FILE = "reference.bvh"
DEMO_FPS = 30.0
#: Shortest clip: the fitter sizes a performer over its first frames.
MIN_SECONDS = 1.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("mocap_demo"), help="output folder (default mocap_demo)")
    parser.add_argument("--seconds", type=float, default=4.0, help="clip length, seconds (default 4)")
    parser.add_argument("--width", type=int, default=960, help="image width, pixels (default 960)")
    parser.add_argument("--height", type=int, default=540, help="image height, pixels (default 540)")
    parser.add_argument("--engine", default=DEFAULT_BACKEND, choices=sorted(BACKENDS), help="Stage I engine")
    parser.add_argument("--distance", type=float, default=None,
                        help="camera distance, metres (default: the nearest that frames the whole walk)")


def _fitted_people(motion: tuple[MotionFrame, ...], camera: FitCamera) -> tuple[Observation, ...]:
    """Each fitted skeleton projected into the image, as a rig observation carrying its performer id."""
    people = []
    for frame in motion:
        pixels = camera.project(frame.world_positions).astype(np.float32)
        valid = pixels[np.isfinite(pixels).all(axis=1)]
        if len(valid) < 2:
            continue
        bbox = np.concatenate([valid.min(axis=0), valid.max(axis=0)]).astype(np.float32)
        people.append(Observation(joint_set=RIG.name, joints2d=pixels, confidence=np.ones(RIG.num_joints, np.float32),
                                  bbox=bbox, track_id=frame.performer_id))
    return tuple(people)


def _check_arguments(args: argparse.Namespace) -> None:
    if not MIN_SECONDS <= args.seconds < math.inf:
        raise MocapError(f"--seconds must be at least {MIN_SECONDS}, got {args.seconds}.")
    if args.width < 64 or args.height < 64:
        raise MocapError(f"--width and --height must be at least 64 pixels, got {args.width}x{args.height}.")
    if args.distance is not None and not 0.5 < args.distance < math.inf:
        raise MocapError(f"--distance must be more than 0.5 m, got {args.distance}.")


def run(args: argparse.Namespace) -> int:
    _check_arguments(args)
    started = time.perf_counter()
    out: Path = args.out
    look = preset_look(0)
    take = walk_and_wave(args.seconds, DEMO_FPS)
    motions = arrange([performer_motion(take, look)])
    camera = place_camera(CameraSpec(width=args.width, height=args.height, distance_m=args.distance), motions)
    calibration = calibration_for(camera)
    try:  # before rendering, so a machine without models learns it at once
        pipeline = make_pipeline(args.engine, calibration, max_people=1)
    except WeightsMissingError as exc:
        if args.engine != DEFAULT_BACKEND:
            raise  # its message names how to train or import that engine's weights
        raise MocapError(f"The {args.engine} models are not on this machine: run 'mocap models fetch' first.") from exc
    out.mkdir(parents=True, exist_ok=True)
    print(f"mocap demo: rendering {take.num_frames} frames ({args.width}x{args.height}) of a parametric walk and "
          f"wave into {out}", flush=True)
    room = float(np.linalg.norm(camera.centre[[0, 2]])) + 1.5
    render_clip(out, motions, [look], default_stage(room), camera)
    write_bvh(out / REFERENCE_FILE, take.to_bvh())
    rendered = time.perf_counter()

    print(f"mocap demo: {args.engine} on {pipeline.provider}, Stage III with the rendered calibration", flush=True)
    recorder = TakeRecorder(new_journal_path(out))
    overlay = OverlayWriter(out / OVERLAY_FILE, DEMO_FPS)

    def record(frame: Frame, result: FrameResult) -> None:
        recorder.record(result.motion, pipeline.rest_offsets)
        assert pipeline.stage3 is not None  # process() has built it
        fitted = FrameObservations(frame=frame.index, time=frame.timestamp, width=frame.width, height=frame.height,
                                   people=_fitted_people(result.motion, pipeline.stage3.camera))
        overlay.write(frame.image, fitted)

    try:
        run = run_clip(out, pipeline, on_result=record)
    finally:
        overlay.close()
        recorder.close()  # the journal stays on disk whatever happens
    written = recorder.finalize(out, fps=DEMO_FPS) if recorder.frames_recorded else []
    report = evaluate_run(read_clip_truth(out), run, "demo (parametric walk and wave)")
    print(report_table(report))
    for path in [out / OVERLAY_FILE, *written]:
        print(f"mocap demo: wrote {path}")
    total = time.perf_counter() - started
    print(f"mocap demo: done in {total:.1f} s (render {rendered - started:.1f} s, pipeline {run.seconds:.1f} s at "
          f"{run.fps:.1f} fps)")
    return 0

