"""The pipeline, off the GUI thread: one :class:`PipelineWorker` per run, moved to its own ``QThread``.

The worker opens the source, builds the :class:`~mocap_app.pipeline.runner.Pipeline` (model loading
can take seconds), and loops: read a frame, process it, make the display image (scaled to the video
panel, 2D overlay drawn, as a QImage: :mod:`ui.frame_view`), emit both, and journal the take. All
per-frame work that costs more than a few microseconds happens here, never on the GUI thread.
Commands from the window (pause, seek, record, stop) are plain thread-safe flags read between
frames; stopping is cooperative and never kills the thread. Anything that goes wrong ends up in
``error(title, message)`` with the message that names the fix, and the take being recorded is closed first,
so a failure never loses recorded frames.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from mocap_app.errors import MocapError
from mocap_app.pipeline.runner import Pipeline, PipelineConfig
from mocap_app.sources import CameraSource, FrameSource, SourceState, ThreadedReader, open_source
from mocap_app.takes.recorder import TakeRecorder

from .errors import describe
from .frame_view import FrameView, display_image
from .takes_bridge import new_journal_path, take_entry

logger = logging.getLogger(__name__)

#: How long one wait for a frame lasts before the stop/pause flags are checked again, seconds.
POLL_S = 0.05
#: Niceness added to the pipeline thread (and the inference threads it starts, which inherit it) on
#: Linux: on a machine with few cores the GUI thread then wins the CPU when both want it, so the
#: window answers at once while the pipeline keeps every cycle the GUI does not use.
WORKER_NICENESS = 10
#: Environment variable overriding WORKER_NICENESS (0: the pipeline at the GUI's priority).
NICENESS_ENV = "MOCAP_WORKER_NICENESS"


@dataclass(frozen=True)
class SourceRequest:
    """What the user chose to open.

    Attributes:
        spec: camera index (as text) or a video file / image folder path.
        camera_mode: (width, height, fps) asked of a camera, or ``None`` for the driver's default.
    """

    spec: str
    camera_mode: tuple[int, int, float] | None = None


@dataclass(frozen=True)
class SourceInfo:
    """What the source turned out to be, once opened (emitted with ``started``)."""

    name: str
    size: tuple[int, int]
    fps: float
    frame_count: int | None
    is_device: bool


def build_source(request: SourceRequest) -> FrameSource:
    """The frame source for a request (a camera with a chosen mode, or whatever ``open_source`` makes)."""
    if request.spec.strip().isdigit() and request.camera_mode is not None:
        width, height, fps = request.camera_mode
        return CameraSource(int(request.spec), width=width, height=height, fps=fps)
    return open_source(request.spec)


class PipelineWorker(QObject):
    """Runs source -> pipeline -> overlay in the thread it is moved to; call ``run`` from ``QThread.started``.

    Args:
        request: the source to open; config: the pipeline to run; draw_overlay: draw 2D skeletons.
        source_factory: builds the source from the request (default :func:`build_source`).
        display_size: (width, height) the display images are scaled to (``None``: the frame's size);
            changed later with :meth:`set_display_size`.

    Signals:
        started(SourceInfo): the source opened and the pipeline is built.
        frame_ready(FrameResult, FrameView): one processed frame and its display image (plus the
            clean full-resolution frame while :meth:`set_full_frames` asks for it).
        error(str, str): title and message of a problem (the message names the fix); the run ends after it.
        recording_started(str): the take journal was created at this path.
        recording_finished(TakeEntry): the closed take (its journal keeps every frame).
        finished(str): the run is over (``"stopped"``, ``"ended"``, ``"lost"`` or ``"failed"``).
    """

    started = Signal(object)
    frame_ready = Signal(object, object)
    error = Signal(str, str)
    recording_started = Signal(str)
    recording_finished = Signal(object)
    finished = Signal(str)

    def __init__(self, request: SourceRequest, config: PipelineConfig, draw_overlay: bool = True,
                 source_factory: Callable[[SourceRequest], FrameSource] | None = None,
                 display_size: tuple[int, int] | None = None) -> None:
        super().__init__()
        self.request = request
        self.source_factory = source_factory or build_source
        self.config = config
        self.draw_overlay = draw_overlay
        self._display_size = display_size
        self._full_frames = False
        self._stop = threading.Event()
        self._resume = threading.Event()
        self._resume.set()
        self._lock = threading.Lock()
        self._seek_to: int | None = None
        self._record_to: Path | None = None
        self._stop_recording = False
        self._recorder = None

    # --- commands from the GUI thread (thread-safe, return at once) -----------------------------
    def stop(self) -> None:
        """Ask the loop to end after the current frame."""
        self._stop.set()
        self._resume.set()

    def set_paused(self, paused: bool) -> None:
        """Pause or resume processing (a camera keeps capturing and dropping frames meanwhile)."""
        if paused:
            self._resume.clear()
        else:
            self._resume.set()

    def set_display_size(self, width: int, height: int) -> None:
        """Scale display images to fit (width, height) device pixels from the next frame on."""
        self._display_size = (int(width), int(height))

    def set_full_frames(self, enabled: bool) -> None:
        """Also hand over every clean full-resolution frame (for the calibration wizard) or stop doing so."""
        self._full_frames = bool(enabled)

    def seek(self, frame_index: int) -> None:
        """Jump to ``frame_index`` of a file source (taken up before the next frame)."""
        with self._lock:
            self._seek_to = max(0, int(frame_index))

    def start_recording(self, folder: Path) -> None:
        """Start journaling a take into ``folder`` from the next frame on."""
        with self._lock:
            self._record_to = Path(folder)

    def stop_recording(self) -> None:
        """Close the take after the current frame."""
        with self._lock:
            self._stop_recording = True

    # --- the loop (worker thread) ---------------------------------------------------------------
    @Slot()
    def run(self) -> None:
        reason = "failed"
        reader: ThreadedReader | None = None
        pipeline: Pipeline | None = None
        _lower_thread_priority(_niceness())
        try:
            source = self.source_factory(self.request)
            reader = ThreadedReader(source).start()
            pipeline = Pipeline(self.config)
            self.started.emit(SourceInfo(source.name, source.size, source.fps, source.frame_count,
                                         source.is_device))
            reader, reason = self._loop(reader, pipeline)
        except (MocapError, FileNotFoundError, OSError) as exc:
            self.error.emit(*describe(exc))
        except Exception as exc:  # noqa: BLE001 - a bug; still reported in the window, not only the log
            logger.exception("pipeline worker failed")
            self.error.emit(*describe(exc))
        finally:
            self._close_take(reason if reason != "stopped" else "")
            if reader is not None:
                reader.stop()
            if pipeline is not None:
                pipeline.close()
            self.finished.emit(reason)

    def _loop(self, reader: ThreadedReader, pipeline: Pipeline) -> tuple[ThreadedReader, str]:
        while not self._stop.is_set():
            if not self._resume.is_set():
                self._handle_recording(pipeline)
                self._resume.wait(POLL_S)
                continue
            reader = self._handle_seek(reader, pipeline)
            self._handle_recording(pipeline)
            started = time.perf_counter()
            frame = reader.get(timeout=POLL_S)
            if frame is None:
                if not reader.finished:
                    continue
                return reader, self._end_reason(reader)
            result = pipeline.process(frame, source_ms=1000.0 * (time.perf_counter() - started))
            if self._recorder is not None:
                self._recorder.record(result.motion, pipeline.rest_offsets)
            display = display_image(frame.image, self._display_size,
                                    result.observations if self.draw_overlay else None)
            self.frame_ready.emit(result, FrameView(display, frame.image if self._full_frames else None))
        return reader, "stopped"

    def _end_reason(self, reader: ThreadedReader) -> str:
        state = reader.source.state
        if state is SourceState.LOST:
            kept = " The take recorded so far is kept." if self._recorder is not None else ""
            self.error.emit("Source lost", f"{reader.source.name} was lost (unplugged or stopped delivering frames) "
                            f"and did not come back. Reconnect it and press Start.{kept}")
            return "lost"
        return "ended"

    def _handle_seek(self, reader: ThreadedReader, pipeline: Pipeline) -> ThreadedReader:
        with self._lock:
            target, self._seek_to = self._seek_to, None
        if target is None or reader.source.is_device:
            return reader
        reader.stop()
        reader = ThreadedReader(self.source_factory(self.request)).start()
        pipeline.reset()
        while not self._stop.is_set():  # decode (without processing) up to the target frame
            frame = reader.get(timeout=POLL_S)
            if frame is None and reader.finished:
                break
            if frame is not None and frame.index + 1 >= target:
                break
        return reader

    def _handle_recording(self, pipeline: Pipeline) -> None:
        with self._lock:
            folder, self._record_to = self._record_to, None
            stop, self._stop_recording = self._stop_recording, False
        if stop:
            self._close_take("")
        if folder is not None and self._recorder is None:
            calibration = self.config.calibration
            floor = calibration is not None and getattr(calibration, "ground", None) is not None
            self._recorder = TakeRecorder(new_journal_path(folder), floor_calibrated=floor)
            self.recording_started.emit(str(self._recorder.journal_path))

    def _close_take(self, reason: str) -> None:
        recorder, self._recorder = self._recorder, None
        if recorder is None:
            return
        try:
            recorder.close()
            take = take_entry(recorder.journal_path, note=reason)
        except (MocapError, OSError) as exc:
            self.error.emit("Take not closed", f"The take could not be closed cleanly ({exc}); its journal "
                            f"{recorder.journal_path} keeps every frame recorded up to the problem.")
            return
        if reason:
            logger.warning("recording ended early (%s); take kept at %s", reason, recorder.journal_path)
        self.recording_finished.emit(take)


def _niceness() -> int:
    text = os.environ.get(NICENESS_ENV, "")
    if text.strip().lstrip("-").isdigit():
        return int(text)
    if text:
        logger.warning("%s=%r is not a whole number; using %d", NICENESS_ENV, text, WORKER_NICENESS)
    return WORKER_NICENESS


def _lower_thread_priority(niceness: int) -> None:
    """Make the calling thread ``niceness`` nicer (Linux: per thread; elsewhere nothing happens)."""
    if niceness <= 0 or not hasattr(os, "setpriority") or not hasattr(threading, "get_native_id"):
        return
    try:
        thread_id = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread_id, os.getpriority(os.PRIO_PROCESS, thread_id) + niceness)
    except OSError as exc:  # not allowed here: run at the normal priority
        logger.debug("could not lower the pipeline thread's priority: %s", exc)


class _TaskSignals(QObject):
    done = Signal(object)
    failed = Signal(str)


class BackgroundTask(QRunnable):
    """A short job (camera probing, BVH export) on Qt's thread pool; answers with ``done``/``failed``.

    Example:
        >>> task = BackgroundTask(list_cameras)                   # doctest: +SKIP
        >>> task.signals.done.connect(window.show_cameras)        # doctest: +SKIP
        >>> QThreadPool.globalInstance().start(task)              # doctest: +SKIP
    """

    def __init__(self, function: Callable[[], Any]) -> None:
        super().__init__()
        self.function = function
        self.signals = _TaskSignals()

    def run(self) -> None:
        try:
            result = self.function()
        except (MocapError, OSError, ValueError) as exc:
            self.signals.failed.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 - a bug; still shown in the window
            logger.exception("background task failed")
            self.signals.failed.emit(f"Unexpected error: {type(exc).__name__}: {exc}. This is a bug; please report it.")
        else:
            self.signals.done.emit(result)


def run_in_background(function: Callable[[], Any], on_done: Callable[[Any], None],
                      on_failed: Callable[[str], None]) -> BackgroundTask:
    """Start ``function`` on the global thread pool; the callbacks run on the GUI thread."""
    task = BackgroundTask(function)
    task.signals.done.connect(on_done)
    task.signals.failed.connect(on_failed)
    QThreadPool.globalInstance().start(task)
    return task
