"""Foot lock: a take whose live fit is still settling in its first frames keeps its planted feet still."""

from __future__ import annotations

import numpy as np
from foot_lock_support import standing_take
from scipy.spatial.transform import Rotation

from mocap_app.fitting.foot_lock import FootLockConfig, lock_feet, rig_positions
from mocap_app.skeletons import RIG

FPS = 30.0
FRAMES = 60
SETTLE_FRAMES = 6


def _settling_take() -> tuple[np.ndarray, np.ndarray]:
    """A performer standing still whose fit slides the whole body 4 cm per frame along z in the first
    frames (1.2 m/s, too fast for a contact) and then holds still: the feet stay low all along."""
    roots, quats = standing_take(FRAMES)
    roots[:, 2] += np.minimum(np.arange(FRAMES), SETTLE_FRAMES) * 0.04
    return roots, quats


def test_first_contact_reaches_back_over_the_settling_frames():
    roots, quats = _settling_take()
    ankle = RIG.index("LeftFoot")
    plain = lock_feet(roots, quats, None, FPS, FootLockConfig(glide_speed_mps=0.0, settle_s=0.0))
    settled = lock_feet(roots, quats, None, FPS, FootLockConfig(glide_speed_mps=0.0))  # settle_s 0.3 s
    assert not plain.contacts[0].any() and settled.contacts[0].all()
    first = int(np.argmax(plain.contacts[:, 0]))
    assert settled.contacts[: first + 1].all()  # one contact from frame 0 on, not a second one
    steps = {}
    for name, result in (("plain", plain), ("settled", settled)):
        after = rig_positions(result.root_positions, result.local_rotations, None, FPS)
        steps[name] = np.linalg.norm(np.diff(after[:, ankle][:, [0, 2]], axis=0), axis=1)
    assert steps["plain"][:SETTLE_FRAMES].max() > 0.02  # without it the settling slide stays in the export
    assert steps["settled"].max() < 2e-3  # the planted foot holds still from the first frame


def test_a_foot_that_steps_before_its_first_contact_is_not_extended():
    roots, quats = _settling_take()
    lifted = quats.copy()
    knee = Rotation.from_euler("x", 80, degrees=True).as_quat()
    lifted[:SETTLE_FRAMES, RIG.index("LeftLeg")] = knee  # the left foot is up in the first frames
    result = lock_feet(roots, lifted, None, FPS, FootLockConfig(glide_speed_mps=0.0))
    assert not result.contacts[:SETTLE_FRAMES - 1, 0].any()  # the raised ankle is no contact there
    assert result.contacts[:SETTLE_FRAMES, 2].all()  # the right foot, low all along, is planted from frame 0
