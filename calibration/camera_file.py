"""One calibration file per camera: versioned, human-readable, OpenCV FileStorage compatible.

The file is written and read with ``cv2.FileStorage``, so it is plain JSON (``.json``, the
default), YAML (``.yaml``/``.yml``) or XML (``.xml``) that OpenCV programs load directly. Fields:

=============================  =============================================================
``format``                     "mocap-camera-calibration"
``version``                    integer, :data:`FORMAT_VERSION`
``source``                     "checkerboard" or "assumed-fov"
``image_width``/``_height``    pixels; the calibration is only valid at this resolution
``camera_matrix``              3x3 K in pixels (OpenCV's name; an ``opencv-matrix`` node)
``distortion_coefficients``    1xN OpenCV distortion (k1, k2, p1, p2[, k3...]) (OpenCV's name)
``avg_reprojection_error``     overall RMS reprojection error, pixels (as OpenCV's sample app)
``board``, ``views``           the board used and how many views were solved (information)
``ground`` (optional map)      ``rotation_world_from_camera`` 3x3, ``camera_centre_world`` 3x1
                               (metres, world y up, floor y = 0), ``source``, ``rms_px``, and
                               ``camera_height_m``/``camera_tilt_deg`` for reading (checked)
=============================  =============================================================

``camera_matrix``, ``distortion_coefficients``, ``image_width``, ``image_height`` and
``avg_reprojection_error`` are the names OpenCV's ``calibration.cpp`` sample writes, so its
tools read our files. Matrices may also be hand-written as plain lists of numbers. Files are
written atomically (temporary file, then rename), so a crash never leaves half a calibration.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from mocap_app.errors import CalibrationError

from .ground import GroundPlane

logger = logging.getLogger(__name__)

FORMAT_NAME = "mocap-camera-calibration"
FORMAT_VERSION = 1
SOURCES = ("checkerboard", "assumed-fov")
GROUND_SOURCES = ("checkerboard", "feet")
SUFFIXES = (".json", ".yaml", ".yml", ".xml")
#: OpenCV accepts 4, 5, 8, 12 or 14 distortion coefficients.
DIST_LENGTHS = (4, 5, 8, 12, 14)
#: Tolerance for the rotation check and the stated camera height, on load.
ROTATION_TOLERANCE = 1e-4
HEIGHT_TOLERANCE_M = 1e-3


@dataclass(frozen=True, eq=False)
class CameraCalibration:
    """Everything the pipeline needs to know about one camera.

    Attributes:
        image_size: (width, height) the camera was calibrated at, pixels.
        camera_matrix: (3, 3) K in pixels.
        dist_coeffs: (N,) OpenCV distortion coefficients, N in DIST_LENGTHS.
        source: "checkerboard" (measured) or "assumed-fov" (from an assumed field of view).
        rms_px: overall RMS reprojection error, pixels; None when not measured.
        board: description of the board used ("" when none).
        views: number of views solved (0 when none).
        ground: the floor and world frame, or None when the floor is not calibrated.
        created: ISO 8601 time of the calibration.
        version: file format version.

    Example:
        >>> from mocap_app.conventions import default_intrinsics
        >>> calib = CameraCalibration((640, 480), default_intrinsics(640, 480), np.zeros(5), "assumed-fov")
        >>> calib.check_matches(640, 480)
    """

    image_size: tuple[int, int]
    camera_matrix: np.ndarray
    dist_coeffs: np.ndarray
    source: str
    rms_px: float | None = None
    board: str = ""
    views: int = 0
    ground: GroundPlane | None = None
    created: str = dataclasses.field(default_factory=lambda: datetime.datetime.now().astimezone().isoformat(
        timespec="seconds"))
    version: int = FORMAT_VERSION

    def with_ground(self, ground: GroundPlane | None) -> CameraCalibration:
        """A copy with another floor."""
        return dataclasses.replace(self, ground=ground)

    def check_matches(self, width: int, height: int) -> None:
        """Refuse to use this calibration for a source of another resolution.

        Raises:
            CalibrationError: naming both resolutions and the fix.
        """
        if (int(width), int(height)) != tuple(self.image_size):
            cw, ch = self.image_size
            raise CalibrationError(
                f"The camera was calibrated at {cw}x{ch} but the source is {width}x{height}: recalibrate at "
                f"{width}x{height} ('mocap calibrate intrinsics') or pass the --calibration file made for it.")

    def summary(self) -> str:
        """What the application is using, in one line a user reads in the status bar."""
        fx = self.camera_matrix[0, 0]
        if self.source == "checkerboard":
            rms = f", RMS {self.rms_px:.2f} px" if self.rms_px is not None else ""
            text = f"checkerboard intrinsics at {self.image_size[0]}x{self.image_size[1]} (f {fx:.0f} px{rms})"
        else:
            fov = np.degrees(2 * np.arctan(0.5 * self.image_size[1] / self.camera_matrix[1, 1]))
            text = f"assumed {fov:.0f} deg vertical field of view at {self.image_size[0]}x{self.image_size[1]}"
        if self.ground is None:
            return text + "; floor not calibrated"
        where = "from the checkerboard" if self.ground.source == "checkerboard" else "estimated from the feet"
        return (text + f"; floor {where} (camera {self.ground.camera_height_m:.2f} m high, "
                f"tilted {self.ground.camera_tilt_deg:.1f} deg down)")

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the file atomically; the suffix picks JSON, YAML or XML."""
        target = self.check_writable(path)
        temporary = target.with_name(f".{target.stem}.tmp-{os.getpid()}{target.suffix}")
        storage = cv2.FileStorage(str(temporary), cv2.FILE_STORAGE_WRITE)
        if not storage.isOpened():
            raise CalibrationError(f"Cannot write {target}: the folder is not writable.")
        try:
            self._write(storage)
            storage.release()
            os.replace(temporary, target)
        except BaseException:
            storage.release()
            temporary.unlink(missing_ok=True)
            raise
        logger.info("wrote calibration %s", target)
        return target

    @staticmethod
    def check_writable(path: str | os.PathLike[str]) -> Path:
        """Refuse, before any work is done, a destination with an unknown suffix or no folder."""
        target = Path(path)
        if target.suffix.lower() not in SUFFIXES:
            raise CalibrationError(f"Calibration files end in {', '.join(SUFFIXES)}; got '{target.name}'.")
        if not target.parent.is_dir():
            raise CalibrationError(f"The folder {target.parent} does not exist; create it or choose another --out.")
        return target

    def _write(self, fs: cv2.FileStorage) -> None:
        fs.write("format", FORMAT_NAME)
        fs.write("version", int(self.version))
        fs.write("source", self.source)
        fs.write("created", self.created)
        fs.write("image_width", int(self.image_size[0]))
        fs.write("image_height", int(self.image_size[1]))
        fs.write("camera_matrix", np.asarray(self.camera_matrix, dtype=np.float64))
        fs.write("distortion_coefficients", np.asarray(self.dist_coeffs, dtype=np.float64).reshape(1, -1))
        if self.rms_px is not None:
            fs.write("avg_reprojection_error", float(self.rms_px))
        fs.write("board", self.board)
        fs.write("views", int(self.views))
        if self.ground is not None:
            fs.startWriteStruct("ground", cv2.FileNode_MAP)
            fs.write("source", self.ground.source)
            fs.write("rotation_world_from_camera", np.asarray(self.ground.rotation_wc, dtype=np.float64))
            fs.write("camera_centre_world", np.asarray(self.ground.camera_centre_world, dtype=np.float64).reshape(3, 1))
            if np.isfinite(self.ground.rms_px):
                fs.write("rms_px", float(self.ground.rms_px))
            fs.write("camera_height_m", self.ground.camera_height_m)
            fs.write("camera_tilt_deg", self.ground.camera_tilt_deg)
            fs.endWriteStruct()

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> CameraCalibration:
        """Read and validate a calibration file.

        Raises:
            FileNotFoundError: no such file.
            CalibrationError: unreadable, another format or version, missing or invalid fields.
        """
        source_path = Path(path)
        if not source_path.is_file():
            raise FileNotFoundError(f"No calibration file at {source_path}. Run 'mocap calibrate intrinsics' first.")
        return _Reader(source_path).read()


