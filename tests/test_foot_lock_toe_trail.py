"""Foot lock: a toe contact ends a little later than its detection, so the toe holds through toe-off."""

from __future__ import annotations

import numpy as np
from foot_lock_support import standing_take
from scipy.spatial.transform import Rotation

from mocap_app.fitting.foot_lock import FootLockConfig, lock_feet, rig_positions
from mocap_app.skeletons import RIG

FPS = 30.0
FRAMES = 50
LIFT_FRAME = 25


def _toe_off_take() -> tuple[np.ndarray, np.ndarray]:
    """Standing still, then the left leg swings forward ever faster from ``LIFT_FRAME`` on (the live
    fit's toe starts to slide before the smoothed speed ends its contact)."""
    roots, quats = standing_take(FRAMES)
    swing = np.clip(np.arange(FRAMES) - LIFT_FRAME + 1, 0, None) ** 2 * 0.6  # degrees
    thigh = Rotation.from_euler("x", (-10.0 - swing)[:, None], degrees=True)
    quats[:, RIG.index("LeftUpLeg")] = thigh.as_quat()
    return roots, quats


def test_toe_contact_ends_one_frame_later_and_the_toe_holds_longer():
    roots, quats = _toe_off_take()
    plain = lock_feet(roots, quats, None, FPS, FootLockConfig(toe_trail_s=0.0))
    trailed = lock_feet(roots, quats, None, FPS)  # toe_trail_s 0.04: one frame at 30 fps
    end = {name: int(np.flatnonzero(result.contacts[:, 1])[-1]) for name, result in (("plain", plain),
                                                                                      ("trailed", trailed))}
    assert end["trailed"] == end["plain"] + 1
    np.testing.assert_array_equal(plain.contacts[:, 0], trailed.contacts[:, 0])  # the ankle's contact is unchanged
    toe = RIG.index("LeftToeBase")
    moved = {}
    for name, result in (("plain", plain), ("trailed", trailed)):
        after = rig_positions(result.root_positions, result.local_rotations, None, FPS)[:, toe]
        moved[name] = float(np.linalg.norm((after[end["trailed"]] - after[0])[[0, 2]]))
    assert moved["trailed"] < moved["plain"]  # held on its lock one frame longer
