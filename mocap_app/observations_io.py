"""The JSON Lines observation format shared by every engine, ``mocap run`` and ``mocap fit``.

One JSON object per frame::

    {"frame": 0, "time": 0.0, "width": 640, "height": 480,
     "people": [{"id": null, "joint_set": "blazepose33",
                 "joints2d": [[x, y], ...], "confidence": [...],
                 "joints3d": [[x, y, z], ...] or null, "bbox": [x0, y0, x1, y1]}]}

Pixels for 2D, metres root-relative in camera axes for 3D; joint order is the named set's as
defined in :mod:`mocap_app.skeletons`. Missing joints are written as ``null`` coordinates.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np

from .errors import MocapError
from .skeletons import get_skeleton
from .types import FrameObservations, Observation


def _encode(array: np.ndarray) -> list:
    """Nested lists with NaN written as null (JSON has no NaN)."""
    return [[None if math.isnan(v) else round(float(v), 5) for v in row] for row in np.asarray(array, dtype=np.float64)]


def _decode(rows: list, width: int) -> np.ndarray:
    return np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=np.float32).reshape(-1, width)


def observation_to_dict(person: Observation) -> dict:
    """JSON-ready dict of one person's observation."""
    return {
        "id": person.track_id,
        "joint_set": person.joint_set,
        "joints2d": _encode(person.joints2d),
        "confidence": [round(float(c), 4) for c in np.nan_to_num(person.confidence)],
        "joints3d": None if person.joints3d is None else _encode(person.joints3d),
        "bbox": [round(float(v), 2) for v in person.bbox],
    }


def frame_to_json(frame: FrameObservations) -> str:
    """One line of the observation file (no trailing newline)."""
    record = {"frame": frame.frame, "time": round(frame.time, 6), "width": frame.width, "height": frame.height,
              "people": [observation_to_dict(person) for person in frame.people]}
    return json.dumps(record, separators=(",", ":"))


def frame_from_dict(record: dict) -> FrameObservations:
    """Parse one decoded line; raises ``KeyError``/``ValueError``/``TypeError`` on bad content."""
    people = []
    for person in record["people"]:
        schema = get_skeleton(person["joint_set"])
        joints2d = _decode(person["joints2d"], 2)
        if joints2d.shape[0] != schema.num_joints:
            raise ValueError(f"{schema.name} has {schema.num_joints} joints, got {joints2d.shape[0]}")
        joints3d = None if person.get("joints3d") is None else _decode(person["joints3d"], 3)
        people.append(Observation(
            joint_set=schema.name, joints2d=joints2d,
            confidence=np.asarray(person["confidence"], dtype=np.float32),
            bbox=np.asarray(person["bbox"], dtype=np.float32), joints3d=joints3d, track_id=person.get("id")))
    return FrameObservations(frame=int(record["frame"]), time=float(record["time"]), width=int(record["width"]),
                             height=int(record["height"]), people=tuple(people))


def read_observations(path: str | Path) -> Iterator[FrameObservations]:
    """Yield every frame of a JSON Lines observation file.

    Raises:
        FileNotFoundError: the file does not exist.
        MocapError: a line is not valid JSON or not in the format, naming the line.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No observation file at {path}. Write one with 'mocap run --observations FILE'.")
    with path.open("rb") as handle:  # bytes: a binary file is reported by line, not as a decode error
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                yield frame_from_dict(json.loads(raw.decode("utf-8")))
            except (json.JSONDecodeError, UnicodeDecodeError, KeyError, ValueError, TypeError) as exc:
                raise MocapError(f"{path}:{number}: not a valid observation line ({exc}). "
                                 "See README, 'Observation files', for the format.") from exc


class ObservationWriter:
    """Appends frames to a JSON Lines file, flushing each line so a crash loses at most one frame."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle: IO[str] = self.path.open("w", encoding="utf-8")

    def write(self, frame: FrameObservations) -> None:
        self._handle.write(frame_to_json(frame) + "\n")
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> ObservationWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
