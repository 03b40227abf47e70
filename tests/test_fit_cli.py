"""`mocap fit`: observations in, BVH out; bad input exits 2 with one line."""

from __future__ import annotations

import numpy as np

from mocap_app.bvh import read_bvh
from mocap_app.cli import main
from mocap_app.evaluation.synthetic_observations import NoiseModel, look_at_view, make_observations
from mocap_app.fitting.kinematics import NUM_PARAMS, RigKinematics
from mocap_app.observations_io import ObservationWriter
from mocap_app.skeletons import RIG, VNECT21


def _walk(frames: int) -> np.ndarray:
    """(F, 21, 3) vnect21 keypoints of the rig walking slowly forward (rig joints only)."""
    kin = RigKinematics()
    keypoints = np.full((frames, VNECT21.num_joints, 3), np.nan)
    rig_of = {"pelvis": "Hips", "spine": "Spine1", "neck": "Neck", "head": "Head"}
    for side, prefix in (("left", "Left"), ("right", "Right")):
        rig_of.update({f"{side}_shoulder": f"{prefix}Arm", f"{side}_elbow": f"{prefix}ForeArm",
                       f"{side}_wrist": f"{prefix}Hand", f"{side}_hip": f"{prefix}UpLeg",
                       f"{side}_knee": f"{prefix}Leg",
                       f"{side}_ankle": f"{prefix}Foot", f"{side}_toe": f"{prefix}ToeBase"})
    for f in range(frames):
        params = np.zeros(NUM_PARAMS)
        params[:3] = [0.0, 0.95, 0.01 * f]
        params[6:] = kin.prior[3:]
        pose = kin.forward(params, np.eye(3), RIG.rest_offsets).positions
        for key, joint in rig_of.items():
            keypoints[f, VNECT21.index(key)] = pose[RIG.index(joint)]
    return keypoints


def test_fit_writes_bvh(tmp_path, capsys):
    view = look_at_view(np.zeros(3), distance=4.0, width=640, image_height=480)
    frames, _ = make_observations([_walk(20)], view, 30.0, NoiseModel(), [3], seed=1)
    path = tmp_path / "obs.jsonl"
    with ObservationWriter(path) as writer:
        for frame in frames:
            writer.write(frame)
    assert main(["fit", "--observations", str(path), "--export", str(tmp_path / "out")]) == 0
    motion = read_bvh(tmp_path / "out" / "performer_1.bvh")
    assert motion.num_frames == 20 and np.isfinite(motion.values).all()
    assert (tmp_path / "out" / "take.journal.jsonl").is_file()


def test_bad_input_exits_2(tmp_path, capsys):
    out = str(tmp_path / "out")
    assert main(["fit", "--observations", str(tmp_path / "none.jsonl"), "--export", out]) == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"frame": 0, "time": 0\n')
    assert main(["fit", "--observations", str(bad), "--export", out]) == 2
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert main(["fit", "--observations", str(empty), "--export", out]) == 2
    nobody = tmp_path / "nobody.jsonl"
    nobody.write_text('{"frame": 0, "time": 0.0, "width": 640, "height": 480, "people": []}\n')
    assert main(["fit", "--observations", str(nobody), "--export", out]) == 2
    assert main(["fit", "--observations", str(nobody), "--export", out, "--height", "9"]) == 2
    assert main(["fit", "--observations", str(nobody), "--calibration", str(tmp_path / "x.json"), "--export", out]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 6 and all(line.startswith("mocap fit: error:") for line in errors)
