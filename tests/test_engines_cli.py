"""``mocap engines`` and ``mocap bench --providers`` on a machine without TensorRT (the CI case)."""

from __future__ import annotations

import json

import pytest

from engines.cache import EngineCache, EngineKey
from engines.providers import Availability, GpuInfo
from mocap_app.cli import engines_cmd, main


@pytest.fixture(autouse=True)
def engine_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MOCAP_ENGINES_DIR", str(tmp_path / "engines"))
    return tmp_path / "engines"


def test_build_without_tensorrt_is_one_line_and_exit_2(monkeypatch, capsys):
    monkeypatch.setattr(engines_cmd, "probe_availability", lambda: Availability(gpu_problem="no NVIDIA driver"))
    assert main(["engines", "build"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["mocap engines: error: TensorRT engines cannot be built on this machine: no NVIDIA driver."]
    gpu_no_trt = Availability(gpu=GpuInfo("NVIDIA GeForce RTX 3060", "8.6"), gpu_problem=None,
                              tensorrt_problem="the tensorrt package is not installed (pip install -e .[gpu])")
    monkeypatch.setattr(engines_cmd, "probe_availability", lambda: gpu_no_trt)
    assert main(["engines", "build", "--precision", "int8"]) == 2
    assert "tensorrt package is not installed" in capsys.readouterr().err


def test_list_and_clear(engine_cache_dir, capsys):
    key = EngineKey(model="stage2", onnx_sha256="ab" * 32, gpu_name="NVIDIA GeForce RTX 3060",
                    compute_capability="8.6", tensorrt_version="10.7.0", precision="fp16",
                    input_shapes=(("features", (1, 918), (4, 918), (32, 918)),))
    EngineCache(engine_cache_dir).store(key, b"x" * 2048, "/models/stage2.onnx")
    assert main(["engines", "list"]) == 0
    out = capsys.readouterr().out
    assert str(engine_cache_dir) in out and "stage2" in out and "10.7.0" in out and " ok" in out
    assert "networks on this machine:" in out and "stage2" in out.split("networks on this machine:")[1]
    assert main(["engines", "clear"]) == 0
    assert "removed 1 engine(s)" in capsys.readouterr().out
    assert EngineCache(engine_cache_dir).entries() == []


def test_bench_json_compares_providers(capsys):
    assert main(["bench", "--engine", "xnect", "--providers", "cpu,tensorrt", "--people", "1", "5",
                 "--iterations", "3", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["engine"] == "xnect" and report["iterations"] == 3
    assert "stage2" in report["stages"]
    rows = report["results"]
    assert [(row["provider"], row["people"]) for row in rows] == [("cpu", 1), ("cpu", 5)]
    for row in rows:
        assert row["runtime"] == "CPUExecutionProvider" and row["precision"] == "fp32"
        stage = row["stages"]["stage2"]
        assert stage["calls"] == 1  # everybody in one Stage II batch
        assert 0 < stage["p50_ms"] <= stage["p99_ms"] and stage["mean_ms"] > 0
        assert row["fps"] == pytest.approx(1000.0 / row["frame_ms"])
        assert row["people_per_s"] == pytest.approx(row["fps"] * row["people"])
    skipped = {item.get("provider") or item.get("stage") for item in report["skipped"]}
    if "tensorrt" not in [row["provider"] for row in rows]:
        assert "tensorrt" in skipped


def test_bench_per_person_networks_without_batch_run_once_per_person():
    import numpy as np

    from engines.bench import time_stage
    from engines.engine import OrtEngine, TensorSpec
    from mocap_app.backends.multiposenet import PACKAGED_PRN

    engine = OrtEngine(PACKAGED_PRN)
    assert time_stage(engine, 4, per_person=True, iterations=2, warmup=0).calls == 1
    assert time_stage(engine, 4, per_person=False, iterations=2, warmup=0).calls == 1

    class FixedBatch:  # a batch-1 per-person network (BlazePose landmarks) runs P times
        input_specs = (TensorSpec("crops", (1, 17, 28, 18), "float32"),)

        def run(self, inputs):
            return engine.run(inputs)

    assert time_stage(FixedBatch(), 4, per_person=True, iterations=2, warmup=0).calls == 4
    assert np.isfinite(time_stage(FixedBatch(), 2, per_person=True, iterations=2, warmup=0).p99_ms)


def test_bench_rejects_unknown_providers(capsys):
    assert main(["bench", "--engine", "xnect", "--providers", "gpu", "--json"]) == 2
    assert "auto, all, or a comma list" in capsys.readouterr().err
