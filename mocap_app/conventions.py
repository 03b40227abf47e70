"""Units and axes, stated once for the whole application.

* **Camera space** is OpenCV's: x right, y down, z forward (out of the lens), metres.
* **World space** comes from the ground plane: right-handed, y up, floor at y = 0, metres.
  Without a ground-plane calibration the world is the camera frame turned upright
  (:func:`opencv_to_world` with the identity extrinsics), with the floor estimated later.
* **Pixels**: x to the right, y down, origin at the top-left corner of the top-left pixel's centre
  (OpenCV's convention); image size is (width, height).
* **Rotations** inside the application are unit quaternions in scipy's (x, y, z, w) order.
* **BVH files** are written in centimetres, y up, the character facing +z in its rest pose
  (a T-pose), Euler angles in degrees, default order ZXY (listed as Zrotation Xrotation Yrotation,
  meaning R = Rz @ Rx @ Ry applied to column vectors, the BVH convention).
* **Time** is seconds as float, from the start of a source; frame rates are frames per second.
"""

from __future__ import annotations

import numpy as np

#: Metres to the centimetres that BVH files are written in.
BVH_UNITS_PER_METRE = 100.0
#: Euler order used when the user does not choose one (the most widely imported).
DEFAULT_EULER_ORDER = "ZXY"
#: Vertical field of view assumed when the camera is not calibrated (VNect's assumption).
DEFAULT_VERTICAL_FOV_DEG = 54.0
#: Height assumed for a performer when no ground plane allows measuring it.
DEFAULT_PERFORMER_HEIGHT_M = 1.70

# Camera (x right, y down, z forward) to an upright frame (x right, y up, z towards the camera):
# a rotation of 180 degrees about x. Using it keeps the world right-handed.
CAMERA_TO_UPRIGHT = np.diag([1.0, -1.0, -1.0])


def opencv_to_world(points_cam: np.ndarray, rotation_wc: np.ndarray | None = None,
                    translation_wc: np.ndarray | None = None) -> np.ndarray:
    """Map points from camera space to world space.

    Args:
        points_cam: (..., 3) points in camera space (OpenCV axes), metres.
        rotation_wc: (3, 3) rotation taking camera axes to world axes (from the ground-plane
            calibration). ``None`` means an uncalibrated camera: the camera frame turned upright.
        translation_wc: (3,) camera centre in world coordinates, metres. ``None`` means the origin.

    Returns:
        (..., 3) points in world space (y up), metres. NaN stays NaN.
    """
    rotation = CAMERA_TO_UPRIGHT if rotation_wc is None else np.asarray(rotation_wc, dtype=np.float64)
    translation = np.zeros(3) if translation_wc is None else np.asarray(translation_wc, dtype=np.float64)
    return np.asarray(points_cam, dtype=np.float64) @ rotation.T + translation


def world_to_opencv(points_world: np.ndarray, rotation_wc: np.ndarray | None = None,
                    translation_wc: np.ndarray | None = None) -> np.ndarray:
    """Inverse of :func:`opencv_to_world`: (..., 3) world points to camera space, metres."""
    rotation = CAMERA_TO_UPRIGHT if rotation_wc is None else np.asarray(rotation_wc, dtype=np.float64)
    translation = np.zeros(3) if translation_wc is None else np.asarray(translation_wc, dtype=np.float64)
    return (np.asarray(points_world, dtype=np.float64) - translation) @ rotation


def metres_to_bvh(values: np.ndarray, units_per_metre: float = BVH_UNITS_PER_METRE) -> np.ndarray:
    """Scale lengths in metres to BVH units (centimetres by default)."""
    return np.asarray(values, dtype=np.float64) * units_per_metre


def default_intrinsics(width: int, height: int, vertical_fov_deg: float = DEFAULT_VERTICAL_FOV_DEG) -> np.ndarray:
    """Camera matrix K for an uncalibrated camera: square pixels, centred principal point.

    Returns:
        (3, 3) float64 K in pixels.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"Image size must be positive, got {width}x{height}.")
    focal = 0.5 * height / np.tan(np.deg2rad(vertical_fov_deg) / 2.0)
    return np.array([[focal, 0.0, (width - 1) / 2.0], [0.0, focal, (height - 1) / 2.0], [0.0, 0.0, 1.0]])
