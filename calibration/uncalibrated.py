"""Working without a checkerboard: assumed intrinsics and a floor found under the performers' feet.

* Intrinsics come from an assumed vertical field of view (VNect's 54 degrees,
  :data:`mocap_app.conventions.DEFAULT_VERTICAL_FOV_DEG`) and the image size, no distortion.
* The floor comes from where the performers' feet are over the first seconds: per frame the
  lowest foot (along the current up direction) is taken as touching the floor; a plane is fitted
  to those contact points with jumps and steps trimmed away, and its normal is kept within
  :data:`MAX_NORMAL_DEVIATION_DEG` of the prior up direction (a level camera, or the given tilt).
  When the feet never spread over the floor (one performer standing still) only the floor's
  height is estimated and the prior direction is kept.

Both results say where they came from (``source``), so the application can tell the user which it
is using (:meth:`calibration.camera_file.CameraCalibration.summary`).
"""

from __future__ import annotations

import logging

import numpy as np

from mocap_app.conventions import DEFAULT_VERTICAL_FOV_DEG, default_intrinsics
from mocap_app.errors import CalibrationError

from .camera_file import CameraCalibration
from .ground import GroundPlane, frame_from_plane

logger = logging.getLogger(__name__)

#: Fewest frames with a visible foot before a floor is estimated.
MIN_CONTACT_FRAMES = 10
#: Contact points must spread at least this far (std, metres) along a second axis to fit a tilt.
MIN_SPREAD_M = 0.15
#: Contacts above this percentile of heights (jumps, steps, a raised foot) are left out of the fit.
CONTACT_PERCENTILE = 60.0
#: Contacts within this distance of the fitted plane count as standing on it, metres.
INLIER_DISTANCE_M = 0.05
#: The fitted floor normal may differ from the prior up direction by at most this much.
MAX_NORMAL_DEVIATION_DEG = 35.0
#: Plane refits (trim, fit, re-measure).
FIT_ITERATIONS = 3


def assumed_calibration(width: int, height: int,
                        vertical_fov_deg: float = DEFAULT_VERTICAL_FOV_DEG) -> CameraCalibration:
    """A calibration for a camera nobody calibrated: K from the field of view, no distortion, no floor."""
    camera_matrix = default_intrinsics(width, height, vertical_fov_deg)
    logger.info("no calibration: assuming a %.0f deg vertical field of view at %dx%d", vertical_fov_deg, width, height)
    return CameraCalibration((int(width), int(height)), camera_matrix, np.zeros(5), "assumed-fov")


def prior_up(tilt_deg: float = 0.0) -> np.ndarray:
    """(3,) world up in camera axes for a camera without roll tilted ``tilt_deg`` down."""
    tilt = np.radians(tilt_deg)
    return np.array([0.0, -np.cos(tilt), -np.sin(tilt)])


def estimate_floor_from_feet(foot_points_cam: np.ndarray, prior_tilt_deg: float = 0.0,
                             contact_offset_m: float = 0.0) -> GroundPlane:
    """The floor under the performers from their foot positions over the first seconds.

    Args:
        foot_points_cam: (T, K, 3) camera-space positions (OpenCV axes, metres) of K foot points
            (heels, toes, ankles of every performer) in T frames; NaN where not seen.
        prior_tilt_deg: expected downward camera tilt, degrees (0: a level camera).
        contact_offset_m: height of the given points above the floor when standing (about 0.08 for
            ankles, 0 for soles), metres.

    Returns:
        A :class:`GroundPlane` with source "feet" and the origin under the mean contact point.

    Raises:
        CalibrationError: too few frames with feet, or feet that put the camera below the floor.
    """
    points = np.asarray(foot_points_cam, dtype=np.float64)
    if points.ndim != 3 or points.shape[2] != 3:
        raise ValueError(f"foot_points_cam must be (T, K, 3), got {points.shape}")
    up = prior_up(prior_tilt_deg)
    contacts = _lowest_per_frame(points, up)
    if len(contacts) < MIN_CONTACT_FRAMES:
        raise CalibrationError(
            f"Only {len(contacts)} frames show a foot (need {MIN_CONTACT_FRAMES}) to estimate the floor; keep the "
            "performers' feet in view for the first seconds, or calibrate the floor with 'mocap calibrate ground'.")
    normal = up
    for _ in range(FIT_ITERATIONS):
        contacts = _lowest_per_frame(points, normal)
        heights = contacts @ normal
        kept = contacts[heights <= np.percentile(heights, CONTACT_PERCENTILE)]
        normal = _fit_normal(kept, normal, up)
    heights = contacts @ normal
    lowest = heights <= np.percentile(heights, CONTACT_PERCENTILE)
    floor_level = float(np.median(heights[lowest]))
    on_floor = contacts[np.abs(heights - floor_level) <= INLIER_DISTANCE_M]
    if not len(on_floor):  # few, scattered contacts (a short take): the low ones are the floor
        on_floor = contacts[lowest]
    origin = on_floor.mean(axis=0)
    origin = origin - (origin @ normal - floor_level) * normal - contact_offset_m * normal
    if origin @ normal >= 0:
        raise CalibrationError("The feet appear above the camera, which would put the floor upside down; check that "
                               "the camera is not mounted upside down, or calibrate the floor with the board.")
    rotation_wc, centre_world = frame_from_plane(normal, origin)
    ground = GroundPlane(rotation_wc, centre_world, float("nan"), source="feet")
    logger.info("floor estimated from %d foot contacts: camera %.2f m high, tilted %.1f deg down",
                len(on_floor), ground.camera_height_m, ground.camera_tilt_deg)
    return ground


def _lowest_per_frame(points: np.ndarray, up: np.ndarray) -> np.ndarray:
    """(M, 3) the lowest visible foot point of each frame that has one."""
    heights = np.where(np.isfinite(points).all(axis=2), points @ up, np.inf)
    has_foot = np.isfinite(heights).any(axis=1)
    lowest = np.argmin(heights[has_foot], axis=1)
    return points[has_foot][np.arange(len(lowest)), lowest]


def _fit_normal(contacts: np.ndarray, current: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Least-squares plane normal of the contacts, oriented like ``current``; the prior when unreliable."""
    centred = contacts - contacts.mean(axis=0)
    _, singular, axes = np.linalg.svd(centred, full_matrices=False)
    spread = singular / np.sqrt(max(len(contacts) - 1, 1))
    if len(contacts) < 3 or spread[1] < MIN_SPREAD_M:
        return current
    normal = axes[2] * np.sign(axes[2] @ current or 1.0)
    if np.degrees(np.arccos(np.clip(normal @ prior, -1.0, 1.0))) > MAX_NORMAL_DEVIATION_DEG:
        logger.warning("floor fit from the feet leans more than %.0f deg from the expected up; keeping the prior",
                       MAX_NORMAL_DEVIATION_DEG)
        return current
    return normal
