"""Rig forward kinematics and the Stage III cost's analytic Jacobian."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from mocap_app.bvh import forward_kinematics, motion_from_rig
from mocap_app.fitting.kinematics import NUM_PARAMS, RigKinematics
from mocap_app.fitting.residuals import FitWeights, FrameTargets, PoseCost
from mocap_app.skeletons import RIG
from mocap_app.skeletons.kinematic import NUM_JOINT_ANGLES, RIG_DOFS


def _random_pose(kin, rng):
    params = rng.normal(0.0, 0.4, NUM_PARAMS)
    params[:3] = [0.2, 0.9, -0.3]
    return params, Rotation.random(random_state=int(rng.integers(1000))).as_matrix()


def test_dof_layout_is_xnect_like():
    assert 29 <= NUM_JOINT_ANGLES <= 33
    by_joint = {d.joint: len(d.axes) for d in RIG_DOFS}
    assert by_joint["LeftArm"] == by_joint["LeftUpLeg"] == by_joint["Spine"] == 3
    assert by_joint["LeftLeg"] == by_joint["LeftForeArm"] == 1
    right, left = next(d for d in RIG_DOFS if d.joint == "RightArm"), next(d for d in RIG_DOFS if d.joint == "LeftArm")
    assert np.allclose(right.lower[1:], -left.upper[1:])  # mirrored y/z limits


def test_fk_matches_the_bvh_module_on_exported_motion():
    kin, rng = RigKinematics(), np.random.default_rng(0)
    offsets = RIG.rest_offsets * 1.07
    poses = [kin.forward(*_random_pose(kin, rng), offsets) for _ in range(4)]
    roots = np.stack([p.positions[0] for p in poses])
    quats = np.stack([Rotation.from_matrix(p.local_rotations).as_quat() for p in poses])
    motion = motion_from_rig(roots, quats, 1 / 30, offsets)
    bvh_positions = forward_kinematics(motion) / 100.0  # centimetres -> metres
    ours = np.stack([p.positions for p in poses])
    assert np.abs(bvh_positions - ours).max() < 1e-4


def test_positions_from_local_rotations_match_forward():
    kin, rng = RigKinematics(), np.random.default_rng(1)
    params, anchor = _random_pose(kin, rng)
    pose = kin.forward(params, anchor, RIG.rest_offsets)
    again = kin.positions_from_local(pose.positions[0], pose.local_rotations, RIG.rest_offsets)
    assert np.allclose(again, pose.positions)


def test_cost_jacobian_matches_finite_differences():
    kin, rng = RigKinematics(), np.random.default_rng(2)
    params, anchor = _random_pose(kin, rng)
    truth = kin.forward(params, anchor, RIG.rest_offsets).positions
    r_wc = Rotation.from_euler("x", -12, degrees=True).as_matrix() @ np.diag([1.0, -1.0, -1.0])
    t_wc = np.array([0.0, 1.5, 4.5])
    K = np.array([[900.0, 0, 640], [0, 900.0, 360], [0, 0, 1]])
    cam = (truth - t_wc) @ r_wc
    pixels = cam[:, :2] / cam[:, 2:] * 900.0 + [640, 360]
    joints = RIG.num_joints
    feet = RIG.indices(["LeftFoot", "RightToeBase"])
    targets = FrameTargets(
        joints3d=truth - truth[0] + rng.normal(0, 0.03, (joints, 3)), weights3d=rng.uniform(0, 1, joints),
        joints2d=pixels + rng.normal(0, 30, (joints, 2)), weights2d=rng.uniform(0, 1, joints), K=K, R_wc=r_wc,
        t_wc=t_wc, depth_ref=4.0, prev_positions=truth + 0.02, prev_velocity=rng.normal(0, 0.2, (joints, 3)),
        prev_root_depth=4.2, dt=0.04, foot_joints=feet, foot_anchors=truth[feet] + 0.03,
        foot_weights=np.array([1.0, 0]))
    cost = PoseCost(kin, FitWeights(limits=5.0, prior=0.1, temporal=0.3, depth=1.0), targets, anchor, RIG.rest_offsets)
    x = params + rng.normal(0, 0.3, NUM_PARAMS)
    residuals, jac = cost.residuals_and_jacobian(x)
    numeric = np.zeros_like(jac)
    for k in range(NUM_PARAMS):
        step = np.zeros(NUM_PARAMS)
        step[k] = 1e-6
        numeric[:, k] = (cost.residuals_and_jacobian(x + step, False)[0]
                         - cost.residuals_and_jacobian(x - step, False)[0]) / 2e-6
    assert residuals.shape == (cost.num_residuals_total,)
    assert np.abs(numeric - jac).max() < 1e-5 * max(1.0, np.abs(jac).max())
