"""Reading BVH files of any common flavour (MotionBuilder, 3ds Max, DAZ, Blender, our own).

Tolerated: CRLF/CR line ends, tabs, trailing spaces, channel names in any case, a name after
``End Site``, several roots, missing CHANNELS lines (a joint without channels), braces on the
same line as a keyword. Everything else that is wrong raises :class:`~mocap_app.errors.BVHError`
naming the file and the line.
"""

from __future__ import annotations

import logging
import re
from os import PathLike
from pathlib import Path

import numpy as np

from ..errors import BVHError
from .skeleton import CHANNEL_NAMES, BVHMotion, BVHSkeleton

logger = logging.getLogger(__name__)

_CANONICAL_CHANNEL = {name.lower(): name for name in CHANNEL_NAMES}
_FRAMES = re.compile(r"^\s*frames\s*:\s*(\S+)\s*$", re.IGNORECASE)
_FRAME_TIME = re.compile(r"^\s*frame\s+time\s*:\s*(\S+)\s*$", re.IGNORECASE)


class _HierarchyParser:
    """Recursive descent over the HIERARCHY section's tokens, each tagged with its 1-based line."""

    def __init__(self, lines: list[str], path: str) -> None:
        self.path = path
        self.tokens: list[tuple[str, int]] = []
        self.motion_line = 0  # 1-based line of MOTION, 0 while not found
        self.last_line = max(len(lines), 1)
        for number, line in enumerate(lines, start=1):
            words = line.replace("{", " { ").replace("}", " } ").split()
            if words and words[0].upper() == "MOTION":
                self.motion_line = number
                break
            self.tokens.extend((word, number) for word in words)
        self.position = 0
        self.names: list[str] = []
        self.parents: list[int] = []
        self.offsets: list[tuple[float, float, float]] = []
        self.channels: list[tuple[str, ...]] = []
        self.end_sites: dict[int, np.ndarray] = {}

    def error(self, message: str, line: int | None = None) -> BVHError:
        if line is None:
            line = self.tokens[self.position][1] if self.position < len(self.tokens) else \
                self.motion_line or self.last_line
        return BVHError(message, self.path, line)

    def peek(self) -> str | None:
        return self.tokens[self.position][0] if self.position < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, int]:
        if self.position >= len(self.tokens):
            wanted = f"{expected!r}" if expected else "more of the hierarchy"
            raise self.error(f"the hierarchy ends early, expected {wanted}; the file is truncated or malformed")
        token, line = self.tokens[self.position]
        if expected is not None and token.upper() != expected.upper():
            raise self.error(f"expected {expected!r} but found {token!r}")
        self.position += 1
        return token, line

    def rest_of_line(self, line: int) -> list[str]:
        words = []
        while self.position < len(self.tokens) and self.tokens[self.position][1] == line \
                and self.tokens[self.position][0] != "{":
            words.append(self.tokens[self.position][0])
            self.position += 1
        return words

    def number(self, what: str) -> float:
        token, line = self.take()
        try:
            value = float(token)
        except ValueError:
            raise self.error(f"{what} must be a number, found {token!r}", line) from None
        if not np.isfinite(value):
            raise self.error(f"{what} must be finite, found {token!r}", line)
        return value

    def offset(self) -> tuple[float, float, float]:
        self.take("OFFSET")
        return (self.number("OFFSET x"), self.number("OFFSET y"), self.number("OFFSET z"))

    def parse(self) -> BVHSkeleton:
        self.take("HIERARCHY")
        while self.peek() is not None and self.peek().upper() == "ROOT":
            self.joint(parent=-1)
        if self.peek() is not None:
            raise self.error(f"expected 'ROOT' or 'MOTION' but found {self.peek()!r}")
        if not self.names:
            raise self.error("the hierarchy has no ROOT joint")
        if not self.motion_line:
            raise BVHError("there is no MOTION section; the file is truncated", self.path, self.last_line)
        return BVHSkeleton(tuple(self.names), tuple(self.parents), np.array(self.offsets), tuple(self.channels),
                           self.end_sites)

    def joint(self, parent: int) -> None:
        _, line = self.take()
        name = " ".join(self.rest_of_line(line))
        if not name:
            raise self.error("a ROOT/JOINT needs a name", line)
        if name in self.names:
            raise self.error(f"joint name {name!r} is used twice", line)
        index = len(self.names)
        self.names.append(name)
        self.parents.append(parent)
        self.take("{")
        self.offsets.append(self.offset())
        self.channels.append(self.channel_list() if (self.peek() or "").upper() == "CHANNELS" else ())
        while True:
            keyword = (self.peek() or "").upper()
            if keyword == "JOINT":
                self.joint(parent=index)
            elif keyword == "END":
                _, end_line = self.take()
                self.rest_of_line(end_line)  # "Site", sometimes followed by a name
                self.take("{")
                self.end_sites[index] = np.array(self.offset())
                self.take("}")
            elif keyword == "}":
                self.take()
                return
            elif keyword == "":
                raise self.error(f"joint {name!r} is not closed with '}}'; the file is truncated or malformed")
            else:
                raise self.error(f"expected 'JOINT', 'End Site' or '}}' in joint {name!r}, found {self.peek()!r}")

    def channel_list(self) -> tuple[str, ...]:
        _, line = self.take("CHANNELS")
        count_token, _ = self.take()
        if not count_token.isdigit():
            raise self.error(f"CHANNELS must be followed by a channel count, found {count_token!r}", line)
        words = self.rest_of_line(line)
        if len(words) != int(count_token):
            raise self.error(f"CHANNELS declares {count_token} channels but lists {len(words)}", line)
        unknown = [w for w in words if w.lower() not in _CANONICAL_CHANNEL]
        if unknown:
            raise self.error(f"unknown channel {unknown[0]!r}; valid: {', '.join(CHANNEL_NAMES)}", line)
        channels = tuple(_CANONICAL_CHANNEL[w.lower()] for w in words)
        if len(set(channels)) != len(channels):
            raise self.error("a channel is listed twice", line)
        return channels


