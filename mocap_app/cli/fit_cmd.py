"""``mocap fit``: bring your own keypoints; fit the skeleton and export BVH.

    mocap fit --observations obs.jsonl --export takes/          # assumed 54 degree field of view
    mocap fit --observations obs.jsonl --calibration cam.json --export takes/ --combined

The observation file is the JSON Lines format of ``mocap run --observations`` (README,
"Observation files"); any joint set with a mapping to the rig works. People without 3D (2D-only
files, e.g. from a COCO-17 detector) are lifted to 3D by the shipped 2D-only Stage II lifter
(:mod:`mocap_app.xnect.lifter`, one batch per frame, before tracking) unless ``--no-lift`` is
given; without it they are fitted from 2D with the skeleton prior. Motion is journalled to
``DIR/take.journal.jsonl`` while fitting (``mocap take recover`` exports it after a crash), then
written as one BVH per performer.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import MocapError
from ..fitting.camera import FitCamera, camera_from_calibration_file, describe_camera
from ..observations_io import read_observations
from ..pipeline.stage3 import Stage3, Stage3Config
from ..progress import Progress
from ..takes.recorder import TakeRecorder, new_journal_path
from ..tracking.one_euro import OneEuroParams
from ..types import FrameObservations
from ..xnect.lifter import Lifter

logger = logging.getLogger(__name__)


#: ``--filter-* off`` switches a filter off (``None`` in the config means "keep the default").
OFF = "off"


def _filter(text: str) -> OneEuroParams | str:
    if text.strip().lower() == OFF:
        return OFF
    try:
        return OneEuroParams.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_stage3_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by every command that runs Stage III (filters, height)."""
    parser.add_argument("--filter-2d", type=_filter, default=None, metavar="MIN_CUTOFF,BETA",
                        help="1-Euro filter of the 2D joints (default 1.7,0.3; 'off' to disable)")
    parser.add_argument("--filter-3d", type=_filter, default=None, metavar="MIN_CUTOFF,BETA",
                        help="1-Euro filter of the 3D joints (default 0.8,0.4; 'off' to disable)")
    parser.add_argument("--filter-final", type=_filter, default=None, metavar="MIN_CUTOFF,BETA",
                        help="1-Euro filter of the fitted pose (default 20,0.4; 'off' to disable)")
    parser.add_argument("--height", type=float, default=None, metavar="METRES",
                        help="use this height for every performer instead of measuring it")
    parser.add_argument("--limb-swap", action="store_true",
                        help="undo the detector's left/right leg mix-ups (experimental; off by default)")


def stage3_config(args: argparse.Namespace) -> Stage3Config:
    """A Stage III configuration from the shared options (unset options keep the defaults)."""
    config = Stage3Config()
    changes = {}
    for name in ("filter_2d", "filter_3d", "filter_final"):
        value = getattr(args, name, None)
        if value is not None:
            changes[name] = None if value == OFF else value
    if args.height is not None:
        if not 0.5 <= args.height <= 2.5:
            raise MocapError(f"--height {args.height} is not a human height in metres; use e.g. --height 1.75.")
        changes["height_m"] = args.height
    if getattr(args, "limb_swap", False):
        changes["limb_swap"] = dataclasses.replace(config.limb_swap, enabled=True)
    return dataclasses.replace(config, **changes)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--observations", required=True, type=Path, help="JSON Lines observation file")
    parser.add_argument("--calibration", type=Path, default=None,
                        help="camera calibration file ('mocap calibrate'); default: 54 degree vertical FOV, no floor")
    parser.add_argument("--export", required=True, type=Path, metavar="DIR", help="folder for the BVH files")
    parser.add_argument("--fps", type=float, default=None, help="BVH frame rate (default: the observations' rate)")
    parser.add_argument("--combined", action="store_true", help="also write all performers into one BVH")
    parser.add_argument("--no-foot-lock", action="store_true", help="export without the foot-lock pass")
    parser.add_argument("--no-lift", action="store_true",
                        help="fit 2D-only observations from 2D alone instead of lifting them to 3D with the "
                             "shipped 2D Stage II lifter")
    add_stage3_arguments(parser)


def run(args: argparse.Namespace) -> int:
    config = stage3_config(args)
    if args.fps is not None and not args.fps > 0:
        raise MocapError(f"--fps must be positive, got {args.fps}.")
    frames = read_observations(args.observations)
    first = next(frames, None)
    if first is None:
        raise MocapError(f"{args.observations} holds no frames; nothing to fit.")
    if args.calibration is not None:
        camera = camera_from_calibration_file(args.calibration, first.width, first.height)
    else:
        camera = FitCamera.uncalibrated(first.width, first.height)
    args.export.mkdir(parents=True, exist_ok=True)
    stage3 = Stage3(camera, config)
    lifter = None if args.no_lift or not Lifter.available() else Lifter.load()
    print("mocap fit: " + describe_camera(camera, args.calibration))
    recorder = TakeRecorder(new_journal_path(args.export), floor_calibrated=camera.has_floor)
    try:
        with Progress(label="fitting", unit="frames", stream=sys.stderr) as bar:
            for frame in _lifted(_chain(first, frames), lifter):
                recorder.record(stage3.process(frame), stage3.rest_offsets)
                bar.update()
    finally:
        recorder.close()
    written = recorder.finalize(args.export, fps=args.fps, combined=args.combined,
                                foot_lock=not args.no_foot_lock)
    for path in written:
        print(path)
    return 0


def _chain(first, rest):
    yield first
    yield from rest


def _lifted(frames: Iterable[FrameObservations], lifter: Lifter | None) -> Iterator[FrameObservations]:
    """The frames with every 2D-only person lifted to 3D (saying once, on stderr, which lifter does it)."""
    announced = False
    for frame in frames:
        if lifter is not None and any(person.joints3d is None for person in frame.people):
            if not announced:
                logger.info("lifting 2D-only observations with the %s", lifter.describe())
                print(f"mocap fit: 2D-only observations are lifted to 3D by the {lifter.describe()} "
                      "(--no-lift to fit from 2D alone)", file=sys.stderr)
                announced = True
            frame = lifter.lift_frame(frame)
        yield frame
