"""``mocap calibrate``: camera intrinsics and the floor from a printed checkerboard.

Two steps, once per camera and resolution::

    mocap calibrate board --out board.pdf                        # print it at 100 %
    mocap calibrate intrinsics --images shots/ --board 9x6 --square 0.025 --out cam0.json
    mocap calibrate ground --image floor.jpg --calibration cam0.json
    mocap calibrate show cam0.json

Nothing is written when the input cannot give a good calibration; the message says why.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from calibration import frames
from calibration.board_render import DEFAULT_DPI, PAPER_MM, write_board
from calibration.camera_file import CameraCalibration
from calibration.ground import estimate_ground
from calibration.intrinsics import DEFAULT_MAX_VIEWS, MAX_RMS_PX, calibrate_intrinsics, summarise_misses
from calibration.targets import BoardDetection, Checkerboard, DetectionStatus

from ..errors import CalibrationError
from ..progress import progress

logger = logging.getLogger(__name__)

DEFAULT_BOARD = "9x6"
DEFAULT_SQUARE_M = 0.025
DEFAULT_CAMERA_SECONDS = 30.0
#: Coverage below which the user is warned that the image edges were not sampled.
LOW_COVERAGE = 0.5
#: Printable PNG resolutions: below, corners blur; above, an A3 page no longer fits in memory.
MIN_DPI = 72
MAX_DPI = 600


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    intr = sub.add_parser("intrinsics", help="focal length, principal point and distortion from board views")
    source = intr.add_mutually_exclusive_group(required=True)
    source.add_argument("--images", metavar="DIR", help="folder of board pictures")
    source.add_argument("--video", metavar="FILE", help="video of the board moved around")
    source.add_argument("--camera", metavar="N", type=int, help="live camera index (move the board around)")
    _board_arguments(intr)
    intr.add_argument("--out", required=True, metavar="FILE", help="calibration file to write (.json, .yaml, .xml)")
    intr.add_argument("--max-views", type=int, default=DEFAULT_MAX_VIEWS, help="most views to solve with")
    intr.add_argument("--max-rms", type=float, default=MAX_RMS_PX, help="refuse above this RMS error, pixels")
    intr.add_argument("--samples", type=int, default=frames.DEFAULT_VIDEO_SAMPLES, help="video frames searched")
    intr.add_argument("--seconds", type=float, default=DEFAULT_CAMERA_SECONDS, help="live camera capture time")

    ground = sub.add_parser("ground", help="the floor from pictures of the board lying on it")
    ground.add_argument("--image", required=True, nargs="+", metavar="FILE",
                        help="picture(s) of the board on the floor")
    ground.add_argument("--calibration", required=True, metavar="FILE", help="intrinsics file of this camera")
    _board_arguments(ground)
    ground.add_argument("--board-thickness", type=float, default=0.0, help="board thickness in metres")
    ground.add_argument("--out", metavar="FILE", help="write here instead of updating --calibration")

    show = sub.add_parser("show", help="print what a calibration file holds")
    show.add_argument("file", metavar="FILE")

    board = sub.add_parser("board", help="write a printable checkerboard (.pdf at true size, or .png)")
    _board_arguments(board)
    board.add_argument("--out", required=True, metavar="FILE", help="board.pdf or board.png")
    board.add_argument("--paper", choices=sorted(PAPER_MM), default="A4", help="paper size for the PDF")
    board.add_argument("--dpi", type=int, default=DEFAULT_DPI, help="resolution of the PNG")


def _board_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--board", default=DEFAULT_BOARD, metavar="CxR",
                        help=f"INNER corners, columns x rows (default {DEFAULT_BOARD}; 10x7 squares is 9x6)")
    parser.add_argument("--square", type=float, default=DEFAULT_SQUARE_M, metavar="METRES",
                        help=f"side of one square in metres (default {DEFAULT_SQUARE_M})")


def run(args: argparse.Namespace) -> int:
    return {"intrinsics": _intrinsics, "ground": _ground, "show": _show, "board": _board}[args.action](args)


def _intrinsics(args: argparse.Namespace) -> int:
    board = Checkerboard.from_spec(args.board, args.square)
    if args.max_views < 3 or args.samples < 1 or not 0 < args.seconds < math.inf or not 0 < args.max_rms < math.inf:
        raise CalibrationError("--max-views must be at least 3, and --samples, --seconds and --max-rms positive.")
    out = Path(args.out)
    CameraCalibration.check_writable(out)
    if args.images is not None:
        files = frames.image_files(args.images)
        named = frames.iter_images(files)
        total: int | None = len(files)
        what = f"{len(files)} images in {args.images}"
    elif args.video is not None:
        count = frames.video_frame_count(args.video)
        named = frames.iter_video(args.video, args.samples)
        total = min(count, args.samples) if count else None
        what = f"video {args.video}"
    else:
        named = frames.iter_camera(args.camera, args.seconds)
        total = math.ceil(args.seconds / frames.DEFAULT_CAMERA_INTERVAL_S)
        what = f"camera {args.camera}"
        print(f"Move the {board.describe()} board around in front of camera {args.camera} for "
              f"{args.seconds:.0f} s: all over the image, tilted left, right, up and down.")
    names, detections = _detect_all(named, board, total)
    if not detections:
        raise CalibrationError(f"No frames could be read from {what}.")
    result = calibrate_intrinsics(detections, board, names, max_views=args.max_views, max_rms_px=args.max_rms)
    found = sum(d.found for d in detections)
    misses = summarise_misses(detections)
    print(f"board: {board.describe()}")
    print(f"views: {found} of {len(detections)} show the board" + (f" ({misses})" if misses else "")
          + f"; {len(result.view_names)} used" + (f", {len(result.dropped)} dropped as inconsistent: "
                                                   f"{', '.join(result.dropped)}" if result.dropped else ""))
    print("per-view RMS (px): " + ", ".join(f"{n} {e:.2f}" for n, e in zip(result.view_names,
                                                                          result.per_view_rms_px, strict=True)))
    print(f"image coverage {100 * result.coverage:.0f}%, largest board tilt {result.max_tilt_deg:.0f} deg")
    if result.coverage < LOW_COVERAGE:
        print("warning: the board never reached much of the image; distortion near the edges is a guess. "
              "Add views with the board near the corners.")
    k = result.camera_matrix
    print(f"fx {k[0, 0]:.2f} fy {k[1, 1]:.2f} cx {k[0, 2]:.2f} cy {k[1, 2]:.2f} px; distortion "
          + " ".join(f"{v:.4f}" for v in result.dist_coeffs))
    print(f"RMS reprojection error: {result.rms_px:.3f} px")
    calib = CameraCalibration(result.image_size, result.camera_matrix, result.dist_coeffs, "checkerboard",
                              result.rms_px, board.describe(), len(result.view_names))
    calib.save(out)
    print(f"wrote {out}")
    return 0


def _detect_all(named: Iterable[tuple[str, np.ndarray | None]], board: Checkerboard,
                total: int | None) -> tuple[list[str], list[BoardDetection]]:
    names: list[str] = []
    detections: list[BoardDetection] = []
    for name, image in progress(named, total=total, label="searching for the board", unit="img",
                                stream=sys.stderr):
        names.append(name)
        if image is None:
            detections.append(BoardDetection(np.full((board.num_corners, 2), np.nan), DetectionStatus.UNREADABLE,
                                             (0, 0)))
        else:
            detections.append(board.detect(image))
    return names, detections


def _ground(args: argparse.Namespace) -> int:
    board = Checkerboard.from_spec(args.board, args.square)
    if not (0.0 <= args.board_thickness < 0.1):
        raise CalibrationError("--board-thickness is in metres and must be between 0 and 0.1.")
    calib = CameraCalibration.load(args.calibration)
    out = Path(args.out) if args.out else Path(args.calibration)
    CameraCalibration.check_writable(out)
    detections = []
    for path in args.image:
        image = frames.read_image(path)
        calib.check_matches(image.shape[1], image.shape[0])
        detections.append(board.detect(image))
    ground = estimate_ground(detections, board, calib.camera_matrix, calib.dist_coeffs, args.board_thickness)
    calib.with_ground(ground).save(out)
    print(f"board found in {sum(d.found for d in detections)} of {len(detections)} image(s); "
          f"pose RMS {ground.rms_px:.2f} px")
    print(f"camera height {ground.camera_height_m:.3f} m, tilt {ground.camera_tilt_deg:.1f} deg down, "
          f"roll {ground.camera_roll_deg:.1f} deg")
    print(f"wrote {out}")
    return 0


def _show(args: argparse.Namespace) -> int:
    calib = CameraCalibration.load(args.file)
    k = calib.camera_matrix
    print(f"{args.file}: version {calib.version}, created {calib.created or 'unknown'}")
    print(calib.summary())
    print(f"image size {calib.image_size[0]}x{calib.image_size[1]}; fx {k[0, 0]:.2f} fy {k[1, 1]:.2f} "
          f"cx {k[0, 2]:.2f} cy {k[1, 2]:.2f} px")
    print("distortion " + " ".join(f"{v:.4f}" for v in calib.dist_coeffs))
    if calib.board:
        print(f"board {calib.board}, {calib.views} views")
    if calib.ground is not None:
        centre = calib.ground.camera_centre_world
        print(f"camera centre in world (m): x {centre[0]:.3f} y {centre[1]:.3f} z {centre[2]:.3f}; "
              f"roll {calib.ground.camera_roll_deg:.1f} deg")
    return 0


def _board(args: argparse.Namespace) -> int:
    board = Checkerboard.from_spec(args.board, args.square)
    if not MIN_DPI <= args.dpi <= MAX_DPI:
        raise CalibrationError(f"--dpi must be between {MIN_DPI} and {MAX_DPI}, got {args.dpi}.")
    printed = write_board(args.out, board, args.paper, args.dpi)
    print(f"wrote {printed.path}: {printed.description}. Print at 100% (actual size), then measure a square; "
          f"calibrate with --board {board.columns}x{board.rows} --square {printed.square_m:.4f}")
    return 0
