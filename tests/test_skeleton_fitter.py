"""The skeleton fitter and Stage III: known poses are recovered; bad input never crashes or gives NaN."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from mocap_app.fitting.camera import FitCamera
from mocap_app.fitting.fitter import (
    FitConfig,
    PerformerFit,
    RigObservation,
    SkeletonFitter,
    params_from_state,
    state_from_params,
)
from mocap_app.fitting.kinematics import NUM_PARAMS, RigKinematics
from mocap_app.pipeline.stage3 import Stage3
from mocap_app.skeletons import RIG, VNECT21
from mocap_app.types import FrameObservations, Observation

_R_WC = Rotation.from_euler("x", -10, degrees=True).as_matrix() @ np.diag([1.0, -1.0, -1.0])
CAMERA = FitCamera.from_parts(np.array([[800.0, 0, 320], [0, 800.0, 240], [0, 0, 1]]), _R_WC, np.array([0, 1.5, 4.5]))


def test_pack_unpack_round_trip():
    rotation = Rotation.from_euler("y", 70, degrees=True).as_matrix()
    params, anchor = params_from_state(np.array([1.0, 0.9, 2.0]), rotation, np.full(NUM_PARAMS - 6, 0.1))
    params[3:6] = [0.1, -0.2, 0.3]
    root, rot, angles = state_from_params(params, anchor)
    again, anchor2 = params_from_state(root, rot, angles)
    kin = RigKinematics()
    assert np.allclose(kin.forward(params, anchor, RIG.rest_offsets).positions,
                       kin.forward(again, anchor2, RIG.rest_offsets).positions)


def test_recovers_a_known_pose_from_clean_observations():
    kin, fitter = RigKinematics(), SkeletonFitter(FitConfig(contact=None))
    state = PerformerFit(offsets=RIG.rest_offsets.copy())
    errors = []
    for f in range(20):
        params = np.zeros(NUM_PARAMS)
        params[:3] = [0.1 + 0.01 * f, 0.95, 0.0]
        params[6:] = np.clip(kin.prior[3:] + 0.2 * np.sin(0.05 * f + np.arange(NUM_PARAMS - 6)), kin.lower[3:],
                             kin.upper[3:])
        truth = kin.forward(params, Rotation.from_euler("y", 30 + f, degrees=True).as_matrix(), RIG.rest_offsets)
        obs = RigObservation(CAMERA.project(truth.positions), np.ones(RIG.num_joints),
                             truth.positions - truth.positions[0], np.ones(RIG.num_joints))
        result = fitter.fit(state, obs, CAMERA, f / 30)
        errors.append(np.linalg.norm(result.world_positions - truth.positions, axis=1).mean())
    assert errors[0] < 0.02 and np.mean(errors) < 0.03


def _observation(rng, scale=1.0, nan=False, zero=False):
    joints = rng.normal(0, 0.3, (VNECT21.num_joints, 3)) * scale
    pixels = rng.uniform(100, 500, (VNECT21.num_joints, 2))
    conf = np.zeros(VNECT21.num_joints) if zero else rng.uniform(0.5, 1, VNECT21.num_joints)
    if nan:
        pixels[::3] = np.nan
        joints[::4] = np.nan
    return Observation(VNECT21.name, pixels.astype(np.float32), conf.astype(np.float32),
                       np.array([100, 100, 500, 500], np.float32), joints.astype(np.float32))


def test_bad_input_never_crashes_or_gives_nan():
    rng = np.random.default_rng(3)
    stage3 = Stage3(CAMERA)
    outputs = []
    for f in range(12):
        people = [_observation(rng, nan=f % 2 == 0)]
        if f == 4:
            people.append(_observation(rng, zero=True))            # confidences all zero
        if f == 6:
            far = _observation(rng)
            people.append(Observation(far.joint_set, far.joints2d + 5000, far.confidence, far.bbox, far.joints3d))
        if f == 8:
            people.append(_observation(rng, scale=50))              # absurd 3D, seen once
        outputs += stage3.process(FrameObservations(f, f / 30, 640, 480, tuple(people)))
    assert outputs
    for motion in outputs:
        assert np.isfinite(motion.world_positions).all() and np.isfinite(motion.local_rotations).all()
        assert np.allclose(np.linalg.norm(motion.local_rotations, axis=1), 1.0)


def test_person_far_off_the_calibrated_floor_stays_finite():
    """Sizing (metric scale from the floor, 90 frames) and the depth filter on a person floating far up and away."""
    rng = np.random.default_rng(5)
    kin = RigKinematics()
    truth = kin.forward(np.concatenate([[40.0, 25.0, -60.0], np.zeros(3), kin.prior[3:]]), np.eye(3),
                        RIG.rest_offsets).positions
    stage3, fitted = Stage3(CAMERA), 0
    for f in range(95):
        pixels = CAMERA.project(truth) + rng.normal(0, 1.0, (RIG.num_joints, 2))
        joints3d = (truth - truth[0] + rng.normal(0, 0.02, truth.shape)) @ CAMERA.R_wc  # camera axes
        joints3d[rng.random(RIG.num_joints) < 0.1] = np.nan
        person = Observation(RIG.name, pixels.astype(np.float32), np.full(RIG.num_joints, 0.9, np.float32),
                             np.array([0, 0, 10, 10], np.float32), joints3d.astype(np.float32))
        for motion in stage3.process(FrameObservations(f, f / 30, 640, 480, (person,))):
            assert np.isfinite(motion.world_positions).all() and np.isfinite(motion.local_rotations).all()
            assert np.isfinite(motion.root_position).all()
            fitted += 1
    assert fitted > 80
    assert all(np.isfinite(stage3.rest_offsets(pid)).all() for pid in stage3.performers)


def test_a_performer_back_after_a_gap_is_found_where_they_now_are():
    """After seconds away the old pose and velocities are no guide: the fit starts afresh, in front of the camera."""
    kin, fitter = RigKinematics(), SkeletonFitter(FitConfig(contact=None))
    state = PerformerFit(offsets=RIG.rest_offsets.copy())

    def observe(x: float) -> tuple[RigObservation, np.ndarray]:
        params = np.zeros(NUM_PARAMS)
        params[:3] = [x, 0.95, 0.0]
        params[6:] = kin.prior[3:]
        truth = kin.forward(params, np.eye(3), RIG.rest_offsets).positions
        return RigObservation(CAMERA.project(truth), np.ones(RIG.num_joints), truth - truth[0],
                              np.ones(RIG.num_joints)), truth

    for f in range(10):  # walking to the right fast, then gone for 2.5 s
        fitter.fit(state, observe(-1.0 + 0.1 * f)[0], CAMERA, f / 30)
    obs, truth = observe(-1.2)  # back on the far left
    result = fitter.fit(state, obs, CAMERA, 10 / 30 + 2.5)
    assert CAMERA.to_camera(result.world_positions[0])[2] > 1.0
    assert np.linalg.norm(result.world_positions - truth, axis=1).mean() < 0.1
