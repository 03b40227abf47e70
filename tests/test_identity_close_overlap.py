"""Identity tracking while two performers overlap closely: a region as near to both goes to nobody.

Two dancers stand a fifth of a body height apart (one close in front of the other). A region whose
pose lies between them (the detector's region sliding from one onto the other) is as near to both;
the assignment would give it to either on noise, an identity switch when it is the wrong one. The
tracker gives it to nobody that frame (``overlap_gate`` / ``overlap_margin``), while two close but
distinct regions keep their ids.
"""

from __future__ import annotations

import numpy as np

from mocap_app.skeletons import COCO17
from mocap_app.tracking.identity import IdentityTracker, TrackerConfig
from mocap_app.types import FrameObservations, Observation

# A standing person, COCO17 order, pixels around the hip centre (about 200 px tall).
_SHAPE = np.array([[0, -100], [-5, -106], [5, -106], [-10, -102], [10, -102], [-25, -75], [25, -75], [-30, -40],
                   [30, -40], [-32, -5], [32, -5], [-15, 0], [15, 0], [-15, 48], [15, 48], [-15, 95], [15, 95]],
                  float)
FPS = 30.0
BEHIND_X, FRONT_X, Y = 300.0, 340.0, 300.0  # 40 px apart: 0.2 body heights


def _person(x: float) -> Observation:
    joints = (_SHAPE + [x, Y]).astype(np.float32)
    box = np.concatenate([joints.min(axis=0), joints.max(axis=0)])
    return Observation(COCO17.name, joints, np.full(17, 0.9, np.float32), box)


def _frame(f: int, *xs: float) -> FrameObservations:
    return FrameObservations(f, f / FPS, 640, 480, tuple(_person(x) for x in xs))


def _ids_with_a_region_between(config: TrackerConfig) -> tuple[dict[int, int], dict[int, int]]:
    """Ids of the first frames and of the frame whose only detection lies midway between the two dancers."""
    tracker = IdentityTracker(config)
    first = {}
    for f in range(6):
        first = {p.index: p.performer_id for p in tracker.update(_frame(f, BEHIND_X, FRONT_X))}
    between = {p.index: p.performer_id for p in tracker.update(_frame(6, (BEHIND_X + FRONT_X) / 2))}
    return first, between


def test_a_region_as_near_to_both_dancers_goes_to_nobody():
    first, between = _ids_with_a_region_between(TrackerConfig())
    assert len(set(first.values())) == 2
    assert between == {}


def test_without_the_rule_the_assignment_picks_one_of_them():
    first, between = _ids_with_a_region_between(TrackerConfig(overlap_gate=0.0))
    assert len(between) == 1 and between[0] in first.values()


def test_the_rule_needs_the_dancers_to_overlap_closely():
    tracker = IdentityTracker()
    for f in range(6):  # 160 px apart: 0.8 body heights
        tracker.update(_frame(f, BEHIND_X - 60, FRONT_X + 60))
    between = tracker.update(_frame(6, (BEHIND_X + FRONT_X) / 2))  # as near to both, but they are apart
    assert len(between) == 1


def test_two_close_but_distinct_regions_keep_their_ids():
    tracker = IdentityTracker()
    ids = []
    for f in range(10):
        ids.append({p.index: p.performer_id for p in tracker.update(_frame(f, BEHIND_X, FRONT_X))})
    assert all(frame == ids[0] and len(frame) == 2 for frame in ids)
