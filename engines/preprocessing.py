"""Image -> network input: square (rotated) crops by affine warp, letterboxing, normalisation.

Pure functions on numpy arrays, tested alone. Every crop is described by the 2x3 affine matrix that
maps image pixels to input pixels, so mapping network outputs back is one inverse transform.

Pixel convention: as OpenCV's warp, the integer coordinate is a pixel's centre. A square region
with centre ``c`` and side ``s`` maps its corners onto the corners ``0`` and ``size`` of the
input, as MediaPipe's ImageToTensorCalculator does, so outputs map back exactly as it maps them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: Border modes by the names used in model sidecars.
BORDERS = {"zero": cv2.BORDER_CONSTANT, "replicate": cv2.BORDER_REPLICATE}


@dataclass(frozen=True, slots=True)
class SquareRoi:
    """A square region of an image, possibly rotated.

    Attributes:
        center: (2,) float64 centre x, y in image pixels.
        size: side length in image pixels.
        rotation: radians; the region's "up" axis is the image's up axis turned by this angle
            (positive: clockwise on screen, since image y points down).
    """

    center: np.ndarray
    size: float
    rotation: float = 0.0

    def corners(self) -> np.ndarray:
        """(4, 2) corners in image pixels: top-left, top-right, bottom-right, bottom-left of the crop."""
        unit = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]])
        return self.center + self.size * unit @ rotation_matrix(self.rotation).T

    def bbox(self) -> np.ndarray:
        """(4,) axis-aligned box ``x0, y0, x1, y1`` around the (rotated) region, pixels."""
        corners = self.corners()
        return np.concatenate([corners.min(axis=0), corners.max(axis=0)])


def rotation_matrix(angle: float) -> np.ndarray:
    """(2, 2) rotation by ``angle`` radians in image axes (x right, y down)."""
    cos, sin = np.cos(angle), np.sin(angle)
    return np.array([[cos, -sin], [sin, cos]])


def roi_to_input_matrix(roi: SquareRoi, input_size: int) -> np.ndarray:
    """(2, 3) affine taking image pixels to input pixels of a ``input_size`` square crop of ``roi``.

    The inverse maps input pixel ``p`` to ``center + size * R(rotation) @ (p / input_size - 0.5)``.
    """
    scale = input_size / roi.size
    rotation_inverse = rotation_matrix(roi.rotation).T
    linear = scale * rotation_inverse
    offset = input_size / 2.0 - linear @ np.asarray(roi.center, dtype=np.float64)
    return np.hstack([linear, offset[:, None]])


def letterbox_roi(width: int, height: int) -> SquareRoi:
    """The square region that holds the whole image centred, padded on its short side."""
    return SquareRoi(center=np.array([width / 2.0, height / 2.0]), size=float(max(width, height)))


def crop(image: np.ndarray, roi: SquareRoi, input_size: int, border: str = "zero") -> tuple[np.ndarray, np.ndarray]:
    """Warp the region ``roi`` of ``image`` into an ``input_size`` square (bilinear).

    Args:
        image: (H, W, 3) uint8 image (any channel order; kept).
        roi: the region, image pixels.
        input_size: side of the output, pixels.
        border: ``"zero"`` or ``"replicate"`` for parts of the region outside the image.

    Returns:
        ``(crop, matrix)``: (input_size, input_size, 3) uint8 and the (2, 3) image->crop affine.
    """
    if border not in BORDERS:
        raise ValueError(f"Unknown border {border!r}; valid: {', '.join(BORDERS)}.")
    matrix = roi_to_input_matrix(roi, input_size)
    warped = cv2.warpAffine(image, matrix, (input_size, input_size), flags=cv2.INTER_LINEAR,
                            borderMode=BORDERS[border], borderValue=(0, 0, 0))
    return warped, matrix


def letterbox(image: np.ndarray, input_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Fit the whole image into an ``input_size`` square keeping its aspect ratio, zero padding.

    Returns:
        ``(image, matrix)`` as :func:`crop`.
    """
    height, width = image.shape[:2]
    return crop(image, letterbox_roi(width, height), input_size, border="zero")


def normalise(image: np.ndarray, low: float, high: float) -> np.ndarray:
    """uint8 (H, W, C) -> float32 (H, W, C) with 0 -> ``low`` and 255 -> ``high``."""
    return image.astype(np.float32) * np.float32((high - low) / 255.0) + np.float32(low)


def to_image(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Map (..., 2) input pixels back to image pixels through the inverse of the 2x3 ``matrix``."""
    inverse = cv2.invertAffineTransform(np.asarray(matrix, dtype=np.float64))
    return np.asarray(points, dtype=np.float64) @ inverse[:, :2].T + inverse[:, 2]


def letterbox_rect(image: np.ndarray, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Fit the whole image into a ``height x width`` input keeping its aspect ratio, centred, zero padding.

    Returns:
        ``(image, matrix)``: (height, width, C) uint8 and the (2, 3) image->input affine.
    """
    rows, cols = image.shape[:2]
    scale = min(width / cols, height / rows)
    matrix = np.array([[scale, 0.0, (width - scale * cols) / 2.0], [0.0, scale, (height - scale * rows) / 2.0]])
    warped = cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                            borderValue=(0, 0, 0))
    return warped, matrix
