"""Performer sizing: girdle shapes (hip and shoulder joints) and the metric scale of the 3D from the floor."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from mocap_app.fitting.bones import estimate_offsets, girdle_shape
from mocap_app.fitting.camera import FitCamera
from mocap_app.fitting.height import measure_metric_scale
from mocap_app.fitting.kinematics import RigKinematics
from mocap_app.skeletons import RIG

_R_WC = Rotation.from_euler("x", -10, degrees=True).as_matrix() @ np.diag([1.0, -1.0, -1.0])
CAMERA = FitCamera.from_parts(np.array([[800.0, 0, 320], [0, 800.0, 240], [0, 0, 1]]), _R_WC, np.array([0, 1.5, 4.5]))
_HIPS = RIG.indices(["LeftUpLeg", "RightUpLeg"])


def _cmu_like_samples(rng: np.random.Generator, count: int = 20) -> np.ndarray:
    """Rest poses whose hip joints sit 10 cm below the pelvis and 2 cm forward, turned and jittered."""
    offsets = RIG.rest_offsets.copy()
    offsets[_HIPS] = [[0.09, -0.10, 0.02], [-0.09, -0.10, 0.02]]
    rest = RigKinematics().forward(np.zeros(37), np.eye(3), offsets).positions
    rest -= rest[0]
    samples = []
    for _ in range(count):
        turn = Rotation.from_euler("y", rng.uniform(-90, 90), degrees=True).as_matrix()
        samples.append(rest @ turn.T + rng.normal(0.0, 0.005, rest.shape))
    return np.stack(samples)


def test_girdle_shape_measures_hip_drop_and_forward_offset():
    shape = girdle_shape(_cmu_like_samples(np.random.default_rng(0)), "Hips", "LeftUpLeg", "RightUpLeg")
    assert np.allclose(shape, [0.09, 0.10, 0.02], atol=0.006)


def test_estimate_offsets_moves_hip_joints_not_just_lengths():
    samples = _cmu_like_samples(np.random.default_rng(1))
    offsets = estimate_offsets(samples, height_m=1.73)
    left = offsets[RIG.index("LeftUpLeg")]
    assert left[1] / left[0] < -0.8  # drop / half width ~ -1.1 (the rig's own is -0.55)
    assert offsets[RIG.index("RightUpLeg"), 0] < 0 < left[0]
    assert np.isfinite(offsets).all()


def test_metric_scale_recovered_from_projection_and_floor():
    rest = RigKinematics().forward(np.zeros(37), np.eye(3), RIG.rest_offsets).positions
    world = rest - [0.0, rest[:, 1].min() - 0.01, 0.0] + [0.2, 0.0, 0.3]  # toes 1 cm over the floor
    pixels = CAMERA.project(world)
    relative = (world - world[0]) / 1.25  # a 3D backend with its own units
    scale = measure_metric_scale(pixels, np.ones(RIG.num_joints), relative, CAMERA, 1.73)
    assert abs(scale - 1.25) < 0.02
    no_floor = FitCamera.from_parts(CAMERA.K)
    assert measure_metric_scale(pixels, np.ones(RIG.num_joints), relative, no_floor, 1.73) is None


def test_segment_lengths_measured_once_size_the_body_like_measured_twice():
    """Stage III measures the segment lengths once per re-size and hands them to both steps."""
    from mocap_app.fitting.bones import segment_lengths, skeleton_scale_ratio

    samples = 1.3 * _cmu_like_samples(np.random.default_rng(4), count=12)  # in other units than the rig
    samples[3, RIG.index("LeftHand")] = np.nan  # a dropped joint
    lengths = segment_lengths(samples)
    offsets = estimate_offsets(samples, 1.75)
    np.testing.assert_array_equal(estimate_offsets(samples, 1.75, lengths), offsets)
    ratio = skeleton_scale_ratio(samples, offsets)
    assert skeleton_scale_ratio(samples, offsets, lengths) == ratio
    assert abs(ratio * 1.3 - 1.0) < 0.15  # brings the 1.3x samples back near the rig's size


def test_segment_lengths_pool_left_and_right_and_skip_missing_joints():
    """A limb segment's length is the median over both sides' valid samples; a segment never seen is left out."""
    from mocap_app.fitting.bones import segment_lengths

    samples = _cmu_like_samples(np.random.default_rng(5), count=7)
    samples[:, RIG.index("LeftForeArm")] = np.nan  # left upper arm and forearm unseen: the right side alone
    samples[2, RIG.index("RightHand")] = np.nan
    samples[:, RIG.index("Head")] = np.nan  # neck-head never seen
    thigh = np.concatenate([np.linalg.norm(samples[:, RIG.index(side + "UpLeg")] - samples[:, RIG.index(side + "Leg")],
                                           axis=1) for side in ("Left", "Right")])
    forearm = np.linalg.norm(samples[:, RIG.index("RightForeArm")] - samples[:, RIG.index("RightHand")], axis=1)
    hips = np.linalg.norm(samples[:, RIG.index("LeftUpLeg")] - samples[:, RIG.index("RightUpLeg")], axis=1)
    lengths = segment_lengths(samples)
    measured = sorted(lengths.values())
    assert len(lengths) == 9  # every segment but the neck-head one
    for expected in (np.median(thigh), np.median(forearm[np.isfinite(forearm)]), np.median(hips)):
        assert min(abs(value - expected) for value in measured) < 1e-12
