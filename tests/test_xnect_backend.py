"""The xnect engine: refuses clearly without Stage I weights; the shipped Stage II lifts simulated people."""

from __future__ import annotations

import numpy as np
import pytest

from engines.engine import load_engine
from mocap_app.backends import BACKENDS
from mocap_app.backends.xnect import PACKAGED_STAGE2
from mocap_app.cli import main
from mocap_app.skeletons import VNECT21


def test_run_refuses_without_stage1_weights(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("MOCAP_MODELS_DIR", str(tmp_path / "store"))
    (tmp_path / "frames").mkdir()
    assert "xnect" in BACKENDS
    status = main(["run", "--engine", "xnect", "--source", str(tmp_path / "frames"),
                   "--observations", str(tmp_path / "out.jsonl")])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(err) == 1
    assert "no Stage I weights" in err[0] and "mocap train xnect-stage1" in err[0] and "mocap weights import" in err[0]
    assert not (tmp_path / "out.jsonl").exists()


def test_shipped_stage2_lifts_simulated_people(shared_data) -> None:
    sim = pytest.importorskip("models.xnect_sim")
    engine = load_engine(PACKAGED_STAGE2)
    assert engine.sidecar["keypoint_schema"] == VNECT21.name
    assert engine.sidecar["training"]["eval_mpjpe_mm"] > 0
    poses = sim.load_vnect21(shared_data / "mocap/eval/cmu_motionbuilder/02_01.bvh")
    poses = poses - poses[:, VNECT21.index("pelvis"):VNECT21.index("pelvis") + 1]
    batch = sim.simulate(poses, 500, np.random.default_rng(5))
    pred = engine.run({"features": batch.features()})["joints3d"].reshape(batch.target.shape)
    error = np.linalg.norm(pred - batch.target, axis=-1)
    mean_pose = np.nanmean(batch.target, axis=0, keepdims=True)            # the no-information baseline
    baseline = np.linalg.norm(mean_pose - batch.target, axis=-1)
    valid = np.isfinite(error)
    assert error[valid].mean() < 0.12                                       # metres
    assert error[valid].mean() < 0.5 * baseline[valid].mean()
