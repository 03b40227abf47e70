"""The 3D view: floor grid, the camera's frustum and one avatar per performer, orbit/zoom/pan with the mouse.

Items are created once and updated with ``setData`` by a display-rate timer; ``set_pose`` only
stores the newest poses, so poses arriving faster than the screen refreshes are dropped here and
never queue up. World space is the application's (y up, floor y = 0, metres; see
:mod:`mocap_app.conventions`); pyqtgraph's OpenGL scene is z up, so every point goes through
:func:`world_to_view` on its way in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph.opengl as gl
from PySide6.QtCore import QCoreApplication, Qt, QTimer
from PySide6.QtGui import QVector3D

from calibration.camera_file import CameraCalibration
from mocap_app.conventions import opencv_to_world
from mocap_app.overlay import performer_colour
from mocap_app.skeletons import RIG
from mocap_app.types import MotionFrame

#: How often stored poses are pushed to the GPU, milliseconds (about the screen's 60 Hz).
REFRESH_MS = 16
#: Floor grid: side length and line spacing, metres.
GRID_SIZE_M = 10.0
GRID_SPACING_M = 0.5
GRID_RGBA = (150, 150, 160, 90)
#: Background of the 3D view, RGB.
BACKGROUND_RGB = (32, 34, 40)
#: Bone line width and joint dot size, pixels.
BONE_WIDTH_PX = 6.0
JOINT_SIZE_PX = 9.0
#: Distance from the camera centre to the drawn image plane of its frustum, metres.
FRUSTUM_DEPTH_M = 0.5
FRUSTUM_RGBA = (0.95, 0.95, 0.95, 0.9)
#: Camera height assumed for drawing when the floor is not calibrated, metres.
ASSUMED_CAMERA_HEIGHT_M = 1.2
#: Initial orbit camera: distance (m), elevation and azimuth (degrees), looking over the real camera.
VIEW_DISTANCE_M = 6.5
VIEW_ELEVATION_DEG = 18.0
VIEW_AZIMUTH_DEG = -70.0
#: Where performers usually stand in front of an uncalibrated camera, metres along its axis.
TYPICAL_SUBJECT_DISTANCE_M = 3.0
#: Weight of the newest foot height when tracking the floor of an uncalibrated camera (0..1).
FLOOR_SMOOTHING = 0.05

# pyqtgraph caches compiled shader programs process-wide; they stay valid for every view (and for
# views created after another was destroyed) only when all GL contexts share one share group.
if QCoreApplication.instance() is None:
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)

# World (x right, y up, z towards the camera) -> view (X = x, Y = -z, Z = y): a proper rotation.
_WORLD_TO_VIEW = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


def world_to_view(points: np.ndarray) -> np.ndarray:
    """(..., 3) world points (y up, metres) to the z-up coordinates of the OpenGL scene."""
    return np.asarray(points, dtype=np.float64) @ _WORLD_TO_VIEW.T


def frustum_segments(calibration: CameraCalibration, depth_m: float = FRUSTUM_DEPTH_M) -> np.ndarray:
    """(16, 3) world-space line segments (pairs of points) drawing the camera as a pyramid.

    Four edges from the camera centre to the image corners at ``depth_m`` and the four sides of
    that image rectangle. Without a calibrated floor the camera sits at the origin, upright.
    """
    width, height = calibration.image_size
    corners_px = np.array([[0.0, 0.0], [width, 0.0], [width, height], [0.0, height]])
    k_inv = np.linalg.inv(calibration.camera_matrix)
    rays = np.c_[corners_px, np.ones(4)] @ k_inv.T
    corners_cam = rays / rays[:, 2:3] * depth_m
    ground = calibration.ground
    rotation = None if ground is None else ground.rotation_wc
    centre = None if ground is None else ground.camera_centre_world
    points = opencv_to_world(np.vstack([np.zeros((1, 3)), corners_cam]), rotation, centre)
    apex, rim = points[0], points[1:]
    segments = []
    for index in range(4):
        segments += [apex, rim[index], rim[index], rim[(index + 1) % 4]]
    return np.array(segments)


@dataclass
class _Avatar:
    """The GL items of one performer."""

    bones: gl.GLLinePlotItem
    joints: gl.GLScatterPlotItem


class SkeletonView(gl.GLViewWidget):
    """Orbit (left drag), pan (middle drag or shift+drag) and zoom (wheel) around the performers.

    Example:
        >>> view = SkeletonView()                        # doctest: +SKIP
        >>> view.set_calibration(calibration)            # doctest: +SKIP
        >>> view.set_pose(result.motion)                 # doctest: +SKIP
    """

    def __init__(self, parent: object | None = None) -> None:
        super().__init__(parent)
        self.setBackgroundColor(BACKGROUND_RGB)
        self._bones = RIG.bones                       # (B, 2) parent, child
        self._avatars: dict[int, _Avatar] = {}
        self._pending: tuple[MotionFrame, ...] | None = None
        self._shown: dict[int, MotionFrame] = {}
        self._follow: int | None = None
        self._floor_calibrated = False
        self._floor_y = -ASSUMED_CAMERA_HEIGHT_M
        self._framed = False

        self._grid = gl.GLGridItem(color=GRID_RGBA)
        self._grid.setSize(GRID_SIZE_M, GRID_SIZE_M)
        self._grid.setSpacing(GRID_SPACING_M, GRID_SPACING_M)
        self.addItem(self._grid)
        self._frustum = gl.GLLinePlotItem(mode="lines", color=FRUSTUM_RGBA, width=2.0, antialias=True)
        self.addItem(self._frustum)
        self.set_calibration(None)
        self.reset_camera()

        self._timer = QTimer(self)
        self._timer.timeout.connect(self._refresh)
        self._timer.start(REFRESH_MS)

    # --- inputs (cheap: store only) ------------------------------------------------------------
    def set_pose(self, motion: Sequence[MotionFrame]) -> None:
        """Keep the newest fitted poses; the display timer draws them. Performers not in it are hidden."""
        self._pending = tuple(motion)

    def set_calibration(self, calibration: CameraCalibration | None, image_size: tuple[int, int] = (1280, 720)) -> None:
        """Place the floor and the camera from a calibration (``None``: an upright camera, floor assumed)."""
        if calibration is None:
            from calibration.uncalibrated import assumed_calibration

            calibration = assumed_calibration(*image_size)
        self._floor_calibrated = calibration.ground is not None
        self._framed = False
        if not self._floor_calibrated:
            self._floor_y = -ASSUMED_CAMERA_HEIGHT_M
        self._frustum.setData(pos=world_to_view(frustum_segments(calibration)))
        self._place_grid()

    def follow(self, performer_id: int | None) -> None:
        """Keep the orbit centre on a performer's hips (``None`` stops following)."""
        self._follow = performer_id

    @property
    def following(self) -> int | None:
        return self._follow

    def performer_ids(self) -> list[int]:
        """Ids of the performers drawn now."""
        return sorted(self._shown)

    def reset_camera(self) -> None:
        """Look over the real camera's shoulder at where performers stand."""
        centre = np.array([0.0, 1.0, 0.0]) if self._floor_calibrated else np.array(
            [0.0, self._floor_y + 1.0, -TYPICAL_SUBJECT_DISTANCE_M])
        self.setCameraPosition(pos=QVector3D(*world_to_view(centre)), distance=VIEW_DISTANCE_M,
                               elevation=VIEW_ELEVATION_DEG, azimuth=VIEW_AZIMUTH_DEG)

    # --- display-rate update ------------------------------------------------------------------
    def _refresh(self) -> None:
        if self._pending is None:
            return
        motion, self._pending = self._pending, None
        self._shown = {m.performer_id: m for m in motion if np.all(np.isfinite(m.world_positions))}
        for performer_id, avatar in self._avatars.items():
            visible = performer_id in self._shown
            avatar.bones.setVisible(visible)
            avatar.joints.setVisible(visible)
        for performer_id, frame in self._shown.items():
            self._draw(performer_id, frame.world_positions)
        if self._shown and not self._framed:  # first performer: put the floor under and the view on them
            self._framed = True
            first = next(iter(self._shown.values()))
            if not self._floor_calibrated:
                self._floor_y = float(first.world_positions[:, 1].min())
            self.opts["center"] = QVector3D(*world_to_view(first.world_positions[RIG.index("Hips")]))
        if not self._floor_calibrated and self._shown:
            lowest = min(float(m.world_positions[:, 1].min()) for m in self._shown.values())
            self._floor_y += FLOOR_SMOOTHING * (lowest - self._floor_y)
            self._place_grid()
        if self._follow in self._shown:
            hips = self._shown[self._follow].world_positions[RIG.index("Hips")]
            self.opts["center"] = QVector3D(*world_to_view(hips))
        self.update()

    def _draw(self, performer_id: int, positions: np.ndarray) -> None:
        avatar = self._avatars.get(performer_id)
        if avatar is None:
            rgba = tuple(c / 255.0 for c in performer_colour(performer_id)) + (1.0,)
            avatar = _Avatar(gl.GLLinePlotItem(mode="lines", color=rgba, width=BONE_WIDTH_PX, antialias=True),
                             gl.GLScatterPlotItem(color=rgba, size=JOINT_SIZE_PX, pxMode=True))
            self.addItem(avatar.bones)
            self.addItem(avatar.joints)
            self._avatars[performer_id] = avatar
        view = world_to_view(positions)
        avatar.bones.setData(pos=view[self._bones.reshape(-1)])  # (B, 2) -> (2B,) endpoints, mode="lines"
        avatar.joints.setData(pos=view)

    def _place_grid(self) -> None:
        self._grid.resetTransform()
        if self._floor_calibrated:
            self._grid.translate(0.0, 0.0, 0.0)
        else:  # centred where performers stand in front of an upright camera at the origin
            self._grid.translate(*world_to_view(np.array([0.0, self._floor_y, -TYPICAL_SUBJECT_DISTANCE_M])))
