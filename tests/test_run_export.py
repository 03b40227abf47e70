"""``mocap run --export``: fitted takes journalled as they are captured and written as BVH, Ctrl+C included."""

from __future__ import annotations

import numpy as np
import pytest
from blazepose_support import write_people_video

from mocap_app.bvh import forward_kinematics, read_bvh
from mocap_app.cli import main
from mocap_app.pipeline.runner import Pipeline
from mocap_app.skeletons import RIG


@pytest.fixture(scope="module")
def walker_video(shared_data, tmp_path_factory):
    return write_people_video(shared_data, tmp_path_factory.mktemp("video") / "walker.avi", 12)


def _exported_takes(folder):
    takes = sorted(folder.glob("performer_*.bvh"))
    assert takes, f"no BVH in {folder}: {sorted(p.name for p in folder.iterdir())}"
    return takes


def test_run_exports_one_upright_bvh_per_performer(store_env, walker_video, tmp_path, capsys):
    export = tmp_path / "takes"
    assert main(["run", "--source", str(walker_video), "--export", str(export), "--max-frames", "10"]) == 0
    motion = read_bvh(_exported_takes(export)[0])
    assert motion.skeleton.names == RIG.joints and motion.num_frames >= 5
    positions = forward_kinematics(motion)
    assert np.isfinite(positions).all()
    head, feet = positions[:, RIG.index("Head"), 1], positions[:, RIG.index("LeftFoot"), 1]
    assert (head > feet + 100).all()  # centimetres, y up: the performer stands upright
    assert (export / "take.journal.jsonl").is_file()
    assert "wrote" in capsys.readouterr().out


def test_ctrl_c_ends_the_take_and_still_writes_bvh(store_env, walker_video, tmp_path, monkeypatch, capsys):
    process = Pipeline.process
    calls = {"count": 0}

    def interrupted_after_six(self, frame, source_ms=0.0):
        calls["count"] += 1
        if calls["count"] > 6:
            raise KeyboardInterrupt
        return process(self, frame, source_ms)

    monkeypatch.setattr(Pipeline, "process", interrupted_after_six)
    export = tmp_path / "takes"
    assert main(["run", "--source", str(walker_video), "--export", str(export)]) == 0
    out = capsys.readouterr().out
    assert "stopped by Ctrl+C" in out and "6 frames" in out
    assert read_bvh(_exported_takes(export)[0]).num_frames >= 3
