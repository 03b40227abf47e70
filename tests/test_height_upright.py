"""A performer who starts crouched is not sized short: 2D-only height samples are judged by how upright the pose is."""

from __future__ import annotations

import numpy as np
import pytest

from mocap_app.evaluation.synthetic_observations import NoiseModel, load_motion, look_at_view, make_observations
from mocap_app.fitting.camera import FitCamera
from mocap_app.fitting.height import standing_height, uprightness
from mocap_app.pipeline.stage3 import Stage3
from mocap_app.skeletons import RIG, VNECT21, map_joints

FPS = 30.0
#: 131_01 (a training take) squats from about frame 86 to 110, then stands (the reference: its standing frames alone).
STANDING, CROUCH_START = slice(120, 160), slice(86, 126)


@pytest.fixture(scope="module")
def motion(shared_data):
    path = shared_data / "mocap" / "train" / "cmu_3dsmax" / "131_01.bvh"
    if not path.exists():
        pytest.skip("training take 131_01 not available")
    return load_motion(path, FPS)


def _measured_height(take: np.ndarray) -> float:
    """The height Stage III gives a performer from 2D alone on a calibrated floor after ``take``."""
    view = look_at_view(np.nanmean(take[:, VNECT21.index("pelvis")], axis=0))
    frames, _ = make_observations([take], view, FPS, NoiseModel(with_3d=False), [2], seed=0)
    stage3 = Stage3(FitCamera.from_parts(view.K, view.R_wc, view.t_wc))
    for frame in frames:
        stage3.process(frame)
    (performer,) = stage3.performers.values()
    assert performer.heights  # the floor was used
    return performer.height_m


def test_a_take_that_starts_crouched_gets_the_standing_height(motion):
    hips = motion[:, VNECT21.index("pelvis"), 1]
    assert hips[CROUCH_START][:10].max() < 0.8 * np.median(hips[STANDING])  # it does start in a squat
    standing, crouched_start = _measured_height(motion[STANDING]), _measured_height(motion[CROUCH_START])
    assert abs(crouched_start / standing - 1.0) < 0.03


def test_uprightness_tells_a_squat_from_standing(motion):
    view = look_at_view(np.nanmean(motion[:, VNECT21.index("pelvis")], axis=0))
    pixels = map_joints(view.project(motion.reshape(-1, 3)).reshape(len(motion), -1, 2), VNECT21.name, RIG.name)
    confidence = np.ones(RIG.num_joints)
    standing = uprightness(pixels[10], confidence)
    squat = uprightness(pixels[96], confidence)
    assert standing is not None and squat is not None
    assert standing > 0.9 and squat < 0.8 * standing
    confidence[RIG.index("LeftLeg")] = 0.0
    assert uprightness(pixels[10], confidence) is None  # a knee not seen: no judgement


def test_standing_height_keeps_the_most_upright_samples():
    heights = [1.20, 1.22, 1.70, 1.72, 1.71, 1.30]
    upright = [0.70, None, 0.97, 0.95, 0.96, 0.78]
    assert standing_height(heights, upright) == pytest.approx(1.71)
    assert standing_height([1.5, 1.6], [None, None]) == pytest.approx(1.55)  # nothing to judge by: plain median
