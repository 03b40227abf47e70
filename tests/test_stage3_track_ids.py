"""Stage III hands the 2D overlay each frame's observations with their performer ids (``track_id``)."""

from __future__ import annotations

import numpy as np

from mocap_app.fitting.camera import FitCamera
from mocap_app.pipeline.stage3 import Stage3
from mocap_app.skeletons import COCO17
from mocap_app.types import FrameObservations, Observation

_SHAPE = np.array([[0, -80], [-5, -85], [5, -85], [-10, -82], [10, -82], [-20, -60], [20, -60], [-25, -30],
                   [25, -30], [-25, 0], [25, 0], [-12, 0], [12, 0], [-12, 45], [12, 45], [-12, 90], [12, 90]], float)


def _person(x: float, seen: bool = True) -> Observation:
    confidence = np.full(17, 0.9 if seen else 0.0, np.float32)
    return Observation(COCO17.name, (_SHAPE + [x, 250]).astype(np.float32), confidence,
                       np.array([x - 30, 160, x + 30, 340], np.float32))


def test_observations_carry_the_performer_ids_of_the_motion():
    stage3 = Stage3(FitCamera.uncalibrated(640, 480))
    for f in range(5):
        people = (_person(150 + f), _person(450 - f), _person(300, seen=False))
        motion = stage3.process(FrameObservations(f, f / 30, 640, 480, people))
        labelled = stage3.tracked_observations.people
        assert len(labelled) == 3 and labelled[2].track_id is None  # nobody to track: no id, still shown
        assert {p.track_id for p in labelled[:2]} == {m.performer_id for m in motion}
        assert labelled[0].track_id != labelled[1].track_id
        assert labelled[0].joints2d[0, 0] < labelled[1].joints2d[0, 0]  # order of the frame kept
