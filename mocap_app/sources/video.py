"""Video files read with OpenCV: media timestamps, corrupt files refused at open, clean early ends."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from ..errors import SourceError
from ..types import Frame
from .base import FrameSource, SourceState, plausible_fps, quiet_opencv

logger = logging.getLogger(__name__)

#: A stream that ends more than this many frames before the count its header states ended early
#: (some containers only estimate the count, so a one-frame shortfall is not reported).
EARLY_END_TOLERANCE = 1


def convert_hint(path: Path) -> str:
    """The fix for a video OpenCV cannot decode: re-encode it to H.264 with ffmpeg."""
    return f"convert it with 'ffmpeg -i \"{path}\" -c:v libx264 \"{path.with_suffix('')}_h264.mp4\"'"


class VideoSource(FrameSource):
    """Frames of a video file, in order, each stamped with its media time.

    Timestamps come from the container (``CAP_PROP_POS_MSEC``); where a backend reports none, or
    reports a time that does not increase, the frame's index over the nominal frame rate is used, so
    timestamps always increase strictly.

    A file that cannot be opened, or whose first frame does not decode, is refused at ``open()``.
    A decode failure later in the file ends the stream there with a warning; ``bad_frames`` counts it.

    Args:
        path: the video file.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        super().__init__(str(self.path))
        self._capture: cv2.VideoCapture | None = None
        self._pending: np.ndarray | None = None
        self._index = 0
        self._last_time = -1.0

    def open(self) -> None:
        self.close()
        if not self.path.exists():
            raise SourceError(f"video file not found: {self.path}. Check the path, or pass a camera index "
                              "(see 'mocap sources') or a folder of images.")
        if not self.path.is_file():
            raise SourceError(f"{self.path} is not a file; --source takes a video file, a folder of images "
                              "or a camera index.")
        with quiet_opencv():
            capture = cv2.VideoCapture(str(self.path))
            ok, image = capture.read() if capture.isOpened() else (False, None)
        if not ok or image is None:
            capture.release()
            raise SourceError(f"cannot decode video {self.path}: OpenCV finds no readable frame (unsupported "
                              f"codec, or a corrupt/truncated file); {convert_hint(self.path)}.")
        self._capture = capture
        self._fps = plausible_fps(capture.get(cv2.CAP_PROP_FPS), what=str(self.path))
        stated = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        self._frame_count = stated if stated > 0 else None
        self._size = (int(image.shape[1]), int(image.shape[0]))
        self._pending = image
        self._index = 0
        self._last_time = -1.0
        self.bad_frames = 0
        self._cancel.clear()
        self.state = SourceState.RUNNING
        count = self._frame_count if self._frame_count is not None else "unknown"
        logger.info("opened video %s: %dx%d, %.2f fps, %s frames, backend %s", self.path, *self._size,
                    self._fps, count, capture.getBackendName())

    def read(self) -> Frame | None:
        if self._capture is None or self.state is not SourceState.RUNNING:
            return None
        if self._pending is not None:
            image, self._pending = self._pending, None
        else:
            ok, image = self._capture.read()
            if not ok or image is None:
                self._end()
                return None
        frame = Frame(image=image, index=self._index, timestamp=self._media_time(), source=self.name)
        self._index += 1
        return frame

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None
        self._pending = None
        self.state = SourceState.CLOSED

    def _media_time(self) -> float:
        """Seconds of the frame just read: the container's time if it increases, else index / fps."""
        seconds = self._capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0 if self._capture is not None else -1.0
        if not seconds > self._last_time:  # also catches NaN
            seconds = max(self._index / self._fps, self._last_time + 1.0 / self._fps) if self._index else 0.0
        self._last_time = seconds
        return seconds

    def _end(self) -> None:
        """End of stream: clean if the header's frame count was reached, otherwise report it."""
        self.state = SourceState.ENDED
        if self._frame_count is not None and self._index < self._frame_count - EARLY_END_TOLERANCE:
            self.bad_frames += 1
            logger.warning("%s: frame %d of %d does not decode (corrupt or truncated file); the rest is "
                           "skipped. If the file plays in other players, %s.", self.path, self._index,
                           self._frame_count, convert_hint(self.path))
        else:
            logger.info("%s: end of video after %d frames", self.path, self._index)
