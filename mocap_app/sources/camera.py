"""Webcams by index: listing them, capturing with a monotonic clock, and surviving unplugging.

A camera that stops delivering frames (cable pulled, USB reset, driver hiccup) is reopened with
exponential backoff for ``reconnect_timeout`` seconds. Every step is logged and counted
(``disconnects``, ``reconnects``, ``state``); a camera that never comes back ends the stream like the
end of a file (``read()`` returns ``None``, ``state`` is ``LOST``). Nothing is raised from ``read()``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from ..errors import SourceError
from ..types import Frame
from .base import DEFAULT_FPS, FrameSource, SourceState, plausible_fps, quiet_opencv

logger = logging.getLogger(__name__)

#: Indices ``mocap sources`` probes by default (0 .. N-1).
DEFAULT_MAX_INDEX = 10
#: How long a camera that stopped delivering frames is retried before the capture ends, seconds.
DEFAULT_RECONNECT_TIMEOUT = 5.0
#: First wait between reopen attempts, seconds; doubles after each failure up to the maximum.
RETRY_INTERVAL = 0.1
MAX_RETRY_INTERVAL = 1.0
#: Said wherever a camera is missing.
CAMERA_HINT = ("Connect a webcam (on Linux the user must be in the 'video' group), or pass a video file "
               "or an image folder with --source FILE")


class Capture(Protocol):
    """The part of ``cv2.VideoCapture`` a camera source uses (lets tests inject a fake device)."""

    def isOpened(self) -> bool: ...  # noqa: N802 (OpenCV's name)
    def grab(self) -> bool: ...
    def retrieve(self) -> tuple[bool, np.ndarray | None]: ...
    def get(self, prop_id: int) -> float: ...
    def set(self, prop_id: int, value: float) -> bool: ...
    def release(self) -> None: ...
    def getBackendName(self) -> str: ...  # noqa: N802 (OpenCV's name)


#: ``factory(index, api_preference) -> Capture``; ``cv2.VideoCapture`` itself in the application.
CaptureFactory = Callable[[int, int], Capture]


@dataclass(frozen=True, slots=True)
class CameraInfo:
    """A camera found by :func:`list_cameras`.

    Attributes:
        index: the number to pass as ``--source``.
        width: image width the driver starts with, pixels.
        height: image height, pixels.
        fps: frame rate the driver states, Hz (0 when it states none).
        backend: OpenCV backend that opened it (``V4L2``, ``MSMF``, ``AVFOUNDATION``, ...).
    """

    index: int
    width: int
    height: int
    fps: float
    backend: str


def _backend_name(capture: Capture) -> str:
    try:
        return capture.getBackendName()
    except cv2.error:
        return "unknown"


def list_cameras(max_index: int = DEFAULT_MAX_INDEX, capture_factory: CaptureFactory = cv2.VideoCapture,
                 backend: int = cv2.CAP_ANY) -> list[CameraInfo]:
    """Cameras that open at indices ``0 .. max_index - 1``, probed quietly (no OpenCV warnings)."""
    found = []
    for index in range(max_index):
        with quiet_opencv():
            capture = capture_factory(index, backend)
            try:
                if capture.isOpened():
                    found.append(CameraInfo(index, int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
                                            int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
                                            float(capture.get(cv2.CAP_PROP_FPS)), _backend_name(capture)))
            finally:
                capture.release()
    logger.debug("probed camera indices 0..%d: found %s", max_index - 1, [c.index for c in found])
    return found


def describe_cameras(cameras: list[CameraInfo]) -> str:
    """One clause for messages: which cameras exist."""
    if not cameras:
        return "no cameras were found on this machine"
    return "cameras found: " + ", ".join(f"{c.index} ({c.width}x{c.height})" for c in cameras)


class CameraSource(FrameSource):
    """A webcam by index, stamped with ``time.monotonic()`` at grab, relative to the first frame.

    Args:
        index: camera index (``0`` is the first camera).
        width: requested image width, pixels (``None``: the driver's default). Drivers may pick the
            nearest mode they support; ``size`` reports what was actually delivered.
        height: requested image height, pixels.
        fps: requested frame rate, Hz.
        reconnect_timeout: how long to keep reopening a camera that stopped delivering, seconds.
        backend: OpenCV API preference (``cv2.CAP_ANY``, ``cv2.CAP_V4L2``, ...).
        capture_factory: builds the capture object; tests pass a fake device here.
    """

    is_device = True

    def __init__(self, index: int, width: int | None = None, height: int | None = None, fps: float | None = None,
                 reconnect_timeout: float = DEFAULT_RECONNECT_TIMEOUT, backend: int = cv2.CAP_ANY,
                 capture_factory: CaptureFactory = cv2.VideoCapture) -> None:
        super().__init__(f"camera {index}")
        self.index = index
        self.requested = (width, height, fps)
        self.reconnect_timeout = reconnect_timeout
        self.backend = backend
        self.capture_factory = capture_factory
        self.disconnects = 0
        self.reconnects = 0
        self._capture: Capture | None = None
        self._pending: Frame | None = None
        self._start = 0.0
        self._index = 0

    def open(self) -> None:
        self.close()
        self._cancel.clear()
        self.disconnects = self.reconnects = self.bad_frames = 0
        capture = self._connect()
        if capture is None:
            cameras = list_cameras(capture_factory=self.capture_factory, backend=self.backend)
            raise SourceError(f"camera {self.index} not found ({describe_cameras(cameras)}). {CAMERA_HINT}.")
        image, grabbed_at = self._grab(capture)
        if image is None:
            capture.release()
            raise SourceError(f"camera {self.index} opens but delivers no frames: close other programs using it "
                              "(only one program can read a webcam at a time) and check its permissions.")
        self._capture = capture
        self._start = grabbed_at
        self._index = 0
        self._size = (int(image.shape[1]), int(image.shape[0]))
        requested_fps = self.requested[2] or DEFAULT_FPS
        self._fps = plausible_fps(capture.get(cv2.CAP_PROP_FPS), fallback=requested_fps, what=self.name)
        self.state = SourceState.RUNNING
        self._pending = self._frame(image, grabbed_at)
        logger.info("opened %s: %dx%d, %.1f fps, backend %s", self.name, *self._size, self._fps,
                    _backend_name(capture))

    def read(self) -> Frame | None:
        if self._capture is None or not self.is_open:
            return None
        if self._pending is not None:
            frame, self._pending = self._pending, None
            return frame
        image, grabbed_at = self._grab(self._capture)
        if image is not None:
            return self._frame(image, grabbed_at)
        return self._reconnect()

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None
        self._pending = None
        self.state = SourceState.CLOSED

    # --- internals --------------------------------------------------------------------------
    def _connect(self) -> Capture | None:
        """Open the device and apply the requested mode; ``None`` when it does not open."""
        with quiet_opencv():
            capture = self.capture_factory(self.index, self.backend)
            if not capture.isOpened():
                capture.release()
                return None
            width, height, fps = self.requested
            for prop, value in ((cv2.CAP_PROP_FRAME_WIDTH, width), (cv2.CAP_PROP_FRAME_HEIGHT, height),
                                (cv2.CAP_PROP_FPS, fps)):
                if value is not None:
                    capture.set(prop, float(value))
        return capture

    @staticmethod
    def _grab(capture: Capture) -> tuple[np.ndarray | None, float]:
        """One image and the monotonic time it was grabbed; ``None`` when the device fails."""
        ok = capture.grab()
        grabbed_at = time.monotonic()
        image = None
        if ok:
            ok, image = capture.retrieve()
        return (image if ok and image is not None and image.size else None), grabbed_at

    def _frame(self, image: np.ndarray, grabbed_at: float) -> Frame:
        frame = Frame(image=image, index=self._index, timestamp=grabbed_at - self._start, source=self.name)
        self._index += 1
        return frame

    def _reconnect(self) -> Frame | None:
        """Reopen the camera with backoff until it delivers again or ``reconnect_timeout`` passes."""
        self.disconnects += 1
        self.bad_frames += 1
        self.state = SourceState.RECONNECTING
        logger.warning("%s stopped delivering frames; reconnecting for up to %.1f s", self.name,
                       self.reconnect_timeout)
        if self._capture is not None:
            self._capture.release()
            self._capture = None
        lost_at = time.monotonic()
        delay = RETRY_INTERVAL
        attempts = 0
        while not self._cancel.is_set() and time.monotonic() - lost_at < self.reconnect_timeout:
            attempts += 1
            capture = self._connect()
            if capture is not None:
                image, grabbed_at = self._grab(capture)
                if image is not None:
                    self._capture = capture
                    self.reconnects += 1
                    self.state = SourceState.RUNNING
                    logger.warning("%s is back after %.1f s (%d attempts)", self.name, grabbed_at - lost_at, attempts)
                    return self._frame(image, grabbed_at)
                capture.release()
            remaining = self.reconnect_timeout - (time.monotonic() - lost_at)
            self._cancel.wait(max(0.0, min(delay, remaining)))
            delay = min(2 * delay, MAX_RETRY_INTERVAL)
        if self._cancel.is_set():
            self.state = SourceState.CLOSED
            logger.info("%s: reconnecting cancelled", self.name)
        else:
            self.state = SourceState.LOST
            logger.error("%s did not come back within %.1f s (%d attempts); capture ended. %s.", self.name,
                         self.reconnect_timeout, attempts, CAMERA_HINT)
        return None
