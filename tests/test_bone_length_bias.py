"""A joint set's known bone-length bias lengthens that segment relative to the others, height kept."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from mocap_app.fitting.bones import _SEGMENT_ROWS, estimate_offsets, rig_height
from mocap_app.fitting.camera import FitCamera
from mocap_app.fitting.kinematics import RigKinematics
from mocap_app.pipeline.stage3 import Stage3Config, _Performer
from mocap_app.skeletons import BONE_LENGTH_BIAS, RIG, bone_length_bias

_R_WC = Rotation.from_euler("x", -10, degrees=True).as_matrix() @ np.diag([1.0, -1.0, -1.0])
CAMERA = FitCamera.from_parts(np.array([[800.0, 0, 320], [0, 800.0, 240], [0, 0, 1]]), _R_WC, np.array([0, 1.5, 4.5]))
_HEAD, _LEG = RIG.index("Head"), RIG.index("LeftLeg")


def _samples(count: int = 10) -> np.ndarray:
    """(count, J, 3) jittered root-relative rest poses of the rig."""
    rest = RigKinematics().forward(np.zeros(37), np.eye(3), RIG.rest_offsets).positions
    rng = np.random.default_rng(0)
    return np.stack([rest - rest[0] + rng.normal(0.0, 0.003, rest.shape) for _ in range(count)])


def _head_per_thigh(offsets: np.ndarray) -> float:
    return float(np.linalg.norm(offsets[_HEAD]) / np.linalg.norm(offsets[_LEG]))


def test_bias_scales_the_segment_relative_to_the_others_and_keeps_the_height():
    samples = _samples()
    plain = estimate_offsets(samples, 1.75)
    biased = estimate_offsets(samples, 1.75, bias={("Neck", "Head"): 1.4})
    assert np.isclose(_head_per_thigh(biased) / _head_per_thigh(plain), 1.4)
    assert np.isclose(rig_height(biased), 1.75) and np.isclose(rig_height(plain), 1.75)
    assert np.linalg.norm(biased[_LEG]) < np.linalg.norm(plain[_LEG])  # the rest shrinks to keep the height


def test_listed_biases_name_real_segments_and_only_blazepose_has_one():
    for factors in BONE_LENGTH_BIAS.values():
        assert all(segment in _SEGMENT_ROWS and 0.5 < f < 2.0 for segment, f in factors.items())
    assert bone_length_bias("blazepose33")[("Neck", "Head")] > 1.0
    assert not bone_length_bias("vnect21") and not bone_length_bias(RIG.name) and not bone_length_bias(None)


def test_stage3_applies_the_bias_only_to_the_joint_set_s_own_3d():
    samples = _samples(3)
    conf = np.full(RIG.num_joints, 0.9)
    ratios = {}
    for joint_set in ("blazepose33", None):  # None: 3D from the lifter, not the engine
        performer = _Performer(0, Stage3Config(height_m=1.75))
        for rig3d in samples:
            performer.update_size(CAMERA.project(rig3d + [0, 1.0, 0]), conf, rig3d, CAMERA, joint_set)
        ratios[joint_set] = _head_per_thigh(performer.fit.offsets)
    factor = BONE_LENGTH_BIAS["blazepose33"][("Neck", "Head")]
    assert np.isclose(ratios["blazepose33"] / ratios[None], factor, rtol=1e-6)
