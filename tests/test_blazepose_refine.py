"""Mirror test-time averaging of the BlazePose landmark network on real people (vtest.avi crops).

The average of a crop and its mirror image must itself be mirror-symmetric (reading the mirrored
person gives the mirrored landmarks, left and right exchanged: this checks the left/right exchange
and the mirror of crop coordinates).
"""

from __future__ import annotations

import numpy as np
import pytest
from blazepose_support import PEOPLE_FRAME0, models_root, read_frames

from engines.blazepose import PoseLandmarker
from engines.engine import load_engine
from engines.preprocessing import SquareRoi
from mocap_app.backends import blazepose_refine as refine
from mocap_app.models_store import blazepose_paths
from mocap_app.skeletons import BLAZEPOSE33

_BODY = BLAZEPOSE33.num_joints
_TWIN = np.array(BLAZEPOSE33.indices(list(BLAZEPOSE33.mirror)))


@pytest.fixture(scope="module")
def landmarker():
    return PoseLandmarker(load_engine(blazepose_paths(models_root())["pose_landmark_full"], device="cpu"))


@pytest.fixture(scope="module")
def frame(shared_data):
    return read_frames(shared_data, (0,))[0]


def _averaged(landmarker, image, roi):
    inputs, meta = landmarker.preprocess(image, roi)
    outputs = landmarker.engine.run(inputs)
    return landmarker.postprocess(outputs, meta), refine.flip_averaged_landmarks(landmarker, inputs, outputs, meta)


def _person_roi(person: int) -> SquareRoi:
    x, y, side = PEOPLE_FRAME0[person]
    return SquareRoi(np.array([x, y], dtype=np.float64), 1.6 * side)


def _mirrored_roi(roi: SquareRoi, width: int, crop_size: int) -> SquareRoi:
    """The region of the mirrored frame whose crop is exactly the mirror of ``roi``'s crop.

    Crop pixel ``i`` samples the image at ``left + i * step``, so the mirrored crop's samples line
    up with the original's only when its centre is ``width - 1 - x + step``.
    """
    step = roi.size / crop_size
    return SquareRoi(np.array([width - 1 - roi.center[0] + step, roi.center[1]]), roi.size)


@pytest.mark.parametrize("person", range(len(PEOPLE_FRAME0)))
def test_the_two_pass_average_is_mirror_symmetric(landmarker, frame, person):
    # A single pass is not: on these crops it puts the mirrored person's landmarks 4-17 px (median)
    # away from the mirror of the original's.
    width = frame.shape[1]
    roi = _person_roi(person)
    single, averaged = _averaged(landmarker, frame, roi)
    mirrored_roi = _mirrored_roi(roi, width, landmarker.size)
    _, mirrored = _averaged(landmarker, np.ascontiguousarray(frame[:, ::-1]), mirrored_roi)
    back = mirrored.xy[:_BODY][_TWIN] * [-1.0, 1.0] + [mirrored_roi.center[0] + roi.center[0], 0.0]
    assert np.max(np.linalg.norm(back - averaged.xy[:_BODY], axis=1)) < 0.5
    assert np.allclose(mirrored.world[:_BODY][_TWIN] * [-1.0, 1.0, 1.0], averaged.world[:_BODY], atol=1e-3)
    assert averaged.score == pytest.approx(single.score)
    assert np.all((averaged.visibility >= 0.0) & (averaged.visibility <= 1.0))


def test_backend_option_tracks_the_same_people(shared_data):
    """``mirror_average`` in the backend: same people, landmarks moved by the average, not lost."""
    from blazepose_support import people_clip

    from mocap_app.backends.blazepose import BlazePoseBackend, BlazePoseConfig
    from mocap_app.types import Frame

    images = people_clip(shared_data, 3)
    results = {}
    for mirror in (False, True):
        backend = BlazePoseBackend.from_store(BlazePoseConfig(max_people=4, mirror_average=mirror), root=models_root())
        results[mirror] = [backend(Frame(image, k, k / 10.0)) for k, image in enumerate(images)]
    for plain, averaged in zip(results[False], results[True], strict=True):
        assert len(averaged.people) == len(plain.people) > 0
        for a, b in zip(averaged.people, plain.people, strict=True):
            gap = np.nanmedian(np.linalg.norm(a.joints2d - b.joints2d, axis=1))
            assert 0.0 < gap < 15.0
            assert np.isfinite(a.joints3d).all()
