"""Take journals: a crash mid-line loses nothing before it; recovery writes BVH."""

from __future__ import annotations

import numpy as np
import pytest

from mocap_app.bvh import read_bvh
from mocap_app.cli import main
from mocap_app.errors import MocapError
from mocap_app.skeletons import RIG
from mocap_app.takes.journal import read_journal
from mocap_app.takes.recorder import TakeRecorder
from mocap_app.types import MotionFrame


def _frame(pid, f):
    quats = np.tile([0.0, 0.0, 0.0, 1.0], (RIG.num_joints, 1))
    quats[RIG.index("LeftForeArm")] = [0.0, np.sin(0.01 * f), 0.0, np.cos(0.01 * f)]
    return MotionFrame(pid, f, f / 30, np.array([0.01 * f, 0.95, 0.0]), quats, np.zeros((RIG.num_joints, 3)))


def test_recover_after_a_torn_last_line(tmp_path, capsys):
    journal = tmp_path / "take.journal.jsonl"
    recorder = TakeRecorder(journal)
    offsets = RIG.rest_offsets * 1.1
    for f in range(40):
        recorder.record([_frame(1, f), _frame(2, f)] if f < 30 else [_frame(1, f)], lambda pid: offsets)
    recorder.close()
    text = journal.read_text()
    journal.write_text(text[: len(text) - 25])  # power cut in the middle of the last line
    take = read_journal(journal)
    assert take.skipped_lines == 1
    assert len(take.performers[1].times) == 39 and len(take.performers[2].times) == 30
    assert np.allclose(take.performers[1].offsets, offsets, atol=1e-6)
    code = main(["take", "recover", str(journal), "--export", str(tmp_path / "out"), "--combined"])
    assert code == 0
    motion = read_bvh(tmp_path / "out" / "performer_1.bvh")
    assert motion.num_frames == 39 and abs(motion.fps - 30) < 1e-3
    assert np.allclose(motion.skeleton.offsets[1:], offsets[1:] * 100, atol=1e-3)
    both = read_bvh(tmp_path / "out" / "all_performers.bvh")
    assert both.skeleton.names.count("P2_Hips") == 1 and both.num_frames == 39


def test_nan_frames_are_not_journalled(tmp_path):
    recorder = TakeRecorder(tmp_path / "t.journal.jsonl")
    bad = _frame(1, 0)
    recorder.record([MotionFrame(1, 0, 0.0, np.full(3, np.nan), bad.local_rotations, bad.world_positions)])
    recorder.close()
    with pytest.raises(MocapError):
        recorder.finalize(tmp_path / "out")


def test_recover_bad_files_exit_2(tmp_path, capsys):
    assert main(["take", "recover", str(tmp_path / "missing.jsonl"), "--export", str(tmp_path)]) == 2
    junk = tmp_path / "junk.jsonl"
    junk.write_text("not json\n")
    assert main(["take", "recover", str(junk), "--export", str(tmp_path)]) == 2
    assert "not a take journal" in capsys.readouterr().err
