"""The ground plane: where the floor is relative to a calibrated camera, and the world frame on it.

The world frame (see :mod:`mocap_app.conventions`) is right-handed, metres, y up, floor at y = 0.
It is built from a floor plane seen in camera space, never from the board's own axes, so that the
board's 180-degree ambiguity cannot turn the scene around or upside down:

* y (up) is the floor normal on the camera's side: the camera is always above the floor
  (positive height), whichever way round the board lay or was detected;
* z is the camera's backward direction laid flat on the floor (the camera looks along -z, so a
  performer facing the camera faces +z, as the BVH rest pose does); x = y x z (camera right);
* the origin is the board centre (where the performers will stand), which does not move when the
  board is turned by 180 degrees.

For a level camera this is exactly the uncalibrated "camera turned upright" frame shifted down to
the floor, so both paths agree.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from mocap_app.errors import CalibrationError

from .targets import BoardDetection, Checkerboard

logger = logging.getLogger(__name__)

#: A board pose with a larger RMS reprojection error (px) is refused.
MAX_GROUND_RMS_PX = 3.0
#: Below this view angle between the line of sight and the floor the pose is too unreliable.
MIN_GRAZING_ANGLE_DEG = 8.0
#: When the camera looks within this angle of straight down, z comes from the camera's y axis.
STRAIGHT_DOWN_SIN = 1e-3


@dataclass(frozen=True, eq=False)
class GroundPlane:
    """The world frame on the floor, as seen from one camera.

    Attributes:
        rotation_wc: (3, 3) rotation taking camera axes (OpenCV) to world axes (y up).
        camera_centre_world: (3,) camera centre in world coordinates, metres (y = height).
        rms_px: RMS reprojection error of the board pose(s), pixels (NaN when estimated from feet).
        source: "checkerboard" or "feet" (estimated from the performers without a board).
    """

    rotation_wc: np.ndarray
    camera_centre_world: np.ndarray
    rms_px: float
    source: str = "checkerboard"

    @property
    def camera_height_m(self) -> float:
        """Height of the camera above the floor, metres (always positive)."""
        return float(self.camera_centre_world[1])

    @property
    def camera_tilt_deg(self) -> float:
        """Angle of the optical axis below the horizon, degrees (positive: looking down)."""
        forward = self.rotation_wc @ np.array([0.0, 0.0, 1.0])
        return float(np.degrees(np.arcsin(np.clip(-forward[1], -1.0, 1.0))))

    @property
    def camera_roll_deg(self) -> float:
        """Angle of the image's x axis out of the horizontal, degrees (positive: right side up)."""
        right = self.rotation_wc @ np.array([1.0, 0.0, 0.0])
        return float(np.degrees(np.arcsin(np.clip(right[1], -1.0, 1.0))))

    @property
    def up_camera(self) -> np.ndarray:
        """(3,) the world's up direction expressed in camera axes."""
        return self.rotation_wc[1].copy()


