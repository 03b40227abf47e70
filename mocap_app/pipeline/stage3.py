"""Stage III as one pipeline object: observations in, one `MotionFrame` per performer out.

Per frame: identity tracking, then per performer: undo left/right leg mix-ups of the detector
(:mod:`~mocap_app.tracking.limb_swap`), map the backend's joints to the rig, undistort,
1-Euro filter the 2D and the 3D, fix height (ground plane, first frames) and bone lengths (first
frames of 3D), fit the skeleton, 1-Euro filter the final pose. Works with any Stage I backend
through :class:`~mocap_app.types.FrameObservations` (any joint set with a mapping to the rig).

Filter units (so VNect's parameters mean what they meant there): 2D speeds are in pixels of a
person ``REFERENCE_PERSON_PX`` tall, 3D speeds and the final root in millimetres, final joint
rotations in quaternion units times 1000.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial.transform import Rotation

from ..conventions import DEFAULT_PERFORMER_HEIGHT_M
from ..fitting.bones import estimate_offsets, segment_lengths, skeleton_scale_ratio
from ..fitting.camera import FitCamera
from ..fitting.fitter import FitConfig, PerformerFit, RigObservation, SkeletonFitter
from ..fitting.height import measure_height, measure_metric_scale, standing_height, uprightness
from ..skeletons import RIG, bone_length_bias, map_joints
from ..tracking.identity import IdentityTracker, TrackerConfig
from ..tracking.limb_swap import LimbSwapConfig, LimbSwapCorrector
from ..tracking.one_euro import FILTER_2D, FILTER_3D, FILTER_FINAL, OneEuroFilter, OneEuroParams
from ..types import FrameObservations, MotionFrame, Observation

logger = logging.getLogger(__name__)

#: Person size (pixels) at which 2D filter speeds are taken as-is (VNect's 368 px crops).
REFERENCE_PERSON_PX = 300.0
#: Percentile of the per-frame metric scales kept (low: a lifted foot only ever makes it larger). The
#: 25th left a dancer who spends half her first seconds on her toes or off the floor 4% too large; the
#: 10th is still above the per-frame noise of the filtered input (2% spread; 45 training windows).
METRIC_SCALE_PERCENTILE = 10.0
#: The body is re-sized on each of the first this many sizing frames, then every ``RESIZE_INTERVAL`` frames.
RESIZE_EVERY_FRAME = 8
RESIZE_INTERVAL = 16
#: Filter speed unit for 3D and final positions: millimetres (VNect's units).
_MM = 1e-3
_HIPS = RIG.index("Hips")

#: Optional Stage II lifter: completes a 2D-only observation with root-relative 3D.
Lifter = Callable[[Observation, FrameObservations], Observation]


@dataclass(frozen=True)
class Stage3Config:
    """Stage III settings.

    Attributes:
        fit: solver settings and energy weights.
        tracker: identity tracker settings.
        limb_swap: left/right limb-swap correction settings (``enabled=False`` switches it off).
        filter_2d / filter_3d / filter_final: 1-Euro parameters (VNect's by default); ``None``
            switches a filter off.
        default_height_m: height of a performer when it cannot be measured.
        height_m: a height to use for every performer instead of measuring (user override).
        height_frames: first frames over which the height is measured on a calibrated floor
            (from the head alone for 2D-only input; with 3D, the metric scale of the 3D is solved
            from every joint's projection with the lowest foot on the floor, and a low percentile
            over these frames is kept, since a foot may be off the floor but never under it).
        bone_frames: first frames of 3D over which bone lengths are measured, then fixed.
    """

    fit: FitConfig = field(default_factory=FitConfig)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    limb_swap: LimbSwapConfig = field(default_factory=LimbSwapConfig)
    filter_2d: OneEuroParams | None = FILTER_2D
    filter_3d: OneEuroParams | None = FILTER_3D
    filter_final: OneEuroParams | None = FILTER_FINAL
    default_height_m: float = DEFAULT_PERFORMER_HEIGHT_M
    height_m: float | None = None
    height_frames: int = 90
    bone_frames: int = 15


class _Performer:
    """Everything Stage III keeps about one identity."""

    def __init__(self, performer_id: int, config: Stage3Config) -> None:
        self.performer_id = performer_id
        self.config = config
        make = lambda p: None if p is None else OneEuroFilter(p)  # noqa: E731
        self.filter_2d, self.filter_3d = make(config.filter_2d), make(config.filter_3d)
        self.filter_root, self.filter_rot = make(config.filter_final), make(config.filter_final)
        self.heights: list[float] = []
        self.upright: list[float | None] = []  # (each height sample's pose, see ``standing_height``)
        self.metric_scales: list[float] = []
        self.height_m = config.height_m or config.default_height_m
        self.bone_samples: list[np.ndarray] = []
        self.bone_bias: Mapping[tuple[str, str], float] = {}  # (of the joint set the 3D samples come from)
        self.scale_3d = 1.0
        self.fit = PerformerFit(offsets=estimate_offsets(None, self.height_m))
        self.last_quats: np.ndarray | None = None
        self.sizing_frames = 0

    @property
    def sizing_done(self) -> bool:
        """Height and bone lengths are measured; the rest offsets are fixed from now on."""
        return self.sizing_frames >= max(self.config.bone_frames, self.config.height_frames)

    def update_size(self, rig2d: np.ndarray, conf2d: np.ndarray, rig3d: np.ndarray | None, camera: FitCamera,
                    joint_set_3d: str | None = None) -> None:
        """Height (calibrated floor, first frames) and bone lengths (first frames of 3D).

        ``joint_set_3d``: the joint set whose own 3D ``rig3d`` is (``None`` for lifted 3D), for
        that set's known bone-length bias.
        """
        config, changed = self.config, False
        if self.sizing_done:
            return
        self.sizing_frames += 1
        if config.height_m is None and camera.has_floor and rig3d is not None:
            scale = measure_metric_scale(rig2d, conf2d, rig3d, camera, config.default_height_m)
            if scale is not None:
                self.metric_scales.append(scale)
                changed = True
        elif config.height_m is None and camera.has_floor:
            height = measure_height(rig2d, conf2d, camera, config.default_height_m)
            if height is not None:
                self.heights.append(height)
                self.upright.append(uprightness(rig2d, conf2d))
                self.height_m, changed = standing_height(self.heights, self.upright), True
        if rig3d is not None and np.isfinite(rig3d).all(axis=1).sum() >= 6:
            self.bone_samples.append(rig3d)
            self.bone_bias = bone_length_bias(joint_set_3d)
            changed = True
        if changed and self._resize_due():
            self._resize()

    def _resize_due(self) -> bool:
        """Re-size on every one of the first ``RESIZE_EVERY_FRAME`` sizing frames (the estimate moves
        most there), then every ``RESIZE_INTERVAL``, and when sizing ends: re-estimating on every
        frame would add about half a fit's time to each."""
        n = self.sizing_frames
        return n <= RESIZE_EVERY_FRAME or n % RESIZE_INTERVAL == 0 or self.sizing_done

    def _resize(self) -> None:
        """New rest offsets from the samples so far. The fitter carries the motion over (see
        :meth:`~mocap_app.fitting.fitter.SkeletonFitter.fit`): the root, the depth filter and the
        planted feet are kept, so a re-size neither makes the body jump nor lifts its feet."""
        samples = np.stack(self.bone_samples) if self.bone_samples else None
        lengths = None if samples is None else segment_lengths(samples)  # (measured once for both)
        offsets = estimate_offsets(samples, self.height_m, lengths, self.bone_bias)
        if samples is not None:
            self.scale_3d = skeleton_scale_ratio(samples, offsets, lengths)
            if self.metric_scales:  # the 3D's own scale measured on the floor sets the height
                metric = float(np.percentile(self.metric_scales, METRIC_SCALE_PERCENTILE))
                self.height_m *= metric / self.scale_3d
                offsets = offsets * (metric / self.scale_3d)  # (rest offsets are proportional to the height)
                self.scale_3d = metric
        self.fit.offsets = offsets


class Stage3:
    """Tracking + fitting for every performer of a stream.

    Example:
        >>> stage3 = Stage3(FitCamera.uncalibrated(640, 480))
        >>> for frame in read_observations("obs.jsonl"):      # doctest: +SKIP
        ...     motion = stage3.process(frame)
    """

    def __init__(self, camera: FitCamera, config: Stage3Config | None = None, lifter: Lifter | None = None) -> None:
        self.camera = camera
        self.config = config or Stage3Config()
        self.lifter = lifter
        self.tracker = IdentityTracker(self.config.tracker)
        self.limb_swap = LimbSwapCorrector(self.config.limb_swap)
        self.fitter = SkeletonFitter(self.config.fit)
        self.performers: dict[int, _Performer] = {}
        #: Wall time of the last frame's stages, milliseconds.
        self.timings_ms: dict[str, float] = {}
        #: Fitting wall time per performer of the last frame, milliseconds.
        self.fit_ms: dict[int, float] = {}
        #: The last frame's observations with their ``track_id`` set (``None`` for people not
        #: tracked), so a 2D overlay can colour each person like their performer, and with
        #: mixed-up limbs exchanged back (what the fit used).
        self.tracked_observations: FrameObservations | None = None
        #: The last frame's observations exactly as the engine gave them (for evaluation).
        self.engine_observations: FrameObservations | None = None

    def rest_offsets(self, performer_id: int) -> np.ndarray | None:
        """(J, 3) rest offsets (metres) of a performer, for export; ``None`` if unknown."""
        performer = self.performers.get(performer_id)
        return None if performer is None else performer.fit.offsets.copy()

    def process(self, frame: FrameObservations, image: np.ndarray | None = None) -> list[MotionFrame]:
        """Track and fit one frame; returns the motion of every performer fitted in it."""
        start = time.perf_counter()
        self.engine_observations = frame
        tracked = self.tracker.update(frame, image)
        tracked = [dataclasses.replace(person, observation=self.limb_swap.correct(
            person.performer_id, person.observation, float(frame.time))) for person in tracked]
        tracking_done = time.perf_counter()
        # People without a performer (duplicates, tentative newcomers) show no id, not the backend's own.
        people = [person if person.track_id is None else dataclasses.replace(person, track_id=None)
                  for person in frame.people]
        for person in tracked:
            people[person.index] = person.observation
        self.tracked_observations = dataclasses.replace(frame, people=tuple(people))
        self.fit_ms = {}
        motion = []
        for person in tracked:
            performer = self.performers.get(person.performer_id)
            if performer is None:
                performer = self.performers[person.performer_id] = _Performer(person.performer_id, self.config)
            begin = time.perf_counter()
            result = self._fit_one(performer, person.observation, frame)
            self.fit_ms[person.performer_id] = 1e3 * (time.perf_counter() - begin)
            if result is not None:
                motion.append(result)
        for pid in [pid for pid in self.performers if pid not in self.tracker.tracks]:
            del self.performers[pid]
        self.limb_swap.keep_only(self.tracker.tracks)
        self.timings_ms = {"tracking": 1e3 * (tracking_done - start),
                           "fitting": 1e3 * (time.perf_counter() - tracking_done)}
        return motion

    def _rig_observation(self, performer: _Performer, person: Observation, frame: FrameObservations,
                         t: float) -> tuple[RigObservation, np.ndarray | None]:
        camera = self.camera
        conf = np.nan_to_num(np.asarray(person.confidence, dtype=np.float64), nan=0.0).clip(0.0, 1.0)
        rig_conf = np.nan_to_num(map_joints(conf[:, None], person.joint_set, RIG.name)[:, 0], nan=0.0)
        rig2d = camera.undistort(map_joints(person.joints2d, person.joint_set, RIG.name))
        rig_conf = np.where(np.isfinite(rig2d).all(axis=1), rig_conf, 0.0)
        if performer.filter_2d is not None:
            size = _person_size(rig2d)
            rig2d = performer.filter_2d(rig2d, t, scale=size / REFERENCE_PERSON_PX)
        rig3d = None
        if person.joints3d is None and self.lifter is not None:
            person = self.lifter(person, frame)
        if person.joints3d is not None:
            cam3d = map_joints(person.joints3d, person.joint_set, RIG.name)
            cam3d = cam3d - cam3d[_HIPS]
            if np.isfinite(cam3d[_HIPS]).all():
                rig3d = cam3d @ camera.R_wc.T
                if performer.filter_3d is not None:
                    rig3d = performer.filter_3d(rig3d, t, scale=_MM)
        return RigObservation(rig2d, rig_conf, None if rig3d is None else rig3d, rig_conf), rig3d

    def _fit_one(self, performer: _Performer, person: Observation, frame: FrameObservations) -> MotionFrame | None:
        t = float(frame.time)
        own_3d = person.joint_set if person.joints3d is not None else None  # (not the lifter's)
        obs, rig3d = self._rig_observation(performer, person, frame, t)
        performer.update_size(obs.joints2d, obs.confidence2d, rig3d, self.camera, own_3d)
        if obs.joints3d is not None:
            obs = dataclasses.replace(obs, joints3d=obs.joints3d * performer.scale_3d)
        result = self.fitter.fit(performer.fit, obs, self.camera, t)
        if result is None:
            return None
        root, quats = result.root_position, result.local_rotations
        if performer.last_quats is not None:  # keep each quaternion on the previous one's side
            quats = np.where((np.sum(quats * performer.last_quats, axis=1) < 0)[:, None], -quats, quats)
        fitted_quats, positions = quats, result.world_positions
        if performer.filter_root is not None:
            root = performer.filter_root(root, t, scale=_MM)
            quats = performer.filter_rot(quats, t, scale=_MM)
            quats = quats / np.linalg.norm(quats, axis=1, keepdims=True)
            if result.contacts.any():  # the filter would slide planted feet: the pinned fit goes out as is
                root, quats = result.root_position, fitted_quats
            else:
                positions = self.fitter.kin.positions_from_local(
                    root, Rotation.from_quat(quats).as_matrix(), performer.fit.offsets)
        performer.last_quats = quats
        return MotionFrame(performer_id=performer.performer_id, frame=frame.frame, time=t, root_position=root,
                           local_rotations=quats, world_positions=positions)


def _person_size(rig2d: np.ndarray) -> float:
    valid = rig2d[np.isfinite(rig2d).all(axis=1)]
    if len(valid) < 2:
        return REFERENCE_PERSON_PX
    return float(max(np.ptp(valid[:, 1]), np.ptp(valid[:, 0]), 20.0))
