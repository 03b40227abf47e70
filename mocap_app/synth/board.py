"""A rendered checkerboard calibration session, so calibration can be tested end to end.

The board is first waved in front of the camera (random distances, tilts and rolls, as a person
would hold it), then laid on the floor in front of the performers. The clip folder gets
``board_wave.mp4`` (for ``mocap calibrate intrinsics --video``), ``board_floor.png`` (for
``mocap calibrate ground --image``) and ``board_truth.jsonl`` with, per frame, the board's pose in
the camera (``rotation_cb``, ``translation_cb``: board -> camera, metres) and its inner corners in
pixels in :meth:`calibration.targets.Checkerboard.object_points` order.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
from scipy.spatial.transform import Rotation

from .camera import VirtualCamera
from .render import Renderer, TexturedQuad
from .scene import Stage

#: The rendered board: inner corners and square size (a 10 x 7 squares poster, 0.6 x 0.42 m).
BOARD_COLUMNS, BOARD_ROWS, BOARD_SQUARE_M = 9, 6, 0.06
BOARD_PIXELS_PER_SQUARE = 40
WAVE_FILE = "board_wave.mp4"
FLOOR_FILE = "board_floor.png"
TRUTH_FILE = "board_truth.jsonl"
WAVE_DISTANCE_M = (1.2, 2.6)
WAVE_TILT_DEG = 35.0
WAVE_ROLL_DEG = 20.0
#: The floor board lies this far in front of the camera (horizontally), metres.
FLOOR_DISTANCE_M = 2.4


def _board():  # -> calibration.targets.Checkerboard
    from calibration.targets import Checkerboard

    return Checkerboard(BOARD_COLUMNS, BOARD_ROWS, BOARD_SQUARE_M)


def board_texture() -> tuple[np.ndarray, float]:
    """(H, W, 3) uint8 image of the board with its white quiet zone, and the quiet zone's width, metres."""
    from calibration.board_render import QUIET_ZONE_SQUARES

    squares_x, squares_y = BOARD_COLUMNS + 1, BOARD_ROWS + 1
    size = BOARD_PIXELS_PER_SQUARE
    rows = (np.arange(squares_y * size) // size)[:, None]
    cols = (np.arange(squares_x * size) // size)[None, :]
    pattern = np.where((rows + cols) % 2 == 0, 20, 235).astype(np.uint8)
    margin = int(round(QUIET_ZONE_SQUARES * size))
    image = cv2.copyMakeBorder(pattern, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=235)
    return np.repeat(image[..., None], 3, axis=2), QUIET_ZONE_SQUARES * BOARD_SQUARE_M


def _board_geometry(rotation_cb: np.ndarray, translation_cb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Camera-space quad corners (4, 3) and inner corners (N, 3) of the board at a pose (board -> camera)."""
    _, margin = board_texture()
    first = -BOARD_SQUARE_M - margin  # the quad's top-left, in board coordinates of the first inner corner
    width = (BOARD_COLUMNS + 1) * BOARD_SQUARE_M + 2 * margin
    height = (BOARD_ROWS + 1) * BOARD_SQUARE_M + 2 * margin
    quad = np.array([[first, first, 0], [first + width, first, 0], [first + width, first + height, 0],
                     [first, first + height, 0]])
    inner = _board().object_points().astype(np.float64)
    return quad @ rotation_cb.T + translation_cb, inner @ rotation_cb.T + translation_cb


def _wave_pose(rng: np.random.Generator, camera: VirtualCamera) -> tuple[np.ndarray, np.ndarray]:
    """A random hand-held board pose facing the camera, centred somewhere in the view."""
    depth = rng.uniform(*WAVE_DISTANCE_M)
    fx, fy = camera.K[0, 0], camera.K[1, 1]
    half_w, half_h = 0.3 * camera.width / fx * depth, 0.3 * camera.height / fy * depth
    centre = np.array([rng.uniform(-half_w, half_w), rng.uniform(-half_h, half_h), depth])
    tilt = rng.uniform(-WAVE_TILT_DEG, WAVE_TILT_DEG, 2)
    roll = rng.uniform(-WAVE_ROLL_DEG, WAVE_ROLL_DEG)
    rotation = Rotation.from_euler("xyz", [tilt[0], tilt[1], roll], degrees=True).as_matrix()
    offset = _board().centre()
    return rotation, centre - rotation @ offset


def _floor_pose(camera: VirtualCamera) -> tuple[np.ndarray, np.ndarray]:
    """The board lying on the floor in front of the camera, its rows running away from it."""
    forward = camera.rotation_wc[:, 2].copy()
    forward[1] = 0.0
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 1.0, 0.0])
    # Board axes in the world: x (columns) to the camera's right, y (rows) towards the camera, z down.
    rotation_wb = np.stack([right, -forward, [0.0, -1.0, 0.0]], axis=1)
    centre = camera.centre + forward * FLOOR_DISTANCE_M
    centre[1] = 0.002  # just above the floor, so the floor does not show through
    translation_wb = centre - rotation_wb @ _board().centre()
    rotation_cb = camera.rotation_wc.T @ rotation_wb
    translation_cb = camera.rotation_wc.T @ (translation_wb - camera.centre)
    return rotation_cb, translation_cb


def render_board_session(folder: str | Path, camera: VirtualCamera, stage: Stage, renderer: Renderer,
                         frames: int = 40, seed: int = 0, fps: float = 10.0) -> dict:
    """Render the waved-board video and the floor-board image with their truth; returns a summary."""
    folder = Path(folder)
    rng = np.random.default_rng(seed)
    image, _ = board_texture()
    renderer.set_stage(stage)
    writer = cv2.VideoWriter(str(folder / WAVE_FILE), cv2.VideoWriter_fourcc(*"mp4v"), fps,
                             (camera.width, camera.height))
    poses = [_wave_pose(rng, camera) for _ in range(frames)] + [_floor_pose(camera)]
    with open(folder / TRUTH_FILE, "w", encoding="utf-8") as truth:
        for index, (rotation_cb, translation_cb) in enumerate(poses):
            quad_cam, inner_cam = _board_geometry(rotation_cb, translation_cb)
            quad = TexturedQuad(corners=camera.camera_to_world(quad_cam), image=image)
            result = renderer.render(camera, [], (quad,))
            bgr = np.ascontiguousarray(result.image[..., ::-1])
            on_floor = index == frames
            if on_floor:
                cv2.imwrite(str(folder / FLOOR_FILE), bgr)
            else:
                writer.write(bgr)
            truth.write(json.dumps({"frame": index, "file": FLOOR_FILE if on_floor else WAVE_FILE,
                                    "rotation_cb": np.round(rotation_cb, 6).tolist(),
                                    "translation_cb": np.round(translation_cb, 5).tolist(),
                                    "corners_px": np.round(camera.project_camera(inner_cam), 3).tolist()}) + "\n")
    writer.release()
    return {"board": f"{BOARD_COLUMNS}x{BOARD_ROWS}", "square_m": BOARD_SQUARE_M, "wave_frames": frames,
            "files": [WAVE_FILE, FLOOR_FILE, TRUTH_FILE]}
