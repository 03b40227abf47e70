"""``mocap run``: a video or camera through a Stage I backend into an observation file and overlay.

Writes one JSON Lines record per frame (see README, "Observation files"), flushed as it goes,
optionally the video with every person's skeleton and id drawn, and with ``--export DIR`` the fitted
take: journalled as it is captured, one BVH per performer at the end. Ctrl-C ends the run cleanly:
everything processed so far is written, BVH included.
"""

from __future__ import annotations

import argparse
import logging
import time
from contextlib import ExitStack
from pathlib import Path

import cv2

from engines.providers import PROVIDER_CHOICES

from ..backends import BACKENDS, DEFAULT_BACKEND, load_backend
from ..errors import MocapError
from ..fitting.camera import camera_from_calibration, describe_camera
from ..observations_io import ObservationWriter
from ..overlay import draw_observations
from ..pipeline.runner import Pipeline, PipelineConfig
from ..progress import Progress
from ..sources import SOURCE_HELP, ThreadedReader, open_source
from ..takes.recorder import TakeRecorder, new_journal_path

logger = logging.getLogger(__name__)

#: FourCC of the overlay video (MPEG-4 part 2: written by every OpenCV build without extra codecs).
OVERLAY_FOURCC = "mp4v"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", required=True, help=SOURCE_HELP)
    parser.add_argument("--engine", default=DEFAULT_BACKEND, choices=sorted(BACKENDS), help="Stage I backend")
    parser.add_argument("--provider", default="auto", choices=PROVIDER_CHOICES,
                        help="where the networks run; auto: TensorRT, else CUDA, else CPU (default auto)")
    parser.add_argument("--observations", type=Path, metavar="OUT.jsonl", help="write per-frame observations here")
    parser.add_argument("--overlay", type=Path, metavar="OUT.mp4", help="write the video with skeletons drawn")
    parser.add_argument("--export", type=Path, metavar="DIR", help="fit skeletons and write one BVH per performer here")
    parser.add_argument("--calibration", type=Path, metavar="FILE", help="camera calibration for --export")
    parser.add_argument("--max-frames", type=int, metavar="N", help="stop after N frames")
    parser.add_argument("--no-foot-lock", action="store_true", help="export BVH without the foot-lock pass")
    parser.add_argument("--limb-swap", action="store_true",
                        help="undo the detector's short left/right leg mix-ups (experimental; off by default)")
    parser.add_argument("--mirror-average", action="store_true",
                        help="BlazePose also reads each person mirrored and averages: steadier, about half "
                             "the speed (off by default)")
    parser.add_argument("--max-people", type=int, default=4, metavar="N", help="most people tracked (default 4)")
    parser.add_argument("--detect-interval", type=int, default=10, metavar="N",
                        help="frames between detector runs while people are tracked (default 10)")


class OverlayWriter:
    """Writes frames with skeletons to a video file, opened at the first frame's size."""

    def __init__(self, path: Path, fps: float) -> None:
        self.path = path
        self.fps = fps
        self._writer: cv2.VideoWriter | None = None

    def write(self, image, observations) -> None:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            height, width = image.shape[:2]
            self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*OVERLAY_FOURCC), self.fps,
                                           (width, height))
            if not self._writer.isOpened():
                raise MocapError(f"Cannot write the overlay video {self.path}; use an .mp4 or .avi path in a "
                                 "writable folder.")
        self._writer.write(draw_observations(image, observations))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()


