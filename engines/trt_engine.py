"""``TrtEngine``: a network as a TensorRT engine behind the :class:`~engines.engine.Engine` interface.

On construction the engine is taken from the cache (:mod:`engines.cache`) when one was built for
this ONNX file, GPU, TensorRT version, precision and input shapes; otherwise it is built
(:mod:`engines.trt_build`, minutes, with progress) and stored. An engine TensorRT refuses to load
(another GPU or TensorRT version slipped through, a damaged file) is deleted and rebuilt once; a
failed build is remembered so the next start falls back at once. Every failure raises
:class:`~engines.trt_build.EngineBuildError`, which :func:`engines.engine.load_engine` turns into
one message and an ONNX Runtime engine.

Running: one CUDA stream, device buffers and pinned host buffers allocated once at the profile's
largest shapes, tensor addresses bound once; per call the inputs are copied into the pinned
buffers, queued host->device, the engine is enqueued (``execute_async_v3``), the outputs are queued
device->host and the stream is synchronised once. A batch larger than the profile's maximum runs in
chunks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .cache import EngineCache, EngineKey
from .engine import Engine, TensorSpec, read_sidecar
from .providers import Availability, probe_availability
from .trt_build import (
    BuildRequest,
    EngineBuildError,
    ProgressCallback,
    build_serialized,
    engine_key,
    profile_shapes,
    sidecar_inputs,
)

logger = logging.getLogger(__name__)

DEFAULT_PRECISION = "fp16"
#: Seconds between progress log lines of a build when no progress display is given.
_LOG_EVERY_S = 10.0


class _LogProgress:
    """Progress of a build as log lines (``mocap run`` and the GUI: builds happen on first start)."""

    def __init__(self, name: str) -> None:
        self.name, self._last = name, 0.0

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if now - self._last >= _LOG_EVERY_S or done == total:
            self._last = now
            logger.info("Building %s: %s %d/%d", self.name, phase, done, total)


class TrtEngine(Engine):
    """A TensorRT engine for one ONNX network (built or taken from the cache).

    Args:
        path: the ``.onnx`` file (its ``.toml`` sidecar beside it).
        precision: ``"fp32"``, ``"fp16"`` or ``"int8"``.
        cache: the engine cache (default: the user cache dir's).
        available: what this machine has (default: probed once).
        report: ``report(phase, done, total)`` during a build (default: log lines).
        calibration_batches: preprocessed inputs for an INT8 build without a calibration cache.
        rebuild: build even if a cached engine or a remembered failure exists.

    Raises:
        EngineBuildError: no TensorRT/GPU, a build or load failure (the caller falls back).

    Example:
        >>> engine = TrtEngine(stage_paths()["stage2"], precision="fp16")  # doctest: +SKIP
        >>> engine.run({"features": features})["joints3d"].shape           # doctest: +SKIP
    """

    def __init__(self, path: str | Path, precision: str = DEFAULT_PRECISION, cache: EngineCache | None = None,
                 available: Availability | None = None, report: ProgressCallback | None = None,
                 calibration_batches: Sequence[np.ndarray] = (), rebuild: bool = False) -> None:
        self.path = Path(path)
        self.sidecar = read_sidecar(self.path)
        self._precision = precision
        available = available or probe_availability()
        self.cache = cache or EngineCache()
        self.key = engine_key(self.path, precision, profile_shapes(sidecar_inputs(self.sidecar)), available)
        if not rebuild:
            failure = self.cache.failure(self.key)
            if failure is not None:
                raise EngineBuildError(f"an earlier TensorRT build of {self.path.name} failed ({failure}); retry with "
                                       "'mocap engines build' or forget it with 'mocap engines clear'")
        import tensorrt as trt

        self._trt = trt
        self._trt_logger = trt.Logger(trt.Logger.WARNING)  # must outlive the runtime
        self._runtime = trt.Runtime(self._trt_logger)
        engine = None if rebuild else self._load_cached()
        #: Whether this instance built its engine (``False``: it came from the cache).
        self.built = engine is None
        if engine is None:
            engine = self._build(report or _LogProgress(self.path.name), tuple(calibration_batches))
        self._engine = engine
        self._setup()

    # --- cache and build ------------------------------------------------------------------------

    def _load_cached(self):  # noqa: ANN202 - tensorrt.ICudaEngine
        cached = self.cache.lookup(self.key)
        if cached is None:
            return None
        engine = self._runtime.deserialize_cuda_engine(cached.read_bytes())
        if engine is None:  # built by another TensorRT/GPU, or damaged in a way the checksum missed
            self.cache.invalidate(self.key, "TensorRT could not deserialize it")
            return None
        logger.info("TensorRT engine for %s from the cache (%s)", self.path.name, cached.parent.name)
        return engine

    def _build(self, report: ProgressCallback, batches: tuple[np.ndarray, ...]):  # noqa: ANN202
        logger.warning("Building the TensorRT %s engine for %s: done once for this GPU, takes a while.",
                       self._precision, self.path.name)
        request = BuildRequest(onnx_path=self.path, precision=self._precision, profiles=self.key.input_shapes,
                               timing_cache=self.cache.timing_cache_path(self.key),
                               calibration_cache=self.cache.calibration_cache_path(self.key),
                               calibration_batches=batches)
        started = time.perf_counter()
        try:
            data = build_serialized(request, report)
            engine = self._runtime.deserialize_cuda_engine(data)
            if engine is None:
                raise EngineBuildError(f"TensorRT built {self.path.name} but cannot load the result")
        except EngineBuildError as exc:
            if exc.out_of_memory or "cannot load" in str(exc):
                self.cache.record_failure(self.key, str(exc))
            raise
        self.cache.store(self.key, data, self.path, time.perf_counter() - started)
        return engine

    # --- running --------------------------------------------------------------------------------

    def _setup(self) -> None:
        from .cuda_memory import CudaError, DeviceBuffer, PinnedBuffer, Stream

        trt, engine = self._trt, self._engine
        self._context = engine.create_execution_context()
        if self._context is None:
            raise EngineBuildError(f"TensorRT cannot create an execution context for {self.path.name} "
                                   "(out of GPU memory?)", out_of_memory=True)
        names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
        self._inputs = [n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
        outputs = [n for n in names if engine.get_tensor_mode(n) != trt.TensorIOMode.INPUT]
        self._dtypes = {n: np.dtype(trt.nptype(engine.get_tensor_dtype(n))) for n in names}
        self._max_batch = {}
        for name in self._inputs:  # largest shapes of the profile: buffers are allocated once for them
            low, _, high = engine.get_tensor_profile_shape(name, 0)
            self._context.set_input_shape(name, tuple(high))
            self._max_batch[name] = int(high[0]) if int(low[0]) != int(high[0]) else 0
        shapes = {n: tuple(int(d) for d in self._context.get_tensor_shape(n)) for n in names}
        try:
            self._stream = Stream()
            self._device = {n: DeviceBuffer(int(np.prod(shapes[n])) * self._dtypes[n].itemsize) for n in names}
            self._host = {n: PinnedBuffer(shapes[n], self._dtypes[n]) for n in names}
        except CudaError as exc:
            raise EngineBuildError(f"{self.path.name}: {exc}", out_of_memory=exc.out_of_memory) from exc
        for name in names:
            self._context.set_tensor_address(name, self._device[name].pointer)
        self.input_specs = tuple(TensorSpec(n, tuple(int(d) for d in engine.get_tensor_shape(n)),
                                            self._dtypes[n].name) for n in self._inputs)
        output_specs = tuple(TensorSpec(n, tuple(int(d) for d in engine.get_tensor_shape(n)), "float32")
                             for n in outputs)
        self.output_names = tuple(outputs)
        self.check_contract(output_specs)
        logger.info("Loaded %s on TensorRT %s (%s)", self.path.name, trt.__version__, self._precision)

    @property
    def provider(self) -> str:
        return "TensorRT"

    @property
    def precision(self) -> str:
        return self._precision

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        batched = [n for n in self._inputs if self._max_batch[n]]
        limit = min((self._max_batch[n] for n in batched), default=0)
        count = int(np.shape(inputs[batched[0]])[0]) if batched else 0
        if batched and count > limit:  # more people than the profile holds: run in chunks
            parts = [self._run_once({n: (a[i:i + limit] if n in batched else a) for n, a in inputs.items()})
                     for i in range(0, count, limit)]
            return {name: np.concatenate([p[name] for p in parts]) for name in self.output_names}
        if batched and count == 0:  # nobody: outputs with zero rows (shapes from a one-row run)
            probe = {n: np.zeros((1, *np.shape(a)[1:]), self._dtypes[n]) if n in batched else a
                     for n, a in inputs.items()}
            return {name: value[:0] for name, value in self._run_once(probe).items()}
        return self._run_once(inputs)

    def _run_once(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from .cuda_memory import copy_to_device, copy_to_host

        for name in self._inputs:
            array = np.ascontiguousarray(inputs[name], dtype=self._dtypes[name])
            self._context.set_input_shape(name, array.shape)
            host = self._host[name]
            host.array.reshape(-1)[:array.size] = array.reshape(-1)
            copy_to_device(self._device[name], host, array.nbytes, self._stream)
        if not self._context.execute_async_v3(self._stream.pointer):
            raise RuntimeError(f"TensorRT failed to run {self.path.name}")
        shapes = {}
        for name in self.output_names:
            shapes[name] = tuple(int(d) for d in self._context.get_tensor_shape(name))
            nbytes = int(np.prod(shapes[name])) * self._dtypes[name].itemsize
            copy_to_host(self._host[name], self._device[name], nbytes, self._stream)
        self._stream.synchronize()
        return {name: self._host[name].array.reshape(-1)[:int(np.prod(shapes[name]))].reshape(shapes[name])
                .astype(np.float32, copy=True) for name in self.output_names}

    def close(self) -> None:
        """Free the GPU and pinned buffers and the stream (also done when the process ends)."""
        for buffer in [*getattr(self, "_device", {}).values(), *getattr(self, "_host", {}).values()]:
            buffer.close()
        if getattr(self, "_stream", None) is not None:
            self._stream.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown: the CUDA runtime may be gone already
            pass


def trt_key_for(path: str | Path, precision: str, available: Availability) -> EngineKey:
    """The cache key :class:`TrtEngine` would use for ``path`` (for ``mocap engines list/build``)."""
    return engine_key(path, precision, profile_shapes(sidecar_inputs(read_sidecar(path))), available)
