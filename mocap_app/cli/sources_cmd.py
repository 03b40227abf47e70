"""``mocap sources``: the cameras this machine can open; ``--check SOURCE`` reads a source end to end.

Having no camera is not an error (exit status 0): the message says how to connect one or to use a
file instead. ``--check`` opens any ``--source`` spec and reads it through the same threaded reader
the pipeline uses, so a camera index that does not exist or an unreadable video ends in one line
and exit status 2.
"""

from __future__ import annotations

import argparse
import time

from ..sources import SOURCE_HELP, ThreadedReader, list_cameras, open_source
from ..sources.camera import CAMERA_HINT, DEFAULT_MAX_INDEX

#: How long ``--check`` reads a live camera, seconds (files are read to the end).
CHECK_SECONDS = 3.0


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-index", type=_positive_int, default=DEFAULT_MAX_INDEX, metavar="N",
                        help=f"probe camera indices 0 .. N-1 (default {DEFAULT_MAX_INDEX})")
    parser.add_argument("--check", metavar="SOURCE",
                        help=f"open SOURCE ({SOURCE_HELP}) and read it: frames, size, frame rate, problems")


def run(args: argparse.Namespace) -> int:
    if args.check is not None:
        return _check(args.check)
    cameras = list_cameras(args.max_index)
    if not cameras:
        print(f"No cameras found (probed indices 0..{args.max_index - 1}). {CAMERA_HINT}.")
        return 0
    print(f"{'index':>5}  {'resolution':>10}  {'fps':>6}  backend")
    for camera in cameras:
        print(f"{camera.index:>5}  {f'{camera.width}x{camera.height}':>10}  {camera.fps:>6.1f}  {camera.backend}")
    return 0


def _check(spec: str) -> int:
    """Read ``spec`` as the pipeline would and print what came out; SourceError propagates (exit 2)."""
    source = open_source(spec)
    started = time.monotonic()
    frames = 0
    last_time = 0.0
    with ThreadedReader(source) as reader:
        while (frame := reader.get(timeout=1.0)) is not None or not reader.finished:
            if frame is not None:
                frames += 1
                last_time = frame.timestamp
            if source.is_device and time.monotonic() - started > CHECK_SECONDS:
                break
        dropped, fps, state = reader.dropped, reader.measured_fps, source.state
    width, height = source.size
    count = source.frame_count
    print(f"{source.name}: {width}x{height}, nominal {source.fps:.2f} fps, "
          f"{frames} frames read" + (f" of {count}" if count is not None else "") + f" over {last_time:.2f} s")
    mode = "live (newest frame only)" if reader.live else "offline (every frame)"
    print(f"  {mode}: read rate {fps:.1f} fps, dropped {dropped}, bad frames {source.bad_frames}, "
          f"state {state.value}")
    for name in ("disconnects", "reconnects"):
        if hasattr(source, name):
            print(f"  {name} {getattr(source, name)}")
    return 0
