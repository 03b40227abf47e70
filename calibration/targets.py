"""Calibration targets: what a printed board looks like and how to find it in an image.

A target knows its 3D corner layout in metres (:meth:`CalibrationTarget.object_points`) and finds
its corners in a picture (:meth:`CalibrationTarget.detect`). Detection always returns a
:class:`BoardDetection` with a fixed-size corner array, NaN where nothing was found, plus a reason
when the board was not found, so that a whole image set can be summarised for the user ("12 found,
3 too dark, 2 too blurry").

The checkerboard is found with OpenCV's sector-based detector (``findChessboardCornersSB``, which is
sub-pixel accurate by construction) and, where that fails, with the classic detector followed by
``cornerSubPix``.
"""

from __future__ import annotations

import enum
import logging
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass

import cv2
import numpy as np

from mocap_app.errors import CalibrationError

logger = logging.getLogger(__name__)

#: Sector-based detector flags tried first: normalise contrast, refine to the highest accuracy.
SB_FLAGS_ACCURATE = cv2.CALIB_CB_NORMALIZE_IMAGE | cv2.CALIB_CB_ACCURACY
#: Sector-based detector flags tried second: a slower, exhaustive search over board hypotheses.
SB_FLAGS_EXHAUSTIVE = cv2.CALIB_CB_NORMALIZE_IMAGE | cv2.CALIB_CB_EXHAUSTIVE
#: Classic detector flags for the last attempt.
CLASSIC_FLAGS = cv2.CALIB_CB_ADAPTIVE_THRESH | cv2.CALIB_CB_NORMALIZE_IMAGE
#: cornerSubPix stopping rule after the classic detector: 30 iterations or 0.01 px movement.
SUBPIX_CRITERIA = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 0.01)
#: cornerSubPix half window (px) and dead zone (none).
SUBPIX_WINDOW = (5, 5)
SUBPIX_ZERO_ZONE = (-1, -1)
#: Mean grey level (0-255) below which an image without a board is reported as too dark.
DARK_MEAN_LEVEL = 35.0
#: Variance of the Laplacian below which an image without a board is reported as too blurry.
BLUR_LAPLACIAN_VARIANCE = 15.0


class DetectionStatus(enum.Enum):
    """Why a view can or cannot be used."""

    FOUND = "board found"
    NOT_FOUND = "no board found"
    TOO_DARK = "too dark"
    TOO_BLURRY = "too blurry"
    UNREADABLE = "unreadable image"


@dataclass(frozen=True, eq=False)
class BoardDetection:
    """The corners of one target in one image.

    Attributes:
        corners: (N, 2) float64 pixel positions of the target's N corners in the order of
            :meth:`CalibrationTarget.object_points`; all NaN when the board was not found.
        status: found, or why not.
        image_size: (width, height) of the image, pixels.
        method: the detector that succeeded ("sector", "sector-exhaustive", "classic") or "".
    """

    corners: np.ndarray
    status: DetectionStatus
    image_size: tuple[int, int]
    method: str = ""

    @property
    def found(self) -> bool:
        return self.status is DetectionStatus.FOUND


class CalibrationTarget(ABC):
    """A printed calibration target with a known geometry."""

    @property
    @abstractmethod
    def num_corners(self) -> int:
        """Number of corners the detector returns for a complete view."""

    @abstractmethod
    def object_points(self) -> np.ndarray:
        """(N, 3) float32 corner positions on the board plane (z = 0), metres."""

    @abstractmethod
    def detect(self, image: np.ndarray) -> BoardDetection:
        """Find the target in a (H, W) grey or (H, W, 3) BGR uint8 image."""

    @abstractmethod
    def describe(self) -> str:
        """One line a user recognises, e.g. "9x6 inner corners, 25.0 mm squares"."""


