"""A detector's brief duplicate of one performer never becomes a second performer nor takes their id.

BlazePose now and then reports a bent-over person twice for a few frames, the copy a little off the
body; the copy used to start performer 2, which then won the single remaining detection on a close
cost and was exported as a second take of the same person.
"""

from __future__ import annotations

import numpy as np

from mocap_app.fitting.camera import FitCamera
from mocap_app.pipeline.stage3 import Stage3
from mocap_app.skeletons import COCO17
from mocap_app.takes.recorder import TakeRecorder
from mocap_app.tracking.identity import IdentityTracker
from mocap_app.types import FrameObservations, Observation

FPS = 30.0
FRAMES = 40
#: Frames in which the detector reports the performer twice.
BURST = range(20, 23)
_SHAPE = np.array([[0, -80], [-5, -85], [5, -85], [-10, -82], [10, -82], [-20, -60], [20, -60], [-25, -30],
                   [25, -30], [-25, 0], [25, 0], [-12, 0], [12, 0], [-12, 45], [12, 45], [-12, 90], [12, 90]], float)


def _person(x: float, y: float, confidence: float) -> Observation:
    return Observation(COCO17.name, (_SHAPE + [x, y]).astype(np.float32), np.full(17, confidence, np.float32),
                       np.array([x - 30, y - 90, x + 30, y + 90], np.float32))


def _frame(f: int) -> FrameObservations:
    """The performer sinks (bends over) 4 px a frame; the burst's copy lies 35 px ahead of them."""
    y = 250 + 4 * f
    people = (_person(320, y, 0.9),)
    if f in BURST:
        people = (_person(322, y + 35, 0.6), *people)
    return FrameObservations(f, f / FPS, 640, 480, people)


def test_duplicate_burst_keeps_one_performer_and_exports_one_take(tmp_path):
    stage3 = Stage3(FitCamera.uncalibrated(640, 480))
    recorder = TakeRecorder(tmp_path / "take.journal.jsonl", floor_calibrated=False)
    ids_per_frame, motion_ids = [], set()
    for f in range(FRAMES):
        motion = stage3.process(_frame(f))
        recorder.record(motion, stage3.rest_offsets)
        ids_per_frame.append([p.track_id for p in stage3.tracked_observations.people])
        motion_ids |= {m.performer_id for m in motion}
    # The duplicate is shown without an id; the performer keeps id 1 throughout.
    assert all(ids == ([None, 1] if f in BURST else [1]) for f, ids in enumerate(ids_per_frame)), ids_per_frame
    assert motion_ids == {1} and set(stage3.tracker.tracks) == {1}
    written = recorder.finalize(tmp_path / "export")
    assert sorted(p.name for p in written) == ["performer_1.bvh"]


def test_established_performer_wins_a_close_call_against_a_young_duplicate():
    tracker = IdentityTracker()
    for f in range(10):
        assert [p.performer_id for p in tracker.update(FrameObservations(f, f / FPS, 640, 480,
                                                                         (_person(320, 250, 0.9),)))] == [1]
    for f in (10, 11):  # a copy 40 px below (too far apart to be merged as one detection)
        people = (_person(320, 290, 0.6), _person(320, 250, 0.9))
        assert [p.performer_id for p in tracker.update(FrameObservations(f, f / FPS, 640, 480, people))] == [1]
    # One detection between them, a little nearer the copy: the performer keeps it.
    tracked = tracker.update(FrameObservations(12, 12 / FPS, 640, 480, (_person(320, 272, 0.9),)))
    assert [p.performer_id for p in tracked] == [1] and set(tracker.tracks) == {1}
