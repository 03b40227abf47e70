"""Exceptions a user can cause, each carrying a message that names the fix.

The CLI and the GUI catch :class:`MocapError` (and ``FileNotFoundError``) and show the message alone,
never a traceback. Everything else is a bug and is allowed to surface as one.
"""

from __future__ import annotations


class MocapError(Exception):
    """Base of all user-facing errors: the message says what was expected, found and what to do."""


class BVHError(MocapError):
    """A BVH file that cannot be parsed or written; the message carries the file and line."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None) -> None:
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)
        self.path = path
        self.line = line


class SourceError(MocapError):
    """A camera, video or image folder that cannot be opened or read."""


class CalibrationError(MocapError):
    """A calibration that cannot be computed, loaded or used for this camera."""


class ModelContractError(MocapError):
    """A model file whose inputs/outputs do not match what its sidecar or the code expects."""


class WeightsMissingError(MocapError):
    """Model weights that have not been fetched, trained or imported yet."""
