"""``mocap demo`` end to end at a tiny size: render, capture, export, overlay and accuracy, or one
clear line when the models were never fetched."""

from __future__ import annotations

import cv2

from mocap_app.bvh import read_bvh
from mocap_app.cli import main
from mocap_app.models_store import MODELS_DIR_ENV
from mocap_app.skeletons import RIG
from mocap_app.synth.groundtruth import read_clip_truth


def test_demo_writes_bvh_overlay_truth_and_prints_accuracy(tmp_path, store_env, capsys):
    out = tmp_path / "demo"
    args = ["demo", "--out", str(out), "--seconds", "1.5", "--width", "320", "--height", "240", "--distance", "3"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "detection rate" in printed and "MPJPE (mm)" in printed and "done in" in printed
    bvh_files = sorted(out.glob("performer_*.bvh"))
    assert len(bvh_files) == 1
    motion = read_bvh(bvh_files[0])
    assert motion.skeleton.names == RIG.joints and motion.num_frames >= 40
    assert read_bvh(out / "reference.bvh").num_frames == 45
    assert len(read_clip_truth(out).boxes) == 45
    capture = cv2.VideoCapture(str(out / "overlay.mp4"))
    frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    ok, image = capture.read()
    capture.release()
    assert ok and image.shape == (240, 320, 3) and frames == 45


def test_demo_without_models_says_to_fetch_them(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(MODELS_DIR_ENV, str(tmp_path / "no_models"))
    assert main(["demo", "--out", str(tmp_path / "demo"), "--seconds", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "run 'mocap models fetch' first" in err[0]
    assert not (tmp_path / "demo").exists()          # nothing rendered before the check
