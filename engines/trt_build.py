"""Building a TensorRT engine from an ONNX file (TensorRT 10 Python API).

What is decided here without a GPU (and tested on CPU): the optimisation profile of each input
(:func:`profile_shapes`: per-person networks get a dynamic batch of 1..:data:`MAX_BATCH`, everything
else its fixed sidecar shape) and the cache key (:func:`engine_key`). What needs TensorRT and a GPU:
:func:`build_serialized` parses the ONNX file into an explicit-batch network, sets the precision
(FP16 flag; INT8 flag with an entropy calibrator over real, preprocessed frames and a calibration
cache), adds the profile, reuses and updates the timing cache, reports progress through TensorRT's
``IProgressMonitor``, and returns the serialized engine; failures (parse errors, out of GPU
memory, a precision this TensorRT cannot build) raise :class:`EngineBuildError` with the reason.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mocap_app.errors import MocapError

from .cache import EngineKey, file_sha256
from .providers import Availability

logger = logging.getLogger(__name__)

#: Batch sizes of the optimisation profile of a per-person network: min, the one TensorRT tunes
#: for (a typical capture: a few performers), max (more people are run in chunks of this size).
MIN_BATCH, OPT_BATCH, MAX_BATCH = 1, 4, 32
#: Scratch GPU memory TensorRT may use while choosing kernels.
WORKSPACE_BYTES = 1 << 30
#: Words in TensorRT / CUDA error text that mean the GPU ran out of memory.
_OOM_MARKERS = ("out of memory", "outofmemory", "memoryallocation", "insufficient memory", "failed to allocate")

Profile = tuple[str, tuple[int, ...], tuple[int, ...], tuple[int, ...]]
#: ``report(phase, done, total)`` during a build; ``done`` / ``total`` steps of the current phase.
ProgressCallback = Callable[[str, int, int], None]


class EngineBuildError(MocapError):
    """TensorRT could not build or load an engine; the caller falls back to ONNX Runtime.

    Attributes:
        out_of_memory: the GPU ran out of memory (retrying the same build will fail again).
    """

    def __init__(self, message: str, out_of_memory: bool = False) -> None:
        super().__init__(message)
        self.out_of_memory = out_of_memory


def sidecar_inputs(sidecar: dict) -> list[tuple[str, tuple[int, ...]]]:
    """``(name, shape)`` of every input the sidecar declares (``-1`` for a dynamic dimension)."""
    items = [sidecar["input"]] if "input" in sidecar else list(sidecar.get("inputs", []))
    return [(str(item["name"]), tuple(int(v) for v in item["shape"])) for item in items]


def profile_shapes(inputs: Sequence[tuple[str, tuple[int, ...]]],
                   batch: tuple[int, int, int] = (MIN_BATCH, OPT_BATCH, MAX_BATCH)) -> tuple[Profile, ...]:
    """The optimisation profile ``(name, min, opt, max)`` of each input.

    A dynamic first dimension is the number of people (Stage II features, PRN crops): it gets the
    ``batch`` range. Any other dynamic dimension cannot be given a sensible range here.

    Raises:
        EngineBuildError: a non-batch dimension is dynamic.
    """
    profiles = []
    for name, shape in inputs:
        if any(dim < 0 for dim in shape[1:]):
            raise EngineBuildError(f"input {name!r} has shape {shape}: only the first (batch) dimension may be "
                                   "dynamic for a TensorRT engine.")
        if shape and shape[0] < 0:
            rest = tuple(shape[1:])
            profiles.append((name, (batch[0], *rest), (batch[1], *rest), (batch[2], *rest)))
        else:
            profiles.append((name, tuple(shape), tuple(shape), tuple(shape)))
    return tuple(profiles)


def engine_key(onnx_path: str | Path, precision: str, profiles: tuple[Profile, ...],
               available: Availability) -> EngineKey:
    """The cache key of ``onnx_path`` built at ``precision`` for the GPU and TensorRT of ``available``.

    Raises:
        EngineBuildError: no GPU or TensorRT is described by ``available``.
    """
    if available.gpu is None or available.tensorrt_version is None:
        raise EngineBuildError(f"TensorRT needs an NVIDIA GPU and the tensorrt package "
                               f"({available.gpu_problem or available.tensorrt_problem}).")
    return EngineKey(model=Path(onnx_path).stem, onnx_sha256=file_sha256(onnx_path), gpu_name=available.gpu.name,
                     compute_capability=available.gpu.compute_capability,
                     tensorrt_version=available.tensorrt_version, precision=precision, input_shapes=profiles)


def is_out_of_memory(text: str) -> bool:
    """Whether TensorRT/CUDA error text says the GPU ran out of memory."""
    lowered = text.lower().replace(" ", "")
    return any(marker.replace(" ", "") in lowered for marker in _OOM_MARKERS)


# --- TensorRT objects (defined on first use: the base classes exist only with tensorrt) ----------

def _capturing_logger(trt):
    """A TensorRT logger that forwards to :mod:`logging` and keeps the errors for the message."""

    class CapturingLogger(trt.ILogger):
        def __init__(self) -> None:
            trt.ILogger.__init__(self)
            self.errors: list[str] = []

        def log(self, severity, msg: str) -> None:  # noqa: ANN001 - TensorRT's signature
            if severity in (trt.ILogger.Severity.ERROR, trt.ILogger.Severity.INTERNAL_ERROR):
                self.errors.append(msg)
                logger.error("TensorRT: %s", msg)
            elif severity == trt.ILogger.Severity.WARNING:
                logger.debug("TensorRT: %s", msg)

    return CapturingLogger()


def _progress_monitor(trt, report: ProgressCallback):
    """TensorRT's ``IProgressMonitor`` calling ``report(phase, done, total)`` for the top-level phase."""

    class Monitor(trt.IProgressMonitor):
        def __init__(self) -> None:
            trt.IProgressMonitor.__init__(self)
            self.totals: dict[str, int] = {}
            self.top: str | None = None

        def phase_start(self, phase_name: str, parent_phase: str | None, num_steps: int) -> None:
            self.totals[phase_name] = int(num_steps)
            if parent_phase is None:
                self.top = phase_name
                report(phase_name, 0, int(num_steps))

        def step_complete(self, phase_name: str, step: int) -> bool:
            if phase_name == self.top:
                report(phase_name, int(step) + 1, self.totals.get(phase_name, 0))
            return True  # never cancel

        def phase_finish(self, phase_name: str) -> None:
            if phase_name == self.top:
                report(phase_name, self.totals.get(phase_name, 0), self.totals.get(phase_name, 0))

    return Monitor()


