"""A dancer lost behind their partner comes back under their own id, not a new one.

Two people side by side; one is not detected for half a second (hidden behind the other) and is then
found again next to where they vanished, still overlapping the partner, so their torso box holds
both shirts and re-identification by look cannot be used. When the tentative newcomer is confirmed
it takes the lost performer's id (``adopt_lost_gate``); with the gate at 0 it gets a new id. The
assignment's own gates are made strict here (as for a dancer who comes back far from where their
motion predicted them), so only the new rule can give the id back. A person in another shirt
stepping there is covered by test_identity_overlap.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from mocap_app.skeletons import COCO17
from mocap_app.tracking.identity import IdentityTracker, TrackerConfig
from mocap_app.types import FrameObservations, Observation

_SHAPE = np.array([[0, -100], [-5, -106], [5, -106], [-10, -102], [10, -102], [-25, -75], [25, -75], [-30, -40],
                   [30, -40], [-32, -5], [32, -5], [-15, 0], [15, 0], [-15, 48], [15, 48], [-15, 95], [15, 95]],
                  float)
RED, BLUE = (40, 40, 220), (220, 60, 30)  # BGR shirts
FPS = 30.0


def _draw(image: np.ndarray, x: float, colour: tuple[int, int, int]) -> None:
    cv2.rectangle(image, (int(x - 28), 222), (int(x + 28), 302), colour, -1)        # shirt
    cv2.rectangle(image, (int(x - 20), 302), (int(x + 20), 395), (60, 60, 60), -1)  # trousers
    cv2.circle(image, (int(x), 200), 14, (150, 170, 210), -1)                       # head


def _person(x: float) -> Observation:
    joints = (_SHAPE + [x, 300.0]).astype(np.float32)
    return Observation(COCO17.name, joints, np.full(17, 0.9, np.float32),
                       np.concatenate([joints.min(axis=0), joints.max(axis=0)]))


def _ids_after_comeback(config: TrackerConfig) -> tuple[int, int, int]:
    """Red's id, blue's id before hiding, blue's id once confirmed after coming back."""
    tracker = IdentityTracker(config)
    image = np.full((480, 640, 3), 190, np.uint8)
    _draw(image, 200, RED)
    _draw(image, 330, BLUE)
    f = 0
    for f in range(15):                                           # both seen apart: looks learned
        people = tracker.update(FrameObservations(f, f / FPS, 640, 480, (_person(200), _person(330))), image)
    red, blue = (p.performer_id for p in sorted(people, key=lambda p: p.index))
    for f in range(15, 30):                                       # blue hidden behind red
        tracker.update(FrameObservations(f, f / FPS, 640, 480, (_person(200),)), image)
    close = np.full((480, 640, 3), 190, np.uint8)
    _draw(close, 230, BLUE)                                       # blue back beside red, overlapping
    _draw(close, 200, RED)
    back = None
    for f in range(30, 30 + config.confirm_frames + 2):
        people = tracker.update(FrameObservations(f, f / FPS, 640, 480, (_person(200), _person(230))), close)
        back = next((p.performer_id for p in people if p.index == 1), back)
    assert back is not None
    return red, blue, back


STRICT = TrackerConfig(max_cost=0.2, near_gate=0.05, lost_2d_growth=0.0)


def test_a_dancer_found_again_where_they_vanished_gets_their_id_back():
    red, blue, back = _ids_after_comeback(STRICT)
    assert red != blue and back == blue


def test_without_the_gate_the_dancer_found_again_is_a_new_performer():
    red, blue, back = _ids_after_comeback(dataclasses.replace(STRICT, adopt_lost_gate=0.0))
    assert back not in (red, blue)
