"""`mocap eval fitting` on a short training clip: the fit beats the noisy input it was given."""

from __future__ import annotations

import json

from mocap_app.cli import main


def test_eval_fitting_improves_on_noisy_input(shared_data, capsys):
    clip = shared_data / "mocap" / "train" / "cmu_motionbuilder" / "05_06.bvh"
    assert main(["eval", "fitting", "--bvh", str(clip), "--max-frames", "60", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)[0]
    assert report["frames"] == 60 and report["id_switches"] == 0
    assert report["pa_mpjpe_mm"] < report["input_pa_mpjpe_mm"]
    assert report["accel_error"] < 0.6 * report["input_accel_error"]
    assert report["foot_skate_cm"] < report["input_foot_skate_cm"]


def test_eval_without_clips_exits_2(capsys):
    assert main(["eval", "fitting"]) == 2