class Checkerboard(CalibrationTarget):
    """A chessboard counted by its INNER corners (a board of 10x7 squares has 9x6 inner corners).

    Example:
        >>> board = Checkerboard(9, 6, 0.025)
        >>> board.object_points().shape
        (54, 3)
    """

    def __init__(self, columns: int, rows: int, square_m: float) -> None:
        if columns < 3 or rows < 3:
            raise CalibrationError(f"A checkerboard needs at least 3x3 inner corners, got {columns}x{rows}. "
                                   "Count the INNER corners: a board of 10x7 squares is --board 9x6.")
        if columns == rows:
            raise CalibrationError(f"A square {columns}x{rows} board is ambiguous under rotation; "
                                   "use a board with different column and row counts, e.g. 9x6.")
        if not np.isfinite(square_m) or square_m <= 0:
            raise CalibrationError(f"The square size must be a positive length in metres, got {square_m}.")
        self.columns = int(columns)
        self.rows = int(rows)
        self.square_m = float(square_m)

    @classmethod
    def from_spec(cls, spec: str, square_m: float) -> Checkerboard:
        """Parse a "COLUMNSxROWS" string such as "9x6" (inner corners)."""
        match = re.fullmatch(r"\s*(\d+)\s*[xX*]\s*(\d+)\s*", spec)
        if match is None:
            raise CalibrationError(f"Board size '{spec}' is not COLUMNSxROWS of inner corners, e.g. --board 9x6.")
        return cls(int(match.group(1)), int(match.group(2)), square_m)

    @property
    def pattern_size(self) -> tuple[int, int]:
        return (self.columns, self.rows)

    @property
    def num_corners(self) -> int:
        return self.columns * self.rows

    def describe(self) -> str:
        return f"{self.columns}x{self.rows} inner corners, {1000 * self.square_m:.1f} mm squares"

    def object_points(self) -> np.ndarray:
        grid = np.mgrid[0:self.columns, 0:self.rows].T.reshape(-1, 2)
        points = np.zeros((self.num_corners, 3), dtype=np.float32)
        points[:, :2] = grid * self.square_m
        return points

    def centre(self) -> np.ndarray:
        """(3,) the board's centre on its plane, metres (the same for both 180-degree readings)."""
        return np.array([(self.columns - 1) / 2.0, (self.rows - 1) / 2.0, 0.0]) * self.square_m

    def detect(self, image: np.ndarray) -> BoardDetection:
        grey = _to_grey(image)
        size = (int(grey.shape[1]), int(grey.shape[0]))
        missing = np.full((self.num_corners, 2), np.nan)
        if grey.size == 0:
            return BoardDetection(missing, DetectionStatus.UNREADABLE, size)
        for method, flags in (("sector", SB_FLAGS_ACCURATE), ("sector-exhaustive", SB_FLAGS_EXHAUSTIVE)):
            ok, corners = cv2.findChessboardCornersSB(grey, self.pattern_size, flags=flags)
            if ok and corners is not None and len(corners) == self.num_corners:
                return BoardDetection(corners.reshape(-1, 2).astype(np.float64), DetectionStatus.FOUND, size, method)
        ok, corners = cv2.findChessboardCorners(grey, self.pattern_size, flags=CLASSIC_FLAGS)
        if ok and corners is not None and len(corners) == self.num_corners:
            refined = cv2.cornerSubPix(grey, corners.astype(np.float32), SUBPIX_WINDOW, SUBPIX_ZERO_ZONE,
                                       SUBPIX_CRITERIA)
            return BoardDetection(refined.reshape(-1, 2).astype(np.float64), DetectionStatus.FOUND, size, "classic")
        return BoardDetection(missing, _why_not_found(grey), size)


def _to_grey(image: np.ndarray) -> np.ndarray:
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 3:
        array = cv2.cvtColor(array, cv2.COLOR_BGR2GRAY)
    elif array.ndim == 3 and array.shape[2] == 4:
        array = cv2.cvtColor(array, cv2.COLOR_BGRA2GRAY)
    elif array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim != 2:
        raise CalibrationError(f"Expected a grey or BGR image, got an array of shape {array.shape}.")
    if array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    return array


def _why_not_found(grey: np.ndarray) -> DetectionStatus:
    """Tell the user the likely cause of a miss: light, focus, or simply no (such) board."""
    if float(grey.mean()) < DARK_MEAN_LEVEL:
        return DetectionStatus.TOO_DARK
    if float(cv2.Laplacian(grey, cv2.CV_64F).var()) < BLUR_LAPLACIAN_VARIANCE:
        return DetectionStatus.TOO_BLURRY
    return DetectionStatus.NOT_FOUND
