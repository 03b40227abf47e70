"""The virtual pinhole camera of a synthetic scene: where it stands, what it sees, how it projects.

The camera is an ideal OpenCV pinhole (no distortion) so the rendered pixels, the projected ground
truth and a calibration file written for it agree exactly. Its pose is stored the way
:mod:`mocap_app.conventions` states it: ``rotation_wc`` takes camera axes (x right, y down, z forward)
to world axes (y up, floor y = 0) and ``centre`` is the camera centre in world metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..conventions import default_intrinsics, opencv_to_world, world_to_opencv

#: Clipping planes of the renderer, metres; joints nearer than NEAR_M are treated as behind the camera.
NEAR_M = 0.05
FAR_M = 60.0


@dataclass(frozen=True, eq=False)
class VirtualCamera:
    """A pinhole camera placed in a synthetic world.

    Attributes:
        width: image width, pixels.
        height: image height, pixels.
        K: (3, 3) float64 intrinsics in pixels (OpenCV pixel-centre convention).
        rotation_wc: (3, 3) float64 rotation from camera axes to world axes.
        centre: (3,) float64 camera centre, world metres.

    Example:
        >>> cam = look_at_camera(target=(0, 1, 0), distance=3.6, height=1.2, yaw_deg=0, width=640, height_px=480)
        >>> cam.project(np.array([[0.0, 1.0, 0.0]]))[0].round(1)
        array([319.5, 239.5])
    """

    width: int
    height: int
    K: np.ndarray
    rotation_wc: np.ndarray
    centre: np.ndarray

    def world_to_camera(self, points_world: np.ndarray) -> np.ndarray:
        """(..., 3) world metres -> (..., 3) camera metres (OpenCV axes)."""
        return world_to_opencv(points_world, self.rotation_wc, self.centre)

    def camera_to_world(self, points_cam: np.ndarray) -> np.ndarray:
        """(..., 3) camera metres -> (..., 3) world metres."""
        return opencv_to_world(points_cam, self.rotation_wc, self.centre)

    def project(self, points_world: np.ndarray) -> np.ndarray:
        """(..., 3) world metres -> (..., 2) pixels; NaN for points behind the near plane."""
        cam = self.world_to_camera(points_world)
        return self.project_camera(cam)

    def project_camera(self, points_cam: np.ndarray) -> np.ndarray:
        """(..., 3) camera metres -> (..., 2) pixels; NaN for points behind the near plane."""
        cam = np.asarray(points_cam, dtype=np.float64)
        z = cam[..., 2:3]
        with np.errstate(divide="ignore", invalid="ignore"):
            normalised = cam / z
        uv = normalised @ self.K[:2].T
        uv[np.broadcast_to(z < NEAR_M, uv.shape)] = np.nan
        return uv

    def floor_plane_camera(self) -> tuple[np.ndarray, float]:
        """The floor (world y = 0) in camera coordinates as (normal (3,), d) with normal . x + d = 0.

        The normal points up (out of the floor), so camera-space points above the floor give a
        positive ``normal . x + d``, their height in metres.
        """
        normal = self.rotation_wc.T @ np.array([0.0, 1.0, 0.0])
        d = float(self.centre[1])
        return normal, d

    def view_matrix(self) -> np.ndarray:
        """(4, 4) world -> camera (OpenCV axes) homogeneous transform."""
        view = np.eye(4)
        view[:3, :3] = self.rotation_wc.T
        view[:3, 3] = -self.rotation_wc.T @ self.centre
        return view

    def gl_projection(self, near: float = NEAR_M, far: float = FAR_M) -> np.ndarray:
        """(4, 4) camera (OpenCV axes) -> OpenGL clip coordinates, matching :meth:`project` exactly.

        OpenCV pixel u has its centre at GL window x = u + 0.5; GL's y runs up, so a rendered image
        read back from GL must be flipped vertically to match OpenCV rows.
        """
        fx, fy, cx, cy, skew = self.K[0, 0], self.K[1, 1], self.K[0, 2], self.K[1, 2], self.K[0, 1]
        w, h = float(self.width), float(self.height)
        proj = np.zeros((4, 4))
        proj[0] = (2 * fx / w, 2 * skew / w, (2 * cx + 1) / w - 1, 0.0)
        proj[1] = (0.0, -2 * fy / h, 1 - (2 * cy + 1) / h, 0.0)
        proj[2] = (0.0, 0.0, (far + near) / (far - near), -2 * far * near / (far - near))
        proj[3] = (0.0, 0.0, 1.0, 0.0)
        return proj


def look_at_rotation(eye: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(3, 3) camera-to-world rotation of a camera at ``eye`` looking at ``target`` with no roll.

    Camera z points at the target, camera x stays horizontal (the image's horizon is level), camera
    y points down in the world.
    """
    forward = np.asarray(target, dtype=np.float64) - np.asarray(eye, dtype=np.float64)
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, np.array([0.0, 1.0, 0.0]))
    if np.linalg.norm(right) < 1e-6:  # looking straight down or up: any horizontal x will do
        right = np.array([1.0, 0.0, 0.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    return np.stack([right, down, forward], axis=1)


def look_at_camera(target: tuple[float, float, float] | np.ndarray, distance: float, height: float,
                   yaw_deg: float, width: int, height_px: int, vertical_fov_deg: float = 54.0) -> VirtualCamera:
    """A camera on a circle around ``target``, aimed at it.

    Args:
        target: (3,) world point the camera looks at (e.g. the performers' centre at chest height).
        distance: horizontal distance from the target, metres.
        height: camera height above the floor, metres.
        yaw_deg: angle around the vertical axis; 0 puts the camera on the target's +z side (in front
            of a performer who faces +z, as the BVH rest pose does).
        width: image width, pixels.
        height_px: image height, pixels.
        vertical_fov_deg: vertical field of view; sets the focal length.
    """
    target = np.asarray(target, dtype=np.float64)
    yaw = np.deg2rad(yaw_deg)
    eye = np.array([target[0] + distance * np.sin(yaw), height, target[2] + distance * np.cos(yaw)])
    K = default_intrinsics(width, height_px, vertical_fov_deg)
    return VirtualCamera(width=width, height=height_px, K=K, rotation_wc=look_at_rotation(eye, target), centre=eye)