def _entropy_calibrator(trt, batches: Sequence[np.ndarray], input_name: str, cache_path: Path):
    """INT8 entropy calibrator over ``batches`` (preprocessed network inputs, one array per batch)."""
    from .cuda_memory import DeviceBuffer, check, cudart

    class Calibrator(trt.IInt8EntropyCalibrator2):
        def __init__(self) -> None:
            trt.IInt8EntropyCalibrator2.__init__(self)
            self.batches = [np.ascontiguousarray(b, dtype=np.float32) for b in batches]
            self.index = 0
            self.buffer = DeviceBuffer(max(b.nbytes for b in self.batches)) if self.batches else None

        def get_batch_size(self) -> int:
            return int(self.batches[0].shape[0]) if self.batches else 1

        def get_batch(self, names: list[str]) -> list[int] | None:
            if self.index >= len(self.batches) or self.buffer is None:
                return None
            batch = self.batches[self.index]
            self.index += 1
            kind = cudart.cudaMemcpyKind.cudaMemcpyHostToDevice
            check("cudaMemcpy", cudart.cudaMemcpy(self.buffer.pointer, batch.ctypes.data, batch.nbytes, kind))
            return [self.buffer.pointer for _ in names]

        def read_calibration_cache(self) -> bytes | None:
            return cache_path.read_bytes() if cache_path.is_file() else None

        def write_calibration_cache(self, cache: bytes) -> None:
            cache_path.parent.mkdir(parents=True, exist_ok=True)
            cache_path.write_bytes(bytes(cache))

    logger.info("INT8 calibration of %s: %d batches", input_name, len(batches))
    return Calibrator()


