"""Provider selection: every fallback branch on made-up machines, the one-line message, the real probe."""

from __future__ import annotations

import logging

import pytest

from engines import providers
from engines.providers import (
    Availability,
    Decision,
    GpuInfo,
    onnxruntime_conflict,
    probe_availability,
    probe_gpu,
    runnable_providers,
    select_provider,
)

GPU = GpuInfo("NVIDIA GeForce RTX 3060", "8.6")
ORT_GPU = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")
ORT_CPU = ("CPUExecutionProvider",)
FULL = Availability(ort_providers=ORT_GPU, tensorrt_version="10.7.0", tensorrt_problem=None, gpu=GPU,
                    gpu_problem=None)
NO_TRT = Availability(ort_providers=ORT_GPU, tensorrt_problem="the tensorrt package is not installed", gpu=GPU,
                      gpu_problem=None)
CPU_ORT_ON_GPU = Availability(ort_providers=ORT_CPU, tensorrt_version="10.7.0", tensorrt_problem=None, gpu=GPU,
                              gpu_problem=None)
NOTHING = Availability(ort_providers=ORT_CPU, gpu_problem="no NVIDIA driver (libcuda) found")
GPU_BUILD_NO_DEVICE = Availability(ort_providers=ORT_GPU, tensorrt_version="10.7.0", tensorrt_problem=None,
                                   gpu_problem="the NVIDIA driver reports no CUDA GPU")


@pytest.mark.parametrize(("requested", "available", "provider", "skipped"), [
    ("auto", FULL, "tensorrt", []),
    ("auto", NO_TRT, "cuda", ["tensorrt"]),
    ("auto", CPU_ORT_ON_GPU, "tensorrt", []),
    ("auto", NOTHING, "cpu", ["tensorrt", "cuda"]),
    ("auto", GPU_BUILD_NO_DEVICE, "cpu", ["tensorrt", "cuda"]),
    ("tensorrt", NO_TRT, "cuda", ["tensorrt"]),
    ("tensorrt", NOTHING, "cpu", ["tensorrt", "cuda"]),
    ("cuda", FULL, "cuda", []),
    ("cuda", CPU_ORT_ON_GPU, "cpu", ["cuda"]),
    ("cuda", NOTHING, "cpu", ["cuda"]),
    ("cpu", FULL, "cpu", []),
    ("cpu", NOTHING, "cpu", []),
])
def test_every_fallback_branch(requested, available, provider, skipped):
    decision = select_provider(requested, available)
    assert decision.provider == provider
    assert [name for name, _ in decision.fallbacks] == skipped
    assert decision.requested == requested
    assert (decision.message() == "") == (not skipped)


def test_message_names_what_was_skipped_and_why():
    text = select_provider("auto", NO_TRT).message()
    assert text == "TensorRT not used: the tensorrt package is not installed; running on CUDA"
    text = select_provider("auto", Availability(ort_providers=ORT_CPU, gpu=GPU, gpu_problem=None)).message()
    assert text.startswith("TensorRT not used: the tensorrt package is not installed; CUDA not used: onnxruntime "
                           "has no CUDAExecutionProvider")
    assert "pip install -e .[gpu]" in text and text.endswith("running on CPU")
    # Without a GPU the one reason is given once for both GPU providers.
    assert select_provider("auto", NOTHING).message() == (
        "TensorRT and CUDA not used: no NVIDIA driver (libcuda) found; running on CPU")


def test_onnxruntime_problems_stop_everything_but_tensorrt():
    broken = Availability(ort_providers=(), ort_problem="onnxruntime cannot be imported", tensorrt_version="10.7.0",
                          tensorrt_problem=None, gpu=GPU, gpu_problem=None)
    assert select_provider("auto", broken).provider == "tensorrt"
    with pytest.raises(RuntimeError, match="onnxruntime cannot be imported"):
        select_provider("cpu", broken)


def test_unknown_provider_lists_the_choices():
    with pytest.raises(ValueError, match="auto, tensorrt, cuda, cpu"):
        select_provider("gpu", FULL)


def test_runnable_providers_for_side_by_side_benchmarks():
    assert runnable_providers(FULL) == ("tensorrt", "cuda", "cpu")
    assert runnable_providers(CPU_ORT_ON_GPU) == ("tensorrt", "cpu")
    assert runnable_providers(NOTHING) == ("cpu",)


def test_announce_says_it_once(caplog, monkeypatch):
    monkeypatch.setattr(providers, "_announced", set())
    decision = Decision("auto", "cpu", (("tensorrt", "reason A"),))
    with caplog.at_level(logging.WARNING, logger="engines.providers"):
        providers.announce(decision)
        providers.announce(decision)
        providers.announce(Decision("cpu", "cpu"))
    assert [r.getMessage() for r in caplog.records] == ["TensorRT not used: reason A; running on CPU"]


def test_both_onnxruntime_packages_are_a_named_conflict():
    assert onnxruntime_conflict({"onnxruntime"}) is None
    assert onnxruntime_conflict({"onnxruntime-gpu"}) is None
    problem = onnxruntime_conflict({"onnxruntime", "onnxruntime-gpu"})
    assert "pip uninstall -y onnxruntime onnxruntime-gpu" in problem


def test_gpu_probe_without_a_driver_library():
    gpu, problem = probe_gpu(libraries=("libcuda-that-does-not-exist.so.1",))
    assert gpu is None and "no NVIDIA driver" in problem


def test_real_probe_is_consistent():
    available = probe_availability()
    assert available is probe_availability()  # probed once
    assert "CPUExecutionProvider" in available.ort_providers
    decision = select_provider("auto", available)
    assert decision.provider in runnable_providers(available)
    assert (available.gpu is None) == (available.gpu_problem is not None)
