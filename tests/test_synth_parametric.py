"""The project's own parametric motion: a walk that moves forward on planted feet, then a wave.

Pure numpy (no rendering, no models): checks the take's shape, that the feet stay on the floor
without sliding, that the walk travels and the wave stands still with the right hand up, and that
the take round-trips through a BVH file into the same renderable motion.
"""

from __future__ import annotations

import numpy as np
import pytest

from mocap_app.bvh import read_bvh, write_bvh
from mocap_app.evaluation.metrics import foot_skate
from mocap_app.skeletons import RIG
from mocap_app.synth.appearance import preset_look
from mocap_app.synth.body import DRIVER_JOINTS
from mocap_app.synth.motion import driving_poses, proportions, retarget
from mocap_app.synth.parametric import performer_motion, walk_and_wave

FPS = 30.0
SECONDS = 4.0
_ROW = {name: index for index, name in enumerate(DRIVER_JOINTS)}


@pytest.fixture(scope="module")
def take():
    return walk_and_wave(SECONDS, FPS, walk_fraction=0.6)


@pytest.fixture(scope="module")
def poses(take):
    return performer_motion(take, preset_look(0)).poses


def test_take_is_finite_unit_quaternions_of_the_rig(take, poses):
    assert take.num_frames == int(SECONDS * FPS)
    assert take.local_rotations.shape == (take.num_frames, RIG.num_joints, 4)
    assert np.allclose(np.linalg.norm(take.local_rotations, axis=-1), 1.0)
    assert poses.shape == (take.num_frames, len(DRIVER_JOINTS), 3) and np.isfinite(poses).all()


def test_feet_stay_on_the_floor_and_do_not_slide(poses):
    toes = poses[:, [_ROW["LeftToeBase"], _ROW["RightToeBase"]], 1]
    lowest = toes.min(axis=1)
    assert np.all(lowest > -0.02) and np.all(lowest < 0.12)           # a toe near the floor every frame
    assert toes.max() > lowest.max() + 0.05                            # ... while the other one swings
    assert 100 * foot_skate(poses[:, :RIG.num_joints], poses[:, :RIG.num_joints]) < 0.5  # cm per frame
    head = poses[:, _ROW["HeadTop"], 1]
    assert np.all(np.abs(head - 1.73) < 0.12)                          # upright, at the look's height


def test_walk_moves_forward_then_stops_for_the_wave(take, poses):
    hips = poses[:, _ROW["Hips"]]
    speed = np.linalg.norm(np.diff(hips[:, [0, 2]], axis=0), axis=1) * FPS
    walking = speed[: int(0.4 * SECONDS * FPS)]
    assert 0.8 < walking.mean() < 1.8                                 # metres per second, a walking pace
    assert speed[-int(FPS // 2):].max() < 0.05                         # standing while waving
    forward = hips[int(0.5 * SECONDS * FPS)] - hips[0]
    heading = poses[0, _ROW["LeftUpLeg"]] - poses[0, _ROW["RightUpLeg"]]   # body's left, horizontal
    facing = np.cross(heading, [0.0, 1.0, 0.0])[[0, 2]]                # left x up = forward
    assert np.dot(forward[[0, 2]], facing / np.linalg.norm(facing)) > 1.0  # walked over 1 m the way it faced
    hand, top = poses[:, _ROW["RightHandTip"], 1], poses[:, _ROW["HeadTop"], 1]
    last_second = slice(-int(FPS), None)
    assert np.all(hand[last_second] > top[last_second] - 0.15)        # the right hand is up ...
    assert np.ptp(poses[last_second, _ROW["RightHandTip"], 0]) > 0.15  # ... and waving side to side
    assert np.all(hand[: int(FPS)] < poses[: int(FPS), _ROW["Hips"], 1] + 0.1)  # hanging while walking


def test_take_round_trips_through_a_bvh_file(take, poses, tmp_path):
    path = tmp_path / "walk_wave.bvh"
    write_bvh(path, take.to_bvh())
    motion = read_bvh(path)
    assert motion.skeleton.names == RIG.joints
    again = retarget(driving_poses(motion), proportions(motion), preset_look(0))
    assert np.allclose(again - again[:1, :1], poses - poses[:1, :1], atol=2e-3)
