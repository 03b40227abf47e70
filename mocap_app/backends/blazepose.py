"""The ``blazepose`` Stage I backend: multi-person, top-down BlazePose GHUM with ROI tracking.

Per frame: the detector runs only when it is due (nobody tracked, someone lost since the last
detection, or every ``detect_interval`` frames to pick up newcomers while fewer than
``max_people`` are tracked); each detection not already covered by a tracked person opens a track
with the region derived from the detector's hip and alignment keypoints. Every track then runs the
landmark network on its rotated crop; a pose-flag below the threshold ends the track, otherwise the
two alignment landmarks give the region for the next frame. Two tracks that converge on one person
are merged (the older id stays).

Output per person (:class:`~mocap_app.types.Observation`, joint set ``blazepose33``): the 33 body
landmarks in image pixels; confidence = visibility x presence probabilities; 3D = world landmarks
in metres, root-relative with the root at the hips' centre (MediaPipe's origin), in OpenCV camera
axes (x right, y down, z away from the camera), which is how MediaPipe orients them once the crop's
rotation is undone; the track id of the region tracker.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engines.blazepose import PoseDetector, PoseLandmarker, PoseLandmarks
from engines.engine import load_engine
from engines.postprocessing import iou
from engines.preprocessing import SquareRoi

from ..models_store import blazepose_paths
from ..skeletons import get_skeleton
from ..types import Frame, FrameObservations, Observation

logger = logging.getLogger(__name__)

JOINT_SET = "blazepose33"
#: Timing keys this backend fills in ``FrameObservations.timings_ms``, in pipeline order.
TIMING_KEYS = ("preprocess", "detector", "landmarks", "postprocess")


@dataclass(frozen=True)
class BlazePoseConfig:
    """Knobs of the backend.

    Attributes:
        max_people: most people tracked at once.
        detect_interval: frames between detector runs while people are tracked (finds newcomers).
        same_person_iou: a detection whose region overlaps a tracked region by more than this is
            the same person; two tracks whose landmark boxes overlap this much are merged.
        device: engine device (``"cpu"``; ``"cuda"`` with onnxruntime-gpu).
        threads: ONNX Runtime intra-op threads, ``None`` for its default.
    """

    max_people: int = 4
    detect_interval: int = 10
    same_person_iou: float = 0.5
    device: str = "cpu"
    threads: int | None = None

    def __post_init__(self) -> None:
        if self.max_people < 1:
            raise ValueError(f"max_people must be at least 1, got {self.max_people}.")
        if self.detect_interval < 1:
            raise ValueError(f"detect_interval must be at least 1, got {self.detect_interval}.")


@dataclass
class _Track:
    """One tracked person's region (mutable: advanced every frame)."""

    track_id: int
    roi: SquareRoi
    age: int = 0


@dataclass
class _Clock:
    """Accumulates wall time per stage for one frame, milliseconds."""

    timings: dict[str, float] = field(default_factory=lambda: dict.fromkeys(TIMING_KEYS, 0.0))
    _start: float = 0.0

    def start(self) -> None:
        self._start = time.perf_counter()

    def stop(self, key: str) -> None:
        now = time.perf_counter()
        self.timings[key] += 1000.0 * (now - self._start)
        self._start = now