class _Reader:
    """Validating reader: every problem names the file, the field and the fix."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, problem: str) -> CalibrationError:
        return CalibrationError(f"{self.path}: {problem}. Run 'mocap calibrate intrinsics' again or fix the file.")

    def read(self) -> CameraCalibration:
        if self.path.suffix.lower() == ".json":
            try:
                json.loads(self.path.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise self.fail(f"not valid JSON ({exc})") from exc
        try:
            storage = cv2.FileStorage(str(self.path), cv2.FILE_STORAGE_READ)
            opened = storage.isOpened()
        except (cv2.error, SystemError) as exc:
            raise self.fail("not a readable JSON, YAML or XML file") from exc
        if not opened:
            raise self.fail("not a readable JSON, YAML or XML file")
        try:
            return self._fields(storage.root())
        finally:
            storage.release()

    def _fields(self, root: cv2.FileNode) -> CameraCalibration:
        fmt = self.string(root, "format")
        if fmt != FORMAT_NAME:
            raise self.fail(f"format is '{fmt}', not '{FORMAT_NAME}'")
        version = self.integer(root, "version")
        if version != FORMAT_VERSION:
            newer = " (written by a newer mocap: update mocap)" if version > FORMAT_VERSION else ""
            raise self.fail(f"unsupported version {version}, this mocap reads version {FORMAT_VERSION}{newer}")
        source = self.string(root, "source")
        if source not in SOURCES:
            raise self.fail(f"source '{source}' is not one of {', '.join(SOURCES)}")
        size = (self.integer(root, "image_width"), self.integer(root, "image_height"))
        if min(size) <= 0:
            raise self.fail(f"image size {size[0]}x{size[1]} is not positive")
        camera_matrix = self.matrix(root, "camera_matrix", (3, 3))
        if not (camera_matrix[0, 0] > 0 and camera_matrix[1, 1] > 0
                and np.allclose(camera_matrix[2], [0.0, 0.0, 1.0])):
            raise self.fail("camera_matrix is not a camera matrix [[fx 0 cx] [0 fy cy] [0 0 1]] with fx, fy > 0")
        dist = self.matrix(root, "distortion_coefficients", None).ravel()
        if dist.size not in DIST_LENGTHS:
            raise self.fail(f"distortion_coefficients has {dist.size} values, expected one of {DIST_LENGTHS}")
        rms_node = root.getNode("avg_reprojection_error")
        rms = None if rms_node.empty() else self.number(root, "avg_reprojection_error")
        board = "" if root.getNode("board").empty() else self.string(root, "board")
        views = 0 if root.getNode("views").empty() else self.integer(root, "views")
        created = "" if root.getNode("created").empty() else self.string(root, "created")
        ground_node = root.getNode("ground")
        ground = None if ground_node.empty() or ground_node.isNone() else self._ground(ground_node)
        return CameraCalibration(size, camera_matrix, dist, source, rms, board, views, ground, created, version)

    def _ground(self, node: cv2.FileNode) -> GroundPlane:
        if not node.isMap():
            raise self.fail("ground is not a map of fields")
        rotation = self.matrix(node, "rotation_world_from_camera", (3, 3), "ground.")
        if (not np.allclose(rotation @ rotation.T, np.eye(3), atol=ROTATION_TOLERANCE)
                or np.linalg.det(rotation) < 0):
            raise self.fail("ground.rotation_world_from_camera is not a rotation matrix")
        centre = self.matrix(node, "camera_centre_world", None, "ground.").ravel()
        if centre.size != 3:
            raise self.fail(f"ground.camera_centre_world has {centre.size} values, expected 3")
        if centre[1] <= 0:
            raise self.fail(f"ground puts the camera {centre[1]:.3f} m high, below the floor")
        if not node.getNode("camera_height_m").empty():
            stated = self.number(node, "camera_height_m", "ground.")
            if abs(stated - centre[1]) > HEIGHT_TOLERANCE_M:
                raise self.fail(f"ground.camera_height_m {stated:.3f} disagrees with camera_centre_world "
                                f"(y = {centre[1]:.3f}); edit camera_centre_world, not the height")
        source = "checkerboard" if node.getNode("source").empty() else self.string(node, "source", "ground.")
        if source not in GROUND_SOURCES:
            raise self.fail(f"ground.source '{source}' is not one of {', '.join(GROUND_SOURCES)}")
        rms = float("nan") if node.getNode("rms_px").empty() else self.number(node, "rms_px", "ground.")
        return GroundPlane(rotation, centre, rms, source)

    def node(self, parent: cv2.FileNode, name: str, prefix: str = "") -> cv2.FileNode:
        child = parent.getNode(name)
        if child.empty() or child.isNone():
            raise self.fail(f"missing field '{prefix}{name}'")
        return child

    def string(self, parent: cv2.FileNode, name: str, prefix: str = "") -> str:
        child = self.node(parent, name, prefix)
        if not child.isString():
            raise self.fail(f"field '{prefix}{name}' must be text")
        return child.string()

    def number(self, parent: cv2.FileNode, name: str, prefix: str = "") -> float:
        child = self.node(parent, name, prefix)
        if not (child.isReal() or child.isInt()) or not np.isfinite(child.real()):
            raise self.fail(f"field '{prefix}{name}' must be a number")
        return float(child.real())

    def integer(self, parent: cv2.FileNode, name: str, prefix: str = "") -> int:
        child = self.node(parent, name, prefix)
        if not child.isInt():
            raise self.fail(f"field '{prefix}{name}' must be a whole number")
        return int(child.real())

    def matrix(self, parent: cv2.FileNode, name: str, shape: tuple[int, int] | None, prefix: str = "") -> np.ndarray:
        """An ``opencv-matrix`` node or a plain list of numbers (row-major), validated finite."""
        child = self.node(parent, name, prefix)
        try:
            if child.isSeq():
                values = np.array([child.at(i).real() for i in range(child.size())
                                   if child.at(i).isReal() or child.at(i).isInt()], dtype=np.float64)
                if values.size != child.size():
                    raise self.fail(f"field '{prefix}{name}' must contain numbers only")
            else:
                raw = child.mat()
                if raw is None:
                    raise self.fail(f"field '{prefix}{name}' is not a matrix")
                values = np.asarray(raw, dtype=np.float64)
        except (cv2.error, SystemError, TypeError) as exc:
            raise self.fail(f"field '{prefix}{name}' is not a matrix") from exc
        if values.size == 0 or not np.all(np.isfinite(values)):
            raise self.fail(f"field '{prefix}{name}' is empty or not finite")
        if shape is not None:
            if values.size != shape[0] * shape[1]:
                raise self.fail(f"field '{prefix}{name}' has {values.size} values, expected {shape[0]}x{shape[1]}")
            values = values.reshape(shape)
        return values
