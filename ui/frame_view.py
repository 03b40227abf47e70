"""Frames made ready for the screen OFF the GUI thread: scaled to the panel, overlay drawn, as a QImage.

Converting and scaling a full camera frame costs several milliseconds per frame (a 1080p frame is
6 MB), and drawing it scaled in ``paintEvent`` costs more; both would run on the GUI thread. So
the pipeline worker does it: it scales the frame to the size the video panel reported, draws the
2D skeletons at that size and converts it to ``QImage.Format_RGB32`` (the raster engine's native
format), and the panel only blits it. ``QImage`` (unlike ``QPixmap``) may be made on any thread.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np
from PySide6.QtGui import QImage

from mocap_app.overlay import draw_observations
from mocap_app.types import FrameObservations


@dataclass(frozen=True)
class FrameView:
    """What the window gets with every processed frame.

    Attributes:
        display: the frame scaled to the video panel, 2D skeletons drawn (owned by the receiver).
        image: the full-resolution (H, W, 3) uint8 BGR frame without overlay, only while a
            consumer asked for it (the calibration wizard searches it for the board); else ``None``.
    """

    display: QImage
    image: np.ndarray | None = None


def fit_size(image_size: tuple[int, int], bounds: tuple[int, int] | None) -> tuple[int, int]:
    """(width, height) of an image of ``image_size`` scaled to fit ``bounds`` with its aspect kept.

    ``bounds`` ``None`` (or empty) keeps the image's own size.
    """
    width, height = image_size
    if bounds is None or bounds[0] < 1 or bounds[1] < 1:
        return width, height
    scale = min(bounds[0] / width, bounds[1] / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def scale_observations(observations: FrameObservations, scale: float) -> FrameObservations:
    """The same people with their 2D joints and boxes in the pixels of an image scaled by ``scale``."""
    if scale == 1.0:
        return observations
    people = tuple(dataclasses.replace(person, joints2d=np.asarray(person.joints2d) * scale,
                                       bbox=np.asarray(person.bbox) * scale) for person in observations.people)
    return dataclasses.replace(observations, people=people)


def bgr_to_qimage(image: np.ndarray) -> QImage:
    """A ``Format_RGB32`` QImage owning a copy of a (H, W, 3) uint8 BGR image (any thread)."""
    bgra = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_BGR2BGRA)
    height, width = bgra.shape[:2]
    return QImage(bgra.data, width, height, 4 * width, QImage.Format.Format_RGB32).copy()


def display_image(image: np.ndarray, bounds: tuple[int, int] | None,
                  observations: FrameObservations | None = None) -> QImage:
    """A (H, W, 3) uint8 BGR frame scaled to fit ``bounds`` (w, h), with ``observations`` drawn, as a QImage.

    The overlay is drawn after scaling, so its lines have the same width whatever the camera's
    resolution; ``image`` itself is never modified.
    """
    height, width = image.shape[:2]
    size = fit_size((width, height), bounds)
    if size == (width, height):
        scaled = image
    else:
        shrinking = size[0] < width
        scaled = cv2.resize(image, size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    if observations is not None and observations.people:
        scaled = draw_observations(scaled, scale_observations(observations, size[0] / width))
    return bgr_to_qimage(scaled)
