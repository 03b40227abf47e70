"""Hiding the people already tracked, so BlazePose can see the one behind or beside them.

BlazePose is single-person: its landmark network reads whoever is most prominent in a region, and
its detector, shown two overlapping dancers, reports one box or two boxes with their hip keypoints
pulled towards each other. Either way the region meant for the second dancer ends on the first,
the track is merged away, and the second dancer stays untracked for as long as they overlap.

The landmark network also outputs a segmentation of the person it reads. Kept per track as a
:class:`PersonMask` (image pixels, the segmentation restricted to a band around the person's own
landmarks, since the segmentation bleeds onto a neighbour's nearest limbs), it lets the backend
hide the *other* tracked people (filled with their surroundings) before

* the detector's passes (the hidden person is then the only one there, found with an unbiased hip
  keypoint), and
* each track's landmark crop (a track's region cannot slide onto a neighbour it cannot see).

A tracked person in front of another hides part of them; hiding the front person leaves the
visible parts of the one behind, which is what the landmark network needs.

Shapes: landmarks (33, 2) image pixels; a segmentation (S, S) logits in the crop's input pixels;
``matrix`` (2, 3) image -> crop input affine.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from engines.preprocessing import SquareRoi

from ..skeletons import BLAZEPOSE33
from .blazepose_people import FACE_LANDMARKS

#: Segmentation logit above which a crop pixel belongs to the person (probability 0.5).
SEGMENTATION_LOGIT = 0.0
#: Half-width of the band around a person's bones that their mask is kept within, in body radii
#: (a forearm's width is about 0.1 radii, a thigh's 0.2; the torso is filled in; a neighbour's limb
#: further away than this is not painted even where the segmentation bled onto it).
BAND_RADII = 0.25
#: The same around the face landmarks, which sit on the front of a head about 0.2 radii wide: a
#: partner's head beside this one (dancers cheek to cheek) is often all that shows of them, and a
#: band as wide as the limbs' erased it with this person.
FACE_BAND_RADII = 0.12
#: Growth of a mask, in body radii: last frame's mask of a moving person lags a few pixels.
GROW_RADII = 0.03
#: Hidden people are filled with their surroundings inpainted at 1 / INPAINT_SCALE resolution.
INPAINT_SCALE = 4
#: Coarse pixels of surroundings around the masks that the inpainting continues from.
INPAINT_MARGIN = 4

_BONES = BLAZEPOSE33.bones
_FACE = set(FACE_LANDMARKS)
_TORSO = BLAZEPOSE33.indices(["left_shoulder", "right_shoulder", "right_hip", "left_hip"])


@dataclass(frozen=True, eq=False)
class PersonMask:
    """Where one tracked person is in the image.

    Attributes:
        mask: (h, w) bool window of the image, ``True`` on the person.
        x0, y0: image pixel of the window's top-left corner.
    """

    mask: np.ndarray
    x0: int
    y0: int

    @property
    def box(self) -> np.ndarray:
        """(4,) ``x0, y0, x1, y1`` of the window, image pixels."""
        height, width = self.mask.shape
        return np.array([self.x0, self.y0, self.x0 + width, self.y0 + height], dtype=np.float64)


def person_mask(segmentation: np.ndarray, matrix: np.ndarray, landmarks: np.ndarray, radius: float,
                image_shape: tuple[int, ...]) -> PersonMask | None:
    """The tracked person's mask in image pixels, from the landmark network's segmentation.

    Args:
        segmentation: (S, S) logits over the crop the landmarks were read from.
        matrix: (2, 3) image -> crop affine of that crop.
        landmarks: (33, 2) the person's body landmarks, image pixels.
        radius: the person's body radius, pixels (scales the band and the growth).
        image_shape: the frame's shape (H, W, ...).

    Returns:
        The mask, or ``None`` when it is empty or outside the image.
    """
    height, width = image_shape[:2]
    size = segmentation.shape[0]
    corners = np.array([[0, 0], [size, 0], [0, size], [size, size]], dtype=np.float64)
    inverse = cv2.invertAffineTransform(np.asarray(matrix, dtype=np.float64))
    in_image = corners @ inverse[:, :2].T + inverse[:, 2]
    x0, y0 = np.clip(np.floor(in_image.min(axis=0)), 0, [width, height]).astype(int)
    x1, y1 = np.clip(np.ceil(in_image.max(axis=0)), 0, [width, height]).astype(int)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    # Window pixel (u, v) is image pixel (u + x0, v + y0): shift the image -> crop map accordingly.
    shifted = np.array(matrix, dtype=np.float64)
    shifted[:, 2] += shifted[:, :2] @ np.array([x0, y0], dtype=np.float64)
    logits = cv2.warpAffine(segmentation.astype(np.float32), shifted, (int(x1 - x0), int(y1 - y0)),
                            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderValue=-1.0)
    band = _body_band(np.asarray(landmarks, dtype=np.float64) - [x0, y0], radius, logits.shape)
    mask = ((logits > SEGMENTATION_LOGIT) & band).astype(np.uint8)
    grow = int(round(GROW_RADII * radius))
    if grow > 0:
        mask = cv2.dilate(mask, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    if not mask.any():
        return None
    return PersonMask(mask.astype(bool), int(x0), int(y0))


def _body_band(points: np.ndarray, radius: float, shape: tuple[int, int]) -> np.ndarray:
    """(h, w) bool: within ``BAND_RADII`` body radii of the person's bones (``FACE_BAND_RADII`` of the
    face's) or inside their torso."""
    band = np.zeros(shape, dtype=np.uint8)
    limb = max(1, int(round(2 * BAND_RADII * radius)))
    face = max(1, int(round(2 * FACE_BAND_RADII * radius)))
    finite = np.isfinite(points).all(axis=1)
    pixel = np.round(np.nan_to_num(points)).astype(np.int32)
    for parent, child in _BONES:
        if finite[parent] and finite[child]:
            thickness = face if parent in _FACE and child in _FACE else limb
            cv2.line(band, tuple(pixel[parent]), tuple(pixel[child]), 1, thickness)
    if finite[_TORSO].all():
        cv2.fillConvexPoly(band, pixel[_TORSO], 1)
    return band.astype(bool)


