"""load_engine on this (CPU) machine: IO binding gives the plain session's outputs, and a TensorRT that
cannot run falls back to ONNX Runtime with one message instead of failing or retrying forever."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from engines import providers
from engines.cache import EngineCache
from engines.engine import OrtEngine, load_engine
from engines.providers import Availability, GpuInfo
from engines.trt_build import profile_shapes, sidecar_inputs
from engines.trt_engine import trt_key_for
from mocap_app.backends.multiposenet import PACKAGED_PRN
from mocap_app.backends.xnect import PACKAGED_STAGE2

#: A machine that claims TensorRT and a GPU (the tensorrt module is still missing here, as on a
#: machine whose TensorRT install is broken) and has only the CPU build of ONNX Runtime.
CLAIMS_TENSORRT = Availability(ort_providers=("CPUExecutionProvider",), tensorrt_version="10.7.0",
                               tensorrt_problem=None, gpu=GpuInfo("NVIDIA GeForce RTX 3060", "8.6"), gpu_problem=None)


@pytest.fixture(autouse=True)
def fresh_announcements(monkeypatch, tmp_path):
    monkeypatch.setattr(providers, "_announced", set())
    monkeypatch.setenv("MOCAP_ENGINES_DIR", str(tmp_path / "engines"))


@pytest.mark.parametrize("path", [PACKAGED_STAGE2, PACKAGED_PRN])
def test_io_binding_matches_the_plain_session(path):
    plain, bound = OrtEngine(path), OrtEngine(path, io_binding=True)
    rng = np.random.default_rng(0)
    spec = plain.input_specs[0]
    for people in (3, 3, 1, 5):  # same shape twice (buffer reused), then new shapes (rebound)
        batch = rng.normal(size=(people, *spec.shape[1:])).astype(np.float32)
        expected, got = plain.run({spec.name: batch}), bound.run({spec.name: batch})
        for name in plain.output_names:
            assert got[name].shape == expected[name].shape
            np.testing.assert_allclose(got[name], expected[name], rtol=1e-6, atol=1e-6)


def test_auto_on_a_cpu_machine_runs_on_cpu_and_says_why(caplog):
    no_gpu = Availability(gpu_problem="no NVIDIA driver (libcuda) found")
    with caplog.at_level(logging.WARNING):
        engine = load_engine(PACKAGED_STAGE2, device="auto", available=no_gpu)
        load_engine(PACKAGED_PRN, device="auto", available=no_gpu)
    assert engine.provider == "CPUExecutionProvider" and engine.precision == "fp32"
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["TensorRT and CUDA not used: no NVIDIA driver (libcuda) found; running on CPU"]


def test_broken_tensorrt_falls_back_with_one_message(caplog):
    with caplog.at_level(logging.WARNING):
        engine = load_engine(PACKAGED_STAGE2, device="auto", available=CLAIMS_TENSORRT)
    assert engine.provider == "CPUExecutionProvider"
    messages = [r.getMessage() for r in caplog.records if r.name == "engines.providers"]
    assert len(messages) == 1
    assert messages[0].startswith("TensorRT not used: stage2.onnx:")
    assert "CUDA not used: onnxruntime has no CUDAExecutionProvider" in messages[0]
    assert messages[0].endswith("running on CPU")


def test_remembered_build_failure_falls_back_at_once(caplog, tmp_path):
    cache = EngineCache()
    key = trt_key_for(PACKAGED_STAGE2, "fp16", CLAIMS_TENSORRT)
    cache.record_failure(key, "out of GPU memory during the build")
    with caplog.at_level(logging.WARNING):
        engine = load_engine(PACKAGED_STAGE2, device="tensorrt", available=CLAIMS_TENSORRT)
    assert engine.provider == "CPUExecutionProvider"
    text = " ".join(r.getMessage() for r in caplog.records)
    assert "an earlier TensorRT build of stage2.onnx failed (out of GPU memory during the build)" in text
    assert "mocap engines build" in text


def test_key_helper_matches_the_profile():
    key = trt_key_for(PACKAGED_PRN, "fp32", CLAIMS_TENSORRT)
    from engines.engine import read_sidecar

    assert key.input_shapes == profile_shapes(sidecar_inputs(read_sidecar(PACKAGED_PRN)))
    assert key.precision == "fp32" and key.model == "prn"


def test_unknown_device_lists_the_choices():
    with pytest.raises(ValueError, match="auto, tensorrt, cuda, cpu"):
        load_engine(PACKAGED_STAGE2, device="gpu")


def test_engines_package_imports_without_gpu_modules():
    import subprocess
    import sys

    code = ("import sys, engines.engine, engines.providers, engines.cache, engines.trt_build, engines.trt_engine; "
            "sys.exit(1 if {'tensorrt', 'cuda', 'torch'} & set(sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
