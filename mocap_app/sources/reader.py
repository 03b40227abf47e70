"""One background thread per source, so decoding and camera waits never stall the pipeline.

Two modes:

* **live** keeps only the newest frame (a one-slot buffer). When the consumer is slower than the
  source, older frames are replaced and counted in ``dropped``, so latency never builds up. A file
  read in live mode is paced at its own timestamps, as if a camera were playing it.
* **offline** keeps every frame in a bounded queue; when the queue is full the reader waits for the
  consumer (nothing is dropped, memory stays bounded).

Anything raised inside the thread is kept and re-raised to the consumer as
:class:`~mocap_app.errors.SourceError` after the frames read before it, never lost in a thread.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Iterator
from types import TracebackType

from ..errors import MocapError, SourceError
from ..types import Frame
from .base import FrameSource

logger = logging.getLogger(__name__)

#: Frames an offline reader holds before it waits for the consumer (about 2 s of 30 fps video).
DEFAULT_QUEUE_SIZE = 64
#: Frames over which the capture rate is measured.
FPS_WINDOW = 30
#: How long ``stop()`` waits for the thread to finish, seconds.
STOP_TIMEOUT = 10.0


class ThreadedReader:
    """Reads a :class:`FrameSource` on a background thread and hands frames to one consumer.

    Usage::

        with ThreadedReader(open_source("0")) as reader:
            for frame in reader:   # or reader.get(timeout)
                ...

    The reader opens the source in ``start()`` (in the caller's thread, so a bad source raises
    :class:`SourceError` right there) and closes it in ``stop()``.

    Args:
        source: the frame source; opened by ``start()`` if it is not open yet.
        live: ``True`` keeps only the newest frame, ``False`` every frame; ``None`` takes the source's
            own preference (``source.live``: cameras live, files offline).
        queue_size: offline-mode queue length, frames.

    Attributes:
        dropped: frames replaced before the consumer took them (live mode only).
        delivered: frames handed to the consumer.
    """

    def __init__(self, source: FrameSource, live: bool | None = None, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        if queue_size < 1:
            raise ValueError(f"queue_size must be at least 1, got {queue_size}")
        self.source = source
        self.live = source.live if live is None else live
        self.dropped = 0
        self.delivered = 0
        self._buffer: collections.deque[Frame] = collections.deque(maxlen=1 if self.live else queue_size)
        self._capacity = 1 if self.live else queue_size
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._finished = False
        self._error: BaseException | None = None
        self._read_times: collections.deque[float] = collections.deque(maxlen=FPS_WINDOW)
        self._thread: threading.Thread | None = None

    # --- consumer side ------------------------------------------------------------------------
    def start(self) -> ThreadedReader:
        """Open the source (if needed) and start the reading thread; returns ``self``."""
        if self._thread is not None:
            raise RuntimeError("ThreadedReader.start() called twice")
        if not self.source.is_open:
            self.source.open()
        self._thread = threading.Thread(target=self._run, name=f"reader[{self.source.name}]", daemon=True)
        self._thread.start()
        return self

    def get(self, timeout: float | None = None) -> Frame | None:
        """The next frame (live: the newest one), waiting up to ``timeout`` seconds (``None``: forever).

        Returns ``None`` on timeout or at the end of the stream (tell them apart with ``finished``).

        Raises:
            SourceError: the reading thread failed; the message names the source and the cause.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._buffer and not self._finished:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(remaining)
            if self._buffer:
                frame = self._buffer.popleft()
                self.delivered += 1
                self._cond.notify_all()  # an offline reader may be waiting for room
                return frame
            error, self._error = self._error, None
        if error is not None:
            if isinstance(error, MocapError):
                raise SourceError(f"{self.source.name}: {error}") from error
            raise SourceError(f"reading {self.source.name} failed: {type(error).__name__}: {error}") from error
        return None

    @property
    def finished(self) -> bool:
        """True once the stream has ended (or failed) and every kept frame has been taken."""
        with self._cond:
            return self._finished and not self._buffer

    @property
    def measured_fps(self) -> float:
        """Rate at which the thread actually reads frames, over the last ``FPS_WINDOW`` frames, Hz."""
        with self._cond:
            times = list(self._read_times)
        if len(times) < 2 or times[-1] <= times[0]:
            return 0.0
        return (len(times) - 1) / (times[-1] - times[0])

    def stop(self) -> None:
        """Stop the thread cooperatively (also interrupts a camera's reconnect wait) and close the source."""
        self._stop.set()
        self.source.cancel()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT)
            if self._thread.is_alive():
                # The source is stuck inside a driver call; closing it under the thread would crash.
                logger.error("reader thread for %s did not stop within %.0f s; leaving it", self.source.name,
                             STOP_TIMEOUT)
                return
        self.source.close()

    def __iter__(self) -> Iterator[Frame]:
        while (frame := self.get()) is not None:
            yield frame

    def __enter__(self) -> ThreadedReader:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # --- reading thread ----------------------------------------------------------------------
    def _run(self) -> None:
        pace_start: float | None = None
        try:
            while not self._stop.is_set():
                frame = self.source.read()
                if frame is None:
                    break
                if self.live and not self.source.is_device:
                    # A file played live: wait until its media time, like a camera would deliver it.
                    now = time.monotonic()
                    pace_start = now - frame.timestamp if pace_start is None else pace_start
                    self._stop.wait(max(0.0, pace_start + frame.timestamp - now))
                self._put(frame)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, never lost
            logger.debug("reader thread for %s failed", self.source.name, exc_info=True)
            with self._cond:
                self._error = exc
        finally:
            with self._cond:
                self._finished = True
                self._cond.notify_all()

    def _put(self, frame: Frame) -> None:
        with self._cond:
            self._read_times.append(time.monotonic())
            if self.live:
                if self._buffer:
                    self.dropped += 1  # deque(maxlen=1) replaces the stale frame
            else:
                while len(self._buffer) >= self._capacity and not self._stop.is_set():
                    self._cond.wait()
                if self._stop.is_set():
                    return
            self._buffer.append(frame)
            self._cond.notify_all()
