"""Synthetic checkerboard pictures with known intrinsics and poses (test helper, not a test module).

An ideal board image (from :func:`calibration.board_render.board_image`) is mapped into a camera
with K, distortion and a board pose through ``cv2.remap``: each output pixel is undistorted to a
ray, intersected with the board plane, and looked up in the board image. Mild blur and noise make
the detector work as it does on real pictures.
"""

from __future__ import annotations

import cv2
import numpy as np

from calibration.board_render import QUIET_ZONE_SQUARES
from calibration.targets import Checkerboard

#: Board image resolution used as the texture, pixels per square.
TEXTURE_SQUARE_PX = 32
BACKGROUND = 110


def board_texture(board: Checkerboard) -> tuple[np.ndarray, np.ndarray]:
    """(texture image, (3, 3) matrix taking board-plane metres (x, y, 1) to texture pixels)."""
    squares_x, squares_y = board.columns + 1, board.rows + 1
    rows = (np.arange(squares_y * TEXTURE_SQUARE_PX) // TEXTURE_SQUARE_PX)[:, None]
    cols = (np.arange(squares_x * TEXTURE_SQUARE_PX) // TEXTURE_SQUARE_PX)[None, :]
    pattern = np.where((rows + cols) % 2 == 0, 20, 235).astype(np.uint8)
    margin = int(QUIET_ZONE_SQUARES * TEXTURE_SQUARE_PX)
    texture = cv2.copyMakeBorder(pattern, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=235)
    scale = TEXTURE_SQUARE_PX / board.square_m
    first = margin + TEXTURE_SQUARE_PX - 0.5  # first inner corner, pixel-centre convention
    metres_to_texture = np.array([[scale, 0.0, first], [0.0, scale, first], [0.0, 0.0, 1.0]])
    return texture, metres_to_texture


def render(board: Checkerboard, camera_matrix: np.ndarray, dist: np.ndarray, rotation_cb: np.ndarray,
           translation_cb: np.ndarray, size: tuple[int, int], rng: np.random.Generator,
           blur_sigma: float = 0.6, noise: float = 2.0) -> np.ndarray:
    """A (H, W) uint8 picture of the board at pose (R, t) (board -> camera, metres)."""
    width, height = size
    texture, metres_to_texture = board_texture(board)
    grid = np.stack(np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64)), -1)
    rays = cv2.undistortPoints(grid.reshape(-1, 1, 2), camera_matrix, dist).reshape(-1, 2)
    plane_to_camera = np.column_stack([rotation_cb[:, 0], rotation_cb[:, 1], translation_cb])
    camera_to_plane = np.linalg.inv(plane_to_camera)
    homogeneous = np.column_stack([rays, np.ones(len(rays))]) @ camera_to_plane.T
    in_front = homogeneous[:, 2] > 0
    texture_xy = (homogeneous / homogeneous[:, 2:3]) @ metres_to_texture.T
    map_x = np.where(in_front, texture_xy[:, 0], -1e4).reshape(height, width).astype(np.float32)
    map_y = np.where(in_front, texture_xy[:, 1], -1e4).reshape(height, width).astype(np.float32)
    image = cv2.remap(texture, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                      borderValue=BACKGROUND)
    if blur_sigma > 0:
        image = cv2.GaussianBlur(image, (0, 0), blur_sigma)
    noisy = image.astype(np.float64) + rng.normal(0.0, noise, image.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def rotation(x_deg: float, y_deg: float, z_deg: float) -> np.ndarray:
    """Rx @ Ry @ Rz from angles in degrees."""
    rx, _ = cv2.Rodrigues(np.array([np.radians(x_deg), 0.0, 0.0]))
    ry, _ = cv2.Rodrigues(np.array([0.0, np.radians(y_deg), 0.0]))
    rz, _ = cv2.Rodrigues(np.array([0.0, 0.0, np.radians(z_deg)]))
    return rx @ ry @ rz


def calibration_views(board: Checkerboard, camera_matrix: np.ndarray, dist: np.ndarray, size: tuple[int, int],
                      count: int, rng: np.random.Generator, max_tilt_deg: float = 35.0,
                      ) -> list[np.ndarray]:
    """``count`` pictures with the board spread over the image and tilted up to ``max_tilt_deg``."""
    width, height = size
    images: list[np.ndarray] = []
    centre_obj = board.centre()
    while len(images) < count:
        tilt = rng.uniform(-max_tilt_deg, max_tilt_deg, 2)
        rot = rotation(tilt[0], tilt[1], rng.uniform(-20, 20))
        pixel = np.array([rng.uniform(0.25, 0.75) * width, rng.uniform(0.25, 0.75) * height, 1.0])
        depth = rng.uniform(0.45, 0.65) * camera_matrix[0, 0] / 600.0
        centre_cam = depth * np.linalg.solve(camera_matrix, pixel)
        translation = centre_cam - rot @ centre_obj
        corners_cam = board.object_points() @ rot.T + translation
        projected, _ = cv2.projectPoints(corners_cam, np.zeros(3), np.zeros(3), camera_matrix, dist)
        projected = projected.reshape(-1, 2)
        inside = ((projected > 15) & (projected < np.array([width - 15, height - 15]))).all()
        if inside and (corners_cam[:, 2] > 0.1).all():
            images.append(render(board, camera_matrix, dist, rot, translation, size, rng))
    return images


def floor_scene(board: Checkerboard, camera_matrix: np.ndarray, size: tuple[int, int], height_m: float,
                tilt_deg: float, roll_deg: float, distance_m: float, yaw_deg: float, flip: bool,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A picture of the board lying on the floor, and the true (3, 3) rotation world <- camera.

    The camera stands at (0, height, 0) looking along -z, tilted down and rolled; the board's
    centre lies ``distance_m`` ahead on the floor, turned by ``yaw_deg`` (plus 180 degrees when
    ``flip``), so both readings of the board are exercised.
    """
    tilt, roll = np.radians(tilt_deg), np.radians(roll_deg)
    forward = np.array([0.0, -np.sin(tilt), -np.cos(tilt)])
    level_right = np.array([1.0, 0.0, 0.0])
    down = np.cross(forward, level_right)
    right = np.cos(roll) * level_right + np.sin(roll) * down  # roll about the optical axis
    down = np.cross(forward, right)
    rotation_wc = np.column_stack([right, down, forward])
    centre_world = np.array([0.0, height_m, 0.0])
    yaw = np.radians(yaw_deg + (180.0 if flip else 0.0))
    board_x = np.array([np.cos(yaw), 0.0, np.sin(yaw)])
    board_y = np.array([-np.sin(yaw), 0.0, np.cos(yaw)])
    board_z = np.cross(board_x, board_y)
    board_centre = np.array([0.0, 0.0, -distance_m])
    rotation_world_board = np.column_stack([board_x, board_y, board_z])
    origin_world = board_centre - rotation_world_board @ board.centre()
    rotation_cb = rotation_wc.T @ rotation_world_board
    translation_cb = rotation_wc.T @ (origin_world - centre_world)
    image = render(board, camera_matrix, np.zeros(5), rotation_cb, translation_cb, size, rng)
    return image, rotation_wc
