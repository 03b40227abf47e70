"""``mocap eval video``: the whole pipeline on a tiny rendered clip, measured against its truth.

Renders 1.5 s of the parametric walk and wave at 320x240 with a close camera (BlazePose needs the
figure well over 100 pixels tall), then runs the real BlazePose models, tracking and Stage III.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from blazepose_support import models_root

from mocap_app.backends.blazepose import BlazePoseBackend, BlazePoseConfig
from mocap_app.cli import main
from mocap_app.evaluation.metrics import id_switches, pck, procrustes_align
from mocap_app.evaluation.video_eval import evaluate_video
from mocap_app.synth.appearance import preset_look
from mocap_app.synth.clip import CameraSpec, place_camera, render_clip
from mocap_app.synth.motion import arrange
from mocap_app.synth.parametric import performer_motion, walk_and_wave
from mocap_app.synth.scene import default_stage

WIDTH, HEIGHT, DISTANCE_M = 320, 240, 3.0
FIELDS = ("detection_rate", "figure_height_px", "px_median", "px_p90", "px_median_seen", "px_bias", "px_random",
          "raw_mpjpe_mm", "raw_pa_mpjpe_mm", "raw_pck150", "mpjpe_mm", "pa_mpjpe_mm", "pck150", "raw_accel_error",
          "accel_error", "foot_skate_cm", "gt_foot_skate_cm", "fps")


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clip")
    look = preset_look(0)
    motions = arrange([performer_motion(walk_and_wave(1.5, 30.0, walk_fraction=0.3), look)])
    camera = place_camera(CameraSpec(width=WIDTH, height=HEIGHT, distance_m=DISTANCE_M), motions)
    render_clip(folder, motions, [look], default_stage(), camera)
    return folder


@pytest.fixture(scope="module")
def backend():
    return BlazePoseBackend.from_store(BlazePoseConfig(max_people=1), root=models_root())


def test_calibrated_run_reports_every_metric_finite(clip, backend):
    backend.reset()
    report = evaluate_video(clip, "blazepose", "rendered", backend=backend, show_progress=False)
    assert report.frames == 45 and report.performers == 1 and report.calibrated
    for name in FIELDS + ("root_error_mm",):
        assert math.isfinite(getattr(report, name)), name
    assert report.detection_rate >= 0.95
    assert report.figure_height_px > 120
    assert report.px_median < 6.0 and report.px_p90 >= report.px_median
    assert 0.0 < report.pck150 <= 1.0 and report.mpjpe_mm < 250.0 and report.pa_mpjpe_mm <= report.mpjpe_mm
    assert report.root_error_mm < 500.0
    assert report.id_switches == 0
    per_joint = report.extra["per_joint_2d"]
    assert "left_wrist" in per_joint and len(per_joint["left_wrist"]["bias_px"]) == 2


def test_uncalibrated_run_has_no_root_error(clip, backend):
    backend.reset()
    report = evaluate_video(clip, "blazepose", "none", max_frames=20, backend=backend, show_progress=False)
    assert report.frames == 20 and not report.calibrated
    assert math.isnan(report.root_error_mm)
    assert math.isfinite(report.mpjpe_mm) and report.detection_rate >= 0.95


def test_cli_prints_json_and_refuses_bad_input(clip, tmp_path, store_env, capsys):
    assert main(["eval", "video", str(clip), "--max-frames", "10", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["frames"] == 10 and report["engine"] == "blazepose" and report["detection_rate"] >= 0.9
    assert main(["eval", "video", str(tmp_path / "missing")]) == 2
    assert "mocap synth" in capsys.readouterr().err
    assert main(["eval", "video", str(tmp_path)]) == 2           # a folder that is not a clip
    assert "scene.json" in capsys.readouterr().err


def test_metric_helpers():
    rng = np.random.default_rng(0)
    gt = rng.normal(size=(17, 3))
    rotation = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    rotation *= np.sign(np.linalg.det(rotation))
    assert np.allclose(procrustes_align(2.0 * gt @ rotation.T + 1.0, gt), gt, atol=1e-9)
    assert pck(gt + np.array([0.1, 0, 0]), gt, 0.15) == 1.0 and pck(gt + 0.2, gt, 0.15) == 0.0
    assert id_switches(np.array([-1, 3, 3, -1, 3, 5, 5])) == 1


def test_truth_keeps_its_performer_while_within_the_gate():
    """CLEAR MOT's rule: last frame's pair holds while within the gate, even if another is nearer."""
    from mocap_app.evaluation.video_eval import MATCH_GATE, _assign, _costs, _match

    truth = np.zeros((2, 4, 2))
    truth[1] += 10.0                                   # two dancers 10 px apart
    heights = np.array([100.0, 100.0])
    present = np.array([True, True])
    skeleton = truth[1] - 4.0                          # one skeleton, 6 px from the second, 14 px from the first
    assert _match([skeleton], truth, heights, present) == {1: 0}
    assert _assign(_costs([skeleton], truth, heights, present), keep={0: 0}) == {0: 0}
    moved = truth[1] + [45.0, -10.0]                   # 0.55 heights from the first, 0.46 from the second
    assert MATCH_GATE == 0.5
    assert _assign(_costs([moved], truth, heights, present), keep={0: 0}) == {1: 0}  # beyond the gate: afresh
