"""The one ``Engine`` interface, its ONNX Runtime engine, and :func:`load_engine` that picks the runtime.

An engine loads a model file and its sidecar contract (``model.toml`` beside ``model.onnx``, see
:mod:`models.export`), checks one against the other, and then only runs:
``run({"image": array}) -> {"boxes": ..., "scores": ...}``. Which execution providers to ask for
comes from :data:`PROVIDERS`, keyed by (backend, device); ``provider`` reports the one ONNX Runtime
actually bound, so a missing CUDA build shows up as ``CPUExecutionProvider`` instead of hiding.

:func:`load_engine` takes a provider choice (``auto``, ``tensorrt``, ``cuda``, ``cpu``; see
:mod:`engines.providers`), and returns a :class:`~engines.trt_engine.TrtEngine`, an ONNX Runtime
CUDA engine (IO binding: each input is copied to the GPU once, straight from the caller's array) or
an ONNX Runtime CPU engine, falling back down that list with one message naming what was skipped
and why.
"""

from __future__ import annotations

import logging
import os
import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mocap_app.errors import MocapError, ModelContractError, WeightsMissingError

from .providers import (
    ORT_PROVIDER_NAMES,
    Availability,
    Decision,
    announce,
    probe_availability,
    select_provider,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

logger = logging.getLogger(__name__)

#: (backend, device) -> ONNX Runtime execution providers, most preferred first.
PROVIDERS: dict[tuple[str, str], list[str]] = {
    ("ort", "cpu"): ["CPUExecutionProvider"],
    ("ort", "cuda"): ["CUDAExecutionProvider", "CPUExecutionProvider"],
}
#: Environment variable choosing the TensorRT precision (``fp16`` by default; ``fp32``, ``int8``).
PRECISION_ENV = "MOCAP_TRT_PRECISION"
_PRECISION_NAMES = {"float32": "fp32", "float16": "fp16"}
#: Sidecar layouts this runtime understands (``format`` key written by models/export.py).
SIDECAR_FORMATS = (1,)
_DTYPES = {"tensor(float)": "float32", "tensor(float16)": "float16", "tensor(int64)": "int64",
           "tensor(int32)": "int32", "tensor(uint8)": "uint8"}


@dataclass(frozen=True, slots=True)
class TensorSpec:
    """Name, shape and dtype of one model input or output (``-1`` for a dynamic dimension)."""

    name: str
    shape: tuple[int, ...]
    dtype: str


def read_sidecar(model_path: str | Path) -> dict:
    """The sidecar contract beside ``model_path`` (same stem, ``.toml``).

    Raises:
        WeightsMissingError: the model or its sidecar is missing.
        ModelContractError: the sidecar is not valid TOML or has an unknown format.
    """
    model_path = Path(model_path)
    sidecar_path = model_path.with_suffix(".toml")
    for path in (model_path, sidecar_path):
        if not path.is_file():
            raise WeightsMissingError(f"Model file {path} is missing. Run 'mocap models fetch' to (re)create it.")
    try:
        sidecar = tomllib.loads(sidecar_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ModelContractError(f"{sidecar_path} is not valid TOML ({exc}). "
                                 "Run 'mocap models fetch --force' to rewrite it.") from exc
    if sidecar.get("format") not in SIDECAR_FORMATS:
        raise ModelContractError(f"{sidecar_path} has sidecar format {sidecar.get('format')!r}; this version reads "
                                 f"{SIDECAR_FORMATS}. Run 'mocap models fetch --force'.")
    return sidecar


class Engine(ABC):
    """A loaded network: fixed inputs and outputs, ``run`` per frame, and the provider that runs it.

    Attributes:
        path: the model file.
        sidecar: its parsed contract.
        input_specs: inputs as the runtime reports them, in order.
        output_names: outputs in order (``run`` returns them all, by name).
    """

    path: Path
    sidecar: dict
    input_specs: tuple[TensorSpec, ...]
    output_names: tuple[str, ...]

    @abstractmethod
    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run the network once; ``inputs`` by name, outputs by name (float32 arrays)."""

    @property
    @abstractmethod
    def provider(self) -> str:
        """The execution provider that actually runs the model, e.g. ``"CPUExecutionProvider"``."""

    @property
    def precision(self) -> str:
        """Arithmetic precision the network runs in (``"fp32"``, ``"fp16"``, ``"int8"``)."""
        dtype = self.input_specs[0].dtype if self.input_specs else "float32"
        return _PRECISION_NAMES.get(dtype, dtype)

    def check_contract(self, output_specs: tuple[TensorSpec, ...]) -> None:
        """Compare the runtime's inputs and outputs with the sidecar; raise on the first mismatch."""
        expected_inputs = [self.sidecar["input"]] if "input" in self.sidecar else self.sidecar.get("inputs", [])
        expected_outputs = self.sidecar.get("outputs", [])
        for kind, expected, actual in (("input", expected_inputs, self.input_specs),
                                       ("output", expected_outputs, output_specs)):
            if [item["name"] for item in expected] != [spec.name for spec in actual]:
                raise ModelContractError(
                    f"{self.path}: {kind} names {[spec.name for spec in actual]} differ from its sidecar's "
                    f"{[item['name'] for item in expected]}. Run 'mocap models fetch --force'.")
            for item, spec in zip(expected, actual, strict=True):
                shape = tuple(int(v) for v in item["shape"])
                same_rank = len(shape) == len(spec.shape)
                if not same_rank or any(a not in (b, -1) for a, b in zip(spec.shape, shape, strict=True)):
                    raise ModelContractError(f"{self.path}: {kind} {spec.name!r} has shape {spec.shape}, sidecar "
                                             f"says {shape}. Run 'mocap models fetch --force'.")
                if item.get("dtype", spec.dtype) != spec.dtype:
                    raise ModelContractError(f"{self.path}: {kind} {spec.name!r} is {spec.dtype}, sidecar says "
                                             f"{item['dtype']}. Run 'mocap models fetch --force'.")


class OrtEngine(Engine):
    """ONNX Runtime session behind the :class:`Engine` interface.

    Args:
        path: the ``.onnx`` file (its ``.toml`` sidecar beside it).
        device: ``"cpu"`` or ``"cuda"`` (see :data:`PROVIDERS`).
        threads: intra-op threads; ``None`` lets ONNX Runtime choose (one per physical core).
        io_binding: bind inputs and outputs explicitly (default: on for CUDA). Each input is copied
            once into a device tensor kept per shape, and outputs are written straight to host
            memory, so a frame is not staged twice; on the CPU it changes nothing but is tested there.

    Example:
        >>> engine = OrtEngine(blazepose_paths()["pose_detection"])  # doctest: +SKIP
        >>> outputs = engine.run({"image": np.zeros((1, 224, 224, 3), np.float32)})  # doctest: +SKIP
    """

    def __init__(self, path: str | Path, device: str = "cpu", threads: int | None = None,
                 io_binding: bool | None = None) -> None:
        import onnxruntime as ort

        providers = provider_list("ort", device)
        self.path = Path(path)
        self.sidecar = read_sidecar(self.path)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads is not None:
            options.intra_op_num_threads = int(threads)
        # No busy-waiting between ops: on a few shared cores spinning threads starve capture and GUI.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        available = set(ort.get_available_providers())
        wanted = [name for name in providers if name in available] or ["CPUExecutionProvider"]
        try:
            self._session = ort.InferenceSession(str(self.path), sess_options=options, providers=wanted)
        except Exception as exc:  # ORT raises its own untyped errors for corrupt files
            raise ModelContractError(f"ONNX Runtime cannot load {self.path} ({exc}). "
                                     "Run 'mocap models fetch --force'.") from exc
        self.input_specs = tuple(self._spec(node) for node in self._session.get_inputs())
        output_specs = tuple(self._spec(node) for node in self._session.get_outputs())
        self.output_names = tuple(spec.name for spec in output_specs)
        self.check_contract(output_specs)
        if self.provider != providers[0]:
            logger.warning("%s: %s not available, running on %s", self.path.name, providers[0], self.provider)
        self._ort = ort
        self._device_type = "cuda" if self.provider == ORT_PROVIDER_NAMES["cuda"] else "cpu"
        self._binding = self._session.io_binding() if (device == "cuda" if io_binding is None else io_binding) else None
        self._bound: dict[str, object] = {}  # input name -> OrtValue on the device, reused while the shape holds
        logger.info("Loaded %s on %s%s", self.path.name, self.provider, " (IO binding)" if self._binding else "")

    @staticmethod
    def _spec(node: object) -> TensorSpec:
        shape = tuple(int(d) if isinstance(d, int) else -1 for d in node.shape)
        return TensorSpec(node.name, shape, _DTYPES.get(node.type, node.type))

    @property
    def provider(self) -> str:
        return self._session.get_providers()[0]

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if self._binding is not None:
            return self._run_bound(inputs)
        outputs = self._session.run(self.output_names, inputs)
        return dict(zip(self.output_names, outputs, strict=True))

    def _run_bound(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        binding = self._binding
        for spec in self.input_specs:
            array = np.ascontiguousarray(inputs[spec.name], dtype=np.dtype(spec.dtype))
            value = self._bound.get(spec.name)
            if value is None or tuple(value.shape()) != array.shape:
                value = self._ort.OrtValue.ortvalue_from_shape_and_type(array.shape, array.dtype, self._device_type, 0)
                self._bound[spec.name] = value
                binding.bind_ortvalue_input(spec.name, value)
            value.update_inplace(array)  # the one host -> device copy of this input
        for name in self.output_names:
            binding.bind_output(name, "cpu")  # written to host memory by the run: no second copy
        self._session.run_with_iobinding(binding)
        return dict(zip(self.output_names, binding.copy_outputs_to_cpu(), strict=True))


def provider_list(backend: str, device: str) -> list[str]:
    """Providers for (backend, device); ``ValueError`` listing the valid keys otherwise."""
    try:
        return PROVIDERS[(backend, device)]
    except KeyError:
        valid = ", ".join(f"{b}/{d}" for b, d in sorted(PROVIDERS))
        raise ValueError(f"No engine for backend {backend!r} on {device!r}; valid: {valid}.") from None


def load_engine(path: str | Path, backend: str = "ort", device: str = "cpu", threads: int | None = None,
                precision: str | None = None, available: Availability | None = None) -> Engine:
    """Load ``path`` on the provider chosen for ``device``, falling back with one message.

    Args:
        path: the ``.onnx`` file.
        backend: ``"ort"`` (kept for callers that name it; the provider decides the runtime).
        device: ``"auto"``, ``"tensorrt"``, ``"cuda"`` or ``"cpu"``.
        threads: ONNX Runtime intra-op threads.
        precision: TensorRT precision (default ``$MOCAP_TRT_PRECISION`` or ``fp16``).
        available: what the machine has (default: probed once per process).

    Raises:
        ValueError: unknown ``device`` (the message lists the valid ones).
        MocapError: ONNX Runtime itself cannot run (not installed, or both of its packages installed).
    """
    if backend != "ort":
        raise ValueError(f"No engine for backend {backend!r}; valid: ort.")
    available = available or probe_availability()
    try:
        decision = select_provider(device, available)
    except RuntimeError as exc:
        raise MocapError(str(exc)) from exc
    announce(decision)
    if decision.provider != "tensorrt":
        return OrtEngine(path, device=decision.provider, threads=threads)
    try:
        from .trt_engine import TrtEngine

        return TrtEngine(path, precision=precision or os.environ.get(PRECISION_ENV, "fp16"), available=available)
    except (ModelContractError, WeightsMissingError):
        raise
    except (MocapError, ImportError, RuntimeError, OSError, AttributeError, TypeError, ValueError) as exc:
        # build or load failure, CUDA error, a TensorRT whose API differs: never a crash, never a retry loop
        fallback = select_provider("cuda", available)
        announce(Decision(device, fallback.provider, (("tensorrt", f"{Path(path).name}: {exc}"),)
                          + fallback.fallbacks))
        return OrtEngine(path, device=fallback.provider, threads=threads)
