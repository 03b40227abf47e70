"""``mocap bench``: per-stage milliseconds and frames per second of a Stage I engine.

With ``--providers`` (or for blazepose without ``--source``): the networks of the engine on every
provider side by side (:mod:`engines.bench`): mean, p50 and p99 milliseconds per stage and frames
and people per second, for 1, 2, 5 and 10 people by default, as a table or ``--json``.

Otherwise, on a video:

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
import json
import sys
import time
from pathlib import Path

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
    parser.add_argument("--people", type=int, nargs="+", metavar="N",
                        help="people per frame to time (default: 1 2 5 10 with --providers, else 1 3)")
    parser.add_argument("--tile", action="store_true",
                        help="put N copies of the (one-person) crop side by side for N people (N <= 3)")
    parser.add_argument("--threads", type=int, help="ONNX Runtime intra-op threads (default: its own choice)")
    parser.add_argument("--providers", metavar="auto|all|LIST",
                        help="compare providers: 'all' that run here, 'auto', or a list such as cpu,cuda,tensorrt")
    parser.add_argument("--iterations", type=int, default=50, help="timed runs per stage with --providers (default 50)")
    parser.add_argument("--precision", choices=("fp32", "fp16", "int8"), help="TensorRT precision (default fp16)")
    parser.add_argument("--json", action="store_true", help="with --providers: print the results as JSON")


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


#: Default numbers of people for the provider comparison.
PROVIDER_BENCH_PEOPLE = (1, 2, 5, 10)


def _stages(engine: str) -> tuple[list, list[dict]]:
    """The engine's networks present here as bench stages, and the ones missing with the reason."""
    from engines.bench import BenchStage

    from ..backends.multiposenet import model_paths
    from ..backends.xnect import stage_paths
    from ..models_store import blazepose_dir
    from ..xnect.lifter import PACKAGED_LIFTER

    folder = blazepose_dir()
    #  engine           stage        ONNX file                            per person
    table: dict[str, list[tuple[str, Path, bool]]] = {
        "blazepose": [("detector", folder / "pose_detection.onnx", False),
                      ("landmarks", folder / "pose_landmark_full.onnx", True)],
        "xnect": [("stage1", stage_paths()["stage1"], False), ("stage2", stage_paths()["stage2"], True)],
        "multiposenet": [("network", model_paths()["network"], False), ("prn", model_paths()["prn"], True),
                         ("stage2", PACKAGED_LIFTER, True)],
    }
    present, missing = [], []
    for name, path, per_person in table[engine]:
        if path.is_file() and path.with_suffix(".toml").is_file():
            present.append(BenchStage(name, path, per_person))
        else:
            missing.append({"stage": name, "reason": f"no weights at {path}"})
    return present, missing


def _providers(spec: str) -> tuple[list[str], list[dict]]:
    """Provider choices to run for ``--providers``, and the ones skipped here with the reason."""
    from engines.providers import FALLBACK_CHAIN, probe_availability, select_provider, unavailable_reason

    available = probe_availability()
    if spec == "auto":
        return [select_provider("auto", available).provider], []
    wanted = list(FALLBACK_CHAIN) if spec == "all" else [p.strip() for p in spec.split(",") if p.strip()]
    unknown = [p for p in wanted if p not in FALLBACK_CHAIN]
    if unknown or not wanted:
        raise MocapError(f"--providers {spec!r}: use auto, all, or a comma list of {', '.join(FALLBACK_CHAIN)}.")
    chosen, skipped = [], []
    for provider in wanted:
        reason = unavailable_reason(provider, available)
        if reason is None:
            chosen.append(provider)
        else:
            skipped.append({"provider": provider, "reason": reason})
    return chosen, skipped


def run_provider_bench(args: argparse.Namespace) -> int:
    """Every chosen provider side by side on the engine's networks (see module docstring)."""
    from engines.bench import bench, format_table
    from engines.engine import load_engine

    people = args.people or list(PROVIDER_BENCH_PEOPLE)
    if args.iterations < 1 or any(n < 1 for n in people):
        raise MocapError("--iterations and --people must be at least 1.")
    stages, missing = _stages(args.engine)
    if not stages:
        raise MocapError(f"No network of {args.engine} is on this machine: " + "; ".join(m["reason"] for m in missing))
    providers, skipped = _providers(args.providers or "all")
    if not providers:
        raise MocapError("None of the requested providers runs here: " + "; ".join(s["reason"] for s in skipped))

    def load(path: Path, provider: str):
        return load_engine(path, device=provider, threads=args.threads, precision=args.precision)

    rows = bench(stages, providers, people, args.iterations, load)
    report = {"engine": args.engine, "iterations": args.iterations, "stages": [s.name for s in stages],
              "results": rows, "skipped": skipped + missing}
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        print()
        return 0
    print(f"mocap bench: {args.engine} networks, {args.iterations} runs per stage, random inputs (runtime only)")
    print(format_table(rows, [s.name for s in stages]))
    for item in skipped + missing:
        print(f"skipped {item.get('provider') or item.get('stage')}: {item['reason']}")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.threads is not None and args.threads < 1:
        raise MocapError(f"--threads must be at least 1, got {args.threads}.")
    if args.frames < 1:
        raise MocapError(f"--frames must be at least 1, got {args.frames}.")
    if args.providers is not None or (args.engine == "blazepose" and args.source is None):
        return run_provider_bench(args)
    args.people = args.people or [1, 3]
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
