"""Frame sources: webcams by index, video files and image folders, read on a background thread.

``open_source(spec)`` turns what the user typed after ``--source`` into a :class:`FrameSource`;
:class:`ThreadedReader` reads it on its own thread in live (newest frame only) or offline (every
frame) mode. ``list_cameras()`` is what ``mocap sources`` shows.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import SourceError
from .base import DEFAULT_FPS, FrameSource, SourceState
from .camera import CameraInfo, CameraSource, describe_cameras, list_cameras
from .image_folder import IMAGE_EXTENSIONS, ImageFolderSource, natural_key
from .reader import ThreadedReader
from .video import VideoSource

__all__ = [
    "CameraInfo", "CameraSource", "FrameSource", "ImageFolderSource", "SourceState", "ThreadedReader",
    "VideoSource", "describe_cameras", "list_cameras", "natural_key", "open_source", "IMAGE_EXTENSIONS",
    "SOURCE_HELP",
]

#: What ``--source`` accepts, for help texts and error messages.
SOURCE_HELP = "a camera index (0, 1, ...; see 'mocap sources'), a video file, or a folder of images"


def open_source(spec: str | int | Path, live: bool | None = None, fps: float = DEFAULT_FPS) -> FrameSource:
    """Build the source ``spec`` names, without opening it.

    Args:
        spec: a camera index (``0`` or ``"0"``), a video file, or a folder of images.
        live: reading mode the source asks its reader for (``True``: newest frame only, ``False``:
            every frame); ``None`` picks live for cameras and offline for files and folders.
        fps: nominal frame rate for image folders (they state none), Hz.

    Raises:
        SourceError: ``spec`` is neither a camera index nor an existing file or folder.
    """
    text = str(spec).strip()
    source: FrameSource
    if isinstance(spec, int) or text.isdigit():
        source = CameraSource(int(text))
    else:
        path = Path(text).expanduser()
        if path.is_dir():
            source = ImageFolderSource(path, fps=fps)
        elif path.is_file():
            source = VideoSource(path)
        else:
            raise SourceError(f"--source {text!r}: no such file or folder. --source takes {SOURCE_HELP}.")
    if live is not None:
        source.live = live
    return source
