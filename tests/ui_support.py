"""Shared pieces of the GUI tests: a window with its own settings file, the models, a people clip, pixels.

Not a test module. The fixtures are imported by name into the test modules that use them.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from blazepose_support import models_root
from blazepose_support import write_people_video as people_video
from PySide6.QtCore import QSettings
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from mocap_app.models_store import MODELS_DIR_ENV, blazepose_dir, is_complete
from ui.main_window import MainWindow
from ui.settings import AppSettings, save_settings
from ui.theme import apply_theme

#: Frames of the generated clip (people walking, from the shared vtest.avi).
CLIP_FRAMES = 24
CLIP_FPS = 25.0
#: How long the worker may take for the clip on a slow 2-core machine, milliseconds.
RUN_TIMEOUT_MS = 120_000
#: Folder the GUI tests save their screenshots into when set (else the test's temporary folder).
ARTIFACTS_ENV = "MOCAP_TEST_ARTIFACTS"
#: Colour distance (per channel, 0..255) that counts as "the performer's colour".
COLOUR_TOLERANCE = 40


def artifact_path(tmp_path: Path, name: str) -> Path:
    """Where a test saves an artifact (a screenshot): ``$MOCAP_TEST_ARTIFACTS/name`` or ``tmp_path/name``."""
    folder = Path(os.environ[ARTIFACTS_ENV]) if os.environ.get(ARTIFACTS_ENV) else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def wait_for_3d_view(qtbot, view: object) -> None:
    """Wait until the 3D view's own OpenGL window is on screen and renders (it shows after its widget)."""
    qtbot.waitUntil(lambda: view.scene.isExposed() and not view.grabFramebuffer().isNull(), timeout=5000)


def qimage_rgb(image: QImage) -> np.ndarray:
    """(H, W, 3) uint8 RGB copy of a QImage."""
    converted = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = converted.width(), converted.height()
    data = np.frombuffer(converted.constBits(), np.uint8, converted.bytesPerLine() * height)
    return data.reshape(height, converted.bytesPerLine())[:, :3 * width].reshape(height, width, 3).copy()


def coloured_pixels(rgb: np.ndarray, colour: tuple[int, int, int]) -> int:
    return int((np.abs(rgb.astype(int) - np.array(colour)).max(axis=2) <= COLOUR_TOLERANCE).sum())


def open_window(qtbot, tmp_path: Path) -> MainWindow:
    """A shown main window whose settings (and takes) live in ``tmp_path``."""
    store = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    save_settings(store, AppSettings(takes_dir=str(tmp_path / "takes")))
    apply_theme(QApplication.instance())  # look as the application does
    win = MainWindow(store)
    qtbot.addWidget(win)
    win.resize(1400, 800)
    win.show()
    qtbot.waitExposed(win)
    return win


def require_models() -> Path:
    """The BlazePose model folder; fetched once per session (as CI must) when this machine has none.

    The application finds them through ``$MOCAP_MODELS_DIR``, which is pointed at the test store.
    """
    if not is_complete(blazepose_dir()):
        os.environ[MODELS_DIR_ENV] = str(models_root())
    return blazepose_dir()


def write_people_video(shared_data: Path, path: Path, frames: int = CLIP_FRAMES) -> Path:
    """An MJPG clip of ``frames`` frames of people walking (640x480, CLIP_FPS)."""
    return people_video(shared_data, path, frames, CLIP_FPS)


def run_to_end(qtbot, window: MainWindow, source: Path) -> None:
    window.select_source(str(source))
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.start()