def _load_calibration(path: Path | None):
    """The calibration file for ``--calibration`` (``None``: assume a 54 degree field of view)."""
    if path is None:
        return None
    from calibration.camera_file import CameraCalibration

    return CameraCalibration.load(path)


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse outputs that would overwrite the source video, the calibration or each other (recorded data)."""
    inputs = {"--source": Path(args.source), "--calibration": args.calibration}
    outputs = {"--observations": args.observations, "--overlay": args.overlay}
    seen: dict[Path, str] = {}
    for option, path in outputs.items():
        if path is None:
            continue
        resolved = path.resolve()
        for source_option, source in inputs.items():
            if source is not None and source.exists() and source.resolve() == resolved:
                raise MocapError(f"{option} {path} is the {source_option} file and would overwrite it; "
                                 "write to another path.")
        if resolved in seen:
            raise MocapError(f"{option} and {seen[resolved]} are the same file {path}; give each its own path.")
        if path.is_dir():
            raise MocapError(f"{option} {path} is a folder; give a file path such as {path / 'take'}"
                             f"{'.jsonl' if option == '--observations' else '.mp4'}.")
        seen[resolved] = option


def run(args: argparse.Namespace) -> int:
    if args.observations is None and args.overlay is None and args.export is None:
        raise MocapError("Nothing to write: give --observations OUT.jsonl, --overlay OUT.mp4 and/or --export DIR.")
    if args.max_frames is not None and args.max_frames < 1:
        raise MocapError(f"--max-frames must be at least 1, got {args.max_frames}.")
    if args.max_people < 1 or args.detect_interval < 1:
        raise MocapError("--max-people and --detect-interval must be at least 1.")
    _check_outputs(args)
    calibration = _load_calibration(args.calibration)
    backend = load_backend(args.engine, max_people=args.max_people, detect_interval=args.detect_interval,
                           device=args.provider, mirror_average=args.mirror_average)
    # Fitting costs time per performer: only an export pays for Stage III.
    pipeline = None
    recorder = None
    if args.export is not None:
        config = PipelineConfig(engine=args.engine, device=args.provider, max_people=args.max_people,
                                calibration=calibration, limb_swap=args.limb_swap,
                                mirror_average=args.mirror_average)
        pipeline = Pipeline(config, backend)
        floor = calibration is not None and calibration.ground is not None
        recorder = TakeRecorder(new_journal_path(args.export), floor_calibrated=floor)
    source = open_source(args.source)
    frames = people = 0
    interrupted = False
    started = time.perf_counter()
    with ExitStack() as stack:
        # Cameras run live (newest frame only, so latency never builds up); files keep every frame.
        reader = stack.enter_context(ThreadedReader(source))
        writer = stack.enter_context(ObservationWriter(args.observations)) if args.observations else None
        overlay = OverlayWriter(args.overlay, source.fps) if args.overlay else None
        if overlay is not None:
            stack.callback(overlay.close)
        if recorder is not None:
            stack.callback(recorder.close)
        total = source.frame_count
        if args.max_frames is not None:
            total = min(total, args.max_frames) if total else args.max_frames
        bar = stack.enter_context(Progress(total=total, label="frames", unit="fr"))
        print(f"mocap run: {args.engine} on {backend.provider}" + ("; Ctrl+C ends the take" if source.live else ""),
              flush=True)
        if pipeline is not None:  # (also refuses a calibration made at another resolution, before any work)
            print("mocap run: " + describe_camera(camera_from_calibration(calibration, *source.size), args.calibration),
                  flush=True)
        try:
            while args.max_frames is None or frames < args.max_frames:
                frame = reader.get()
                if frame is None:
                    break
                if pipeline is not None:
                    result = pipeline.process(frame)
                    observations = result.observations
                    recorder.record(result.motion, pipeline.rest_offsets)
                else:
                    observations = backend(frame)
                if writer is not None:
                    writer.write(observations)
                if overlay is not None:
                    overlay.write(frame.image, observations)
                frames += 1
                people += len(observations.people)
                bar.update()
        except KeyboardInterrupt:
            interrupted = True
    if interrupted:
        print("mocap run: stopped by Ctrl+C; keeping everything processed so far", flush=True)
    if recorder is not None:
        if recorder.frames_recorded:
            for path in recorder.finalize(args.export, foot_lock=not args.no_foot_lock):
                print(f"mocap run: wrote {path}")
        else:
            print(f"mocap run: nobody was fitted, so no BVH was written (journal: {recorder.journal_path})")
    elapsed = time.perf_counter() - started
    print(f"mocap run: {frames} frames, {people} person detections, {frames / max(elapsed, 1e-9):.1f} fps"
          + (f"; observations: {args.observations}" if args.observations else "")
          + (f"; overlay: {args.overlay}" if args.overlay else ""))
    return 0
