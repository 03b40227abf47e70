"""``mocap bench``: per-stage milliseconds and frames per second of a Stage I engine on a video.

The clip is the source's first ``--frames`` frames, optionally cropped (``--crop``), resized to
640x480 and held in memory, then run once per ``--people`` setting (the backend's ``max_people``).
With ``--tile`` the crop should hold one person: for a setting of P people each 640x480 frame holds
P copies of the crop side by side, each a third of the width, so every setting sees people of the
same size and exactly P of them.
Decoding is timed while the clip is loaded; every other stage comes from the backend's own timings.
Numbers are medians over frames (the detector's over the frames where it ran), so a busy machine
moves them less than means would.
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np

from ..backends import BACKENDS, DEFAULT_BACKEND, load_backend
from ..errors import MocapError
from ..sources import open_source
from ..types import Frame

BENCH_SIZE = (640, 480)
#: Most person tiles per frame with --tile (each a third of the width).
MAX_TILES = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine", default=DEFAULT_BACKEND, choices=sorted(BACKENDS), help="Stage I backend")
    parser.add_argument("--source",
                        help="a video file with people in it (resized to 640x480; not for xnect, multiposenet)")
    parser.add_argument("--crop", metavar="X,Y,W,H", help="use only this region of the source (pixels)")
    parser.add_argument("--frames", type=int, default=100, help="frames to run (default 100)")
    parser.add_argument("--people", type=int, nargs="+", default=[1, 3], metavar="N",
                        help="max_people settings to time (default: 1 3)")
    parser.add_argument("--tile", action="store_true",
                        help="put N copies of the (one-person) crop side by side for N people (N <= 3)")
    parser.add_argument("--threads", type=int, help="ONNX Runtime intra-op threads (default: its own choice)")


def _load_clip(spec: str, crop: str | None, count: int) -> tuple[list[np.ndarray], float]:
    """Up to ``count`` frames (cropped), and the median decode time per frame, ms."""
    region = None
    if crop:
        try:
            region = [int(v) for v in crop.split(",")]
            if len(region) != 4 or region[2] <= 0 or region[3] <= 0:
                raise ValueError
        except ValueError:
            raise MocapError(f"--crop {crop!r}: give X,Y,W,H in pixels, e.g. --crop 120,140,320,240.") from None
    frames, times = [], []
    with open_source(spec, live=False) as source:
        while len(frames) < count:
            start = time.perf_counter()
            frame = source.read()
            if frame is None:
                break
            image = frame.image
            if region is not None:
                x, y, w, h = region
                image = image[y:y + h, x:x + w]
                if image.size == 0:
                    raise MocapError(f"--crop {crop} lies outside the {frame.width}x{frame.height} video.")
            frames.append(image.copy())
            times.append(1000.0 * (time.perf_counter() - start))
    if not frames:
        raise MocapError(f"{spec} gave no frames to benchmark.")
    return frames, float(np.median(times))


def _compose(images: list[np.ndarray], copies: int | None) -> list[np.ndarray]:
    """Frames at 640x480: the images resized, or ``copies`` tiles of a third of the width each."""
    width, height = BENCH_SIZE
    if copies is None:
        return [cv2.resize(image, BENCH_SIZE, interpolation=cv2.INTER_LINEAR) for image in images]
    tile_width = width // MAX_TILES
    clip = []
    for image in images:
        canvas = np.zeros((height, width, 3), np.uint8)
        tile = cv2.resize(image, (tile_width, height), interpolation=cv2.INTER_LINEAR)
        for slot in range(copies):
            canvas[:, slot * tile_width:(slot + 1) * tile_width] = tile
        clip.append(canvas)
    return clip


def _run(engine: str, clip: list[np.ndarray], max_people: int, threads: int | None) -> dict[str, float]:
    backend = load_backend(engine, max_people=max_people, threads=threads)
    backend(Frame(clip[0], 0, 0.0))          # warm-up: first-run allocations are not per-frame costs
    backend.reset()
    rows: dict[str, list[float]] = {}
    people = []
    start = time.perf_counter()
    for index, image in enumerate(clip):
        result = backend(Frame(image, index, index / 30.0))
        people.append(len(result.people))
        for key, value in result.timings_ms.items():
            rows.setdefault(key, []).append(value)
    wall = time.perf_counter() - start
    stats = {key: float(np.median(values)) for key, values in rows.items()}
    detector = [value for value in rows.get("detector", []) if value > 0]
    stats["detector"] = float(np.median(detector)) if detector else 0.0
    stats["detector_runs"] = float(len(detector))
    stats["people"] = float(np.mean(people))
    landmark = [value / count for value, count in zip(rows.get("landmarks", []), people, strict=True) if count]
    stats["landmark_per_person"] = float(np.median(landmark)) if landmark else 0.0
    stats["frame_ms"] = 1000.0 * wall / len(clip)
    stats["fps"] = len(clip) / wall
    stats["provider"] = backend.provider
    return stats


def run(args: argparse.Namespace) -> int:
    if args.engine == "xnect":
        from ..evaluation.xnect_bench import run_xnect_bench
        return run_xnect_bench(args)
    if args.engine == "multiposenet":
        from ..multiposenet.bench import run_bench
        return run_bench(max(1, min(args.frames, 20)), args.threads)
    if args.source is None:
        raise MocapError(f"--source VIDEO is required for --engine {args.engine}.")
    if args.frames < 1 or any(n < 1 for n in args.people):
        raise MocapError("--frames and --people must be at least 1.")
    if args.tile and max(args.people) > MAX_TILES:
        raise MocapError(f"--tile holds at most {MAX_TILES} people per frame.")
    images, decode_ms = _load_clip(args.source, args.crop, args.frames)
    layout = ", person tiles" if args.tile else ""
    print(f"mocap bench: {args.engine}, {len(images)} frames of {args.source} at {BENCH_SIZE[0]}x{BENCH_SIZE[1]}"
          f"{layout}")
    header = (f"{'max people':>10} {'tracked':>7} {'decode':>7} {'preproc':>7} {'detector':>8} {'det runs':>8} "
              f"{'landmark/person':>15} {'postproc':>8} {'frame':>7} {'fps':>6}")
    print(header)
    provider = ""
    for max_people in args.people:
        clip = _compose(images, max_people if args.tile else None)
        stats = _run(args.engine, clip, max_people, args.threads)
        provider = str(stats.pop("provider"))
        print(f"{max_people:>10d} {stats['people']:>7.2f} {decode_ms:>7.2f} {stats['preprocess']:>7.2f} "
              f"{stats['detector']:>8.2f} {int(stats['detector_runs']):>8d} {stats['landmark_per_person']:>15.2f} "
              f"{stats['postprocess']:>8.2f} {stats['frame_ms'] + decode_ms:>7.2f} "
              f"{1000.0 / (stats['frame_ms'] + decode_ms):>6.1f}")
    print(f"milliseconds (medians); frame = decode + everything else, mean wall time; provider: {provider}")
    return 0
