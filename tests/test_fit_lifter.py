"""`mocap fit` on 2D-only COCO-17 observations: the shipped lifter gives 3D, the fit exports BVH and is
no worse (root-relative error against the motion-capture truth) than fitting the 2D alone."""

from __future__ import annotations

import numpy as np

from mocap_app.bvh import forward_kinematics, read_bvh
from mocap_app.cli import main
from mocap_app.evaluation.metrics import joint_errors
from mocap_app.evaluation.synthetic_observations import load_motion, look_at_view
from mocap_app.fitting.camera import FitCamera
from mocap_app.observations_io import ObservationWriter
from mocap_app.skeletons import COCO17, RIG, VNECT21, map_joints
from mocap_app.skeletons.face import coco17_from_vnect21
from mocap_app.types import FrameObservations, Observation

WIDTH, HEIGHT, FPS, FRAMES = 640, 480, 30.0, 60
_HIPS = RIG.index("Hips")
#: A lifted fit may be this much worse (metres) and still count as "not worse" (solver noise).
TOLERANCE_M = 0.005


def _write_coco_file(shared_data, path):
    world = load_motion(shared_data / "mocap/train/cmu_motionbuilder/01_01.bvh", FPS, max_frames=FRAMES)
    centre = np.nanmean(world[:, VNECT21.index("pelvis")], axis=0)
    view = look_at_view(centre, distance=4.5, width=WIDTH, image_height=HEIGHT)
    pixels = view.project(coco17_from_vnect21(world)) + np.random.default_rng(0).normal(0, 1.5, (FRAMES, 17, 2))
    with ObservationWriter(path) as writer:
        for f, p in enumerate(pixels):
            person = Observation(joint_set=COCO17.name, joints2d=p.astype(np.float32),
                                 confidence=np.full(COCO17.num_joints, 0.9, np.float32),
                                 bbox=np.concatenate([p.min(0), p.max(0)]).astype(np.float32))
            writer.write(FrameObservations(frame=f, time=f / FPS, width=WIDTH, height=HEIGHT, people=(person,)))
    return world, view


def _camera_relative(points: np.ndarray, R_wc: np.ndarray) -> np.ndarray:
    """(F, 22, 3) world rig joints -> hips-relative camera axes."""
    return (points - points[:, _HIPS:_HIPS + 1]) @ R_wc


def _fit_error(folder, view_r: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    motion = read_bvh(folder / "performer_1.bvh")
    names = list(motion.skeleton.names)
    positions = forward_kinematics(motion)[:, [names.index(joint) for joint in RIG.joints]] / 100.0
    fitted = _camera_relative(positions, FitCamera.uncalibrated(WIDTH, HEIGHT).R_wc)
    mpjpe, pa = joint_errors(fitted, _camera_relative(truth, view_r))
    assert len(mpjpe) == FRAMES
    return float(np.mean(mpjpe)), float(np.mean(pa))


def test_fit_with_lifter_exports_bvh_and_is_not_worse(shared_data, tmp_path, capsys):
    path = tmp_path / "coco.jsonl"
    world, view = _write_coco_file(shared_data, path)
    truth = map_joints(world, VNECT21.name, RIG.name)
    assert main(["fit", "--observations", str(path), "--export", str(tmp_path / "lifted")]) == 0
    assert "lifted to 3D by the 2D lifter stage2_2d.onnx" in capsys.readouterr().err
    assert main(["fit", "--observations", str(path), "--export", str(tmp_path / "plain"), "--no-lift"]) == 0
    assert "lifted" not in capsys.readouterr().err
    lifted, plain = _fit_error(tmp_path / "lifted", view.R_wc, truth), _fit_error(tmp_path / "plain", view.R_wc, truth)
    print(f"fit MPJPE / PA-MPJPE mm: lifted {1e3 * lifted[0]:.1f} / {1e3 * lifted[1]:.1f}, "
          f"2D only {1e3 * plain[0]:.1f} / {1e3 * plain[1]:.1f}")
    assert lifted[0] <= plain[0] + TOLERANCE_M
