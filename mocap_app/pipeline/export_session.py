"""Stage III + take recording for a command that produces observations frame by frame.

``mocap run --export DIR`` hands every frame's observations to an :class:`ExportSession`, which
builds the camera from the first frame's size (or the calibration file), tracks and fits every
performer, journals the motion crash-safely to ``DIR/take.journal.jsonl`` and writes one BVH per
performer when the run ends.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..fitting.camera import FitCamera, camera_from_calibration_file
from ..takes.recorder import TakeRecorder
from ..types import FrameObservations, MotionFrame
from .stage3 import Stage3, Stage3Config

JOURNAL_NAME = "take.journal.jsonl"


class ExportSession:
    """Observations in, motion journalled, BVH out at :meth:`finish`.

    Example:
        >>> session = ExportSession(Path("takes"))                 # doctest: +SKIP
        >>> motion = session.process(observations, frame.image)    # doctest: +SKIP
        >>> session.finish()                                       # doctest: +SKIP
    """

    def __init__(self, export_dir: Path, calibration: Path | None = None, config: Stage3Config | None = None,
                 combined: bool = False) -> None:
        self.export_dir = Path(export_dir)
        self.export_dir.mkdir(parents=True, exist_ok=True)
        self.calibration = calibration
        self.config = config
        self.combined = combined
        self.stage3: Stage3 | None = None
        self.recorder = TakeRecorder(self.export_dir / JOURNAL_NAME)

    def process(self, observations: FrameObservations, image: np.ndarray | None = None) -> list[MotionFrame]:
        if self.stage3 is None:
            width, height = observations.width, observations.height
            camera = (camera_from_calibration_file(self.calibration, width, height) if self.calibration is not None
                      else FitCamera.uncalibrated(width, height))
            self.stage3 = Stage3(camera, self.config)
        motion = self.stage3.process(observations, image)
        self.recorder.record(motion, self.stage3.rest_offsets)
        return motion

    def finish(self) -> list[Path]:
        """Close the journal and write the BVH files (none when nobody was fitted)."""
        self.recorder.close()
        if self.recorder.frames_recorded == 0:
            return []
        return self.recorder.finalize(self.export_dir, combined=self.combined)
