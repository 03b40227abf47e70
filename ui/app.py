"""``mocap-app``: the desktop application's launcher.

Usage::

    mocap-app                                   # open the window
    mocap-app --source take.mp4 --start         # open a video and start processing at once
    mocap-app --source take.mp4 --start --screenshot shot.png --frames 60   # process 60 frames, save, quit
    mocap-app --source take.mp4 --start --measure-latency --frames 150      # print GUI-thread lateness, quit
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

from mocap_app import __version__

WINDOW_TITLE = "mocap"
DEFAULT_SIZE = (1600, 900)
#: Give up waiting for ``--frames`` after this long, milliseconds (the screenshot is taken anyway).
SCREENSHOT_TIMEOUT_MS = 120_000
#: Let the views repaint after the last frame before grabbing the window, milliseconds.
SETTLE_MS = 300
#: ``--start`` presses Start this long after the window is shown, milliseconds: the window's first
#: paint (layout, every panel, the 3D view's first OpenGL frame: 40-60 ms under software OpenGL) is
#: done by then, as it is before a user can click, so the pipeline thread's start-up (opening the
#: source, building the ONNX Runtime sessions) does not compete with it for the CPU and the GIL.
START_DELAY_MS = SETTLE_MS
#: How long a thread may hold the GIL while another waits for it, seconds (Python's default: 5 ms).
#: The pipeline thread runs Python code (Stage III's cost function) most of the time, and the GUI
#: thread needs the GIL back after every Qt call it makes; at 5 ms each, a repaint of a few
#: hundred calls would stall for far longer than the 50 ms budget.
GIL_SWITCH_INTERVAL_S = 0.001


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mocap-app", description="The motion-capture desktop application.")
    parser.add_argument("--version", action="version", version=f"mocap-app {__version__}")
    parser.add_argument("--source", metavar="SPEC", help="camera index or video file to select")
    parser.add_argument("--start", action="store_true", help="start processing the source at once")
    parser.add_argument("--settings", type=Path, metavar="FILE.ini",
                        help="keep settings in this file instead of the user's settings")
    parser.add_argument("--screenshot", type=Path, metavar="OUT.png",
                        help="save a screenshot of the window after --frames frames, then quit")
    parser.add_argument("--calibration", type=Path, metavar="FILE",
                        help="use this camera calibration file (remembered like one chosen in the window)")
    parser.add_argument("--frames", type=int, default=30, metavar="N",
                        help="frames before --screenshot / --measure-latency quit (default 30)")
    parser.add_argument("--measure-latency", action="store_true",
                        help="time the GUI thread (10 ms watchdog, every slot and paint), print the table, quit")
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
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)

    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from ui.theme import apply_theme

    probe = None
    if args.measure_latency:  # before the window is built, so its connections reach the timed methods
        from ui.latency import LatencyProbe, instrument

        probe = LatencyProbe()
        instrument(probe)
    from ui.main_window import MainWindow

    _preload_inference_modules()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("mocap-app")
    apply_theme(app)
    store = QSettings(str(args.settings), QSettings.Format.IniFormat) if args.settings else None
    window = MainWindow(store)
    window.resize(*DEFAULT_SIZE)
    window.show()
    if probe is not None:
        probe.start()
    if args.calibration is not None:
        window.load_calibration(args.calibration)
    if args.source:
        window.select_source(args.source)
    if probe is not None:
        window.frame_processed.connect(lambda result: probe.mark_steady())
    finish_if_idle = lambda: None  # noqa: E731
    if args.screenshot is not None or probe is not None:
        finish = lambda: _finish(window, args.screenshot, probe)  # noqa: E731
        finish_if_idle = _finish_after(window, args.frames, finish)
        QTimer.singleShot(SCREENSHOT_TIMEOUT_MS, finish)
    if args.start:
        QTimer.singleShot(START_DELAY_MS, lambda: (window.start(), finish_if_idle()))
    else:
        finish_if_idle()
    status = int(app.exec())
    # The 3D view's native OpenGL window must be destroyed while QApplication still exists.
    from PySide6.QtCore import QCoreApplication, QEvent

    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return status


def _preload_inference_modules() -> None:
    """Import the Stage I backends and ONNX Runtime now, before the window shows.

    The pipeline thread would import them when the user presses Start, and an import holds the GIL
    for its whole C-level initialisation (a few hundred milliseconds for ONNX Runtime), freezing the
    window just when it should say "loading the models". A backend that cannot be imported is left
    for the pipeline thread, which reports it in the window.
    """
    import importlib

    from mocap_app.backends import BACKENDS

    for module, _factory in BACKENDS.values():
        try:
            importlib.import_module(module)
        except ImportError as exc:
            logging.getLogger(__name__).info("not preloaded: %s (%s)", module, exc)
    try:
        importlib.import_module("onnxruntime")
    except ImportError:
        pass


def _finish_after(window: object, frames: int, finish: object) -> Callable[[], None]:
    """Call ``finish`` once ``frames`` frames were shown, or the run ended before that.

    Returns a check to call once the run should be going: it finishes at once when none is (no
    source, or Start refused), since then no frame and no end of run will ever come.
    """
    from PySide6.QtCore import QTimer

    def on_frame(result: object) -> None:
        if window.frames_shown == frames:
            window.set_paused(True)  # keep this frame on screen while the views settle
            QTimer.singleShot(SETTLE_MS, finish)

    def on_finished() -> None:  # the source ended (or failed) before --frames frames
        QTimer.singleShot(SETTLE_MS, finish)

    def finish_if_idle() -> None:
        if window.worker is None:
            on_finished()

    window.frame_processed.connect(on_frame)
    window.run_finished.connect(on_finished)
    return finish_if_idle


def _finish(window: object, screenshot: Path | None, probe: object | None) -> None:
    """Save the screenshot and/or print the latency report, then quit (once)."""
    from PySide6.QtWidgets import QApplication

    if getattr(window, "_finishing", False):
        return
    window._finishing = True
    try:
        if probe is not None:
            probe.stop()
            seconds = time.perf_counter() - probe.steady_from if probe.steady_from is not None else 0.0
            rate = f", {(window.frames_shown - 1) / seconds:.1f} frames/s" if seconds > 0 else ""
            print(f"mocap-app: {window.frames_shown} frames shown in {seconds:.1f} s after the first{rate}")
            print(probe.report(), flush=True)
        window.stop()
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            if not window.screenshot().save(str(screenshot)):
                print(f"mocap-app: error: could not write {screenshot}", file=sys.stderr)
            else:
                print(f"mocap-app: screenshot saved to {screenshot}", flush=True)
    except OSError as exc:  # e.g. stdout closed by '| head': quit anyway instead of hanging
        logging.getLogger(__name__).warning("could not report: %s", exc)
    finally:
        window.close()
        QApplication.instance().quit()


if __name__ == "__main__":
    sys.exit(main())
