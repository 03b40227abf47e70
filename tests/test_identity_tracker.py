"""Identity tracking: two people crossing keep their ids; a short disappearance is re-identified."""

from __future__ import annotations

import numpy as np

from mocap_app.skeletons import COCO17
from mocap_app.tracking.identity import IdentityTracker, appearance_histogram
from mocap_app.types import FrameObservations, Observation

_SHAPE = np.array([[0, -80], [-5, -85], [5, -85], [-10, -82], [10, -82], [-20, -60], [20, -60], [-25, -30],
                   [25, -30], [-25, 0], [25, 0], [-12, 0], [12, 0], [-12, 45], [12, 45], [-12, 90], [12, 90]], float)


def _person(x: float, y: float, hue: int) -> Observation:
    joints = _SHAPE + [x, y]
    hist = np.full(900, 1e-4)
    hist[hue * 30:(hue + 1) * 30] = 1.0
    return Observation(COCO17.name, joints.astype(np.float32), np.full(17, 0.9, np.float32),
                       np.array([x - 30, y - 90, x + 30, y + 90], np.float32), appearance=hist / hist.sum())


def test_ids_survive_two_people_crossing():
    tracker = IdentityTracker()
    owner = {}
    for f in range(60):
        a, b = _person(100 + 8 * f, 300, 2), _person(580 - 8 * f, 310, 17)
        people = (a, b) if f % 2 else (b, a)  # detections come in any order
        for tracked in tracker.update(FrameObservations(f, f / 30, 640, 480, people)):
            hue = int(np.argmax(tracked.observation.appearance) // 30)
            owner.setdefault(hue, set()).add(tracked.performer_id)
    assert owner == {2: {owner[2].copy().pop()}, 17: {owner[17].copy().pop()}}
    assert owner[2] != owner[17]


def test_short_disappearance_is_reidentified_and_long_one_is_not():
    tracker = IdentityTracker()
    first = tracker.update(FrameObservations(0, 0.0, 640, 480, (_person(300, 300, 5),)))[0].performer_id
    tracker.update(FrameObservations(1, 0.033, 640, 480, ()))
    back = tracker.update(FrameObservations(30, 1.0, 640, 480, (_person(330, 300, 5),)))[0]
    assert back.performer_id == first and not back.is_new
    tracker.update(FrameObservations(31, 1.033, 640, 480, ()))
    late = tracker.update(FrameObservations(400, 20.0, 640, 480, (_person(330, 300, 5),)))[0]
    assert late.performer_id != first and late.is_new


def test_nan_and_zero_confidence_detections_do_not_start_performers():
    tracker = IdentityTracker()
    blank = Observation(COCO17.name, np.full((17, 2), np.nan, np.float32), np.zeros(17, np.float32), np.zeros(4))
    assert tracker.update(FrameObservations(0, 0.0, 640, 480, (blank,))) == []


def test_appearance_histogram_from_an_image():
    image = np.zeros((100, 100, 3), np.uint8)
    image[:, :, 2] = 255  # red in BGR
    hist = appearance_histogram(image, np.array([10, 10, 60, 60]))
    assert hist.shape == (900,) and abs(hist.sum() - 1) < 1e-9
    assert appearance_histogram(image, np.array([50, 50, 50, 50])) is None
