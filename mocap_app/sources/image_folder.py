"""A folder of numbered images (an exported image sequence) read as a video at a nominal frame rate."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import cv2

from ..errors import SourceError
from ..types import Frame
from .base import DEFAULT_FPS, FrameSource, SourceState, plausible_fps

logger = logging.getLogger(__name__)

#: File name endings read as images (lower case; matched case-insensitively).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm")

_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple[str | int, ...]:
    """Sort key that orders embedded numbers by value: ``img2`` before ``img10``.

    ``re.split`` with a capturing group alternates text and digit runs, so text is always compared
    with text and numbers with numbers.
    """
    parts = _DIGITS.split(name.lower())
    return tuple(int(part) if index % 2 else part for index, part in enumerate(parts))


def list_images(folder: Path) -> list[Path]:
    """Image files directly inside ``folder`` (not sub-folders), in natural order."""
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS]
    return sorted(files, key=lambda p: natural_key(p.name))


class ImageFolderSource(FrameSource):
    """Images of one folder in natural order, stamped ``index / fps``.

    An image that does not decode, or whose size differs from the first image's, is skipped with a
    warning and counted in ``bad_frames``; its index is left out, so the gap shows in the frames.

    Args:
        folder: the folder holding the images.
        fps: nominal frame rate used for timestamps, Hz (an image sequence states none).
    """

    def __init__(self, folder: str | Path, fps: float = DEFAULT_FPS) -> None:
        self.folder = Path(folder)
        super().__init__(str(self.folder))
        self._fps = plausible_fps(fps, what=f"image folder {self.folder}")
        self._files: list[Path] = []
        self._position = 0
        self._pending: Frame | None = None

    @property
    def frame_count(self) -> int | None:
        return len(self._files) or None

    def open(self) -> None:
        if not self.folder.is_dir():
            raise SourceError(f"image folder not found: {self.folder}. Check the path.")
        files = list_images(self.folder)
        if not files:
            raise SourceError(f"no images in {self.folder} (looked for {', '.join(IMAGE_EXTENSIONS)}); "
                              "point --source at the folder that holds the image sequence, or at a video file.")
        self._files = files
        self._position = 0
        self._size = (0, 0)
        self.bad_frames = 0
        self._cancel.clear()
        self.state = SourceState.RUNNING
        first = self._next_frame()
        if first is None:
            self.close()
            raise SourceError(f"none of the {len(files)} images in {self.folder} can be read; "
                              "re-export them as PNG or JPEG.")
        self._pending = first
        logger.info("opened image folder %s: %d images, %dx%d, %.2f fps", self.folder, len(files),
                    *self._size, self._fps)

    def read(self) -> Frame | None:
        if self.state is not SourceState.RUNNING:
            return None
        if self._pending is not None:
            frame, self._pending = self._pending, None
            return frame
        frame = self._next_frame()
        if frame is None:
            self.state = SourceState.ENDED
            logger.info("%s: end of image sequence (%d skipped)", self.folder, self.bad_frames)
        return frame

    def close(self) -> None:
        self._pending = None
        self.state = SourceState.CLOSED

    def _next_frame(self) -> Frame | None:
        """Decode the next usable image, skipping (and counting) the ones that fail."""
        while self._position < len(self._files):
            index, path = self._position, self._files[self._position]
            self._position += 1
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                self._skip(path, "does not decode")
                continue
            size = (int(image.shape[1]), int(image.shape[0]))
            if self._size == (0, 0):
                self._size = size
            elif size != self._size:
                self._skip(path, f"is {size[0]}x{size[1]}, the sequence is {self._size[0]}x{self._size[1]}")
                continue
            return Frame(image=image, index=index, timestamp=index / self._fps, source=self.name)
        return None

    def _skip(self, path: Path, why: str) -> None:
        self.bad_frames += 1
        logger.warning("skipping %s: it %s", path, why)