def region_box(roi: SquareRoi) -> np.ndarray:
    """(4,) upright box holding a (possibly rotated) square region, image pixels."""
    half = 0.5 * np.sqrt(2.0) * float(roi.size)
    x, y = (float(v) for v in roi.center)
    return np.array([x - half, y - half, x + half, y + half])


def boxes_overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two (4,) ``x0, y0, x1, y1`` boxes intersect."""
    return bool(a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])


def hidden_fraction(points: np.ndarray, masks: list[PersonMask]) -> float:
    """Fraction of (N, 2) image ``points`` that fall on any of ``masks`` (0 for no points)."""
    points = np.asarray(points, dtype=np.float64)
    if not len(points):
        return 0.0
    pixel = np.round(np.nan_to_num(points, nan=-1.0)).astype(int)
    hidden = np.zeros(len(points), dtype=bool)
    for m in masks:
        u, v = pixel[:, 0] - m.x0, pixel[:, 1] - m.y0
        height, width = m.mask.shape
        inside = (u >= 0) & (u < width) & (v >= 0) & (v < height)
        hidden[inside] |= m.mask[v[inside], u[inside]]
    return float(hidden.mean())


def hide_people(image: np.ndarray, masks: list[PersonMask], region: np.ndarray | None = None) -> np.ndarray:
    """``image`` with the masked people hidden (a copy; ``image`` itself when nothing to paint).

    Args:
        image: (H, W, 3) uint8 BGR frame.
        masks: the people to hide.
        region: (4,) box the result will be read in; masks outside it are skipped (``None``: all).
    """
    masks = [m for m in masks if region is None or boxes_overlap(m.box, region)]
    if not masks:
        return image
    height, width = image.shape[:2]
    boxes = np.array([m.box for m in masks])
    margin = INPAINT_MARGIN * INPAINT_SCALE  # surroundings to continue over the masks
    low, high = boxes[:, :2].min(axis=0), boxes[:, 2:].max(axis=0)
    if region is not None:  # only what the region shows (and the surroundings it continues from) is filled
        low, high = np.maximum(low, np.floor(region[:2])), np.minimum(high, np.ceil(region[2:]))
    x0, y0 = (max(int(v) - margin, 0) for v in low)
    x1, y1 = min(int(high[0]) + margin, width), min(int(high[1]) + margin, height)
    union = np.zeros((y1 - y0, x1 - x0), dtype=bool)
    for m in masks:  # each mask's part inside the window
        h, w = m.mask.shape
        u0, v0 = max(x0 - m.x0, 0), max(y0 - m.y0, 0)
        u1, v1 = min(x1 - m.x0, w), min(y1 - m.y0, h)
        if u1 > u0 and v1 > v0:
            union[m.y0 + v0 - y0:m.y0 + v1 - y0, m.x0 + u0 - x0:m.x0 + u1 - x0] |= m.mask[v0:v1, u0:u1]
    hidden = image.copy()
    window = hidden[y0:y1, x0:x1]
    union = union.astype(np.uint8)
    cv2.copyTo(_background_fill(window, union), union, window)
    return hidden


def _background_fill(window: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(h, w, 3) the window's background continued over ``mask`` (inpainted at a coarse scale).

    A flat grey would leave a person-shaped silhouette, which the detector takes for a person;
    the surroundings smeared over the mask leave no such outline.
    """
    h, w = mask.shape
    small = (max(1, w // INPAINT_SCALE), max(1, h // INPAINT_SCALE))
    coarse_mask = cv2.resize(mask, small, interpolation=cv2.INTER_AREA)
    coarse_mask = cv2.dilate((coarse_mask > 0).astype(np.uint8), np.ones((3, 3), np.uint8))
    coarse = cv2.inpaint(cv2.resize(window, small, interpolation=cv2.INTER_AREA), coarse_mask, 3, cv2.INPAINT_TELEA)
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR)
