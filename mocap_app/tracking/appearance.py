"""What a performer looks like: hue-saturation histograms of the torso box (XNect Ch. 8.3.1).

Two performers are told apart by the colours of their torso. A torso box that covers part of
another person (two dancers overlapping) holds both people's colours, so :func:`mixed_boxes` says
which boxes overlap someone else: the tracker neither learns from nor judges by such a look.

Boxes are (4,) ``(x0, y0, x1, y1)`` image pixels; histograms are (900,) and sum to 1.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..skeletons import RIG

#: Hue and saturation bins of the appearance histogram (XNect: 30 each).
HS_BINS = (30, 30)
#: Rig joints whose bounding box is the torso box.
TORSO_JOINTS = RIG.indices(["LeftArm", "RightArm", "LeftUpLeg", "RightUpLeg"])


def appearance_histogram(image: np.ndarray, box: np.ndarray) -> np.ndarray | None:
    """Normalised (30 * 30,) hue-saturation histogram of ``box`` (x0, y0, x1, y1) in a BGR image."""
    height, width = image.shape[:2]
    x0, y0, x1, y1 = (int(round(v)) for v in np.nan_to_num(box))
    x0, x1 = max(0, min(x0, x1)), min(width, max(x0, x1))
    y0, y1 = max(0, min(y0, y1)), min(height, max(y0, y1))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    hsv = cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, list(HS_BINS), [0, 180, 0, 256]).ravel().astype(np.float64)
    total = hist.sum()
    return hist / total if total > 0 else None


def hellinger(p: np.ndarray, q: np.ndarray) -> float:
    """Hellinger distance of two normalised histograms, in [0, 1] (0: identical)."""
    return float(np.sqrt(max(0.0, 1.0 - np.sum(np.sqrt(p * q)))))


def joints_box(rig2d: np.ndarray, joints: np.ndarray | None = None, min_joints: int = 2) -> np.ndarray | None:
    """(4,) bounding box of the finite rows of (J, 2) ``rig2d`` (only ``joints`` if given); ``None`` if too few."""
    points = rig2d if joints is None else rig2d[joints]
    points = points[np.isfinite(points).all(axis=1)]
    if len(points) < min_joints:
        return None
    return np.concatenate([points.min(axis=0), points.max(axis=0)])


def torso_box(rig2d: np.ndarray) -> np.ndarray | None:
    """(4,) box of the shoulders and hips of (J, 2) rig pixels (at least three of them seen)."""
    return joints_box(rig2d, TORSO_JOINTS, min_joints=3)


def covered_fraction(box: np.ndarray, other: np.ndarray) -> float:
    """Fraction of ``box``'s area that ``other`` covers, in [0, 1]."""
    width = min(box[2], other[2]) - max(box[0], other[0])
    height = min(box[3], other[3]) - max(box[1], other[1])
    area = (box[2] - box[0]) * (box[3] - box[1])
    if width <= 0 or height <= 0 or area <= 0:
        return 0.0
    return float(width * height / area)


def mixed_boxes(torsos: list[np.ndarray | None], bodies: list[np.ndarray | None], limit: float) -> list[bool]:
    """Which torso boxes have more than ``limit`` of their area covered by another person's body box.

    ``torsos[i]`` and ``bodies[i]`` belong to person ``i``; a missing torso box counts as mixed (no
    clean look), a missing body box covers nothing.
    """
    mixed = []
    for i, torso in enumerate(torsos):
        if torso is None:
            mixed.append(True)
            continue
        mixed.append(any(k != i and body is not None and covered_fraction(torso, body) > limit
                         for k, body in enumerate(bodies)))
    return mixed