@dataclass(frozen=True)
class BuildRequest:
    """What to build.

    Attributes:
        onnx_path: the network.
        precision: ``"fp32"``, ``"fp16"`` or ``"int8"``.
        profiles: :func:`profile_shapes` of its inputs.
        timing_cache: TensorRT timing cache file (read if present, rewritten after the build).
        calibration_cache: INT8 calibration cache file (read if present, written by calibration).
        calibration_batches: preprocessed inputs for INT8 calibration (not needed when the
            calibration cache exists).
    """

    onnx_path: Path
    precision: str
    profiles: tuple[Profile, ...]
    timing_cache: Path
    calibration_cache: Path
    calibration_batches: tuple[np.ndarray, ...] = ()


def build_serialized(request: BuildRequest, report: ProgressCallback | None = None) -> bytes:
    """Build the engine and return it serialized (minutes for a large network on a first build).

    Raises:
        EngineBuildError: the ONNX file does not parse, the precision is not buildable with this
            TensorRT (11.x dropped the FP16/INT8 builder flags), INT8 without calibration data,
            or TensorRT failed (``out_of_memory`` set when the GPU ran out of memory).
    """
    import tensorrt as trt

    trt_logger = _capturing_logger(trt)
    builder = trt.Builder(trt_logger)
    network = builder.create_network(0)  # TensorRT 10: networks are always explicit-batch
    parser = trt.OnnxParser(network, trt_logger)
    if not parser.parse_from_file(str(request.onnx_path)):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise EngineBuildError(f"TensorRT cannot parse {request.onnx_path}: {errors}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, WORKSPACE_BYTES)
    profile = builder.create_optimization_profile()
    for name, low, opt, high in request.profiles:
        profile.set_shape(name, low, opt, high)
    config.add_optimization_profile(profile)
    calibrator = _set_precision(trt, config, request, profile)  # referenced until the build ends
    timing = config.create_timing_cache(request.timing_cache.read_bytes() if request.timing_cache.is_file() else b"")
    config.set_timing_cache(timing, ignore_mismatch=False)
    monitor = _progress_monitor(trt, report) if report is not None and hasattr(trt, "IProgressMonitor") else None
    if monitor is not None:
        config.progress_monitor = monitor
    started = time.perf_counter()
    try:
        serialized = builder.build_serialized_network(network, config)
    except (RuntimeError, MemoryError) as exc:
        raise EngineBuildError(f"TensorRT build of {request.onnx_path.name} failed: {exc}",
                               out_of_memory=is_out_of_memory(str(exc))) from exc
    if serialized is None:
        detail = "; ".join(trt_logger.errors[-3:]) or "no reason given"
        raise EngineBuildError(f"TensorRT build of {request.onnx_path.name} failed: {detail}",
                               out_of_memory=is_out_of_memory(detail))
    request.timing_cache.parent.mkdir(parents=True, exist_ok=True)
    request.timing_cache.write_bytes(bytes(timing.serialize()))
    logger.info("Built %s (%s) in %.0f s", request.onnx_path.name, request.precision, time.perf_counter() - started)
    del calibrator, monitor
    return bytes(serialized)


def _set_precision(trt, config, request: BuildRequest, profile) -> object | None:  # noqa: ANN001
    """Builder flags for the requested precision; returns the INT8 calibrator (``None`` otherwise)."""
    if request.precision == "fp32":
        return None
    if not hasattr(trt.BuilderFlag, "FP16"):
        raise EngineBuildError(f"TensorRT {trt.__version__} builds only strongly typed networks (no FP16/INT8 "
                               "flags): install tensorrt<11 (pip install -e .[gpu]) or use --precision fp32.")
    config.set_flag(trt.BuilderFlag.FP16)  # layers INT8 cannot take run in FP16 rather than FP32
    if request.precision != "int8":
        return None
    if not request.calibration_batches and not request.calibration_cache.is_file():
        raise EngineBuildError(f"INT8 for {request.onnx_path.name} needs calibration frames: run "
                               "'mocap engines build --precision int8 --calibration-frames DIR'.")
    config.set_flag(trt.BuilderFlag.INT8)
    name = request.profiles[0][0]
    calibrator = _entropy_calibrator(trt, request.calibration_batches, name, request.calibration_cache)
    config.int8_calibrator = calibrator
    config.set_calibration_profile(profile)
    return calibrator
