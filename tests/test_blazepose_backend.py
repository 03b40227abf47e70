"""The blazepose Stage I backend on real video: people found, tracked with stable ids, sane output,
and no crash on bad frames (nobody, black, half out of frame, crowds, 4K)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from blazepose_support import models_root, people_clip

from mocap_app.backends.blazepose import JOINT_SET, BlazePoseBackend, BlazePoseConfig
from mocap_app.skeletons import BLAZEPOSE33
from mocap_app.types import Frame


@pytest.fixture(scope="module")
def backend():
    return BlazePoseBackend.from_store(BlazePoseConfig(max_people=4, detect_interval=10), root=models_root())


@pytest.fixture(scope="module")
def clip(shared_data):
    return people_clip(shared_data, 20)


def _run(backend, images):
    backend.reset()
    return [backend(Frame(image, index, index / 10.0)) for index, image in enumerate(images)]


def test_tracks_people_with_stable_ids_and_few_detector_runs(backend, clip):
    runs_before = backend.detector_runs
    results = _run(backend, clip)
    assert sum(len(result.people) >= 1 for result in results) >= len(results) - 1
    first_id = results[0].people[0].track_id
    assert sum(any(p.track_id == first_id for p in result.people) for result in results) >= len(results) - 2
    assert backend.detector_runs - runs_before < len(results) // 2      # tracking, not re-detecting
    assert backend.provider == "CPUExecutionProvider"
    assert set(results[0].timings_ms) == {"preprocess", "detector", "landmarks", "postprocess"}


def test_observation_content(backend, clip):
    person = _run(backend, clip[:3])[-1].people[0]
    assert person.joint_set == JOINT_SET
    assert person.joints2d.shape == (33, 2) and person.joints3d.shape == (33, 3)
    assert np.isfinite(person.joints2d).all() and np.isfinite(person.joints3d).all()
    assert ((person.confidence >= 0) & (person.confidence <= 1)).all() and person.confidence.mean() > 0.5
    x0, y0, x1, y1 = person.bbox
    assert 0 <= x0 < x1 <= 639 and 0 <= y0 < y1 <= 479 and y1 - y0 > 80      # a standing person
    index = BLAZEPOSE33.index
    hips = person.joints3d[[index("left_hip"), index("right_hip")]]
    assert np.linalg.norm(hips.mean(axis=0)) < 0.05                           # root-relative at the hips' centre
    # Camera axes: head above the hips (y down), and the 3D left/right agree with the 2D image.
    assert person.joints3d[index("nose"), 1] < -0.3
    side_3d = np.sign(person.joints3d[index("left_shoulder"), 0] - person.joints3d[index("right_shoulder"), 0])
    side_2d = np.sign(person.joints2d[index("left_shoulder"), 0] - person.joints2d[index("right_shoulder"), 0])
    assert side_3d == side_2d
    assert person.joints2d[index("nose"), 1] < person.joints2d[index("left_ankle"), 1]


def test_nobody_and_black_frames(backend, clip):
    black = np.zeros((480, 640, 3), np.uint8)
    grass = np.ascontiguousarray(clip[0][400:480].repeat(6, axis=0))          # empty lawn, no person
    for image in (black, grass):
        results = _run(backend, [image] * 3)
        assert all(result.people == () for result in results)


def test_person_half_out_of_frame(backend, clip):
    shifted = [np.ascontiguousarray(np.roll(image, -300, axis=1)) for image in clip[:4]]
    for image in shifted:
        image[:, -300:] = 0
    for result in _run(backend, shifted):
        for person in result.people:
            assert np.isfinite(person.joints2d).all()
            assert ((person.confidence >= 0) & (person.confidence <= 1)).all()


def test_crowd_is_capped_at_max_people(backend, clip):
    tile = cv2.resize(clip[0], (320, 240))
    crowd = np.vstack([np.hstack([tile, tile]), np.hstack([tile, tile])])   # the clip's people four times over
    crowd = np.hstack([crowd, crowd[:, :320]])                               # ... and twice more: about 10
    small = BlazePoseBackend(backend.detector, backend.landmarker, BlazePoseConfig(max_people=2))
    results = _run(small, [crowd] * 3)
    assert all(len(result.people) <= 2 for result in results)


def test_4k_frame(backend, clip):
    big = cv2.resize(clip[0], (3840, 2880), interpolation=cv2.INTER_LINEAR)
    result = _run(backend, [big])[0]
    assert len(result.people) >= 1
    assert result.width == 3840 and result.people[0].bbox[3] > 480                # pixels of the 4K frame
