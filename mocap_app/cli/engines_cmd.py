"""``mocap engines build|list|clear``: the TensorRT engine cache.

``build`` turns every network on this machine (fetched BlazePose, shipped Stage II / 2D lifter /
PRN, trained or imported Stage I and MultiPoseNet) into a TensorRT engine for this GPU, with a
progress display: a first build takes minutes, later starts load it in a second. ``--precision
int8`` calibrates the whole-frame networks on real frames (``--calibration-frames``: an image
folder or a video, preprocessed exactly as the backends do); per-person networks, whose inputs only
a running pipeline produces, are built in FP16 instead. ``list`` shows the cache, ``clear`` empties it.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from engines.cache import PRECISIONS, EngineCache
from engines.providers import probe_availability, unavailable_reason

from ..errors import MocapError
from ..progress import Progress

#: Most frames read for INT8 calibration (spread over the source).
MAX_CALIBRATION_FRAMES = 200
_MIB = float(1 << 20)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = commands.add_parser("build", help="build TensorRT engines for every network on this machine")
    build.add_argument("--precision", choices=PRECISIONS, default="fp16", help="engine precision (default fp16)")
    build.add_argument("--calibration-frames", type=Path, metavar="DIR_OR_VIDEO",
                       help="real frames for --precision int8 (an image folder or a video)")
    build.add_argument("--model", metavar="NAME", help="only this network (see 'mocap engines list')")
    build.add_argument("--force", action="store_true", help="rebuild engines that are already cached")
    commands.add_parser("list", help="list cached engines and the networks that can be built")
    clear = commands.add_parser("clear", help="delete cached engines (and remembered build failures)")
    clear.add_argument("--model", metavar="NAME", help="only this network's engines")


def engine_models() -> dict[str, Path]:
    """Every network present on this machine, by name (the ONNX file's stem), in pipeline order."""
    from ..backends.multiposenet import model_paths
    from ..backends.xnect import stage_paths
    from ..models_store import blazepose_dir
    from ..xnect.lifter import PACKAGED_LIFTER

    candidates = [blazepose_dir() / "pose_detection.onnx", blazepose_dir() / "pose_landmark_full.onnx",
                  stage_paths()["stage1"], stage_paths()["stage2"], PACKAGED_LIFTER, model_paths()["network"],
                  model_paths()["prn"]]
    return {path.stem: path for path in candidates if path.is_file() and path.with_suffix(".toml").is_file()}


def _calibration_preprocessors() -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """Whole-frame networks -> BGR frame to network input, exactly as their backend prepares it."""
    from engines.blazepose import PoseDetector
    from engines.engine import OrtEngine

    from ..backends.multiposenet import MultiPoseNetBackend
    from ..backends.xnect import XNectBackend

    models = engine_models()
    prepare: dict[str, Callable[[np.ndarray], np.ndarray]] = {}
    if "pose_detection" in models:
        detector = PoseDetector(OrtEngine(models["pose_detection"]))
        prepare["pose_detection"] = lambda image: next(iter(detector.preprocess(image)[0].values()))
    if "stage1" in models:
        xnect = XNectBackend.from_store(device="cpu")
        prepare["stage1"] = lambda image: xnect.preprocess(image)[0]
    if "multiposenet" in models:
        mpn = MultiPoseNetBackend.from_store(device="cpu", lift=False)
        prepare["multiposenet"] = lambda image: mpn.preprocess(image)[0]
    return prepare


def _read_frames(spec: Path) -> list[np.ndarray]:
    from ..sources import open_source

    frames = []
    with open_source(str(spec), live=False) as source:
        total = source.frame_count or MAX_CALIBRATION_FRAMES
        step = max(1, total // MAX_CALIBRATION_FRAMES)
        index = 0
        while len(frames) < MAX_CALIBRATION_FRAMES:
            frame = source.read()
            if frame is None:
                break
            if index % step == 0:
                frames.append(frame.image.copy())
            index += 1
    if not frames:
        raise MocapError(f"{spec} gave no frames for INT8 calibration; give an image folder or a video.")
    return frames


class _BuildDisplay:
    """One progress bar per top-level TensorRT build phase."""

    def __init__(self, label: str) -> None:
        self.label, self.phase, self.bar = label, None, None

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase != self.phase:
            self.close()
            self.phase, self.bar = phase, Progress(total=total, label=f"{self.label}: {phase}", unit="step")
        if self.bar is not None and done > self.bar.count:
            self.bar.update(done - self.bar.count)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _build(args: argparse.Namespace) -> int:
    available = probe_availability()
    reason = unavailable_reason("tensorrt", available)
    if reason is not None:
        raise MocapError(f"TensorRT engines cannot be built on this machine: {reason}.")
    from engines.trt_build import EngineBuildError
    from engines.trt_engine import TrtEngine, trt_key_for

    models = engine_models()
    if args.model is not None:
        if args.model not in models:
            raise MocapError(f"No network {args.model!r} here; present: {', '.join(models) or 'none'}.")
        models = {args.model: models[args.model]}
    calibration: dict[str, list[np.ndarray]] = {}
    if args.precision == "int8":
        if args.calibration_frames is None:
            raise MocapError("--precision int8 needs --calibration-frames DIR_OR_VIDEO (real frames of your scene).")
        frames = _read_frames(args.calibration_frames)
        for name, prepare in _calibration_preprocessors().items():
            calibration[name] = [prepare(image) for image in frames]
    gpu = available.gpu
    print(f"mocap engines: {len(models)} network(s) for {gpu.name} (compute capability {gpu.compute_capability}), "
          f"TensorRT {available.tensorrt_version}", flush=True)
    cache = EngineCache()
    failed = 0
    for name, path in models.items():
        precision = args.precision if args.precision != "int8" or name in calibration else "fp16"
        display = _BuildDisplay(f"{name} {precision}")
        started = time.perf_counter()
        try:
            cache.clear_failure(trt_key_for(path, precision, available))  # asked to build: retry a failed one
            engine = TrtEngine(path, precision=precision, cache=cache, report=display,
                               calibration_batches=calibration.get(name, ()), rebuild=args.force)
        except EngineBuildError as exc:
            failed += 1
            print(f"  {name}: FAILED: {exc}", flush=True)
            continue
        finally:
            display.close()
        note = "" if precision == args.precision else " (per-person network: int8 needs pipeline crops)"
        how = f"built in {time.perf_counter() - started:.0f} s" if engine.built else "already cached"
        print(f"  {name}: {precision}{note}, {how}, {cache.lookup(engine.key).stat().st_size / _MIB:.1f} MiB",
              flush=True)
    return 2 if failed else 0


def _list() -> int:
    cache = EngineCache()
    entries = cache.entries()
    print(f"engine cache: {cache.root}")
    if not entries:
        print("  (empty)")
    for entry in entries:
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.created)) if entry.created else "?"
        status = "ok" if entry.problem is None else f"UNUSABLE: {entry.problem}"
        print(f"  {entry.model:<20} {entry.precision:<5} {entry.gpu_name:<28} TensorRT {entry.tensorrt_version:<9} "
              f"{entry.size_bytes / _MIB:7.1f} MiB  {created}  {status}")
    print("networks on this machine: " + (", ".join(engine_models()) or "none"))
    reason = unavailable_reason("tensorrt", probe_availability())
    print("TensorRT: " + ("available" if reason is None else f"not available ({reason})"))
    return 0


def run(args: argparse.Namespace) -> int:
    if args.action == "build":
        return _build(args)
    if args.action == "list":
        return _list()
    removed = EngineCache().clear(args.model)
    print(f"mocap engines: removed {removed} engine(s) from {EngineCache().root}")
    return 0
