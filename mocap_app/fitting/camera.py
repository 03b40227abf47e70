"""The camera as Stage III sees it: intrinsics, optional distortion and an optional floor.

A small interface on purpose (K, and the world-from-camera pose when the floor is calibrated), so
any calibration source plugs in: :func:`camera_from_calibration_file` reads the calibration
module's files, :meth:`FitCamera.uncalibrated` assumes XNect's 54 degree vertical field of view.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..conventions import CAMERA_TO_UPRIGHT, DEFAULT_VERTICAL_FOV_DEG, default_intrinsics
from ..errors import CalibrationError

# Camera (x right, y down, z forward) turned upright, the world of an uncalibrated camera.
_UPRIGHT = CAMERA_TO_UPRIGHT


@dataclass(frozen=True, eq=False)
class FitCamera:
    """Pinhole camera for fitting.

    Attributes:
        K: (3, 3) intrinsics, pixels.
        R_wc: (3, 3) rotation camera -> world (y up); the upright camera frame when no floor.
        t_wc: (3,) camera centre in world, metres (origin when no floor).
        has_floor: True when the world frame is a calibrated floor (y = 0 is the ground).
        distortion: OpenCV distortion coefficients or ``None``; 2D observations are undistorted
            once with them and then projected with the pinhole model.
    """

    K: np.ndarray
    R_wc: np.ndarray
    t_wc: np.ndarray
    has_floor: bool = False
    distortion: np.ndarray | None = None

    @classmethod
    def uncalibrated(cls, width: int, height: int) -> FitCamera:
        """Assumed-FOV intrinsics, no floor (world = camera frame turned upright)."""
        return cls(K=default_intrinsics(width, height), R_wc=_UPRIGHT.copy(), t_wc=np.zeros(3))

    @classmethod
    def from_parts(cls, K: np.ndarray, R_wc: np.ndarray | None = None, t_wc: np.ndarray | None = None,
                   distortion: np.ndarray | None = None) -> FitCamera:
        """From a K and, when the floor is calibrated, the camera's world pose."""
        has_floor = R_wc is not None
        return cls(K=np.asarray(K, dtype=np.float64),
                   R_wc=_UPRIGHT.copy() if R_wc is None else np.asarray(R_wc, dtype=np.float64),
                   t_wc=np.zeros(3) if t_wc is None else np.asarray(t_wc, dtype=np.float64).reshape(3),
                   has_floor=has_floor,
                   distortion=None if distortion is None or not np.any(distortion) else np.asarray(distortion))

    def to_camera(self, points_world: np.ndarray) -> np.ndarray:
        """(..., 3) world points to camera axes."""
        return (np.asarray(points_world) - self.t_wc) @ self.R_wc

    def project(self, points_world: np.ndarray) -> np.ndarray:
        """(..., 3) world points to (..., 2) undistorted pixels (NaN behind the camera)."""
        cam = self.to_camera(points_world)
        z = np.where(cam[..., 2:3] > 1e-6, cam[..., 2:3], np.nan)
        return cam[..., :2] / z * self.K[[0, 1], [0, 1]] + self.K[:2, 2]

    def rays(self, pixels: np.ndarray) -> np.ndarray:
        """(..., 2) undistorted pixels to (..., 3) unit view directions in world axes."""
        pixels = np.asarray(pixels, dtype=np.float64)
        direction = np.concatenate([(pixels - self.K[:2, 2]) / self.K[[0, 1], [0, 1]],
                                    np.ones(pixels.shape[:-1] + (1,))], axis=-1)
        direction = direction @ self.R_wc.T
        return direction / np.linalg.norm(direction, axis=-1, keepdims=True)

    def undistort(self, pixels: np.ndarray) -> np.ndarray:
        """(J, 2) distorted pixels to ideal pinhole pixels (unchanged without distortion; NaN kept)."""
        pixels = np.asarray(pixels, dtype=np.float64)
        if self.distortion is None:
            return pixels
        valid = np.isfinite(pixels).all(axis=-1)
        result = np.full_like(pixels, np.nan)
        if valid.any():
            points = pixels[valid].reshape(-1, 1, 2).astype(np.float64)
            result[valid] = cv2.undistortPoints(points, self.K, self.distortion, P=self.K).reshape(-1, 2)
        return result


def camera_from_calibration(calibration, width: int | None = None, height: int | None = None) -> FitCamera:
    """Stage III's camera from a loaded :class:`calibration.camera_file.CameraCalibration` (or ``None``).

    ``None`` gives the uncalibrated camera (54 degree vertical field of view, no floor); then the
    source's ``width`` and ``height`` are required.

    Raises:
        CalibrationError: the calibration was made at another resolution than the source.
    """
    if calibration is None:
        if width is None or height is None:
            raise ValueError("An uncalibrated camera needs the source's width and height.")
        return FitCamera.uncalibrated(width, height)
    if width is not None and height is not None:
        calibration.check_matches(width, height)
    ground = calibration.ground
    return FitCamera.from_parts(calibration.camera_matrix, None if ground is None else ground.rotation_wc,
                                None if ground is None else ground.camera_centre_world, calibration.dist_coeffs)


def camera_from_calibration_file(path: str | Path, width: int | None = None, height: int | None = None) -> FitCamera:
    """Load a ``mocap calibrate`` file (intrinsics, distortion, optional floor) as Stage III's camera.

    Raises:
        FileNotFoundError: no file at ``path``.
        CalibrationError: unreadable file, or calibrated at another resolution than the source.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No calibration file at {path}. Make one with 'mocap calibrate' or leave out "
                                "--calibration to assume a 54 degree field of view.")
    try:
        from calibration.camera_file import CameraCalibration
    except ImportError as exc:  # the calibration package is part of the application
        raise CalibrationError(f"Cannot read {path}: the calibration package is not installed ({exc}).") from exc
    return camera_from_calibration(CameraCalibration.load(path), width, height)


def describe_camera(camera: FitCamera, calibration_path: str | Path | None) -> str:
    """One line telling the user which camera model and floor a run uses, and how to improve them."""
    if calibration_path is None:
        return (f"camera: not calibrated: assuming a {DEFAULT_VERTICAL_FOV_DEG:.0f} degree vertical field of view; "
                "the floor is estimated from the performers' feet when the take is exported "
                "(run 'mocap calibrate' for metric heights)")
    if not camera.has_floor:
        return (f"camera: intrinsics from {calibration_path}, no floor calibration: the floor is estimated from the "
                "performers' feet when the take is exported ('mocap calibrate ground' measures it)")
    return f"camera: calibrated with its floor from {calibration_path}"
