"""Two close people stay two people in the blazepose backend; two tracks on one person become one.

Geometry of :mod:`mocap_app.backends.blazepose_people` on exact numbers, then the real backend on a
real frame holding two people side by side, and its merge of converged tracks.
"""

from __future__ import annotations

import numpy as np
import pytest
from blazepose_support import models_root, side_by_side_pair

from engines.postprocessing import iou
from engines.preprocessing import SquareRoi
from mocap_app.backends import blazepose_people as geometry
from mocap_app.backends.blazepose import BlazePoseBackend, BlazePoseConfig, _Track
from mocap_app.skeletons import BLAZEPOSE33
from mocap_app.types import Frame, Observation

RADIUS = 200.0
ROI_SIDE = geometry.ROI_SIDE_PER_RADIUS * RADIUS


def _roi(x: float) -> SquareRoi:
    return SquareRoi(center=np.array([x, 300.0]), size=ROI_SIDE)


def test_neighbours_with_heavily_overlapping_regions_are_two_people():
    tracked = np.array([[300.0, 300.0], [300.0, 120.0]])             # hips, head
    neighbour = tracked + [0.5 * RADIUS, 0.0]                         # half a body radius to the right
    assert iou(_roi(300).bbox(), _roi(400).bbox()[None])[0] > 0.5     # regions overlap: IoU alone would merge
    assert not geometry.covers(tracked, RADIUS, neighbour)
    assert geometry.covers(tracked, RADIUS, tracked + [0.1 * RADIUS, -0.05 * RADIUS])   # detector noise
    leaning = tracked + [[0.05 * RADIUS, 0.0], [0.6 * RADIUS, 0.0]]  # near hips, head elsewhere
    assert not geometry.covers(tracked, RADIUS, leaning)
    # A detection pulled towards a tracked person is them, unless they were hidden from the detector.
    pulled = tracked + [0.2 * RADIUS, 0.0]
    assert geometry.covers(tracked, RADIUS, pulled)
    assert not geometry.covers(tracked, RADIUS, pulled, geometry.HIDDEN_SAME_PERSON_RADII)


def test_duplicates_and_the_track_that_jumped():
    rng = np.random.default_rng(0)
    person = rng.uniform(100, 500, (BLAZEPOSE33.num_joints, 2))
    assert geometry.same_landmarks(person, person + rng.normal(0, 3, person.shape), RADIUS)
    assert not geometry.same_landmarks(person, person + [0.4 * RADIUS, 0.0], RADIUS)
    assert geometry.steadiness(person, person + 2.0, RADIUS) < geometry.steadiness(person - 80.0, person, RADIUS)
    assert geometry.steadiness(None, person, RADIUS) == float("inf")


def test_a_new_track_must_put_hips_and_face_where_its_detection_did():
    rng = np.random.default_rng(2)
    person = rng.uniform(100, 500, (BLAZEPOSE33.num_joints, 2))
    detected = geometry.landmark_anchors(person)
    assert geometry.confirms_detection(detected, person + [0.1 * RADIUS, 0.0], RADIUS)
    made_up = person.copy()
    made_up[BLAZEPOSE33.indices(["left_hip", "right_hip"])] += [0.0, 0.35 * RADIUS]   # hips elsewhere
    assert not geometry.confirms_detection(detected, made_up, RADIUS)
    assert geometry.BELOW_FACE.sum() == 22 and not geometry.BELOW_FACE[BLAZEPOSE33.index("nose")]


def test_zoom_region_only_where_it_is_closer():
    zoom = geometry.zoom_region([_roi(500), _roi(700)], 1920, 1080)
    assert zoom is not None and zoom.rotation == 0.0
    assert zoom.center.tolist() == [600.0, 300.0] and zoom.size == pytest.approx(geometry.ZOOM_MARGIN * ROI_SIDE)
    assert geometry.zoom_region([_roi(300)], 640, 480) is None          # the region is most of the frame
    assert geometry.zoom_region([], 1920, 1080) is None


@pytest.fixture(scope="module")
def pair_frame(shared_data):
    return side_by_side_pair(shared_data)


def test_two_people_side_by_side_are_both_tracked(pair_frame):
    # With both people hidden, the tile pass over the top of this frame finds a false "person" in
    # the roof ornament: an upside-down face with the body above the frame. The new track it opens
    # shows nothing below the face and must not become a third person.
    backend = BlazePoseBackend.from_store(BlazePoseConfig(max_people=4, detect_interval=2), root=models_root())
    results = [backend(Frame(pair_frame, index, index / 30.0)) for index in range(6)]
    for result in results:
        assert len(result.people) == 2
        hips = [p.joints2d[BLAZEPOSE33.indices(["left_hip", "right_hip"])].mean(axis=0) for p in result.people]
        assert abs(hips[0][0] - hips[1][0]) > 100                      # two bodies, not one seen twice
    assert {p.track_id for p in results[0].people} == {p.track_id for p in results[-1].people}


def _observation(landmarks: np.ndarray) -> Observation:
    count = len(landmarks)
    box = np.concatenate([landmarks.min(axis=0), landmarks.max(axis=0)]).astype(np.float32)
    return Observation("blazepose33", landmarks.astype(np.float32), np.ones(count, np.float32), box)


def test_track_that_drifted_onto_a_neighbour_is_dropped_and_the_detector_runs():
    backend = BlazePoseBackend.from_store(BlazePoseConfig(max_people=2), root=models_root())
    rng = np.random.default_rng(1)
    here = rng.uniform(200, 400, (BLAZEPOSE33.num_joints, 2))
    steady = _Track(0, _roi(300), age=20, landmarks=here + 2.0)         # was on this person
    drifted = _Track(1, _roi(300), age=30, landmarks=here + 150.0)      # was on a neighbour, jumped here
    now = [(drifted, _observation(here + 1.0)), (steady, _observation(here))]
    backend._lost = False
    kept = backend._merge_duplicates(now)
    assert [track.track_id for track, _ in kept] == [0]
    assert backend._detection_due(0.0)                                   # look for the person it left
    newcomer = _Track(2, _roi(300))                                      # a fresh duplicate: dropped quietly
    backend._lost = False
    kept = backend._merge_duplicates([(newcomer, _observation(here)), (steady, _observation(here + 1.0))])
    assert [track.track_id for track, _ in kept] == [0] and not backend._lost
