"""The shipped 2D-only Stage II lifter: contract, plausible 3D from COCO-17 2D, simulated MPJPE."""

from __future__ import annotations

import numpy as np
import pytest

from engines.engine import load_engine
from mocap_app.backends.xnect import PACKAGED_STAGE2
from mocap_app.errors import ModelContractError
from mocap_app.evaluation.synthetic_observations import load_motion, look_at_view
from mocap_app.skeletons import BLAZEPOSE33, COCO17, MPI3DHP17, RIG, VNECT21, map_joints
from mocap_app.skeletons.face import coco17_from_vnect21
from mocap_app.skeletons.from_vnect21 import keypoints_from_vnect21
from mocap_app.types import Observation
from mocap_app.xnect.lifter import PACKAGED_LIFTER, Lifter
from models.xnect_sim import SimConfig, load_poses, simulate

#: Loose bounds: the shipped lifter's own evaluation (sidecar) is far below them.
SIM_MPJPE_BOUND_M = 0.22
VIEW_MPJPE_BOUND_M = 0.25
_BODY = [joint for joint in COCO17.joints if joint in VNECT21.joints]


@pytest.fixture(scope="module")
def lifter() -> Lifter:
    return Lifter.load()


def _coco_view(shared_data, frames: int = 120):
    """(truth vnect21 world poses, COCO-17 observations of them seen by a proper camera)."""
    world = load_motion(shared_data / "mocap/eval/cmu_motionbuilder/02_01.bvh", 30.0, max_frames=frames)
    centre = np.nanmean(world[:, VNECT21.index("pelvis")], axis=0)
    view = look_at_view(centre, distance=4.0, width=640, image_height=480)
    pixels = view.project(coco17_from_vnect21(world))
    pixels += np.random.default_rng(0).normal(0.0, 1.5, pixels.shape)
    people = [Observation(joint_set=COCO17.name, joints2d=p.astype(np.float32),
                          confidence=np.full(COCO17.num_joints, 0.9, np.float32),
                          bbox=np.concatenate([p.min(0), p.max(0)]).astype(np.float32)) for p in pixels]
    return world, view, people


def test_shipped_lifter_is_small_and_documented(lifter):
    assert PACKAGED_LIFTER.stat().st_size < 20e6
    sidecar = lifter.engine.sidecar
    assert sidecar["input_mode"] == "2d+conf" and sidecar["input_schema"] == "mpi3dhp17"
    assert sidecar["training"]["reproduce"].startswith("mocap train xnect-stage2 --inputs 2d+conf")
    assert sidecar["training"]["eval_input_set"] == "coco17" and sidecar["training"]["eval_mpjpe_mm"] < 200
    assert "2d+conf" in lifter.describe()


def test_refuses_the_encoding_stage2():
    with pytest.raises(ModelContractError, match="2D-only"):
        Lifter(load_engine(PACKAGED_STAGE2))


def test_coco17_people_get_plausible_root_relative_3d(lifter, shared_data):
    world, view, people = _coco_view(shared_data)
    lifted = lifter.lift_many(people)
    poses = np.stack([p.joints3d for p in lifted])                                  # (F, 17, 3) coco17, camera
    assert poses.shape == (len(people), COCO17.num_joints, 3) and np.isfinite(poses).all()
    assert all(p.joint_set == COCO17.name and p.joints2d is q.joints2d for p, q in zip(lifted, people, strict=True))
    # Root-relative: the hips' midpoint sits within a few centimetres of the origin (the vnect21 pelvis).
    hips = poses[:, COCO17.indices(["left_hip", "right_hip"])].mean(axis=1)
    assert np.linalg.norm(hips, axis=1).max() < 0.15
    # Plausible bones (nominal adult size): thighs, shins, upper arms.
    raw = lifter.lift_vnect21(np.stack([p.joints2d for p in people]), np.stack([p.confidence for p in people]),
                              COCO17.name)
    for child, parent in (("left_knee", "left_hip"), ("right_knee", "right_hip"), ("left_ankle", "left_knee"),
                          ("left_elbow", "left_shoulder")):
        length = np.linalg.norm(raw[:, VNECT21.index(child)] - raw[:, VNECT21.index(parent)], axis=1)
        assert 0.18 < np.median(length) < 0.6, (child, np.median(length))
    # Against the truth in camera axes (proper camera, left stays left): body joints, pelvis-relative.
    truth = (coco17_from_vnect21(world) - world[:, VNECT21.index("pelvis")][:, None]) @ view.R_wc
    body = COCO17.indices(_BODY)
    error = np.linalg.norm(poses[:, body] - truth[:, body], axis=-1).mean()
    assert error < VIEW_MPJPE_BOUND_M, error


def test_simulated_coco17_eval_mpjpe(lifter, shared_data):
    poses = load_poses(shared_data / "mocap/eval/cmu_3dsmax")
    batch = simulate(poses, 400, np.random.default_rng(7), SimConfig(coco_rate=1.0))
    assert not batch.visible[:, MPI3DHP17.indices(["head_top", "spine"])].any()     # never seen in COCO-17
    pred = lifter.engine.run({"features": batch.features(lifter.mode)})["joints3d"].reshape(batch.target.shape)
    error = np.linalg.norm(pred - batch.target, axis=-1)
    assert np.nanmean(error) < SIM_MPJPE_BOUND_M, np.nanmean(error)


def test_people_without_a_neck_are_left_unlifted(lifter, shared_data):
    _, _, people = _coco_view(shared_data, frames=2)
    joints2d = people[0].joints2d.copy()
    joints2d[COCO17.index("left_shoulder")] = np.nan
    person = Observation(COCO17.name, joints2d, people[0].confidence, people[0].bbox)
    assert lifter.lift(person).joints3d is None
    assert lifter.lift(people[1]).joints3d is not None


def test_blazepose_joints_placed_for_every_rig_mapping():
    pose = np.random.default_rng(0).normal(0.0, 0.3, (VNECT21.num_joints, 3))
    placed = keypoints_from_vnect21(pose, BLAZEPOSE33.name)
    rig = map_joints(placed, BLAZEPOSE33.name, RIG.name)
    from_blazepose = np.isfinite(map_joints(np.zeros((BLAZEPOSE33.num_joints, 3)), BLAZEPOSE33.name, RIG.name))
    assert np.isfinite(rig[from_blazepose.all(axis=1)]).all()
    assert np.allclose(placed[BLAZEPOSE33.index("left_foot_index")], pose[VNECT21.index("left_toe")])
