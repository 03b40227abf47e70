"""Which provider runs the networks: what this machine has (probed once) and the choice made from it.

Providers, fastest first: ``tensorrt`` (a TensorRT engine built from the ONNX file), ``cuda`` (ONNX
Runtime's CUDA execution provider with IO binding), ``cpu`` (ONNX Runtime on the CPU). ``auto``
takes the first one this machine can run. :func:`select_provider` is a pure function of the request
and an :class:`Availability`, so every fallback branch is tested with made-up machines; the real
machine is probed once by :func:`probe_availability` (imports and the CUDA driver, no
``nvidia-smi``). The decision says what was skipped and why, in one line, once per process
(:func:`announce`): a GPU that is not used is never silent.
"""

from __future__ import annotations

import ctypes
import functools
import importlib
import importlib.metadata
import logging
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

#: The choices of ``--provider`` (and the GUI's device box), ``auto`` first.
PROVIDER_CHOICES = ("auto", "tensorrt", "cuda", "cpu")
#: Fallback order: each provider falls back to the ones after it.
FALLBACK_CHAIN = ("tensorrt", "cuda", "cpu")
#: What each provider is called in messages.
PROVIDER_LABELS = {"tensorrt": "TensorRT", "cuda": "CUDA", "cpu": "CPU"}
#: ONNX Runtime's name of each provider's execution provider (TensorRT runs outside ONNX Runtime).
ORT_PROVIDER_NAMES = {"cuda": "CUDAExecutionProvider", "cpu": "CPUExecutionProvider"}
#: The command that turns a CPU install into a GPU one (see README, "GPU: CUDA and TensorRT").
GPU_INSTALL_HINT = "pip uninstall -y onnxruntime && pip install -e .[gpu]"
#: Lowest TensorRT major version with the tensor-name API (``execute_async_v3``) used here.
MIN_TENSORRT_MAJOR = 10
#: CUDA driver API device attributes (cuda.h): compute capability major and minor.
_CU_ATTR_CC_MAJOR, _CU_ATTR_CC_MINOR = 75, 76
_DRIVER_LIBRARIES = ("libcuda.so.1", "libcuda.so", "nvcuda.dll")


@dataclass(frozen=True, slots=True)
class GpuInfo:
    """The CUDA device the engines run on (device 0).

    Attributes:
        name: marketing name, e.g. ``"NVIDIA GeForce RTX 3060"``.
        compute_capability: ``"major.minor"``, e.g. ``"8.6"`` (TensorRT engines are tied to it).
    """

    name: str
    compute_capability: str


@dataclass(frozen=True, slots=True)
class Availability:
    """What this machine offers the engines; ``*_problem`` says why a part is missing (``None``: fine).

    Attributes:
        ort_providers: ONNX Runtime's compiled-in execution providers (empty if it cannot be imported).
        ort_problem: why ONNX Runtime cannot be used at all (not installed, two packages installed).
        tensorrt_version: the ``tensorrt`` module's version, ``None`` when it cannot be imported.
        tensorrt_problem: why TensorRT cannot be used (not installed, too old, no cuda-python).
        gpu: the CUDA device, ``None`` when the driver reports none.
        gpu_problem: why there is no usable GPU.
    """

    ort_providers: tuple[str, ...] = ("CPUExecutionProvider",)
    ort_problem: str | None = None
    tensorrt_version: str | None = None
    tensorrt_problem: str | None = "the tensorrt package is not installed"
    gpu: GpuInfo | None = None
    gpu_problem: str | None = "no NVIDIA driver (libcuda) found"


@dataclass(frozen=True, slots=True)
class Decision:
    """The provider chosen for a request, and each faster one skipped on the way with the reason.

    Attributes:
        requested: what was asked for (one of :data:`PROVIDER_CHOICES`).
        provider: what will run (one of :data:`FALLBACK_CHAIN`).
        fallbacks: ``(provider, reason)`` for each provider tried and skipped, in order.
    """

    requested: str
    provider: str
    fallbacks: tuple[tuple[str, str], ...] = field(default=())

    def message(self) -> str:
        """One line: what was not used and why, and what runs; empty when nothing was skipped."""
        if not self.fallbacks:
            return ""
        groups: list[tuple[list[str], str]] = []  # providers skipped for the same reason are named together
        for name, reason in self.fallbacks:
            if groups and groups[-1][1] == reason:
                groups[-1][0].append(PROVIDER_LABELS[name])
            else:
                groups.append(([PROVIDER_LABELS[name]], reason))
        skipped = "; ".join(f"{' and '.join(names)} not used: {reason}" for names, reason in groups)
        return f"{skipped}; running on {PROVIDER_LABELS[self.provider]}"


def unavailable_reason(provider: str, available: Availability) -> str | None:
    """Why ``provider`` cannot run on ``available`` (``None``: it can)."""
    if available.ort_problem is not None and provider != "tensorrt":
        return available.ort_problem
    if provider == "cpu":
        return None
    if available.gpu is None:  # first: without a GPU, installing packages would not help
        return available.gpu_problem or "no CUDA GPU found"
    if provider == "tensorrt" and available.tensorrt_problem is not None:
        return available.tensorrt_problem
    if provider == "cuda" and ORT_PROVIDER_NAMES["cuda"] not in available.ort_providers:
        return (f"onnxruntime has no CUDAExecutionProvider (the CPU-only onnxruntime package is installed; "
                f"{GPU_INSTALL_HINT})")
    return None


