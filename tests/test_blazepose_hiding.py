"""Hiding tracked people from BlazePose so the person beside or behind them is found.

The mask geometry of :mod:`mocap_app.backends.blazepose_masks` on exact numbers, then the real
backend on a real frame of two people side by side: each track's mask covers its own person and
not the neighbour, and with one person hidden the detector reports only the other.
"""

from __future__ import annotations

import numpy as np
import pytest
from blazepose_support import models_root, side_by_side_pair

from engines.preprocessing import SquareRoi
from mocap_app.backends import blazepose_masks as masks
from mocap_app.backends.blazepose import BlazePoseBackend, BlazePoseConfig
from mocap_app.skeletons import BLAZEPOSE33
from mocap_app.types import Frame

_HIPS = BLAZEPOSE33.indices(["left_hip", "right_hip"])


def _standing(x: float, top: float = 60.0, height: float = 300.0) -> np.ndarray:
    """(33, 2) a crude upright person: every landmark on a vertical line at ``x``."""
    return np.stack([np.full(33, x), np.linspace(top, top + height, 33)], axis=1)


def test_mask_follows_the_segmentation_inside_the_band_around_the_person():
    size, scale = 64, 4.0                     # the crop: a 256 px square of the image seen at 64 px
    matrix = np.array([[1 / scale, 0.0, -20.0], [0.0, 1 / scale, 0.0]])    # image (80, 0) is crop (0, 0)
    logits = np.full((size, size), -5.0, np.float32)
    logits[:, 20:44] = 5.0                    # a vertical band of "person": image x 160..256
    landmarks = _standing(208.0)
    mask = masks.person_mask(logits, matrix, landmarks, radius=100.0, image_shape=(480, 640, 3))
    assert mask is not None and (mask.x0, mask.y0) == (80, 0)
    full = np.zeros((480, 640), bool)
    full[mask.y0:mask.y0 + mask.mask.shape[0], mask.x0:mask.x0 + mask.mask.shape[1]] = mask.mask
    assert full[200, 208] and full[200, 185] and full[200, 235]      # on the person
    assert not full[200, 150] and not full[200, 270]                 # segmentation says background
    assert not full[460, 208]                                        # far below the feet: outside the band
    # A segmentation that bled onto a neighbour 1.2 body radii away is not kept there.
    logits[:, :] = 5.0
    wide = masks.person_mask(logits, matrix, landmarks, radius=100.0, image_shape=(480, 640, 3))
    assert wide is not None and not wide.mask[200, 328 - 80]
    assert masks.person_mask(np.full((size, size), -5.0, np.float32), matrix, landmarks, 100.0, (480, 640)) is None


def test_mask_hugs_the_face_closer_than_the_limbs():
    # A partner's head beside this person's (dancers cheek to cheek) must stay visible: the band
    # around the face landmarks is narrower than around the limbs.
    size, scale = 64, 8.0                     # the crop: a 512 px square of the image seen at 64 px
    matrix = np.array([[1 / scale, 0.0, 0.0], [0.0, 1 / scale, 0.0]])
    logits = np.full((size, size), 5.0, np.float32)                       # everything looks like a person
    landmarks = _standing(208.0, top=40.0, height=400.0)                 # face landmarks at y 40..165
    mask = masks.person_mask(logits, matrix, landmarks, radius=100.0, image_shape=(480, 640, 3))
    assert mask is not None
    beside = 208 + int(0.18 * 100)            # 0.18 body radii to the right of the bones
    assert mask.mask[80 - mask.y0, 208 - mask.x0] and not mask.mask[80 - mask.y0, beside - mask.x0]   # face
    assert mask.mask[350 - mask.y0, beside - mask.x0]                                                   # legs


def test_hidden_person_leaves_no_silhouette_and_other_regions_are_untouched():
    image = np.full((240, 320, 3), 200, np.uint8)
    image[::2, :] = 120                                              # a striped background
    image[40:200, 100:140] = (30, 30, 220)                           # a red person
    region = np.zeros((160, 40), bool)
    region[:, :] = True
    mask = masks.PersonMask(region, 100, 40)
    hidden = masks.hide_people(image, [mask])
    assert hidden is not image and np.array_equal(image[:, :90], hidden[:, :90])
    person = hidden[40:200, 100:140].reshape(-1, 3).astype(float)
    background = image[:, 200:].reshape(-1, 3).astype(float)
    assert np.abs(person.mean(axis=0) - background.mean(axis=0)).max() < 25     # filled like its surroundings
    assert masks.hide_people(image, [mask], region=np.array([200.0, 0.0, 320.0, 240.0])) is image
    points = np.array([[120.0, 100.0], [50.0, 100.0], [139.0, 199.0], [np.nan, 0.0]])
    assert masks.hidden_fraction(points, [mask]) == 0.5                   # two of four on the person
    roi = SquareRoi(center=np.array([100.0, 50.0]), size=20.0, rotation=0.3)
    assert np.allclose(masks.region_box(roi), [100 - 10 * np.sqrt(2), 50 - 10 * np.sqrt(2),
                                               100 + 10 * np.sqrt(2), 50 + 10 * np.sqrt(2)])


@pytest.fixture(scope="module")
def pair_frame(shared_data):
    return side_by_side_pair(shared_data)


def test_each_track_masks_its_own_person_and_hiding_one_leaves_the_other(pair_frame):
    backend = BlazePoseBackend.from_store(BlazePoseConfig(max_people=2, detect_interval=2), root=models_root())
    for index in range(4):
        result = backend(Frame(pair_frame, index, index / 30.0))
    assert len(result.people) == 2 and len(backend._tracks) == 2
    hips = {track.track_id: track.landmarks[_HIPS].mean(axis=0) for track in backend._tracks}
    for track in backend._tracks:
        mask = track.mask(pair_frame.shape)
        assert mask is not None
        for other_id, hip in hips.items():
            x, y = (int(v) for v in hip)
            inside = 0 <= y - mask.y0 < mask.mask.shape[0] and 0 <= x - mask.x0 < mask.mask.shape[1]
            covered = inside and bool(mask.mask[y - mask.y0, x - mask.x0])
            assert covered == (other_id == track.track_id)
    first, second = backend._tracks
    shown = backend._hidden(pair_frame, [first])
    detections = backend.detector(shown)
    assert len(detections) >= 1
    found = detections.keypoints[:, 0]                               # detected mid-hips
    hidden_hip, other_hip = hips[first.track_id], hips[second.track_id]
    assert np.linalg.norm(found - other_hip, axis=1).min() < 40
    assert np.linalg.norm(found - hidden_hip, axis=1).min() > 60


def test_a_lost_track_makes_the_detector_search_every_few_frames(pair_frame):
    config = BlazePoseConfig(max_people=4, detect_interval=10, search_interval=2, search_s=1.0)
    backend = BlazePoseBackend.from_store(config, root=models_root())
    for index in range(3):
        backend(Frame(pair_frame, index, index / 30.0))
    assert 0 < len(backend._tracks) < config.max_people
    backend._lost, backend._since_detection = False, 2
    assert not backend._detection_due(0.1)                           # nobody lost: the usual interval
    backend._search_until = 0.1 + config.search_s
    assert backend._detection_due(0.1) and not backend._detection_due(1.2)
