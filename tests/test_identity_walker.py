"""Identity tracking: one person walking across the view keeps one id through jitter and missed frames.

A regression test for a real video where a walker got a new id every ~20 frames: detections jitter,
the detector misses frames (some in a row), the lighting shifts the appearance and the 3D pose
changes with every step, and now and then the detector reports the walker twice (overlapping boxes).
"""

from __future__ import annotations

import numpy as np

from mocap_app.skeletons import COCO17
from mocap_app.tracking.identity import IdentityTracker
from mocap_app.types import FrameObservations, Observation

# A standing person, COCO17 order, pixels around the hip centre (about 250 px tall).
_SHAPE = np.array([[0, -130], [-6, -136], [6, -136], [-14, -132], [14, -132], [-32, -100], [32, -100], [-40, -50],
                   [40, -50], [-42, -5], [42, -5], [-18, 0], [18, 0], [-18, 60], [18, 60], [-18, 118], [18, 118]],
                  float)
_LEGS = COCO17.indices(["left_knee", "right_knee", "left_ankle", "right_ankle"])
_ARMS = COCO17.indices(["left_elbow", "right_elbow", "left_wrist", "right_wrist"])
FPS = 30.0
FRAMES = 150


def _appearance(hue: float, rng: np.random.Generator) -> np.ndarray:
    bins = np.arange(30)
    hist = np.outer(np.exp(-0.5 * ((bins - hue) / 1.5) ** 2), np.exp(-0.5 * ((bins - 18) / 4.0) ** 2)).ravel()
    hist = hist / hist.sum() + rng.gamma(0.3, 0.004, hist.size)  # background pixels in the torso box
    return hist / hist.sum()


def _walker(frame: int, rng: np.random.Generator) -> Observation:
    phase = 2 * np.pi * frame / 32.0  # one stride per ~1 s
    joints = _SHAPE + [60 + 7.5 * frame, 240 + 4 * np.sin(2 * phase)]
    swing = np.array([1, -1, 1, -1]) * np.sin(phase)
    joints[_LEGS, 0] += swing * np.array([18, 18, 38, 38])
    joints[_ARMS, 0] -= swing * np.array([12, 12, 25, 25])
    joints += rng.normal(0.0, 5.0, joints.shape)  # detector jitter
    confidence = rng.uniform(0.5, 1.0, len(joints))
    low = rng.random(len(joints)) < 0.1
    confidence[low] = rng.uniform(0.05, 0.3, low.sum())
    world = np.column_stack([_SHAPE[:, 0], -_SHAPE[:, 1], np.zeros(len(_SHAPE))]) / 150.0
    world[_LEGS, 2] += swing * np.array([0.25, 0.25, 0.45, 0.45])
    world += rng.normal(0.0, 0.03, world.shape)
    world -= world[COCO17.indices(["left_hip", "right_hip"])].mean(axis=0)
    hue = 5.0 + 8.0 * frame / FRAMES + rng.normal(0.0, 0.5)  # the light changes along the way
    box = np.concatenate([joints.min(axis=0), joints.max(axis=0)])
    return Observation(COCO17.name, joints.astype(np.float32), confidence.astype(np.float32), box.astype(np.float32),
                       joints3d=world.astype(np.float32), appearance=_appearance(hue, rng))


def test_walker_keeps_one_id_through_jitter_and_missed_frames():
    rng = np.random.default_rng(3)
    missed = set(rng.choice(FRAMES, size=15, replace=False).tolist()) | {60, 61, 62, 63, 100, 101, 102}
    tracker = IdentityTracker()
    ids = []
    for f in range(FRAMES):
        people = () if f in missed else (_walker(f, rng),)
        if people and f % 20 in (5, 6, 7):  # a duplicate detection of the same walker
            people = (_walker(f, rng), people[0]) if f % 2 else (people[0], _walker(f, rng))
        for tracked in tracker.update(FrameObservations(f, f / FPS, 1280, 720, people)):
            ids.append(tracked.performer_id)
    assert len(ids) == FRAMES - len(missed)
    assert set(ids) == {ids[0]}


def test_walker_whose_sides_swap_keeps_one_id():
    """A side-on walker: now and then the detector mirrors left and right (2D and 3D alike).

    Seen from the side, the body's left/right axis is the camera's depth axis, so a mirrored 3D pose
    is a jump of a stride in depth, and the mirrored 2D puts the front leg behind.
    """
    rng = np.random.default_rng(5)
    mirror = COCO17.mirror_indices
    tracker = IdentityTracker()
    ids = []
    for f in range(FRAMES):
        walker = _walker(f, rng)
        side_on = walker.joints3d[:, [2, 1, 0]] * [1, 1, 3]  # left/right along depth (hips ~0.35 m apart)
        joints2d = walker.joints2d.copy()  # a long stride, seen close up: feet up to ~140 px apart
        joints2d[_LEGS, 0] += np.array([1, -1, 1, -1]) * np.sin(2 * np.pi * f / 32.0) * np.array([30, 30, 70, 70])
        if f % 9 in (4, 5) or 70 <= f < 80:  # single frames and a run of mirrored frames
            walker = Observation(COCO17.name, joints2d[mirror], walker.confidence[mirror], walker.bbox,
                                 joints3d=side_on[mirror], appearance=walker.appearance)
        else:
            walker = Observation(COCO17.name, joints2d, walker.confidence, walker.bbox, joints3d=side_on,
                                 appearance=walker.appearance)
        ids += [tracked.performer_id for tracked in tracker.update(FrameObservations(f, f / FPS, 1280, 720, (walker,)))]
    assert len(ids) == FRAMES
    assert set(ids) == {ids[0]}
