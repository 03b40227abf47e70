"""Fetch and convert the BlazePose models once per test session (shared by the BlazePose tests).

Uses the user's model store when it is already complete; otherwise downloads the mediapipe wheel
from PyPI (CI reaches it) and converts into a temporary folder, once, whatever module asks first.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

import cv2
import numpy as np

from mocap_app.models_store import blazepose_dir, fetch_blazepose, is_complete

VIDEO = Path("video") / "vtest.avi"
#: People in vtest.avi frame 0 as (centre x, centre y, square side), pixels: real crops for tests.
PEOPLE_FRAME0 = ((268, 262, 150), (515, 195, 130), (662, 282, 130))


@functools.lru_cache(maxsize=1)
def models_root() -> Path:
    """A models folder holding a complete ``blazepose/`` store (fetched at most once per session)."""
    if is_complete(blazepose_dir()):
        return blazepose_dir().parent
    root = Path(tempfile.mkdtemp(prefix="mocap-test-models-"))
    atexit.register(shutil.rmtree, root, True)
    fetch_blazepose(root=root)
    return root


def read_frames(shared_data: Path, indices: tuple[int, ...]) -> list[np.ndarray]:
    """BGR frames of vtest.avi at the given indices."""
    capture = cv2.VideoCapture(str(shared_data / VIDEO))
    frames = []
    for index in range(max(indices) + 1):
        ok, frame = capture.read()
        if not ok:
            break
        if index in indices:
            frames.append(frame)
    capture.release()
    return frames


#: A region of vtest.avi with people large enough for the detector once scaled to 640x480.
PEOPLE_REGION = (120, 140, 320, 240)


def people_clip(shared_data: Path, count: int) -> list[np.ndarray]:
    """``count`` 640x480 BGR frames of vtest.avi's :data:`PEOPLE_REGION`, upscaled."""
    x, y, w, h = PEOPLE_REGION
    frames = read_frames(shared_data, tuple(range(count)))
    return [cv2.resize(frame[y:y + h, x:x + w], (640, 480), interpolation=cv2.INTER_LINEAR) for frame in frames]


def side_by_side_pair(shared_data: Path) -> np.ndarray:
    """A real person and their mirror image side by side, bodies a few centimetres apart (640x480)."""
    base = cv2.resize(people_clip(shared_data, 1)[0], (1280, 960))[240:720, 280:920]
    return np.ascontiguousarray(np.hstack([base[:, :390], base[:, 230:390][:, ::-1], base[:, :100][:, ::-1]]))


def write_people_video(shared_data: Path, path: Path, frames: int, fps: float = 10.0) -> Path:
    """An MJPG clip of ``frames`` frames of :func:`people_clip` (640x480) at ``fps``."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (640, 480))
    for image in people_clip(shared_data, frames):
        writer.write(image)
    writer.release()
    return path

