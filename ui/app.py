"""``mocap-app``: the desktop application's launcher.

Usage::

    mocap-app                                   # open the window
    mocap-app --source take.mp4 --start         # open a video and start processing at once
    mocap-app --source take.mp4 --start --screenshot shot.png --frames 60   # process 60 frames, save, quit
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from mocap_app import __version__

WINDOW_TITLE = "mocap"
DEFAULT_SIZE = (1600, 900)
#: Give up waiting for ``--frames`` after this long, milliseconds (the screenshot is taken anyway).
SCREENSHOT_TIMEOUT_MS = 120_000
#: Let the views repaint after the last frame before grabbing the window, milliseconds.
SETTLE_MS = 300


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mocap-app", description="The motion-capture desktop application.")
    parser.add_argument("--version", action="version", version=f"mocap-app {__version__}")
    parser.add_argument("--source", metavar="SPEC", help="camera index or video file to select")
    parser.add_argument("--start", action="store_true", help="start processing the source at once")
    parser.add_argument("--settings", type=Path, metavar="FILE.ini",
                        help="keep settings in this file instead of the user's settings")
    parser.add_argument("--screenshot", type=Path, metavar="OUT.png",
                        help="save a screenshot of the window after --frames frames, then quit")
    parser.add_argument("--frames", type=int, default=30, metavar="N", help="frames before --screenshot (default 30)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more to the terminal")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Open the main window and run the Qt event loop; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.frames < 1:
        print("mocap-app: error: --frames must be at least 1", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")

    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("mocap-app")
    store = QSettings(str(args.settings), QSettings.Format.IniFormat) if args.settings else None
    window = MainWindow(store)
    window.resize(*DEFAULT_SIZE)
    window.show()
    if args.source:
        window.select_source(args.source)
    if args.start:
        window.start()
    if args.screenshot is not None:
        _schedule_screenshot(window, args.screenshot, args.frames)
        QTimer.singleShot(SCREENSHOT_TIMEOUT_MS, lambda: _save_and_quit(window, args.screenshot))
    return int(app.exec())


def _schedule_screenshot(window: object, path: Path, frames: int) -> None:
    from PySide6.QtCore import QTimer

    def on_frame(result: object) -> None:
        if window.frames_shown == frames:
            window.set_paused(True)  # keep this frame on screen while the views settle
            QTimer.singleShot(SETTLE_MS, lambda: _save_and_quit(window, path))

    def on_finished() -> None:  # the source ended (or failed) before --frames frames
        QTimer.singleShot(SETTLE_MS, lambda: _save_and_quit(window, path))

    window.frame_processed.connect(on_frame)
    window.run_finished.connect(on_finished)
    if window.worker is None:
        on_finished()


def _save_and_quit(window: object, path: Path) -> None:
    from PySide6.QtWidgets import QApplication

    if getattr(window, "_screenshot_saved", False):
        return
    window._screenshot_saved = True
    window.stop()
    path.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(path))
    print(f"mocap-app: screenshot saved to {path}")
    window.close()
    QApplication.instance().quit()


if __name__ == "__main__":
    sys.exit(main())
