"""The ``blazepose`` Stage I backend: multi-person, top-down BlazePose GHUM with ROI tracking.

Per frame: the detector runs only when it is due (nobody tracked, someone lost since the last
detection, or every ``detect_interval`` frames to pick up newcomers while fewer than
``max_people`` are tracked), on the whole frame and, while someone is tracked, once more on a
closer square around the tracked people (where the whole frame shows a pair too small to tell
apart); each detection that is not a tracked person (hips and head apart from theirs, see
:mod:`.blazepose_people`) opens a track with the region derived from the detector's hip and
alignment keypoints. Every track then runs the landmark network on its rotated crop; a pose-flag
below the threshold ends the track, otherwise the two alignment landmarks, smoothed over time as
MediaPipe smooths them (1-Euro, :data:`ROI_FILTER`), give the region for the next frame. Two tracks
whose landmarks converge on one person are merged: the one that jumped there is dropped and the
detector looks for the person it left next frame.

Output per person (:class:`~mocap_app.types.Observation`, joint set ``blazepose33``): the 33 body
landmarks in image pixels; confidence = visibility x presence probabilities; 3D = world landmarks
in metres, root-relative with the root at the hips' centre (MediaPipe's origin), in OpenCV camera
axes (x right, y down, z away from the camera), which is how MediaPipe orients them once the crop's
rotation is undone; the track id of the region tracker.

Close people (a dancing pair): each track keeps the landmark network's segmentation of its person
(:mod:`.blazepose_masks`); the detector's passes and every track's crop see the *other* tracked
people hidden (filled with their surroundings), so a person behind or beside a tracked one is found
where they are and a region cannot slide onto a neighbour. After a track is lost the detector runs
every ``search_interval`` frames for ``search_s`` seconds to find the person again. A new track
must show a person on its first frame (:meth:`BlazePoseBackend._found_someone`): a detection on the
hidden image may be a false one, and the landmark network then still returns a confident pose.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engines.blazepose import MIN_ROI_SIZE_PX, PoseDetections, PoseDetector, PoseLandmarker, PoseLandmarks
from engines.engine import load_engine
from engines.preprocessing import SquareRoi

from ..models_store import blazepose_paths
from ..skeletons import get_skeleton
from ..tracking.one_euro import OneEuroFilter, OneEuroParams
from ..types import Frame, FrameObservations, Observation
from . import blazepose_people as people_geometry
from .blazepose_masks import PersonMask, hidden_fraction, hide_people, person_mask, region_box
from .blazepose_refine import flip_averaged_landmarks

logger = logging.getLogger(__name__)

JOINT_SET = "blazepose33"
#: Timing keys this backend fills in ``FrameObservations.timings_ms``, in pipeline order.
TIMING_KEYS = ("preprocess", "detector", "landmarks", "postprocess")
#: MediaPipe's smoothing of the alignment landmarks that place the next frame's region
#: (pose_landmark_filtering: 1-Euro, min cutoff 0.01 Hz, beta 10, derivative cutoff 1 Hz, speeds
#: in region sizes per second): a still person's region stops jittering, a moving one follows.
ROI_FILTER = OneEuroParams(min_cutoff=0.01, beta=10.0, d_cutoff=1.0)
#: A new track whose landmarks lie more than this fraction inside other tracked people's (hidden)
#: masks is dropped: nothing of that person is visible there, the pose is made up (a real person
#: half behind a partner: 0.6 at most on the salsa renders).
NEWCOMER_HIDDEN = 0.8
#: A new track needs this many landmarks below the face seen (confidence at least NEWCOMER_CONFIDENCE)
#: inside the frame: a dancer mostly behind their partner shows 5 or more on the salsa renders, a
#: person framed from the waist up shoulders, arms and hands (12); a false detection at the frame's
#: edge shows a face-like pattern and nothing of a body (0).
NEWCOMER_SEEN = 3
NEWCOMER_CONFIDENCE = 0.5


@dataclass(frozen=True)
class BlazePoseConfig:
    """Knobs of the backend.

    Attributes:
        max_people: most people tracked at once.
        detect_interval: frames between detector runs while people are tracked (finds newcomers).
        zoom_detection: also run the detector on a square around the tracked people (finds the
            second of two close people that the whole-frame pass sees as one).
        tile_detection: while fewer than ``max_people`` are tracked, each detector run also looks at
            one tile of the frame at about twice the zoom, tiles in turn (finds people far from
            the camera; costs one more detector run per ``detect_interval`` frames).
        smooth_roi: smooth the landmarks that place the next region over time, as MediaPipe does.
        hide_tracked: hide the other tracked people in the detector's input and in each
            track's crop (needs the landmark model's segmentation output; off without it).
        search_interval / search_s: after a track is lost, run the detector every
            ``search_interval`` frames for ``search_s`` seconds (a dancer hidden behind their
            partner reappears within a second or two; waiting ``detect_interval`` frames loses them).
        mirror_average: also read each person's crop mirrored and average the two passes
            (:mod:`.blazepose_refine`): steadier landmarks and 3D at one more landmark-network run per
            person and frame (off by default: it costs real-time speed).
        device: where the networks run: ``"auto"``, ``"tensorrt"``, ``"cuda"`` or ``"cpu"`` (engines.providers).
        threads: ONNX Runtime intra-op threads, ``None`` for its default.
    """

    max_people: int = 4
    detect_interval: int = 10
    zoom_detection: bool = True
    tile_detection: bool = True
    smooth_roi: bool = True
    hide_tracked: bool = True
    search_interval: int = 2
    search_s: float = 3.0
    mirror_average: bool = False
    device: str = "cpu"
    threads: int | None = None

    def __post_init__(self) -> None:
        if self.max_people < 1:
            raise ValueError(f"max_people must be at least 1, got {self.max_people}.")
        if self.detect_interval < 1 or self.search_interval < 1:
            raise ValueError(f"detect_interval and search_interval must be at least 1, got {self.detect_interval} "
                             f"and {self.search_interval}.")


@dataclass
class _Track:
    """One tracked person's region (mutable: advanced every frame)."""

    track_id: int
    roi: SquareRoi
    age: int = 0
    anchors: np.ndarray | None = None        # (2, 2) hip and head centre, pixels
    landmarks: np.ndarray | None = None      # (33, 2) last body landmarks, pixels
    roi_filter: OneEuroFilter | None = None
    segmentation: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # last crop: logits, affine, landmarks
    _mask: PersonMask | None = None
    _mask_done: bool = False

    def see(self, logits: np.ndarray, matrix: np.ndarray, landmarks: np.ndarray) -> None:
        """Keep the crop's (S, S) segmentation logits, its (2, 3) affine and the (33, 2) landmarks read in it.

        The mask is made only when another person's crop or the detector asks for it.
        """
        self.segmentation = (logits, matrix, landmarks)
        self._mask, self._mask_done = None, False

    def mask(self, image_shape: tuple[int, ...]) -> PersonMask | None:
        """The person's mask from their last crop (``None``: no segmentation or an empty one)."""
        if not self._mask_done and self.segmentation is not None:
            logits, matrix, landmarks = self.segmentation
            self._mask = person_mask(logits, matrix, landmarks, people_geometry.body_radius(self.roi), image_shape)
        self._mask_done = True
        return self._mask


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
        self._segmentation_output = _segmentation_output(landmarker) if self.config.hide_tracked else None
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
        self._tile_cursor = 0
        self._search_until = -np.inf

    def _detection_due(self, t: float) -> bool:
        if not self._tracks or self._lost:
            return True
        interval = self.config.search_interval if t < self._search_until else self.config.detect_interval
        return len(self._tracks) < self.config.max_people and self._since_detection >= interval

    def _hidden(self, image: np.ndarray, others: list[_Track], region: np.ndarray | None = None) -> np.ndarray:
        """``image`` with ``others`` hidden where their masks reach ``region`` (``image`` if none do)."""
        if self._segmentation_output is None or not others:
            return image
        masks = [mask for mask in (track.mask(image.shape) for track in others) if mask is not None]
        return hide_people(image, masks, region)

    def _detect(self, image: np.ndarray, clock: _Clock) -> None:
        """Open a track for every detected person not tracked yet (closer pass first, then the frame)."""
        height, width = image.shape[:2]
        passes = [None]
        room = len(self._tracks) < self.config.max_people
        zoom = people_geometry.zoom_region([track.roi for track in self._tracks], width, height)
        if self.config.zoom_detection and zoom is not None and room:
            passes.insert(0, zoom)
        tiles = people_geometry.detection_tiles(width, height) if self.config.tile_detection and room else []
        if tiles:
            passes.append(tiles[self._tile_cursor % len(tiles)])
            self._tile_cursor += 1
        self.detector_runs += 1
        self._since_detection = 0
        self._lost = False
        first = not self._tracks
        clock.start()
        shown = self._hidden(image, self._tracks)  # tracked people are not looked for again
        hidden = set() if shown is image else {track.track_id for track in self._tracks
                                               if track.mask(image.shape) is not None}
        clock.stop("preprocess")
        for region in passes:
            clock.start()
            if region is None:
                inputs, matrix = self.detector.preprocess(shown)
            else:
                inputs, matrix = self.detector.preprocess_region(shown, region)
            clock.stop("preprocess")
            outputs = self.detector.engine.run(inputs)
            clock.stop("detector")
            self._open_tracks(self.detector.postprocess(outputs, matrix), hidden)
            clock.stop("postprocess")
        # The first people found are looked around once more next frame: only then can the closer
        # pass, with them hidden, find a partner the whole-frame pass saw as one with them.
        self._lost = first and bool(self._tracks)

    def _open_tracks(self, detections: PoseDetections, hidden: set[int] | frozenset[int] = frozenset()) -> None:
        """Open a track per detection that is not a tracked person (``hidden``: ids hidden from the detector)."""
        def radii(track: _Track) -> float:
            if track.track_id in hidden:
                return people_geometry.HIDDEN_SAME_PERSON_RADII
            return people_geometry.SAME_PERSON_RADII

        for index in range(len(detections)):
            if len(self._tracks) >= self.config.max_people:
                return
            roi = self.detector.roi(detections, index)
            if not np.isfinite(roi.size) or roi.size < MIN_ROI_SIZE_PX:
                continue
            anchors = people_geometry.detection_anchors(detections.keypoints[index, 0], detections.boxes[index])
            if any(people_geometry.covers(track.anchors, people_geometry.body_radius(track.roi), anchors, radii(track))
                   for track in self._tracks):
                continue
            self._tracks.append(_Track(self._next_id, roi, anchors=anchors))
            self._next_id += 1

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
        if self._detection_due(frame.timestamp):
            self._detect(image, clock)
        else:
            self._since_detection += 1
        count = len(self._tracks)
        established = sum(track.age > 0 for track in self._tracks)

        survivors: list[tuple[_Track, PoseLandmarks]] = []
        for track in self._tracks:  # oldest first: a new track's crop hides everyone already placed
            clock.start()
            others = [other for other in self._tracks if other is not track] if count > 1 else []
            inputs, meta = self.landmarker.preprocess(self._hidden(image, others, region_box(track.roi)), track.roi)
            clock.stop("preprocess")
            outputs = self.landmarker.engine.run(inputs)
            clock.stop("landmarks")
            if self.config.mirror_average:
                result = flip_averaged_landmarks(self.landmarker, inputs, outputs, meta)
            else:
                result = self.landmarker.postprocess(outputs, meta)
            next_roi = None
            if result.score >= self.landmarker.presence_threshold:
                next_roi = self.landmarker.next_roi(result, self._smoothed_points(track, result, frame.timestamp))
            clock.stop("postprocess")
            if next_roi is None:
                self._lost = self._lost or track.age > 0  # a detection that led nowhere is no loss
                continue
            if track.age == 0 and not self._found_someone(track, result, others, image.shape):
                continue
            if self._segmentation_output is not None:  # later crops of this frame hide this person as now seen
                logits = outputs[self._segmentation_output][0, :, :, 0]
                track.see(logits, meta.matrix, result.xy[:self.landmarker.num_body])
            survivors.append((track, result))
            track.roi = next_roi

        clock.start()
        people = self._merge_duplicates([(track, self._observation(track, result, width, height))
                                         for track, result in survivors])
        if sum(track.age > 0 for track, _ in people) < established:  # someone tracked was lost
            self._search_until = frame.timestamp + self.config.search_s
        for track, observation in people:
            track.age += 1
            track.landmarks = observation.joints2d
            track.anchors = people_geometry.landmark_anchors(observation.joints2d)
        self._tracks = [track for track, _ in people]
        clock.stop("postprocess")
        return FrameObservations(frame=frame.index, time=frame.timestamp, width=width, height=height,
                                 people=tuple(observation for _, observation in people), timings_ms=clock.timings)

    def _found_someone(self, track: _Track, result: PoseLandmarks, others: list[_Track],
                       image_shape: tuple[int, ...]) -> bool:
        """Whether a new track's first landmarks are a person, not a pose made up where nobody is seen.

        At least ``NEWCOMER_SEEN`` landmarks below the face must be confidently seen inside the frame
        (a false detection at the frame's edge gives a face and a body outside the frame), the landmarks must put the
        hips and face where the detection did, and not lie mostly where other tracked people were
        hidden (nothing of this person can be seen there).
        """
        body = slice(0, self.landmarker.num_body)
        landmarks = result.xy[body]
        height, width = image_shape[:2]
        in_frame = np.all((landmarks >= 0.0) & (landmarks < [width, height]), axis=1)
        seen = in_frame & (result.visibility[body] * result.presence[body] >= NEWCOMER_CONFIDENCE)
        if int(seen[people_geometry.BELOW_FACE].sum()) < NEWCOMER_SEEN:
            logger.debug("new track %d: too little of a person in the frame, dropped", track.track_id)
            return False
        radius = people_geometry.body_radius(track.roi)
        if track.anchors is not None and not people_geometry.confirms_detection(track.anchors, landmarks, radius):
            logger.debug("new track %d: landmarks away from its detection, dropped", track.track_id)
            return False
        masks = [mask for mask in (other.mask(image_shape) for other in others) if mask is not None]
        if masks and hidden_fraction(landmarks, masks) > NEWCOMER_HIDDEN:
            logger.debug("new track %d: landmarks on hidden people, dropped", track.track_id)
            return False
        return True

    def _smoothed_points(self, track: _Track, result: PoseLandmarks, t: float) -> np.ndarray | None:
        """The alignment points that place the next region, smoothed over time (``None``: raw)."""
        if not self.config.smooth_roi:
            return None
        if track.roi_filter is None:
            track.roi_filter = OneEuroFilter(ROI_FILTER)
        return track.roi_filter(self.landmarker.alignment_points(result), t, scale=float(result.roi.size))

    def _merge_duplicates(self, people: list[tuple[_Track, Observation]]) -> list[tuple[_Track, Observation]]:
        """Keep one track per person when two have converged on the same one.

        The track that moved less since its last frame stays (a new track, with no history, never
        beats an established one); when an established track is dropped, the person it was
        following is probably no longer tracked, so the detector runs on the next frame.
        """
        def jump(item: tuple[_Track, Observation]) -> tuple[float, int]:
            track, observation = item
            radius = people_geometry.body_radius(track.roi)
            return people_geometry.steadiness(track.landmarks, observation.joints2d, radius), track.track_id

        kept: list[tuple[_Track, Observation]] = []
        for track, observation in sorted(people, key=jump):
            radius = people_geometry.body_radius(track.roi)
            if any(people_geometry.same_landmarks(observation.joints2d, other.joints2d, radius) for _, other in kept):
                logger.debug("track %d covers a person already tracked: dropped", track.track_id)
                if track.landmarks is not None:
                    self._lost = True
                continue
            kept.append((track, observation))
        return sorted(kept, key=lambda item: item[0].track_id)


def _segmentation_output(landmarker: PoseLandmarker) -> str | None:
    """Name of the landmark model's (1, S, S, 1) person-mask output, ``None`` when it has none."""
    for output in landmarker.engine.sidecar.get("outputs", []):
        shape = list(output.get("shape", []))
        if len(shape) == 4 and shape[-1] == 1 and shape[1] == shape[2] == landmarker.size:
            return str(output["name"])
    return None
