"""Toe-off in the foot lock: a heel whose lock falls out of reach lets the toe pivot on its own lock."""

from __future__ import annotations

import numpy as np

from mocap_app.fitting import foot_lock
from mocap_app.fitting.foot_lock import FootLockConfig, lock_feet, rig_positions
from mocap_app.skeletons import RIG

FPS = 30.0
PLANTED = 30  # frames standing on the locks before the body travels on
TRAVEL_M = 0.3  # how far the body moves forward over the last frames while the live fit still "plants" the foot
FRAMES = 45


def _toe_off_take() -> tuple[np.ndarray, np.ndarray]:
    """Straight legs, the whole body moving forward after ``PLANTED`` frames: the planted foot's locks fall behind."""
    roots = np.tile(RIG.rest_offsets[0], (FRAMES, 1))
    roots[PLANTED:, 2] += np.linspace(0.0, TRAVEL_M, FRAMES - PLANTED)
    return roots, np.tile([0.0, 0.0, 0.0, 1.0], (FRAMES, RIG.num_joints, 1))


def test_heel_out_of_reach_at_contact_end_pivots_on_the_toe(monkeypatch):
    roots, quats = _toe_off_take()
    before = rig_positions(roots, quats, None, FPS)
    left = [RIG.index("LeftFoot"), RIG.index("LeftToeBase")]
    contacts = np.zeros((FRAMES, 4), dtype=bool)
    contacts[:, :2] = True  # the live fit holds the left ankle and toe down the whole take
    locks = np.full((FRAMES, 4, 3), np.nan)
    locks[:, :2] = before[0, left]

    def given(positions, joints, fps, config, floor_y, still=None):
        return contacts, locks

    monkeypatch.setattr(foot_lock, "_contacts_and_locks", given)
    result = lock_feet(roots, quats, None, FPS, FootLockConfig(shift_root=False, glide_speed_mps=0.0))
    after = rig_positions(result.root_positions, result.local_rotations, None, FPS)
    toe_off = np.linalg.norm((after[:, left[1]] - locks[:, 1])[:, [0, 2]], axis=1)
    ankle_off = np.linalg.norm((after[:, left[0]] - locks[:, 0])[:, [0, 2]], axis=1)
    # The ankle's lock ends up out of the straight leg's reach (the heel has to lift) ...
    assert ankle_off[-1] > 0.01
    # ... and the foot pivots so the toe stays on its lock instead of being dragged along with the body.
    assert np.linalg.norm((before[-1, left[1]] - locks[-1, 1])[[0, 2]]) > 0.25
    assert toe_off.max() < 0.02
    for joint in RIG.indices(["LeftLeg", "LeftFoot", "LeftToeBase"]):  # bones keep their lengths
        bone = np.linalg.norm(after[:, joint] - after[:, RIG.parents[joint]], axis=1)
        assert np.allclose(bone, np.linalg.norm(RIG.rest_offsets[joint]), atol=1e-6)
