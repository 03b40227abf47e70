"""Camera intrinsics from many views of a checkerboard.

The flow: detections of one target in many images -> :func:`select_views` keeps a subset that
covers the image and spans board tilts -> :func:`check_view_set` refuses sets that cannot
determine the focal length -> OpenCV ``calibrateCameraExtended`` with a 5-term distortion model ->
views that disagree with the others are dropped once and the camera is solved again -> an
:class:`IntrinsicsResult` with the overall and per-view RMS reprojection error in pixels.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from mocap_app.errors import CalibrationError

from .targets import BoardDetection, CalibrationTarget

logger = logging.getLogger(__name__)

#: Fewest usable views before calibration is refused.
MIN_VIEWS = 5
#: Most views passed to calibrateCamera; more add time but little accuracy.
DEFAULT_MAX_VIEWS = 40
#: The largest board tilt in the set must reach this, or the focal length is unobservable.
MIN_MAX_TILT_DEG = 12.0
#: A result with a larger overall RMS reprojection error (px) is refused.
MAX_RMS_PX = 2.0
#: A view is dropped when its RMS exceeds both this factor times the median and OUTLIER_MIN_PX.
OUTLIER_FACTOR = 3.0
OUTLIER_MIN_PX = 1.0
#: calibrateCamera stopping rule.
CALIB_CRITERIA = (cv2.TERM_CRITERIA_COUNT + cv2.TERM_CRITERIA_EPS, 100, 1e-9)
#: Grid for the image-coverage figure reported to the user (columns, rows).
COVERAGE_GRID = (8, 6)


@dataclass(frozen=True, eq=False)
class ViewGeometry:
    """Where a board sits in one image and how it is tilted, for choosing views.

    Attributes:
        centre: (2,) board centre in image-size-normalised coordinates, 0..1.
        area: board's convex-hull area as a fraction of the image.
        tilt_deg: angle between the board normal and the optical axis (rough, from a guessed K).
        tilt_axis: (2,) x/y components of the unit board normal (direction of the tilt).
    """

    centre: np.ndarray
    area: float
    tilt_deg: float
    tilt_axis: np.ndarray


@dataclass(frozen=True, eq=False)
class IntrinsicsResult:
    """A solved camera.

    Attributes:
        camera_matrix: (3, 3) K in pixels.
        dist_coeffs: (5,) OpenCV distortion (k1, k2, p1, p2, k3).
        rms_px: overall RMS reprojection error, pixels.
        per_view_rms_px: (V,) RMS error of each used view, pixels.
        view_names: the V used views, in the order of ``per_view_rms_px``.
        image_size: (width, height), pixels.
        coverage: fraction of the COVERAGE_GRID cells touched by a corner, 0..1.
        max_tilt_deg: largest board tilt among the used views, degrees.
        dropped: names of views dropped as outliers.
    """

    camera_matrix: np.ndarray
    dist_coeffs: np.ndarray
    rms_px: float
    per_view_rms_px: np.ndarray
    view_names: tuple[str, ...]
    image_size: tuple[int, int]
    coverage: float
    max_tilt_deg: float
    dropped: tuple[str, ...] = ()


def view_geometry(detection: BoardDetection, target: CalibrationTarget) -> ViewGeometry:
    """Rough pose of a found board from its homography and a guessed camera (for view choice only)."""
    width, height = detection.image_size
    corners = detection.corners.astype(np.float64)
    guess = np.array([[max(width, height), 0.0, width / 2.0], [0.0, max(width, height), height / 2.0],
                      [0.0, 0.0, 1.0]])
    homography, _ = cv2.findHomography(target.object_points()[:, :2].astype(np.float64), corners)
    columns = np.linalg.solve(guess, homography)
    r1 = columns[:, 0] / np.linalg.norm(columns[:, 0])
    r2 = columns[:, 1] / np.linalg.norm(columns[:, 1])
    normal = np.cross(r1, r2)
    normal /= np.linalg.norm(normal)
    hull = cv2.convexHull(corners.astype(np.float32))
    return ViewGeometry(
        centre=corners.mean(axis=0) / np.array([width, height]),
        area=float(cv2.contourArea(hull)) / (width * height),
        tilt_deg=float(np.degrees(np.arccos(min(1.0, abs(normal[2]))))),
        tilt_axis=normal[:2] * np.sign(normal[2] if normal[2] != 0 else 1.0))


def select_views(geometries: Sequence[ViewGeometry], max_views: int = DEFAULT_MAX_VIEWS) -> list[int]:
    """Pick up to ``max_views`` views that differ most in position, size and tilt.

    Greedy farthest-point selection in a feature space of (board centre, board size, tilt
    direction scaled by tilt), starting from the most tilted view: near-duplicate frames from a
    video add nothing, while views at the image edges (distortion) and tilted views (focal length)
    are what calibration needs.

    Returns:
        Indices into ``geometries``, in selection order.
    """
    if len(geometries) <= max_views:
        return list(range(len(geometries)))
    features = np.array([[g.centre[0], g.centre[1], np.sqrt(g.area),
                          *(g.tilt_axis / max(np.linalg.norm(g.tilt_axis), 1e-9) * np.radians(g.tilt_deg))]
                         for g in geometries])
    chosen = [int(np.argmax([g.tilt_deg for g in geometries]))]
    distance = np.linalg.norm(features - features[chosen[0]], axis=1)
    while len(chosen) < max_views:
        nxt = int(np.argmax(distance))
        chosen.append(nxt)
        distance = np.minimum(distance, np.linalg.norm(features - features[nxt], axis=1))
    return chosen


def coverage(detections: Sequence[BoardDetection]) -> float:
    """Fraction of COVERAGE_GRID image cells that contain at least one detected corner."""
    if not detections:
        return 0.0
    width, height = detections[0].image_size
    cells = np.zeros(COVERAGE_GRID[::-1], dtype=bool)
    for detection in detections:
        corners = detection.corners[np.isfinite(detection.corners).all(axis=1)]
        cols = np.clip((corners[:, 0] / width * COVERAGE_GRID[0]).astype(int), 0, COVERAGE_GRID[0] - 1)
        rows = np.clip((corners[:, 1] / height * COVERAGE_GRID[1]).astype(int), 0, COVERAGE_GRID[1] - 1)
        cells[rows, cols] = True
    return float(cells.mean())


def summarise_misses(detections: Sequence[BoardDetection]) -> str:
    """"3 no board found, 2 too dark" for the views without a board."""
    counts = Counter(d.status.value for d in detections if not d.found)
    return ", ".join(f"{n} {why}" for why, n in counts.most_common())


def check_view_set(detections: Sequence[BoardDetection], target: CalibrationTarget) -> None:
    """Refuse a view set that cannot determine the intrinsics, saying why and what to do.

    Raises:
        CalibrationError: no board at all, too few views, mixed image sizes, or all views
            fronto-parallel.
    """
    found = [d for d in detections if d.found]
    if not found:
        misses = summarise_misses(detections)
        raise CalibrationError(
            f"No {target.describe()} board found in any of {len(detections)} images ({misses}). "
            "Check --board (it counts INNER corners: 10x7 squares is 9x6), the lighting and the focus.")
    if len(found) < MIN_VIEWS:
        raise CalibrationError(
            f"Only {len(found)} of {len(detections)} images show the board; at least {MIN_VIEWS} are needed. "
            "Take more pictures with the whole board visible, at different positions and tilts.")
    sizes = {d.image_size for d in found}
    if len(sizes) > 1:
        raise CalibrationError(f"The images have different sizes {sorted(sizes)}; calibrate one resolution at a time.")
    max_tilt = max(view_geometry(d, target).tilt_deg for d in found)
    if max_tilt < MIN_MAX_TILT_DEG:
        raise CalibrationError(
            f"All {len(found)} views show the board almost face-on (largest tilt {max_tilt:.0f} deg, need "
            f"{MIN_MAX_TILT_DEG:.0f}); the focal length cannot be measured. Add views with the board tilted "
            "by 20-45 degrees to the left, right, up and down.")


def calibrate_intrinsics(detections: Sequence[BoardDetection], target: CalibrationTarget,
                         names: Sequence[str] | None = None, max_views: int = DEFAULT_MAX_VIEWS,
                         max_rms_px: float = MAX_RMS_PX) -> IntrinsicsResult:
    """Solve K and distortion from board detections of one camera.

    Args:
        detections: one per image, found or not (misses are counted in error messages).
        target: the board that was detected.
        names: a label per detection (file name, frame number) for per-view reports.
        max_views: most views to use (see :func:`select_views`).
        max_rms_px: refuse a result whose RMS reprojection error exceeds this, pixels.

    Raises:
        CalibrationError: degenerate view set, a failed solve or a poor result.
    """
    names = list(names) if names is not None else [f"view {i}" for i in range(len(detections))]
    check_view_set(detections, target)
    found_idx = [i for i, d in enumerate(detections) if d.found]
    geometries = [view_geometry(detections[i], target) for i in found_idx]
    picked = [found_idx[j] for j in select_views(geometries, max_views)]
    result = _solve([detections[i] for i in picked], [names[i] for i in picked], target)
    median = float(np.median(result.per_view_rms_px))
    keep = result.per_view_rms_px <= max(OUTLIER_FACTOR * median, OUTLIER_MIN_PX)
    if not keep.all() and keep.sum() >= MIN_VIEWS:
        dropped = tuple(n for n, k in zip(result.view_names, keep, strict=True) if not k)
        logger.info("dropping %d inconsistent view(s): %s", len(dropped), ", ".join(dropped))
        kept = [i for i, k in zip(picked, keep, strict=True) if k]
        result = _solve([detections[i] for i in kept], [names[i] for i in kept], target, dropped)
    if not np.isfinite(result.rms_px) or result.rms_px > max_rms_px:
        raise CalibrationError(
            f"The calibration does not fit the views (RMS reprojection error {result.rms_px:.2f} px, limit "
            f"{max_rms_px:.2f} px). Check --square and --board, keep the board flat and the images sharp.")
    _check_plausible(result)
    logger.info("calibrated %d views: RMS %.3f px, fx %.1f fy %.1f", len(result.view_names), result.rms_px,
                result.camera_matrix[0, 0], result.camera_matrix[1, 1])
    return result


def _solve(detections: Sequence[BoardDetection], names: Sequence[str], target: CalibrationTarget,
           dropped: tuple[str, ...] = ()) -> IntrinsicsResult:
    image_size = detections[0].image_size
    object_points = [target.object_points() for _ in detections]
    image_points = [d.corners.astype(np.float32).reshape(-1, 1, 2) for d in detections]
    try:
        rms, camera_matrix, dist, _, _, _, _, per_view = cv2.calibrateCameraExtended(
            object_points, image_points, image_size, None, None, flags=0, criteria=CALIB_CRITERIA)
    except cv2.error as exc:
        raise CalibrationError(f"OpenCV could not calibrate from these {len(detections)} views ({exc.msg}). "
                               "Add views with the board at different tilts.") from exc
    return IntrinsicsResult(
        camera_matrix=np.asarray(camera_matrix, dtype=np.float64),
        dist_coeffs=np.asarray(dist, dtype=np.float64).ravel(),
        rms_px=float(rms),
        per_view_rms_px=np.asarray(per_view, dtype=np.float64).ravel(),
        view_names=tuple(names),
        image_size=(int(image_size[0]), int(image_size[1])),
        coverage=coverage(detections),
        max_tilt_deg=max(view_geometry(d, target).tilt_deg for d in detections),
        dropped=dropped)


def _check_plausible(result: IntrinsicsResult) -> None:
    width, height = result.image_size
    fx, fy = result.camera_matrix[0, 0], result.camera_matrix[1, 1]
    cx, cy = result.camera_matrix[0, 2], result.camera_matrix[1, 2]
    if not (fx > 0 and fy > 0 and 0.5 < fx / fy < 2.0):
        raise CalibrationError(f"The solved focal lengths are implausible (fx {fx:.1f}, fy {fy:.1f} px); "
                               "add tilted views of the board and calibrate again.")
    if not (0 <= cx < width and 0 <= cy < height):
        raise CalibrationError(f"The solved principal point ({cx:.0f}, {cy:.0f}) lies outside the "
                               f"{width}x{height} image; add views covering the image corners and calibrate again.")

