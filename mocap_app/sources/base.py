"""The interface every frame source implements: open, read frames one by one, close.

A source is synchronous and single-threaded on purpose: the one thread that reads it lives in
:class:`~mocap_app.sources.reader.ThreadedReader`, so sources stay easy to test with plain loops.
Frames carry the source's own clock (media time for files, the capture clock for cameras), never
the time they happened to be consumed.
"""

from __future__ import annotations

import enum
import logging
import math
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

import cv2

from ..types import Frame

logger = logging.getLogger(__name__)

#: Frame rate assumed when a file does not state a usable one (image folders, broken headers), Hz.
DEFAULT_FPS = 30.0
#: Frame rates outside this range are treated as "not stated" (headers sometimes say 0 or 90000), Hz.
PLAUSIBLE_FPS = (0.5, 1000.0)


class SourceState(str, enum.Enum):
    """Where a source is in its life; shown in the GUI status bar and by ``mocap sources --check``."""

    CLOSED = "closed"              # not opened yet, or closed
    RUNNING = "running"            # delivering frames
    RECONNECTING = "reconnecting"  # a camera stopped delivering; trying to reopen it
    ENDED = "ended"                # end of a file or folder (possibly early, see ``bad_frames``)
    LOST = "lost"                  # a camera that did not come back within its reconnect time


_log_level_lock = threading.Lock()


@contextmanager
def quiet_opencv() -> Iterator[None]:
    """Silence OpenCV's own stderr warnings while probing cameras or opening files.

    Probing camera indices that do not exist, or a file that is not a video, makes OpenCV print
    several lines per attempt; the application reports the problem itself in one message instead.
    """
    with _log_level_lock:
        previous = cv2.utils.logging.getLogLevel()
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
        try:
            yield
        finally:
            cv2.utils.logging.setLogLevel(previous)


def plausible_fps(value: float, fallback: float = DEFAULT_FPS, what: str = "source") -> float:
    """``value`` if it is a usable frame rate, else ``fallback`` (with a warning naming ``what``)."""
    if math.isfinite(value) and PLAUSIBLE_FPS[0] <= value <= PLAUSIBLE_FPS[1]:
        return float(value)
    logger.warning("%s states no usable frame rate (%r); assuming %.1f fps", what, value, fallback)
    return float(fallback)


class FrameSource(ABC):
    """A camera, video file or image folder that yields :class:`~mocap_app.types.Frame` objects.

    Life cycle: ``open()`` (raises :class:`~mocap_app.errors.SourceError` with a message naming the
    fix when the source cannot be used), then ``read()`` until it returns ``None``, then ``close()``.
    Use it as a context manager or iterate over it (iteration opens it when needed).

    Properties (``fps``, ``frame_count``, ``size``) are valid after ``open()``.

    Attributes:
        name: human-readable name (camera index or path), copied into every frame.
        live: the reading mode this source prefers: ``True`` keeps only the newest frame (cameras),
            ``False`` keeps every frame (files). ``ThreadedReader`` uses it unless told otherwise.
        state: a :class:`SourceState`.
        bad_frames: frames that could not be decoded (skipped, or ending the stream early).
    """

    #: True for sources with their own clock that cannot be paused (cameras).
    is_device: bool = False

    def __init__(self, name: str) -> None:
        self.name = name
        self.live = self.is_device
        self.state = SourceState.CLOSED
        self.bad_frames = 0
        self._cancel = threading.Event()
        # Filled in by ``open()`` of each kind of source; read through the properties below.
        self._fps = 0.0
        self._frame_count: int | None = None
        self._size = (0, 0)

    # --- what each kind of source provides ---------------------------------------------------
    @abstractmethod
    def open(self) -> None:
        """Acquire the device or file and check that at least one frame decodes."""

    @abstractmethod
    def read(self) -> Frame | None:
        """The next frame, or ``None`` at the end of the stream (or after ``close()``)."""

    @abstractmethod
    def close(self) -> None:
        """Release the device or file; safe to call more than once."""

    @property
    def fps(self) -> float:
        """Nominal frame rate, Hz (what the file or driver states, not what is measured)."""
        return self._fps

    @property
    def frame_count(self) -> int | None:
        """Number of frames for files and folders as far as known; ``None`` for live devices."""
        return self._frame_count

    @property
    def size(self) -> tuple[int, int]:
        """Image size ``(width, height)`` in pixels; ``(0, 0)`` before ``open()``."""
        return self._size

    # --- shared behaviour ----------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self.state in (SourceState.RUNNING, SourceState.RECONNECTING)

    def cancel(self) -> None:
        """Ask a blocking ``read()`` (e.g. a camera waiting to reconnect) to give up soon.

        Thread-safe: this is how a reader thread is stopped while its source is retrying.
        """
        self._cancel.set()

    def __enter__(self) -> FrameSource:
        self.open()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __iter__(self) -> Iterator[Frame]:
        if self.state is SourceState.CLOSED:
            self.open()
        while (frame := self.read()) is not None:
            yield frame

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, state={self.state.value})"