def select_provider(requested: str, available: Availability) -> Decision:
    """The provider for ``requested`` on ``available``: the first of the chain from it that can run.

    ``auto`` starts at TensorRT; an explicit request starts at itself and falls back the same way
    (TensorRT -> CUDA -> CPU), so a missing part never stops a capture, and the decision says why.

    Raises:
        ValueError: ``requested`` is not one of :data:`PROVIDER_CHOICES`.
        RuntimeError: not even the CPU provider can run (ONNX Runtime missing or broken).
    """
    if requested not in PROVIDER_CHOICES:
        raise ValueError(f"Unknown provider {requested!r}; valid: {', '.join(PROVIDER_CHOICES)}.")
    start = 0 if requested == "auto" else FALLBACK_CHAIN.index(requested)
    fallbacks: list[tuple[str, str]] = []
    for provider in FALLBACK_CHAIN[start:]:
        reason = unavailable_reason(provider, available)
        if reason is None:
            return Decision(requested, provider, tuple(fallbacks))
        fallbacks.append((provider, reason))
    raise RuntimeError(f"No provider can run the networks: {available.ort_problem}")


def runnable_providers(available: Availability) -> tuple[str, ...]:
    """Every provider of :data:`FALLBACK_CHAIN` that can run here (for side-by-side benchmarks)."""
    return tuple(name for name in FALLBACK_CHAIN if unavailable_reason(name, available) is None)


_announced: set[str] = set()


def announce(decision: Decision) -> None:
    """Log the decision's fallback line as a warning, once per process for the same line."""
    text = decision.message()
    if text and text not in _announced:
        _announced.add(text)
        logger.warning("%s", text)


# --- probing the real machine (each part separately, so one failure names itself) ---------------

def onnxruntime_conflict(installed: set[str]) -> str | None:
    """The problem when both ONNX Runtime distributions are installed (they share one module)."""
    if {"onnxruntime", "onnxruntime-gpu"} <= installed:
        return ("both onnxruntime and onnxruntime-gpu are installed and overwrite each other's files; run "
                "'pip uninstall -y onnxruntime onnxruntime-gpu && pip install -e .[gpu]' (or .[cpu])")
    return None


def _installed_distributions(names: tuple[str, ...]) -> set[str]:
    found = set()
    for name in names:
        try:
            importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        found.add(name)
    return found


def _probe_ort() -> tuple[tuple[str, ...], str | None]:
    problem = onnxruntime_conflict(_installed_distributions(("onnxruntime", "onnxruntime-gpu")))
    try:
        ort = importlib.import_module("onnxruntime")
        providers = tuple(ort.get_available_providers())
    except ImportError as exc:
        return (), problem or f"onnxruntime cannot be imported ({exc}); install with pip install -e .[cpu] or .[gpu]"
    return providers, problem


def _probe_tensorrt() -> tuple[str | None, str | None]:
    try:
        trt = importlib.import_module("tensorrt")
    except ImportError as exc:
        detail = "" if getattr(exc, "name", None) == "tensorrt" else f" ({exc})"
        return None, f"the tensorrt package is not installed{detail} ({GPU_INSTALL_HINT})"
    version = str(getattr(trt, "__version__", "0"))
    if int(version.split(".")[0] or 0) < MIN_TENSORRT_MAJOR:
        return version, f"TensorRT {version} is older than {MIN_TENSORRT_MAJOR}.0 ({GPU_INSTALL_HINT})"
    try:
        from .cuda_memory import cudart  # noqa: F401  (cuda-python: streams and buffers)
    except ImportError as exc:
        return version, f"cuda-python is not installed ({exc}; {GPU_INSTALL_HINT})"
    return version, None


def probe_gpu(libraries: tuple[str, ...] = _DRIVER_LIBRARIES) -> tuple[GpuInfo | None, str | None]:
    """Device 0 through the CUDA driver API (``libcuda``, installed with the NVIDIA driver).

    Asks the driver directly, so it works without nvidia-smi, CUDA toolkit or any Python GPU package.
    """
    driver = None
    for name in libraries:
        try:
            driver = ctypes.CDLL(name)
            break
        except OSError:
            continue
    if driver is None:
        return None, "no NVIDIA driver (libcuda) found: this machine has no usable NVIDIA GPU"
    status = driver.cuInit(0)
    count = ctypes.c_int(0)
    if status != 0 or driver.cuDeviceGetCount(ctypes.byref(count)) != 0 or count.value < 1:
        return None, f"the NVIDIA driver reports no CUDA GPU (cuInit status {status})"
    device = ctypes.c_int(0)
    driver.cuDeviceGet(ctypes.byref(device), 0)
    name = ctypes.create_string_buffer(256)
    driver.cuDeviceGetName(name, len(name), device)
    major, minor = ctypes.c_int(0), ctypes.c_int(0)
    driver.cuDeviceGetAttribute(ctypes.byref(major), _CU_ATTR_CC_MAJOR, device)
    driver.cuDeviceGetAttribute(ctypes.byref(minor), _CU_ATTR_CC_MINOR, device)
    return GpuInfo(name.value.decode(errors="replace").strip(), f"{major.value}.{minor.value}"), None


@functools.lru_cache(maxsize=1)
def probe_availability() -> Availability:
    """What this machine offers (probed once per process: imports and the driver are not cheap)."""
    ort_providers, ort_problem = _probe_ort()
    trt_version, trt_problem = _probe_tensorrt()
    gpu, gpu_problem = probe_gpu()
    available = Availability(ort_providers=ort_providers, ort_problem=ort_problem, tensorrt_version=trt_version,
                             tensorrt_problem=trt_problem, gpu=gpu, gpu_problem=gpu_problem)
    logger.debug("engine availability: %s", available)
    return available
