"""The 3D view: floor grid, the camera's frustum and one avatar per performer, orbit/zoom/pan with the mouse.

Items are created once and updated with ``setData`` at most once per ``REFRESH_MS``: ``set_pose``
only stores the newest poses and arms a single-shot timer, so poses arriving faster than that are
dropped here and never queue up, and nothing runs while no pose arrives. World space is the
application's (y up, floor y = 0, metres; see :mod:`mocap_app.conventions`); pyqtgraph's OpenGL
scene is z up, so every point goes through :func:`world_to_view` on its way in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph.opengl as gl
from pyqtgraph.opengl.GLViewWidget import GLViewMixin
from PySide6.QtCore import QCoreApplication, QElapsedTimer, QSize, Qt, QTimer
from PySide6.QtGui import QImage, QVector3D
from PySide6.QtOpenGL import QOpenGLWindow
from PySide6.QtWidgets import QVBoxLayout, QWidget

from calibration.camera_file import CameraCalibration
from mocap_app.conventions import opencv_to_world
from mocap_app.overlay import performer_colour
from mocap_app.skeletons import RIG
from mocap_app.types import MotionFrame

#: Shortest time between two pushes of stored poses to the GPU, milliseconds (30 Hz: a software
#: OpenGL repaint of the view costs several milliseconds of the GUI thread).
REFRESH_MS = 33
MINIMUM_SIZE = QSize(320, 180)
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
#: Initial orbit camera: it looks at the middle between the real camera and the performers, from behind
#: the real camera and this far to its side (degrees), from at least VIEW_DISTANCE_M (metres) or
#: VIEW_SPAN_FACTOR times the camera-performer distance, VIEW_ELEVATION_DEG above the horizon.
VIEW_DISTANCE_M = 4.5
VIEW_SPAN_FACTOR = 1.3
VIEW_ELEVATION_DEG = 20.0
VIEW_SIDE_DEG = 55.0
#: Height of the orbit centre above the floor, metres (about a performer's hips).
VIEW_CENTRE_HEIGHT_M = 0.9
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


class SceneWindow(GLViewMixin, QOpenGLWindow):
    """pyqtgraph's 3D scene (items, orbit camera, mouse handling) in a native window of its own.

    A ``QOpenGLWidget`` would switch the WHOLE main window to OpenGL composition: every repaint of
    any widget (the video panel, 15-30 times a second) would then upload and draw the full window
    through OpenGL, which with software OpenGL (no GPU, remote desktops, Xvfb) costs the GUI thread
    tens of milliseconds per frame. In its own window only the 3D view renders with OpenGL.
    """


class SkeletonView(QWidget):
    """Orbit (left drag), pan (middle drag or shift+drag) and zoom (wheel) around the performers.

    Example:
        >>> view = SkeletonView()                        # doctest: +SKIP
        >>> view.set_calibration(calibration)            # doctest: +SKIP
        >>> view.set_pose(result.motion)                 # doctest: +SKIP
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scene = SceneWindow()
        self.scene.setBackgroundColor(BACKGROUND_RGB)
        container = QWidget.createWindowContainer(self.scene, self)
        container.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        container.setMinimumSize(MINIMUM_SIZE)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(container)
        self._bones = RIG.bones                       # (B, 2) parent, child
        self._avatars: dict[int, _Avatar] = {}
        self._pending: tuple[MotionFrame, ...] | None = None
        self._shown: dict[int, MotionFrame] = {}
        self._follow: int | None = None
        self._floor_calibrated = False
        self._floor_y = -ASSUMED_CAMERA_HEIGHT_M
        self._framed = False
        self._camera_centre = np.zeros(3)                  # world, metres
        self._camera_forward = np.array([0.0, 0.0, -1.0])  # world, horizontal unit vector
        self._subject: np.ndarray | None = None            # where the first performer stood, world

        self._grid = gl.GLGridItem(color=GRID_RGBA)
        self._grid.setSize(GRID_SIZE_M, GRID_SIZE_M)
        self._grid.setSpacing(GRID_SPACING_M, GRID_SPACING_M)
        self.scene.addItem(self._grid)
        self._frustum = gl.GLLinePlotItem(mode="lines", color=FRUSTUM_RGBA, width=2.0, antialias=True)
        self.scene.addItem(self._frustum)
        self.set_calibration(None)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._refresh)
        self._last_refresh = QElapsedTimer()
        self._last_refresh.start()

    # --- inputs (cheap: store only) ------------------------------------------------------------
    def set_pose(self, motion: Sequence[MotionFrame]) -> None:
        """Keep the newest fitted poses; they are drawn within ``REFRESH_MS``. Performers not in it are hidden."""
        self._pending = tuple(motion)
        if not self._timer.isActive():
            self._timer.start(max(0, REFRESH_MS - self._last_refresh.elapsed()))

    def set_calibration(self, calibration: CameraCalibration | None, image_size: tuple[int, int] = (1280, 720)) -> None:
        """Place the floor and the camera from a calibration (``None``: an upright camera, floor assumed)."""
        if calibration is None:
            from calibration.uncalibrated import assumed_calibration

            calibration = assumed_calibration(*image_size)
        ground = calibration.ground
        self._floor_calibrated = ground is not None
        self._framed, self._subject = False, None
        if not self._floor_calibrated:
            self._floor_y = -ASSUMED_CAMERA_HEIGHT_M
        rotation = None if ground is None else ground.rotation_wc
        centre = None if ground is None else ground.camera_centre_world
        axis = opencv_to_world(np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 1.0]]), rotation, centre)
        forward = (axis[1] - axis[0]) * np.array([1.0, 0.0, 1.0])
        self._camera_centre = axis[0]
        if np.linalg.norm(forward) > 1e-6:  # a camera looking straight down keeps the previous heading
            self._camera_forward = forward / np.linalg.norm(forward)
        self._frustum.setData(pos=world_to_view(frustum_segments(calibration)))
        self._place_grid()
        self.reset_camera()

    def follow(self, performer_id: int | None) -> None:
        """Keep the orbit centre on a performer's hips (``None`` stops following)."""
        self._follow = performer_id

    @property
    def following(self) -> int | None:
        return self._follow

    def grabFramebuffer(self) -> QImage:  # noqa: N802 (named like Qt's OpenGL widgets)
        """The 3D view as rendered now (for tests and screenshots: a window grab does not include it)."""
        return self.scene.grabFramebuffer()

    def performer_ids(self) -> list[int]:
        """Ids of the performers drawn now."""
        return sorted(self._shown)

    def reset_camera(self) -> None:
        """Look from behind and beside the real camera at it and at where the performers stand."""
        floor = 0.0 if self._floor_calibrated else self._floor_y
        camera = self._camera_centre * np.array([1.0, 0.0, 1.0]) + np.array([0.0, floor, 0.0])
        if self._subject is not None:
            subject = np.array([self._subject[0], floor, self._subject[2]])
        else:
            subject = camera + TYPICAL_SUBJECT_DISTANCE_M * self._camera_forward
        span = float(np.linalg.norm(subject - camera))
        backwards = world_to_view(camera - subject if span > 1e-6 else -self._camera_forward)
        azimuth = float(np.degrees(np.arctan2(backwards[1], backwards[0]))) + VIEW_SIDE_DEG
        centre = (camera + subject) / 2.0 + np.array([0.0, VIEW_CENTRE_HEIGHT_M, 0.0])
        self.scene.setCameraPosition(pos=QVector3D(*world_to_view(centre)),
                               distance=max(VIEW_DISTANCE_M, VIEW_SPAN_FACTOR * span),
                               elevation=VIEW_ELEVATION_DEG, azimuth=azimuth)

    # --- display-rate update ------------------------------------------------------------------
    def _refresh(self) -> None:
        if self._pending is None:
            return
        self._last_refresh.restart()
        motion, self._pending = self._pending, None
        self._shown = {m.performer_id: m for m in motion if np.all(np.isfinite(m.world_positions))}
        for performer_id, avatar in self._avatars.items():
            visible = performer_id in self._shown
            avatar.bones.setVisible(visible)
            avatar.joints.setVisible(visible)
        for performer_id, frame in self._shown.items():
            self._draw(performer_id, frame.world_positions)
        if self._shown and not self._framed:  # first performer: floor under them, camera and them in view
            self._framed = True
            first = next(iter(self._shown.values()))
            if not self._floor_calibrated:
                self._floor_y = float(first.world_positions[:, 1].min())
            self._subject = first.world_positions[RIG.index("Hips")].copy()
            self.reset_camera()
        if not self._floor_calibrated and self._shown:
            lowest = min(float(m.world_positions[:, 1].min()) for m in self._shown.values())
            self._floor_y += FLOOR_SMOOTHING * (lowest - self._floor_y)
            self._place_grid()
        if self._follow in self._shown:
            hips = self._shown[self._follow].world_positions[RIG.index("Hips")]
            self.scene.opts["center"] = QVector3D(*world_to_view(hips))
        self.scene.update()

    def _draw(self, performer_id: int, positions: np.ndarray) -> None:
        avatar = self._avatars.get(performer_id)
        if avatar is None:
            rgba = tuple(c / 255.0 for c in performer_colour(performer_id)) + (1.0,)
            avatar = _Avatar(gl.GLLinePlotItem(mode="lines", color=rgba, width=BONE_WIDTH_PX, antialias=True),
                             gl.GLScatterPlotItem(color=rgba, size=JOINT_SIZE_PX, pxMode=True))
            self.scene.addItem(avatar.bones)
            self.scene.addItem(avatar.joints)
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