def frame_from_plane(normal_cam: np.ndarray, origin_cam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World frame on a floor plane seen in camera space.

    Args:
        normal_cam: (3,) floor normal in camera axes, either sign.
        origin_cam: (3,) a point on the floor in camera space, metres; becomes the world origin
            (projected onto the plane).

    Returns:
        rotation_wc (3, 3) and camera_centre_world (3,), metres; the camera is above the floor.
    """
    up = np.asarray(normal_cam, dtype=np.float64)
    up = up / np.linalg.norm(up)
    origin = np.asarray(origin_cam, dtype=np.float64)
    if np.dot(up, -origin) < 0:  # the camera (at the camera-space origin) must be on the up side
        up = -up
    backward = np.array([0.0, 0.0, -1.0])
    z_axis = backward - np.dot(backward, up) * up
    if np.linalg.norm(z_axis) < STRAIGHT_DOWN_SIN:  # looking straight down: image bottom is "towards us"
        down_image = np.array([0.0, 1.0, 0.0])
        z_axis = down_image - np.dot(down_image, up) * up
    z_axis /= np.linalg.norm(z_axis)
    x_axis = np.cross(up, z_axis)
    rotation_wc = np.stack([x_axis, up, z_axis])
    return rotation_wc, -rotation_wc @ origin


def estimate_ground(detections: Sequence[BoardDetection], board: Checkerboard, camera_matrix: np.ndarray,
                    dist_coeffs: np.ndarray, board_thickness_m: float = 0.0) -> GroundPlane:
    """Floor and world frame from one or more images of the board lying on the floor.

    Each found board gives a plane (normal, point); several are averaged, with the origin at the
    first board's centre. ``board_thickness_m`` moves the floor below the printed surface.

    Raises:
        CalibrationError: no board found, a pose that does not fit, or a floor seen edge-on.
    """
    found = [d for d in detections if d.found]
    if not found:
        reasons = ", ".join(sorted({d.status.value for d in detections}))
        raise CalibrationError(f"No {board.describe()} board found in the floor image(s) ({reasons}). "
                               "Lay the whole board flat on the floor in view of the camera, well lit.")
    normals, points, errors = [], [], []
    for detection in found:
        normal, centre, rms = _board_plane(detection, board, camera_matrix, dist_coeffs)
        normals.append(normal if np.dot(normal, -centre) > 0 else -normal)
        points.append(centre)
        errors.append(rms)
    normal = np.mean(normals, axis=0)
    normal /= np.linalg.norm(normal)
    origin = points[0] - board_thickness_m * normal
    rms = float(np.sqrt(np.mean(np.square(errors))))
    if rms > MAX_GROUND_RMS_PX:
        raise CalibrationError(f"The board on the floor does not fit the camera calibration (RMS {rms:.2f} px). "
                               "Check that the calibration file belongs to this camera and the --board/--square "
                               "match the board.")
    grazing = np.degrees(np.arcsin(abs(np.dot(normal, origin)) / np.linalg.norm(origin)))
    if grazing < MIN_GRAZING_ANGLE_DEG:
        raise CalibrationError(f"The floor is seen almost edge-on ({grazing:.1f} deg); tilt the camera down or "
                               "place the board closer to the camera.")
    rotation_wc, centre_world = frame_from_plane(normal, origin)
    ground = GroundPlane(rotation_wc, centre_world, rms)
    logger.info("ground plane: camera %.3f m above the floor, tilted %.1f deg down, roll %.1f deg, RMS %.2f px",
                ground.camera_height_m, ground.camera_tilt_deg, ground.camera_roll_deg, rms)
    return ground


def _board_plane(detection: BoardDetection, board: Checkerboard, camera_matrix: np.ndarray,
                 dist_coeffs: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(normal in camera axes, board centre in camera space (m), RMS px) of one found board."""
    object_points = board.object_points().astype(np.float64)
    image_points = detection.corners.astype(np.float64)
    ok, rvecs, tvecs, _ = cv2.solvePnPGeneric(object_points, image_points, camera_matrix, dist_coeffs,
                                             flags=cv2.SOLVEPNP_IPPE)
    if not ok or len(rvecs) == 0:
        raise CalibrationError("OpenCV could not find the board's pose on the floor; take the picture again "
                               "with the whole board visible.")
    rvec, tvec = cv2.solvePnPRefineLM(object_points, image_points, camera_matrix, dist_coeffs, rvecs[0], tvecs[0])
    projected, _ = cv2.projectPoints(object_points, rvec, tvec, camera_matrix, dist_coeffs)
    rms = float(np.sqrt(np.mean(np.sum((projected.reshape(-1, 2) - image_points) ** 2, axis=1))))
    rotation, _ = cv2.Rodrigues(rvec)
    centre = rotation @ board.centre() + tvec.ravel()
    return rotation[:, 2].copy(), centre, rms
