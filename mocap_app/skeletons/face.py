"""COCO-17 keypoints from motion capture: the body joints as they are, the face estimated from the head.

Motion-capture skeletons (``vnect21``) have a head joint but no nose, eyes or ears. Those five are
placed on a head-sized sphere from three directions: *up* (neck -> head), *left* (right shoulder ->
left shoulder, made orthogonal to up) and *forward* (left x up, the way the chest faces; a head turned
relative to the chest is not captured). Distances are typical adult head measurements. This is the
one definition of the approximation; PRN training and evaluation on synthetic crowds use it.
"""

from __future__ import annotations

import numpy as np

from .keypoint_sets import COCO17, VNECT21
from .mappings import map_joints

#: Head centre above the head joint (the skull base in CMU skeletons), along neck -> head, metres.
HEAD_CENTRE_ABOVE_M = 0.07
#: Face points relative to the head centre: (forward, up, left) metres.
FACE_OFFSETS_M: dict[str, tuple[float, float, float]] = {
    "nose": (0.10, -0.01, 0.0),
    "left_eye": (0.085, 0.025, 0.032),
    "right_eye": (0.085, 0.025, -0.032),
    "left_ear": (0.0, 0.0, 0.075),
    "right_ear": (0.0, 0.0, -0.075),
}


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-9)


def coco17_from_vnect21(points: np.ndarray) -> np.ndarray:
    """(..., 21, 3) ``vnect21`` world points (metres, y up) -> (..., 17, 3) ``coco17`` points.

    Body joints are copied by name (the ``vnect21 -> coco17`` mapping); the face comes from
    :data:`FACE_OFFSETS_M`. NaN where a needed joint is missing.
    """
    points = np.asarray(points, dtype=np.float64)
    result = map_joints(points, VNECT21.name, COCO17.name)
    neck, head = points[..., VNECT21.index("neck"), :], points[..., VNECT21.index("head"), :]
    up = _unit(head - neck)
    left = points[..., VNECT21.index("left_shoulder"), :] - points[..., VNECT21.index("right_shoulder"), :]
    left = _unit(left - (left * up).sum(axis=-1, keepdims=True) * up)
    forward = np.cross(left, up)
    centre = head + HEAD_CENTRE_ABOVE_M * up
    for name, (f, u, s) in FACE_OFFSETS_M.items():
        result[..., COCO17.index(name), :] = centre + f * forward + u * up + s * left
    return result
