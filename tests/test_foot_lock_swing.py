"""Foot lock: a planted foot that glides with the live fit's depth is locked while the other leg swings."""

from __future__ import annotations

import numpy as np
from foot_lock_support import standing_take
from scipy.spatial.transform import Rotation

from mocap_app.fitting.foot_lock import FootLockConfig, lock_feet, rig_positions
from mocap_app.skeletons import RIG

FPS = 30.0
FRAMES = 45
GLIDE_M_PER_FRAME = 0.015  # 0.45 m/s: above the speed a contact may start at
SWING_HZ = 1.0


def _glide_and_swing() -> tuple[np.ndarray, np.ndarray]:
    """The whole body glides along z (the live fit's depth settling) while the raised right leg
    circles about the vertical at 1 Hz, its foot several times faster than the gliding left foot."""
    roots, quats = standing_take(FRAMES)
    roots[:, 2] += np.arange(FRAMES) * GLIDE_M_PER_FRAME
    turn = 2 * np.pi * SWING_HZ * np.arange(FRAMES) / FPS
    thigh = Rotation.from_euler("y", turn[:, None]) * Rotation.from_euler("x", -60, degrees=True)
    quats[:, RIG.index("RightUpLeg")] = thigh.as_quat()
    quats[:, RIG.index("RightLeg")] = Rotation.from_euler("x", 70, degrees=True).as_quat()
    return roots, quats


def _ankle_steps(result, joint: str) -> np.ndarray:
    after = rig_positions(result.root_positions, result.local_rotations, None, FPS)
    return np.linalg.norm(np.diff(after[:, RIG.index(joint)][:, [0, 2]], axis=0), axis=1)


def test_a_gliding_foot_beside_a_swinging_one_is_locked():
    roots, quats = _glide_and_swing()
    plain = lock_feet(roots, quats, None, FPS, FootLockConfig(swing_ratio=0.0))
    locked = lock_feet(roots, quats, None, FPS)
    assert not plain.contacts[:, 0].any()  # too fast for the speed test alone
    assert locked.contacts[5:-5, 0].all() and not locked.contacts[:, 2:].any()  # the swinging foot stays free
    assert _ankle_steps(plain, "LeftFoot").mean() > 0.01
    assert _ankle_steps(locked, "LeftFoot")[5:-5].max() < 2e-3  # the planted foot holds still


def test_feet_gliding_together_are_left_to_the_glide_pass():
    roots, quats = standing_take(FRAMES)
    roots[:, 2] += np.arange(FRAMES) * GLIDE_M_PER_FRAME
    result = lock_feet(roots, quats, None, FPS, FootLockConfig(glide_speed_mps=0.0, settle_s=0.0))
    assert not result.contacts.any()  # neither foot is slower than the other: no swing to compare with
