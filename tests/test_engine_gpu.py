"""TensorRT and ONNX Runtime CUDA against ONNX Runtime CPU, and the engine cache on a real GPU.

Marked ``gpu``: skipped (tests/conftest.py) where the CUDA driver reports no GPU; each test also
skips when its runtime (tensorrt, onnxruntime-gpu) is not installed. Every shipped network is
checked, plus the fetched or trained ones present in the model store.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from engines.cache import EngineCache
from engines.engine import OrtEngine, load_engine
from engines.providers import probe_availability, unavailable_reason
from mocap_app.backends.multiposenet import PACKAGED_PRN, model_paths
from mocap_app.backends.xnect import PACKAGED_STAGE2, stage_paths
from mocap_app.models_store import blazepose_dir

pytestmark = pytest.mark.gpu

#: FP16 agreement: |gpu - cpu| <= atol + rtol * |cpu|, with atol scaled by the output's magnitude.
FP16_RTOL, FP16_ATOL = 2e-2, 2e-2
PEOPLE = 3


def shipped_and_present() -> list[Path]:
    candidates = [PACKAGED_STAGE2, PACKAGED_STAGE2.with_name("stage2_2d.onnx"), PACKAGED_PRN,
                  blazepose_dir() / "pose_detection.onnx", blazepose_dir() / "pose_landmark_full.onnx",
                  stage_paths()["stage1"], model_paths()["network"]]
    return [path for path in candidates if path.is_file() and path.with_suffix(".toml").is_file()]


NETWORKS = shipped_and_present()


def needs(provider: str) -> None:
    reason = unavailable_reason(provider, probe_availability())
    if reason is not None:
        pytest.skip(reason)


def sample_inputs(engine: OrtEngine, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {spec.name: rng.uniform(-1.0, 1.0, size=tuple(PEOPLE if d < 0 else d for d in spec.shape))
            .astype(np.float32) for spec in engine.input_specs}


def assert_fp16_close(got: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> None:
    for name, reference in expected.items():
        assert got[name].shape == reference.shape, name
        scale = max(1.0, float(np.abs(reference).max()))
        np.testing.assert_allclose(got[name], reference, rtol=FP16_RTOL, atol=FP16_ATOL * scale, err_msg=name)


@pytest.fixture
def cache(tmp_path) -> EngineCache:
    return EngineCache(tmp_path / "engines")


@pytest.mark.parametrize("path", NETWORKS, ids=lambda p: p.stem)
def test_tensorrt_matches_cpu(path, cache):
    needs("tensorrt")
    from engines.trt_engine import TrtEngine

    cpu = OrtEngine(path)
    inputs = sample_inputs(cpu)
    engine = TrtEngine(path, precision="fp16", cache=cache)
    assert engine.provider == "TensorRT" and engine.precision == "fp16"
    assert_fp16_close(engine.run(inputs), cpu.run(inputs))


@pytest.mark.parametrize("path", NETWORKS, ids=lambda p: p.stem)
def test_cuda_matches_cpu(path):
    needs("cuda")
    cpu, cuda = OrtEngine(path), load_engine(path, device="cuda")
    assert cuda.provider == "CUDAExecutionProvider"
    inputs = sample_inputs(cpu)
    assert_fp16_close(cuda.run(inputs), cpu.run(inputs))


def test_second_start_reuses_the_cached_engine(cache):
    needs("tensorrt")
    from engines.trt_engine import TrtEngine

    first = TrtEngine(PACKAGED_STAGE2, cache=cache)
    second = TrtEngine(PACKAGED_STAGE2, cache=cache)
    assert first.built and not second.built
    inputs = sample_inputs(OrtEngine(PACKAGED_STAGE2))
    np.testing.assert_array_equal(first.run(inputs)["joints3d"], second.run(inputs)["joints3d"])


def test_changed_onnx_file_triggers_a_rebuild(cache, tmp_path):
    needs("tensorrt")
    onnx = pytest.importorskip("onnx")
    from engines.trt_engine import TrtEngine

    path = tmp_path / "stage2.onnx"
    shutil.copy(PACKAGED_STAGE2, path)
    shutil.copy(PACKAGED_STAGE2.with_suffix(".toml"), path.with_suffix(".toml"))
    assert TrtEngine(path, cache=cache).built
    model = onnx.load(str(path))
    model.doc_string = "retrained"
    onnx.save(model, str(path))
    assert TrtEngine(path, cache=cache).built
    assert len(cache.entries()) == 1  # the stale engine was replaced


def test_corrupt_cached_engine_is_rebuilt(cache):
    needs("tensorrt")
    from engines.trt_engine import TrtEngine

    engine_file = cache.lookup(TrtEngine(PACKAGED_PRN, cache=cache).key)
    engine_file.write_bytes(engine_file.read_bytes()[: engine_file.stat().st_size // 2])
    again = TrtEngine(PACKAGED_PRN, cache=cache)
    assert again.built and cache.lookup(again.key) is not None


def test_more_people_than_the_profile_run_in_chunks(cache):
    needs("tensorrt")
    from engines.trt_build import MAX_BATCH
    from engines.trt_engine import TrtEngine

    cpu = OrtEngine(PACKAGED_STAGE2)
    engine = TrtEngine(PACKAGED_STAGE2, cache=cache)
    features = np.random.default_rng(1).normal(size=(MAX_BATCH + 5, 918)).astype(np.float32)
    assert_fp16_close(engine.run({"features": features}), cpu.run({"features": features}))
    assert engine.run({"features": features[:0]})["joints3d"].shape == (0, 63)
