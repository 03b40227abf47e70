"""Run the whole pipeline over a rendered clip and keep what each frame produced, for evaluation.

Shared by ``mocap eval video`` (which only measures) and ``mocap demo`` (which also writes an
overlay video and BVH files through the ``on_result`` hook).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import MocapError
from ..fitting.camera import FitCamera
from ..pipeline.runner import Pipeline, PipelineConfig
from ..progress import Progress
from ..sources import open_source
from ..synth.groundtruth import CALIBRATION_FILE, VIDEO_FILE
from ..types import Frame, FrameObservations, FrameResult

logger = logging.getLogger(__name__)

#: What ``--calibration`` accepts: the clip's exact rendered camera, or none (assumed field of view).
CALIBRATION_MODES = ("rendered", "none")

#: Called with every frame and its result (e.g. to draw an overlay or record a take).
ResultHook = Callable[[Frame, FrameResult], None]


@dataclass(frozen=True, eq=False)
class ClipRun:
    """What the pipeline made of a clip.

    Attributes:
        results: one :class:`~mocap_app.types.FrameResult` per processed frame, in order; their
            ``observations`` are the pipeline's corrected 2D (tracked, limb swaps undone).
        seconds: wall time spent in ``Pipeline.process`` (Stage I to Stage III), seconds.
        camera: Stage III's camera (world frame of the fitted motion).
        calibrated: whether the clip's calibration (intrinsics and floor) was given to the pipeline.
        engine: Stage I engine name; provider: the execution provider that ran it.
        engine_observations: per frame, the observations exactly as the engine gave them (before
            Stage III's corrections), so the engine's own 2D error can be told apart.
    """

    results: list[FrameResult]
    seconds: float
    camera: FitCamera
    calibrated: bool
    engine: str
    provider: str
    engine_observations: list[FrameObservations] = field(default_factory=list)

    @property
    def fps(self) -> float:
        """Frames per second of the pipeline alone (decoding and evaluation excluded)."""
        return len(self.results) / self.seconds if self.seconds > 0 else float("nan")


def load_rendered_calibration(folder: Path, mode: str) -> Any:
    """The calibration ``mode`` names for a clip folder (``None`` for ``"none"``).

    Raises:
        MocapError: unknown mode; FileNotFoundError: the clip has no calibration file.
    """
    if mode not in CALIBRATION_MODES:
        raise MocapError(f"--calibration must be one of {', '.join(CALIBRATION_MODES)}, got {mode!r}.")
    if mode == "none":
        return None
    from calibration.camera_file import CameraCalibration

    path = folder / CALIBRATION_FILE
    if not path.is_file():
        raise FileNotFoundError(f"No {CALIBRATION_FILE} in {folder}; render the clip with 'mocap synth' or use "
                                "--calibration none.")
    return CameraCalibration.load(path)


def make_pipeline(engine: str, calibration: Any, max_people: int, backend: Any = None,
                  limb_swap: bool = False, mirror_average: bool = False) -> Pipeline:
    """A pipeline for one clip (raises ``MocapError`` naming the fix when the engine has no weights)."""
    config = PipelineConfig(engine=engine, max_people=max_people, calibration=calibration, limb_swap=limb_swap,
                            mirror_average=mirror_average)
    return Pipeline(config, backend=backend)


def run_clip(folder: Path, pipeline: Pipeline, max_frames: int | None = None, on_result: ResultHook | None = None,
             show_progress: bool = True) -> ClipRun:
    """Every frame of ``folder/video.mp4`` through ``pipeline``.

    Args:
        folder: a clip folder written by ``mocap synth`` (or ``mocap demo``).
        pipeline: a fresh pipeline (it keeps tracking state).
        max_frames: stop after this many frames (``None``: the whole clip).
        on_result: called with each frame and its result.
        show_progress: draw a progress bar on stderr.

    Raises:
        FileNotFoundError: no video in the folder. SourceError: the video cannot be decoded.
    """
    video = Path(folder) / VIDEO_FILE
    if not video.is_file():
        raise FileNotFoundError(f"No {VIDEO_FILE} in {folder}; render a clip there with 'mocap synth'.")
    results: list[FrameResult] = []
    engine_observations: list[FrameObservations] = []
    seconds = 0.0
    with open_source(video, live=False) as source:
        total = source.frame_count
        if max_frames is not None:
            total = min(total, max_frames) if total else max_frames
        stream = sys.stderr if show_progress else None
        with Progress(total=total, label="pipeline", unit="frames", stream=stream) as bar:
            while max_frames is None or len(results) < max_frames:
                frame = source.read()
                if frame is None:
                    break
                start = time.perf_counter()
                result = pipeline.process(frame)
                seconds += time.perf_counter() - start
                results.append(result)
                engine_observations.append(pipeline.stage3.engine_observations or result.observations)
                if on_result is not None:
                    on_result(frame, result)
                bar.update()
    if pipeline.stage3 is None:
        raise MocapError(f"{video} holds no readable frame; render the clip again.")
    logger.info("pipeline: %d frames in %.1f s", len(results), seconds)
    return ClipRun(results=results, seconds=seconds, camera=pipeline.stage3.camera,
                   calibrated=pipeline.config.calibration is not None, engine=pipeline.engine,
                   provider=pipeline.provider, engine_observations=engine_observations)