def _header_value(lines: list[str], start: int, pattern: re.Pattern, what: str, path: str) -> tuple[str, int]:
    """The value of a ``Frames:``/``Frame Time:`` line at or after 0-based ``start`` (blank lines skipped)."""
    index = start
    while index < len(lines) and not lines[index].strip():
        index += 1
    if index >= len(lines):
        raise BVHError(f"the file ends before the '{what}' line; it is truncated", path, index + 1)
    match = pattern.match(lines[index])
    if match is None:
        raise BVHError(f"expected '{what} ...' but found {lines[index].strip()[:40]!r}", path, index + 1)
    return match.group(1), index


def _parse_motion(lines: list[str], first: int, num_channels: int, num_frames: int, path: str) -> np.ndarray:
    """(F, C) values from the frame lines starting at 0-based line ``first``."""
    rows = [(number, line.split()) for number, line in enumerate(lines[first:], start=first + 1) if line.strip()]
    if len(rows) < num_frames:
        last = rows[-1][0] if rows else first
        raise BVHError(f"the file has {len(rows)} of the {num_frames} frames it declares; it is truncated",
                       path, last + 1)
    if len(rows) > num_frames:
        logger.warning("%s: ignoring %d lines after the %d declared frames", path, len(rows) - num_frames, num_frames)
        rows = rows[:num_frames]
    for frame, (number, words) in enumerate(rows):
        if len(words) != num_channels:
            raise BVHError(f"frame {frame + 1} has {len(words)} values but the hierarchy declares {num_channels} "
                           "channels; the file is truncated or malformed", path, number)
    try:
        values = np.array([word for _, words in rows for word in words], dtype=np.float64)
    except ValueError:
        values = None
    if values is None or not np.all(np.isfinite(values)):
        values = np.array([_finite_number(word, path, number) for number, words in rows for word in words])
    return values.reshape(num_frames, num_channels)


def _finite_number(word: str, path: str, line: int) -> float:
    """``word`` as a float, or a BVHError naming the line (slow path, used only once a bad value exists)."""
    try:
        value = float(word)
    except ValueError:
        value = float("nan")
    if not np.isfinite(value):
        raise BVHError(f"{word[:20]!r} is not a finite number", path, line)
    return value


def parse_bvh(text: str, path: str = "<string>") -> BVHMotion:
    """Parse BVH text; ``path`` only names the source in error messages."""
    lines = text.splitlines()
    parser = _HierarchyParser(lines, path)
    skeleton = parser.parse()
    frames_text, frames_index = _header_value(lines, parser.motion_line, _FRAMES, "Frames:", path)
    if not frames_text.isdigit():
        raise BVHError(f"the frame count must be a whole number, found {frames_text!r}", path, frames_index + 1)
    time_text, time_index = _header_value(lines, frames_index + 1, _FRAME_TIME, "Frame Time:", path)
    try:
        frame_time = float(time_text)
    except ValueError:
        frame_time = float("nan")
    if not np.isfinite(frame_time) or frame_time <= 0:
        raise BVHError(f"the frame time must be a positive number of seconds, found {time_text!r}",
                       path, time_index + 1)
    values = _parse_motion(lines, time_index + 1, skeleton.num_channels, int(frames_text), path)
    return BVHMotion(skeleton, frame_time, values)


def read_bvh(path: str | PathLike) -> BVHMotion:
    """Read a BVH file.

    Raises:
        FileNotFoundError: no file at ``path``.
        BVHError: the file is not valid BVH; the message names the file and line.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No BVH file at {path}; check the path.")
    if path.is_dir():
        raise BVHError("this is a folder, not a BVH file", str(path))
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return parse_bvh(text, str(path))