class BlazePoseBackend:
    """Stage I backend on the BlazePose detector and landmark network.

    Args:
        detector: the detector wrapper; landmarker: the landmark wrapper.
        config: tracking knobs.

    Example:
        >>> backend = BlazePoseBackend.from_store()  # doctest: +SKIP
        >>> observations = backend(frame)  # doctest: +SKIP
    """

    name = "blazepose"

    def __init__(self, detector: PoseDetector, landmarker: PoseLandmarker,
                 config: BlazePoseConfig | None = None) -> None:
        self.detector = detector
        self.landmarker = landmarker
        self.config = config or BlazePoseConfig()
        self.schema = get_skeleton(landmarker.keypoint_schema)
        if self.schema.name != JOINT_SET or self.schema.num_joints != landmarker.num_body:
            raise ValueError(f"Landmark model gives {landmarker.num_body} {landmarker.keypoint_schema} joints; "
                             f"this backend writes {JOINT_SET}.")
        self.detector_runs = 0
        self.reset()

    @classmethod
    def from_store(cls, config: BlazePoseConfig | None = None, root: Path | None = None,
                   **options: object) -> BlazePoseBackend:
        """Load both networks from the model store (raises ``WeightsMissingError`` naming the fetch).

        ``options`` are :class:`BlazePoseConfig` fields, used when ``config`` is ``None``.
        """
        config = config or BlazePoseConfig(**options)  # type: ignore[arg-type]
        paths = blazepose_paths(root)
        detector = PoseDetector(load_engine(paths["pose_detection"], device=config.device, threads=config.threads))
        landmarker = PoseLandmarker(load_engine(paths["pose_landmark_full"], device=config.device,
                                                threads=config.threads))
        return cls(detector, landmarker, config)

    @property
    def provider(self) -> str:
        return self.landmarker.engine.provider

    def reset(self) -> None:
        """Forget every track (call between unrelated videos)."""
        self._tracks: list[_Track] = []
        self._next_id = 0
        self._since_detection = self.config.detect_interval
        self._lost = False

    def _detection_due(self) -> bool:
        if not self._tracks or self._lost:
            return True
        return len(self._tracks) < self.config.max_people and self._since_detection >= self.config.detect_interval

    def _detect(self, image: np.ndarray, clock: _Clock) -> None:
        clock.start()
        inputs, matrix = self.detector.preprocess(image)
        clock.stop("preprocess")
        outputs = self.detector.engine.run(inputs)
        clock.stop("detector")
        detections = self.detector.postprocess(outputs, matrix)
        self.detector_runs += 1
        self._since_detection = 0
        self._lost = False
        for index in range(len(detections)):
            if len(self._tracks) >= self.config.max_people:
                break
            roi = self.detector.roi(detections, index)
            if not np.isfinite(roi.size) or roi.size < 8.0:
                continue
            tracked = [track.roi.bbox() for track in self._tracks]
            if tracked and iou(roi.bbox(), np.asarray(tracked)).max() > self.config.same_person_iou:
                continue
            self._tracks.append(_Track(self._next_id, roi))
            self._next_id += 1
        clock.stop("postprocess")

    def _observation(self, track: _Track, result: PoseLandmarks, width: int, height: int) -> Observation:
        body = slice(0, self.landmarker.num_body)
        joints2d = result.xy[body]
        confidence = (result.visibility[body] * result.presence[body]).astype(np.float32)
        inside = result.presence[body] >= 0.5
        corners = joints2d[inside] if inside.any() else joints2d
        bbox = np.concatenate([corners.min(axis=0), corners.max(axis=0)])
        bbox = np.clip(bbox, 0.0, [width - 1, height - 1, width - 1, height - 1]).astype(np.float32)
        return Observation(joint_set=JOINT_SET, joints2d=joints2d.astype(np.float32), confidence=confidence,
                           bbox=bbox, joints3d=result.world[body].astype(np.float32), track_id=track.track_id)

    def __call__(self, frame: Frame) -> FrameObservations:
        """Everyone in ``frame``: one observation per tracked person (ids stable while tracked)."""
        image = frame.image
        height, width = image.shape[:2]
        clock = _Clock()
        if self._detection_due():
            self._detect(image, clock)
        else:
            self._since_detection += 1

        survivors: list[tuple[_Track, PoseLandmarks]] = []
        for track in self._tracks:
            clock.start()
            inputs, meta = self.landmarker.preprocess(image, track.roi)
            clock.stop("preprocess")
            outputs = self.landmarker.engine.run(inputs)
            clock.stop("landmarks")
            result = self.landmarker.postprocess(outputs, meta)
            next_roi = self.landmarker.next_roi(result) if result.score >= self.landmarker.presence_threshold else None
            clock.stop("postprocess")
            if next_roi is None:
                self._lost = True
                continue
            track.roi, track.age = next_roi, track.age + 1
            survivors.append((track, result))

        clock.start()
        people = self._merge_duplicates([(track, self._observation(track, result, width, height))
                                         for track, result in survivors])
        self._tracks = [track for track, _ in people]
        clock.stop("postprocess")
        return FrameObservations(frame=frame.index, time=frame.timestamp, width=width, height=height,
                                 people=tuple(observation for _, observation in people), timings_ms=clock.timings)

    def _merge_duplicates(self, people: list[tuple[_Track, Observation]]) -> list[tuple[_Track, Observation]]:
        """Drop the younger of two tracks that now cover the same person."""
        kept: list[tuple[_Track, Observation]] = []
        for track, observation in sorted(people, key=lambda item: item[0].track_id):
            boxes = [other.bbox for _, other in kept]
            if boxes and iou(observation.bbox, np.asarray(boxes)).max() > self.config.same_person_iou:
                logger.debug("track %d merged into an older track", track.track_id)
                continue
            kept.append((track, observation))
        return kept
