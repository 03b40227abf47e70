"""The whole per-frame pipeline behind one call, shared by ``mocap run`` and the desktop application.

``Pipeline(config).process(frame)`` runs Stage I (the chosen engine's backend, which for BlazePose
already includes the 3D that Stage II gives other engines), then Stage III (identity tracking,
filtering, skeleton fitting: :class:`~mocap_app.pipeline.stage3.Stage3`), times every stage and
returns a :class:`~mocap_app.types.FrameResult`. Nothing here knows about threads, widgets or
files: the GUI runs it on a worker thread, the CLI in a plain loop.

Engines are the Stage I backends of :data:`mocap_app.backends.BACKENDS`; an engine without weights
fails at construction with a :class:`~mocap_app.errors.MocapError` naming the fix (``mocap models
fetch``), never with a fake result.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from engines.providers import PROVIDER_CHOICES

from ..backends import BACKENDS, DEFAULT_BACKEND, load_backend
from ..errors import MocapError
from ..fitting.camera import camera_from_calibration
from ..fitting.fitter import FitConfig
from ..fitting.residuals import FitWeights
from ..tracking.identity import TrackerConfig
from ..tracking.limb_swap import LimbSwapConfig
from ..tracking.one_euro import FILTER_2D, FILTER_3D, FILTER_FINAL, OneEuroParams
from ..types import Frame, FrameObservations, FrameResult
from .stage3 import Stage3, Stage3Config

logger = logging.getLogger(__name__)

#: Timing keys in pipeline order (what the live plots show); "stage2" appears only for engines that have one.
STAGE_KEYS = ("source", "stage1", "stage2", "tracking", "fitting")


class Backend(Protocol):
    """What a Stage I backend offers the pipeline."""

    name: str

    @property
    def provider(self) -> str: ...

    def reset(self) -> None: ...

    def __call__(self, frame: Frame) -> FrameObservations: ...


@dataclass(frozen=True)
class PipelineConfig:
    """Everything that decides how frames are processed.

    Attributes:
        engine: Stage I engine, a key of :data:`mocap_app.backends.BACKENDS`.
        device: where the networks run: ``"auto"`` (TensorRT, else CUDA, else CPU, saying once what
            was skipped and why), ``"tensorrt"``, ``"cuda"`` or ``"cpu"`` (see ``engines.providers``).
        max_people: most performers tracked at once.
        calibration: a :class:`calibration.camera_file.CameraCalibration`, or ``None`` to assume
            a 54 degree vertical field of view and no floor.
        filter_2d / filter_3d / filter_final: 1-Euro filter strengths (``None`` switches one off).
        fit_weights: Stage III energy weights.
        tracker: identity tracker settings.
        limb_swap: undo the detector's short left/right leg mix-ups in Stage III (off by default;
            see :mod:`mocap_app.tracking.limb_swap`).
        mirror_average: the BlazePose engine also reads each crop mirrored and averages the two
            passes (off by default: half the landmark speed; other engines ignore it).
    """

    engine: str = DEFAULT_BACKEND
    device: str = "auto"
    max_people: int = 2
    calibration: Any = None
    filter_2d: OneEuroParams | None = FILTER_2D
    filter_3d: OneEuroParams | None = FILTER_3D
    filter_final: OneEuroParams | None = FILTER_FINAL
    fit_weights: FitWeights = field(default_factory=FitWeights)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    limb_swap: bool = False
    mirror_average: bool = False

    def __post_init__(self) -> None:
        if self.engine not in BACKENDS:
            raise MocapError(f"Unknown engine {self.engine!r}; choose one of {', '.join(sorted(BACKENDS))}.")
        if self.max_people < 1:
            raise MocapError(f"The number of performers must be at least 1, got {self.max_people}.")
        if self.device not in PROVIDER_CHOICES:
            raise MocapError(f"Unknown device {self.device!r}; choose one of {', '.join(PROVIDER_CHOICES)}.")

    def stage3_config(self) -> Stage3Config:
        return Stage3Config(fit=FitConfig(weights=self.fit_weights), tracker=self.tracker, filter_2d=self.filter_2d,
                            filter_3d=self.filter_3d, filter_final=self.filter_final,
                            limb_swap=LimbSwapConfig(enabled=self.limb_swap))


class Pipeline:
    """Stage I -> Stage III with per-stage timings; one instance per stream (it keeps tracking state).

    Args:
        config: what to run.
        backend: an already built Stage I backend (``None``: built from ``config.engine``).

    Raises:
        MocapError: an engine that cannot run here (weights missing, unknown name), with the fix.

    Example:
        >>> pipeline = Pipeline(PipelineConfig())               # doctest: +SKIP
        >>> for frame in reader:                                 # doctest: +SKIP
        ...     result = pipeline.process(frame)
        ...     print(result.timings_ms, [m.performer_id for m in result.motion])
    """

    def __init__(self, config: PipelineConfig | None = None, backend: Backend | None = None) -> None:
        self.config = config or PipelineConfig()
        if backend is None:
            backend = load_backend(self.config.engine, max_people=self.config.max_people, device=self.config.device,
                                   mirror_average=self.config.mirror_average)
        self.backend = backend
        self.engine = getattr(self.backend, "name", self.config.engine)
        self.stage3: Stage3 | None = None
        logger.info("pipeline: engine %s on %s", self.engine, self.provider)

    @property
    def provider(self) -> str:
        """Execution provider actually running the network (``"CPUExecutionProvider"``, ...)."""
        return self.backend.provider

    def process(self, frame: Frame, source_ms: float = 0.0) -> FrameResult:
        """Everything the pipeline makes of one frame.

        Args:
            frame: the image and its index/time.
            source_ms: time spent getting the frame, milliseconds (reported as the ``source`` stage).

        Raises:
            CalibrationError: on the first frame, when the calibration does not match the source.
        """
        if self.stage3 is None:
            self.stage3 = Stage3(camera_from_calibration(self.config.calibration, frame.width, frame.height),
                                 self.config.stage3_config())
        start = time.perf_counter()
        observations = self.backend(frame)
        stage1_ms = 1e3 * (time.perf_counter() - start)
        motion = self.stage3.process(observations, frame.image)
        observations = self.stage3.tracked_observations or observations  # with track ids for the overlay
        timings = {"source": float(source_ms), "stage1": stage1_ms}
        timings.update(self.stage3.timings_ms)
        return FrameResult(frame=frame.index, time=frame.timestamp, observations=observations, motion=tuple(motion),
                           timings_ms=timings, provider=self.provider, engine=self.engine)

    def rest_offsets(self, performer_id: int) -> np.ndarray | None:
        """(J, 3) measured rest offsets of a performer, metres (for BVH export); ``None`` if unknown."""
        return None if self.stage3 is None else self.stage3.rest_offsets(performer_id)

    def reset(self) -> None:
        """Forget every performer (after a seek, or between unrelated clips)."""
        self.backend.reset()
        self.stage3 = None

    def close(self) -> None:
        """Release what the pipeline holds (nothing needs closing yet; kept for the callers' symmetry)."""
        self.stage3 = None
