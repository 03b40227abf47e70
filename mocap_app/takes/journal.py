"""The take journal: an append-only JSON Lines file that survives crashes and power loss.

Every motion frame is one line, written as it arrives and flushed to the operating system at
once; ``os.fsync`` pushes it to the disk at least every ``fsync_interval_s`` (1 s by default), so a
power cut loses at most that much. A process crash loses nothing that was written. Reading stops
quietly at a torn last line (the one being written when the crash came) and keeps the rest.

Records (one JSON object per line, ``"type"`` first)::

    {"type": "take", "version": 1, "rig": "rig22", "joints": [...], "created": "...", "floor": "calibrated"}
    {"type": "performer", "id": 1, "offsets": [[x, y, z], ...]}      # rest offsets, metres
    {"type": "motion", "id": 1, "frame": 12, "time": 0.4, "root": [x, y, z], "rot": [x, y, z, w, ...]}

A later ``performer`` record of the same id replaces the earlier one (bone lengths are refined
over the first frames and then fixed). ``floor`` says whether the world's floor (y = 0) came from a
ground-plane calibration (``"calibrated"``) or is still to be estimated from the performers' feet
at export (``"estimate"``: the world is then the uncalibrated camera turned upright); journals
without it are taken as calibrated.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np

from ..errors import MocapError
from ..skeletons import RIG
from ..types import MotionFrame

logger = logging.getLogger(__name__)

JOURNAL_VERSION = 1
#: Longest time between two fsyncs of the journal, seconds.
FSYNC_INTERVAL_S = 1.0
_DECIMALS = 6


@dataclass
class PerformerTake:
    """One performer's recorded motion, in arrival order.

    Attributes:
        offsets: (J, 3) rest offsets, metres, or ``None`` if never recorded (rig default).
        frames, times: per-sample frame index and time, seconds.
        roots: per-sample (3,) root position, metres.
        rotations: per-sample (J, 4) local quaternions (x, y, z, w).
    """

    offsets: np.ndarray | None = None
    frames: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    roots: list[np.ndarray] = field(default_factory=list)
    rotations: list[np.ndarray] = field(default_factory=list)


@dataclass
class TakeData:
    """Everything read back from a journal: performer id -> take, plus what was skipped."""

    performers: dict[int, PerformerTake] = field(default_factory=dict)
    skipped_lines: int = 0
    floor_calibrated: bool = True


def _round(array: np.ndarray) -> list:
    return np.round(np.asarray(array, dtype=np.float64), _DECIMALS).ravel().tolist()


class JournalWriter:
    """Appends records to a journal file (creating it with a ``take`` header)."""

    def __init__(self, path: str | Path, fsync_interval_s: float = FSYNC_INTERVAL_S,
                 floor_calibrated: bool = True) -> None:
        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise FileNotFoundError(f"Cannot record to {self.path}: the folder {self.path.parent} does not exist.")
        self.fsync_interval_s = fsync_interval_s
        fresh = not self.path.exists() or self.path.stat().st_size == 0
        self._handle: IO[str] = self.path.open("a", encoding="utf-8", newline="\n")
        self._last_sync = time.monotonic()
        if fresh:
            self._write({"type": "take", "version": JOURNAL_VERSION, "rig": RIG.name, "joints": list(RIG.joints),
                         "created": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
                         "floor": "calibrated" if floor_calibrated else "estimate"})
            self.sync()

    def _write(self, record: dict) -> None:
        if self._handle.closed:
            raise ValueError(f"The take journal {self.path} is closed.")
        line = json.dumps(record, separators=(",", ":"), allow_nan=False)
        self._handle.write(line + "\n")
        self._handle.flush()
        if time.monotonic() - self._last_sync >= self.fsync_interval_s:
            self.sync()

    def write_performer(self, performer_id: int, offsets: np.ndarray) -> None:
        """Record (or replace) a performer's rest offsets (J, 3), metres."""
        self._write({"type": "performer", "id": int(performer_id), "offsets": _round(offsets)})

    def write_motion(self, frame: MotionFrame) -> None:
        """Record one motion frame; frames with NaN are refused (logged), never written."""
        if not (np.isfinite(frame.root_position).all() and np.isfinite(frame.local_rotations).all()):
            logger.warning("not recording a motion frame with NaN (performer %d, frame %d)", frame.performer_id,
                           frame.frame)
            return
        self._write({"type": "motion", "id": int(frame.performer_id), "frame": int(frame.frame),
                     "time": round(float(frame.time), _DECIMALS), "root": _round(frame.root_position),
                     "rot": _round(frame.local_rotations)})

    def sync(self) -> None:
        """Push everything written so far to the disk."""
        if not self._handle.closed:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._last_sync = time.monotonic()

    def close(self) -> None:
        if not self._handle.closed:
            self.sync()
            self._handle.close()


def read_journal(path: str | Path) -> TakeData:
    """Read a journal back, tolerating a torn or corrupt line (skipped and counted).

    Raises:
        FileNotFoundError: no file at ``path``.
        MocapError: the file is not a take journal.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No take journal at {path}. Journals are written next to the export folder as "
                                "'take-*.journal.jsonl'.")
    data = TakeData()
    joints = RIG.num_joints
    with path.open(encoding="utf-8", errors="replace") as handle:
        first = handle.readline()
        try:
            header = json.loads(first)
            if header.get("type") != "take":
                raise ValueError("no take header")
        except (json.JSONDecodeError, ValueError, AttributeError) as exc:
            raise MocapError(f"{path} is not a take journal ({exc}); pass the '.journal.jsonl' file of a "
                             "take.") from None
        if header.get("rig") != RIG.name:
            raise MocapError(f"{path} was recorded for rig {header.get('rig')!r}, this version uses {RIG.name!r}.")
        data.floor_calibrated = header.get("floor", "calibrated") != "estimate"
        for line in handle:
            try:
                record = json.loads(line)
                kind = record["type"]
                pid = int(record["id"])
                if kind == "performer":
                    offsets = np.asarray(record["offsets"], dtype=np.float64).reshape(joints, 3)
                    data.performers.setdefault(pid, PerformerTake()).offsets = offsets
                elif kind == "motion":
                    root = np.asarray(record["root"], dtype=np.float64).reshape(3)
                    rot = np.asarray(record["rot"], dtype=np.float64).reshape(joints, 4)
                    if not (np.isfinite(root).all() and np.isfinite(rot).all()):
                        raise ValueError("non-finite values")
                    take = data.performers.setdefault(pid, PerformerTake())
                    take.frames.append(int(record["frame"]))
                    take.times.append(float(record["time"]))
                    take.roots.append(root)
                    take.rotations.append(rot)
            except (json.JSONDecodeError, KeyError, ValueError, TypeError):
                data.skipped_lines += 1
    if data.skipped_lines:
        logger.warning("%s: skipped %d damaged line(s) (a torn last line is normal after a crash)", path,
                       data.skipped_lines)
    return data
