"""Drawing what the pipeline saw onto a video frame: one colour and id label per performer.

Shared by everything that shows 2D skeletons (the GUI's video panel, ``--overlay`` video output),
so a performer has the same colour in the video, in the 3D view and in the takes list. Bones come
from the observation's own joint-set schema (:mod:`mocap_app.skeletons`), never from index lists.
"""

from __future__ import annotations

import cv2
import numpy as np

from .skeletons import get_skeleton
from .types import FrameObservations, Observation

#: Distinct, colour-blind-friendly performer colours (Okabe-Ito), RGB 0..255, cycled by performer id.
PERFORMER_COLOURS_RGB: tuple[tuple[int, int, int], ...] = (
    (230, 159, 0),    # orange
    (86, 180, 233),   # sky blue
    (0, 158, 115),    # bluish green
    (240, 228, 66),   # yellow
    (204, 121, 167),  # reddish purple
    (213, 94, 0),     # vermilion
    (0, 114, 178),    # blue
)
#: Colour of people the tracker has not given an id yet, RGB.
UNTRACKED_RGB = (200, 200, 200)
#: Joints below this confidence are not drawn.
MIN_DRAW_CONFIDENCE = 0.3
#: Line thickness and joint radius at a 720-pixel-high image; scaled with the image height.
BONE_THICKNESS_720P = 3
JOINT_RADIUS_720P = 4
REFERENCE_HEIGHT = 720.0
LABEL_FONT = cv2.FONT_HERSHEY_SIMPLEX
LABEL_SCALE_720P = 0.7


def performer_colour(performer_id: int | None) -> tuple[int, int, int]:
    """RGB 0..255 colour of a performer; the same id always gets the same colour."""
    if performer_id is None or performer_id < 0:
        return UNTRACKED_RGB
    return PERFORMER_COLOURS_RGB[performer_id % len(PERFORMER_COLOURS_RGB)]


def draw_observation(image: np.ndarray, observation: Observation, label: str | None = None,
                     min_confidence: float = MIN_DRAW_CONFIDENCE) -> None:
    """Draw one person's 2D skeleton, bounding box corner label and joints onto ``image`` in place.

    Args:
        image: (H, W, 3) uint8 BGR, modified in place.
        observation: the person; joints with NaN or low confidence are skipped.
        label: text written above the box (e.g. ``"#2"``); ``None`` writes the track id when known.
        min_confidence: joints below this confidence are not drawn.
    """
    scale = max(image.shape[0] / REFERENCE_HEIGHT, 0.5)
    thickness = max(1, round(BONE_THICKNESS_720P * scale))
    radius = max(2, round(JOINT_RADIUS_720P * scale))
    red, green, blue = performer_colour(observation.track_id)
    colour = (blue, green, red)
    points = np.asarray(observation.joints2d, dtype=np.float64)
    visible = np.isfinite(points).all(axis=1) & (np.asarray(observation.confidence) >= min_confidence)
    schema = get_skeleton(observation.joint_set)
    for parent, child in schema.bones:
        if visible[parent] and visible[child]:
            cv2.line(image, _pixel(points[parent]), _pixel(points[child]), colour, thickness, cv2.LINE_AA)
    for joint in np.flatnonzero(visible):
        cv2.circle(image, _pixel(points[joint]), radius, colour, -1, cv2.LINE_AA)
    text = label if label is not None else (f"#{observation.track_id}" if observation.track_id is not None else "")
    if text and np.all(np.isfinite(observation.bbox)):
        x0, y0 = int(observation.bbox[0]), int(observation.bbox[1])
        font_scale = LABEL_SCALE_720P * scale
        (width, height), baseline = cv2.getTextSize(text, LABEL_FONT, font_scale, thickness)
        top = max(0, y0 - height - baseline - 2 * thickness)
        cv2.rectangle(image, (x0, top), (x0 + width + 2 * thickness, top + height + baseline + 2 * thickness),
                      colour, -1)
        cv2.putText(image, text, (x0 + thickness, top + height + thickness), LABEL_FONT, font_scale, (0, 0, 0),
                    max(1, thickness // 2), cv2.LINE_AA)


def draw_observations(image: np.ndarray, observations: FrameObservations,
                      min_confidence: float = MIN_DRAW_CONFIDENCE) -> np.ndarray:
    """A copy of ``image`` (H, W, 3) uint8 BGR with every person of ``observations`` drawn on it."""
    canvas = np.ascontiguousarray(image).copy()
    for observation in observations.people:
        draw_observation(canvas, observation, min_confidence=min_confidence)
    return canvas


def _pixel(point: np.ndarray) -> tuple[int, int]:
    return int(round(float(point[0]))), int(round(float(point[1])))
