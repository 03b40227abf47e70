"""The whole-take foot-lock pass: planted feet stop sliding, bones keep their lengths, nothing pops."""

from __future__ import annotations

import numpy as np
import pytest
from foot_lock_support import standing_take

from mocap_app.bvh import read_bvh
from mocap_app.fitting.foot_lock import FootLockConfig, lock_feet, rig_positions
from mocap_app.skeletons import RIG
from mocap_app.takes.journal import PerformerTake, TakeData
from mocap_app.takes.recorder import export_take

FPS = 30.0
FRAMES = 90
LEG_JOINTS = RIG.indices(["LeftUpLeg", "LeftLeg", "LeftFoot", "LeftToeBase",
                          "RightUpLeg", "RightLeg", "RightFoot", "RightToeBase"])


def _planted_take(jitter_m: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Standing take, knees slightly bent, the root jittering by ``jitter_m`` so the feet slide."""
    roots, quats = standing_take(FRAMES)
    roots += np.random.default_rng(seed).normal(0, jitter_m, (FRAMES, 3)) * [1, 0, 1]
    return roots, quats


@pytest.mark.parametrize("shift_root", [True, False])
def test_planted_feet_stop_sliding(shift_root):
    roots, quats = _planted_take(0.015)
    before = rig_positions(roots, quats, None, FPS)
    result = lock_feet(roots, quats, None, FPS, FootLockConfig(shift_root=shift_root))
    after = rig_positions(result.root_positions, result.local_rotations, None, FPS)
    assert np.isfinite(after).all() and result.contacts.all(axis=0).any()
    ankles = RIG.indices(["LeftFoot", "RightFoot"])
    step_before = np.linalg.norm(np.diff(before[:, ankles][..., [0, 2]], axis=0), axis=-1)
    step_after = np.linalg.norm(np.diff(after[:, ankles][..., [0, 2]], axis=0), axis=-1)
    assert step_before.mean() > 0.01
    assert step_after.max() < 0.001
    for joint in LEG_JOINTS:  # bone lengths unchanged
        bone = np.linalg.norm(after[:, joint] - after[:, RIG.parents[joint]], axis=1)
        assert np.allclose(bone, np.linalg.norm(RIG.rest_offsets[joint]), atol=1e-6)
    # no pop: no leg joint moves much more per frame than the input did
    jump_after = np.linalg.norm(np.diff(after[:, LEG_JOINTS], axis=0), axis=-1).max()
    jump_before = np.linalg.norm(np.diff(before[:, LEG_JOINTS], axis=0), axis=-1).max()
    assert jump_after < jump_before + 0.01


def test_take_without_contacts_is_unchanged():
    roots, quats = _planted_take(0.0)
    roots[:, 1] += 0.5 * np.sin(np.linspace(0, 6 * np.pi, FRAMES))  # jumping the whole time: feet rarely low
    roots[:, 0] += np.linspace(0, 20.0, FRAMES)  # and moving fast sideways
    # (A body moving with its feet together is a glide, which the glide pass locks by height alone:
    # it is off here, this take is about the low-and-slow test.)
    result = lock_feet(roots, quats, None, FPS, FootLockConfig(glide_speed_mps=0.0))
    assert not result.contacts.any()
    assert np.array_equal(result.local_rotations, quats) and np.array_equal(result.root_positions, roots)


def test_export_writes_readable_bvh(tmp_path):
    roots, quats = _planted_take(0.015)
    performer = PerformerTake(offsets=RIG.rest_offsets.copy(), frames=list(range(FRAMES)),
                              times=list(np.arange(FRAMES) / FPS), roots=list(roots), rotations=list(quats))
    take = TakeData(performers={1: performer})
    (path,) = export_take(take, tmp_path, fps=FPS)
    motion = read_bvh(path)
    assert motion.num_frames == FRAMES and np.isfinite(motion.values).all()


@pytest.mark.parametrize("flag", [[], ["--no-foot-lock"]])
def test_take_recover_exports_with_and_without_foot_lock(tmp_path, flag):
    from mocap_app.cli import main
    from mocap_app.takes.recorder import TakeRecorder
    from mocap_app.types import MotionFrame

    roots, quats = _planted_take(0.015)
    positions = rig_positions(roots, quats, None, FPS)
    recorder = TakeRecorder(tmp_path / "take.journal.jsonl")
    recorder.record([MotionFrame(1, f, f / FPS, roots[f], quats[f], positions[f]) for f in range(FRAMES)],
                    lambda _: RIG.rest_offsets)
    recorder.close()
    assert main(["take", "recover", str(recorder.journal_path), "--export", str(tmp_path / "out")] + flag) == 0
    motion = read_bvh(tmp_path / "out" / "performer_1.bvh")
    ankle = motion.skeleton.names.index("LeftFoot")
    from mocap_app.bvh import forward_kinematics

    step = np.linalg.norm(np.diff(forward_kinematics(motion)[:, ankle][:, [0, 2]], axis=0), axis=1)  # cm
    assert (step.max() < 0.1) == (not flag)


def test_rolling_floor_plants_a_foot_on_a_drifting_floor():
    """A fit whose floor rises 12 cm mid-take: the global floor misses the second stance, the rolling one not."""
    from mocap_app.fitting.foot_lock import detect_contacts

    ankle = np.zeros((180, 3))
    ankle[60:90, 0] = np.linspace(0.0, 0.6, 30)  # a swing: fast and high
    ankle[60:90, 1] = 0.3 * np.sin(np.linspace(0, np.pi, 30))
    ankle[90:] = [0.6, 0.12, 0.0]  # second stance on the drifted floor
    global_only = detect_contacts(ankle, FPS, FootLockConfig(floor_window_s=0.0))
    rolling = detect_contacts(ankle, FPS, FootLockConfig(floor_window_s=2.0))
    assert global_only[:55].all() and not global_only[100:].any()
    assert rolling[:55].all() and rolling[100:].all() and not rolling[65:85].any()


def _landing_take() -> tuple[np.ndarray, np.ndarray]:
    """Standing pose gliding sideways at 0.9 m/s for 40 frames, then standing still: the feet land at frame 40.

    (The glide stands in for a swing, so the tests using it switch the glide pass off.)
    """
    roots, quats = _planted_take(0.0)
    roots[:, 0] += 0.03 * np.minimum(np.arange(FRAMES), 40)
    return roots, quats


def test_contacts_start_early_and_the_foot_blends_onto_its_lock():
    roots, quats = _landing_take()
    ankle = RIG.index("LeftFoot")
    plain = lock_feet(roots, quats, None, FPS, FootLockConfig(lead_s=0.0, blend_to_lock=False, glide_speed_mps=0.0))
    result = lock_feet(roots, quats, None, FPS, FootLockConfig(glide_speed_mps=0.0))  # lead_s 0.1 s, blend_to_lock
    start = int(np.argmax(plain.contacts[:, 0]))
    assert int(np.argmax(result.contacts[:, 0])) == start - round(0.1 * FPS)
    before = rig_positions(roots, quats, None, FPS)
    after = rig_positions(result.root_positions, result.local_rotations, None, FPS)
    locked = result.contacts[:, 0]
    assert np.allclose(after[locked, ankle][:, [0, 2]], before[-1, ankle, [0, 2]], atol=1e-3)  # lead frames too
    first = int(np.argmax(locked))
    step = np.linalg.norm(np.diff(after[:, ankle][:, [0, 2]], axis=0), axis=1)
    old = rig_positions(plain.root_positions, plain.local_rotations, None, FPS)
    old_step = np.linalg.norm(np.diff(old[:, ankle][:, [0, 2]], axis=0), axis=1)
    assert step[first - 1] < 0.5 * old_step[start - 1]  # the step onto the lock is short
    # The foot reaches its lock 0.1 s early (the live fit lands late), so the last swing frames speed
    # up, but boundedly: no more than 3.5x the 3 cm/frame swing step, and no step once planted.
    assert np.isfinite(after).all() and step.max() < 3.5 * 0.03 and step[first:].max() < 1e-3


def _gliding_take() -> tuple[np.ndarray, np.ndarray]:
    """A performer standing still whose live fit glides 60 cm along z in half a second (a depth estimate
    settling while the body is sized): both feet low, moving with the root, at 1.2 m/s."""
    roots, quats = _planted_take(0.0)
    glide = np.clip((np.arange(FRAMES) - 20) / 15.0, 0.0, 1.0) * 0.6
    roots[:, 2] += glide
    return roots, quats


def test_whole_body_glide_on_low_feet_is_taken_out_of_the_path():
    from mocap_app.fitting.foot_lock import gliding

    roots, quats = _gliding_take()
    before = rig_positions(roots, quats, None, FPS)
    ankles = RIG.indices(["LeftFoot", "RightFoot"])
    assert gliding(before, tuple(ankles), FPS, FootLockConfig()).all()  # the feet keep their distance
    steps = {}
    for glide in (0.0, FootLockConfig().glide_speed_mps):
        result = lock_feet(roots, quats, None, FPS, FootLockConfig(glide_speed_mps=glide))
        after = rig_positions(result.root_positions, result.local_rotations, None, FPS)
        steps[glide] = np.linalg.norm(np.diff(after[:, ankles][..., [0, 2]], axis=0), axis=-1)
        if glide:  # the glide went into the root's path: the root-relative pose is the fitted one
            np.testing.assert_allclose(after - after[:, :1], before - before[:, :1], atol=1e-6)
    assert steps[0.0].max() > 0.03  # without: the feet slide with the glide (too fast to count as planted)
    assert steps[FootLockConfig().glide_speed_mps].max() < 0.002


def test_walking_is_no_glide():
    """Feet that pass each other (a step) are motion: no frame of a walk counts as a glide."""
    from mocap_app.fitting.foot_lock import gliding

    t = np.arange(FRAMES) / FPS
    stride = 0.35 * np.sin(2 * np.pi * t)  # each foot swings 35 cm ahead of and behind the hips
    positions = np.zeros((FRAMES, RIG.num_joints, 3))
    positions[:, 0, 2] = 1.2 * t
    left, right = RIG.indices(["LeftFoot", "RightFoot"])
    positions[:, left, 2] = positions[:, 0, 2] + stride
    positions[:, right, 2] = positions[:, 0, 2] - stride
    moving = np.abs(np.cos(2 * np.pi * t)) > 0.2  # (not where both turn round)
    assert not gliding(positions, (left, right), FPS, FootLockConfig())[moving].any()


def test_negative_glide_speed_is_rejected():
    with pytest.raises(ValueError):
        FootLockConfig(glide_speed_mps=-0.1)
