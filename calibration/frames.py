"""Where calibration pictures come from: an image folder, a video file or a live camera.

Each reader yields ``(name, image)`` pairs (BGR uint8) so the caller can wrap it in a progress bar
and feed :meth:`calibration.targets.CalibrationTarget.detect`. Videos and cameras are sampled (every
n-th frame, or one frame per interval) because consecutive frames show nearly the same view.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from mocap_app.errors import CalibrationError

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
#: A video is sampled so that at most this many frames are searched for the board.
DEFAULT_VIDEO_SAMPLES = 150
#: A live camera is sampled this often while the user moves the board, seconds.
DEFAULT_CAMERA_INTERVAL_S = 0.5


def image_files(folder: str | Path) -> list[Path]:
    """Sorted image files in a folder.

    Raises:
        NotADirectoryError / CalibrationError: no folder, or no images in it.
    """
    root = Path(folder)
    if not root.is_dir():
        raise NotADirectoryError(f"No image folder at {root}; pass --images with a folder of board pictures.")
    files = sorted(p for p in root.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise CalibrationError(f"No images ({', '.join(IMAGE_SUFFIXES)}) in {root}.")
    return files


def read_image(path: str | Path) -> np.ndarray:
    """A BGR image from disk; CalibrationError when it cannot be decoded."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        if not Path(path).is_file():
            raise FileNotFoundError(f"No image at {path}.")
        raise CalibrationError(f"{path} is not a readable image (corrupt, or an unsupported format).")
    return image


def iter_images(files: list[Path]) -> Iterator[tuple[str, np.ndarray | None]]:
    """(file name, image or None when unreadable) for each file; unreadable files are reported, not fatal."""
    for path in files:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            logger.warning("skipping unreadable image %s", path)
        yield path.name, image


def video_frame_count(path: str | Path) -> int:
    """Frames in a video, as its container states (0 when unknown)."""
    capture = _open_video(path)
    try:
        return max(int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), 0)
    finally:
        capture.release()


def iter_video(path: str | Path, samples: int = DEFAULT_VIDEO_SAMPLES) -> Iterator[tuple[str, np.ndarray]]:
    """About ``samples`` evenly spaced frames of a video, named "frame N"."""
    total = video_frame_count(path)
    stride = max(1, total // samples) if total else 1
    capture = _open_video(path)
    try:
        index = 0
        while True:
            ok = capture.grab()
            if not ok:
                break
            if index % stride == 0:
                ok, frame = capture.retrieve()
                if ok and frame is not None:
                    yield f"frame {index}", frame
            index += 1
    finally:
        capture.release()


def iter_camera(index: int, duration_s: float, interval_s: float = DEFAULT_CAMERA_INTERVAL_S,
                size: tuple[int, int] | None = None) -> Iterator[tuple[str, np.ndarray]]:
    """One frame every ``interval_s`` from a live camera for ``duration_s`` seconds, named "t=1.5s"."""
    capture = cv2.VideoCapture(int(index))
    if not capture.isOpened():
        raise CalibrationError(f"Camera {index} cannot be opened; run 'mocap sources' to list the cameras.")
    if size is not None:
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])
    try:
        start = time.monotonic()
        next_sample = start
        while (now := time.monotonic()) - start < duration_s:
            ok, frame = capture.read()  # read continuously so the driver's buffer never goes stale
            if not ok or frame is None:
                raise CalibrationError(f"Camera {index} stopped delivering frames.")
            if now >= next_sample:
                next_sample = now + interval_s
                yield f"t={now - start:.1f}s", frame
    finally:
        capture.release()


def _open_video(path: str | Path) -> cv2.VideoCapture:
    if not Path(path).is_file():
        raise FileNotFoundError(f"No video at {path}.")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise CalibrationError(f"{path} cannot be opened as a video (corrupt, or an unsupported codec).")
    return capture
