"""The ONNX Runtime engine: reports its provider, and refuses a model whose sidecar disagrees."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from blazepose_support import models_root

from engines.engine import PROVIDERS, load_engine, provider_list
from mocap_app.errors import ModelContractError, WeightsMissingError
from mocap_app.models_store import blazepose_paths


@pytest.fixture(scope="module")
def detector_path():
    return blazepose_paths(models_root())["pose_detection"]


def test_runs_and_reports_provider(detector_path):
    engine = load_engine(detector_path)
    assert engine.provider == "CPUExecutionProvider"
    assert [spec.name for spec in engine.input_specs] == ["image"]
    assert engine.input_specs[0].shape == (1, 224, 224, 3)
    outputs = engine.run({"image": np.zeros((1, 224, 224, 3), np.float32)})
    assert outputs["boxes"].shape == (1, 2254, 12) and outputs["scores"].shape == (1, 2254, 1)


def test_sidecar_mismatch_is_a_contract_error(detector_path, tmp_path):
    model = tmp_path / "pose_detection.onnx"
    shutil.copy(detector_path, model)
    sidecar = detector_path.with_suffix(".toml").read_text()
    model.with_suffix(".toml").write_text(sidecar.replace("shape = [1, 2254, 12]", "shape = [1, 896, 12]"))
    with pytest.raises(ModelContractError, match="boxes"):
        load_engine(model)
    model.with_suffix(".toml").write_text(sidecar.replace('name = "scores"', 'name = "logits"'))
    with pytest.raises(ModelContractError, match="names"):
        load_engine(model)
    model.with_suffix(".toml").write_text("format = [")
    with pytest.raises(ModelContractError, match="TOML"):
        load_engine(model)


def test_missing_files_and_unknown_backend(tmp_path):
    with pytest.raises(WeightsMissingError, match="mocap models fetch"):
        load_engine(tmp_path / "absent.onnx")
    with pytest.raises(ValueError, match="ort/cpu"):
        provider_list("tensorflow", "cpu")
    assert ("ort", "cpu") in PROVIDERS


def test_inference_path_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys, mocap_app.backends.blazepose, mocap_app.cli.run_cmd, mocap_app.cli.bench_cmd, "
            "mocap_app.cli.models_cmd, engines.blazepose; "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
