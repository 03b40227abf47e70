"""Foot contact: a performer standing still on noisy detections keeps planted feet still, and lifts them to step."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from mocap_app.fitting.camera import FitCamera
from mocap_app.fitting.fitter import PerformerFit, RigObservation, SkeletonFitter
from mocap_app.fitting.kinematics import NUM_PARAMS, RigKinematics
from mocap_app.skeletons import RIG
from mocap_app.skeletons.kinematic import FOOT_JOINTS

_R_WC = Rotation.from_euler("x", -10, degrees=True).as_matrix() @ np.diag([1.0, -1.0, -1.0])
CAMERA = FitCamera.from_parts(np.array([[800.0, 0, 320], [0, 800.0, 240], [0, 0, 1]]), _R_WC, np.array([0, 1.5, 4.5]))
_FEET = RIG.indices(list(FOOT_JOINTS))
_LEFT_FOOT = RIG.indices(["LeftFoot", "LeftToeBase"])
FPS = 30.0


def _standing(kin: RigKinematics, step: float) -> np.ndarray:
    """World joints of a relaxed standing pose on the floor, the left foot moved forward by ``step`` metres."""
    params = np.zeros(NUM_PARAMS)
    params[6:] = kin.prior[3:]
    params[:3] = [0.0, 0.0, 0.5]
    positions = kin.forward(params, np.eye(3), RIG.rest_offsets).positions
    positions[:, 1] -= positions[:, 1].min() - 0.01
    positions[_LEFT_FOOT, 2] += step
    return positions


def _fit(frames: int, step_at: int | None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng, kin, fitter = np.random.default_rng(seed), RigKinematics(), SkeletonFitter()
    state = PerformerFit(offsets=RIG.rest_offsets.copy())
    feet, contacts = [], []
    for f in range(frames):
        truth = _standing(kin, 0.3 if step_at is not None and f >= step_at else 0.0)
        obs = RigObservation(CAMERA.project(truth) + rng.normal(0.0, 2.0, (RIG.num_joints, 2)),
                             np.full(RIG.num_joints, 0.9),
                             truth - truth[0] + rng.normal(0.0, 0.02, truth.shape), np.full(RIG.num_joints, 0.9))
        result = fitter.fit(state, obs, CAMERA, f / FPS)
        feet.append(result.world_positions[_FEET])
        contacts.append(result.contacts)
    return np.array(feet), np.array(contacts)


def test_planted_feet_do_not_skate_on_noisy_input():
    feet, contacts = _fit(45, None)
    assert contacts[15:].mean() > 0.8
    steps = np.linalg.norm(np.diff(feet[15:, :, [0, 2]], axis=0), axis=2)
    assert steps.mean() < 0.003  # metres per frame; the unpinned fit jitters by about 1 cm


def test_a_real_step_lifts_the_pin():
    feet, contacts = _fit(45, step_at=20)
    left = feet[-1, FOOT_JOINTS.index("LeftFoot")]
    right = feet[-1, FOOT_JOINTS.index("RightFoot")]
    assert left[2] - right[2] > 0.2  # the left foot followed the observations 30 cm forward


def test_a_planted_foot_stays_within_millimetres_of_where_it_was_planted():
    feet, contacts = _fit(60, None, seed=3)
    ankle = FOOT_JOINTS.index("LeftFoot")
    planted = np.flatnonzero(contacts[:, ankle])
    first = planted[0]
    held = planted[planted >= first][: np.argmax(np.diff(np.r_[planted[planted >= first], 10**6]) > 1) + 1]
    assert len(held) > 20  # the pin is not lifted by the noise
    drift = np.linalg.norm(feet[held][:, ankle, [0, 2]] - feet[first, ankle, [0, 2]], axis=1)
    # metres, on 2 px and 2 cm of detector noise (the depth filter may creep the body and its pins by 1 cm/s)
    assert np.median(drift) < 0.005 and drift.max() < 0.015
    steps = np.linalg.norm(np.diff(feet[held][:, ankle, [0, 2]], axis=0), axis=1)
    assert steps.mean() < 0.0015
