"""CUDA streams, device buffers and pinned (page-locked) host buffers through cuda-python.

Only :mod:`engines.trt_engine` uses this, and only on a machine with an NVIDIA GPU: importing it
needs the ``cuda-python`` package (the ``gpu`` extra). Every runtime call returns ``(error, value)``;
:func:`check` turns a non-zero error into :class:`CudaError` naming the call, so an out-of-memory
allocation ends in a message instead of a crash. Pinned host memory lets the host<->device copies
run asynchronously on the engine's stream (pageable memory would force a synchronous staging copy).
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

try:  # cuda-python >= 12.6 moved the runtime bindings here
    from cuda.bindings import runtime as cudart
except ImportError:  # older cuda-python
    from cuda import cudart  # type: ignore[no-redef]


class CudaError(RuntimeError):
    """A CUDA runtime call failed; ``out_of_memory`` tells the engine to fall back instead of retrying."""

    def __init__(self, call: str, code: Any) -> None:
        name = getattr(code, "name", str(code))
        super().__init__(f"CUDA {call} failed: {name}")
        self.out_of_memory = "MemoryAllocation" in name


def check(call: str, result: Any) -> Any:
    """Unpack a cuda-python ``(error, *values)`` result; raise :class:`CudaError` on an error."""
    error, *values = result if isinstance(result, tuple) else (result,)
    if error != cudart.cudaError_t.cudaSuccess:
        raise CudaError(call, error)
    if not values:
        return None
    return values[0] if len(values) == 1 else tuple(values)


class Stream:
    """One CUDA stream: copies and the engine's kernels are queued on it, then synchronised once."""

    def __init__(self) -> None:
        self.handle = check("cudaStreamCreate", cudart.cudaStreamCreate())

    @property
    def pointer(self) -> int:
        return int(self.handle)

    def synchronize(self) -> None:
        check("cudaStreamSynchronize", cudart.cudaStreamSynchronize(self.handle))

    def close(self) -> None:
        if self.handle is not None:
            cudart.cudaStreamDestroy(self.handle)
            self.handle = None


class DeviceBuffer:
    """``nbytes`` of GPU memory."""

    def __init__(self, nbytes: int) -> None:
        self.nbytes = int(nbytes)
        self.pointer = int(check("cudaMalloc", cudart.cudaMalloc(max(self.nbytes, 1))))

    def close(self) -> None:
        if self.pointer:
            cudart.cudaFree(self.pointer)
            self.pointer = 0


class PinnedBuffer:
    """Page-locked host memory viewed as a numpy array of ``shape`` and ``dtype``."""

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.dtype = np.dtype(dtype)
        count = int(np.prod(shape)) if shape else 1
        self.nbytes = count * self.dtype.itemsize
        self.pointer = int(check("cudaMallocHost", cudart.cudaMallocHost(max(self.nbytes, 1))))
        raw = (ctypes.c_byte * max(self.nbytes, 1)).from_address(self.pointer)
        self.array = np.frombuffer(raw, dtype=self.dtype, count=count).reshape(shape)

    def close(self) -> None:
        if self.pointer:
            self.array = np.empty(0, self.dtype)
            cudart.cudaFreeHost(self.pointer)
            self.pointer = 0


def copy_to_device(device: DeviceBuffer, host: PinnedBuffer, nbytes: int, stream: Stream) -> None:
    """Queue ``nbytes`` host -> device on ``stream``."""
    kind = cudart.cudaMemcpyKind.cudaMemcpyHostToDevice
    check("cudaMemcpyAsync", cudart.cudaMemcpyAsync(device.pointer, host.pointer, nbytes, kind, stream.handle))


def copy_to_host(host: PinnedBuffer, device: DeviceBuffer, nbytes: int, stream: Stream) -> None:
    """Queue ``nbytes`` device -> host on ``stream``."""
    kind = cudart.cudaMemcpyKind.cudaMemcpyDeviceToHost
    check("cudaMemcpyAsync", cudart.cudaMemcpyAsync(host.pointer, device.pointer, nbytes, kind, stream.handle))
