"""`IdentityTracker`: persistent performer ids from per-frame detections (XNect Ch. 8.3.1).

Each detection is compared with each known performer by three dissimilarities, summed with
weights into one cost, and the costs are assigned with the Hungarian algorithm:

* appearance: Hellinger distance between hue-saturation histograms of the torso box (30 x 30
  bins, value ignored so lighting matters less), in [0, 1];
* 2D pose: mean joint distance to the performer's constant-velocity prediction, divided by the
  performer's size in pixels (and loosened the longer a performer has been lost);
* 3D pose: mean root-relative joint distance, divided by ``pose3d_scale_m``.

A pair costing more than ``max_cost`` is not matched, unless the detection lies within
``near_gate`` person sizes of the performer's predicted 2D pose (a walker whose appearance drifts
with the lighting, or whose 3D pose changes quickly, is still the same person where they were
expected); an unmatched detection becomes a new performer (if enough of it is seen) and the
performer is marked lost. Lost performers are kept for
``keep_lost_s`` seconds so they get their id back after an occlusion. Known appearances are
refreshed every ``appearance_refresh_s`` seconds (30 s in XNect) and blended in slowly
(``appearance_update`` per frame) for lighting changes.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from ..skeletons import RIG, map_joints
from ..types import FrameObservations, Observation

logger = logging.getLogger(__name__)

#: Hue and saturation bins of the appearance histogram (XNect: 30 each).
HS_BINS = (30, 30)
_TORSO = ("LeftArm", "RightArm", "LeftUpLeg", "RightUpLeg")
#: Cost given to pairs that must never be matched.
_INFEASIBLE = 1e6


@dataclass(frozen=True)
class TrackerConfig:
    """Identity tracker settings.

    Attributes:
        weight_appearance / weight_2d / weight_3d: weights of the three dissimilarities.
        max_cost: dissimilarity above which a detection is not the same person.
        pose3d_scale_m: 3D distance (metres) that counts as a dissimilarity of 1.
        min_joints_new: fewest confidently seen joints for a detection to start a new performer.
        min_confidence: joint confidence that counts as seen.
        keep_lost_s: how long a lost performer can come back with the same id, seconds.
        lost_2d_growth: how much the 2D gate widens per second a performer has been lost.
        appearance_refresh_s: how often a performer's appearance is re-taken, seconds.
        appearance_update: fraction of each matched frame's appearance blended into the
            performer's (a slow drift that follows lighting without following a swap).
        near_gate: mean 2D distance to the predicted pose, in person sizes, within which a
            detection may match a performer whatever its other dissimilarities.
        duplicate_gate: mean 2D distance between two detections of one frame, in person sizes,
            below which they are the same person seen twice (a detector's overlapping boxes); the
            one with the lower mean confidence is dropped ...
        duplicate_3d_m: ... provided their root-relative 3D poses (when both have one) are closer
            than this mean joint distance, metres: two people overlapping in the image (one behind
            the other) are not merged.
    """

    weight_appearance: float = 1.0
    weight_2d: float = 1.0
    weight_3d: float = 0.5
    max_cost: float = 1.0
    pose3d_scale_m: float = 0.3
    min_joints_new: int = 5
    min_confidence: float = 0.2
    keep_lost_s: float = 5.0
    lost_2d_growth: float = 1.0
    appearance_refresh_s: float = 30.0
    appearance_update: float = 0.05
    near_gate: float = 0.3
    duplicate_gate: float = 0.15
    duplicate_3d_m: float = 0.15


@dataclass
class _Track:
    performer_id: int
    first_seen: float
    last_seen: float
    joints2d: np.ndarray          # (J, 2) rig joints, pixels
    velocity2d: np.ndarray        # (J, 2) pixels per second
    joints3d: np.ndarray | None   # (J, 3) root-relative, metres
    appearance: np.ndarray | None
    appearance_time: float
    size_px: float
    lost: bool = False
    hits: int = 1


@dataclass(frozen=True)
class TrackedPerson:
    """A detection with its persistent id; ``observation.track_id`` is set too.

    ``index`` is the detection's position in ``FrameObservations.people``.
    """

    performer_id: int
    observation: Observation
    is_new: bool = False
    index: int = -1


def appearance_histogram(image: np.ndarray, box: np.ndarray) -> np.ndarray | None:
    """Normalised (30 * 30,) hue-saturation histogram of ``box`` (x0, y0, x1, y1) in a BGR image."""
    height, width = image.shape[:2]
    x0, y0, x1, y1 = (int(round(v)) for v in np.nan_to_num(box))
    x0, x1 = max(0, min(x0, x1)), min(width, max(x0, x1))
    y0, y1 = max(0, min(y0, y1)), min(height, max(y0, y1))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    hsv = cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, list(HS_BINS), [0, 180, 0, 256]).ravel().astype(np.float64)
    total = hist.sum()
    return hist / total if total > 0 else None


def _hellinger(p: np.ndarray, q: np.ndarray) -> float:
    return float(np.sqrt(max(0.0, 1.0 - np.sum(np.sqrt(p * q)))))


class IdentityTracker:
    """Assigns persistent ids to the people of each frame.

    Example:
        >>> tracker = IdentityTracker()
        >>> people = tracker.update(frame_observations, image)   # doctest: +SKIP
        >>> [p.performer_id for p in people]                      # doctest: +SKIP
    """

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self.tracks: dict[int, _Track] = {}
        self._next_id = 1

    def _rig_views(self, person: Observation) -> tuple[np.ndarray, np.ndarray | None]:
        conf = np.asarray(person.confidence, dtype=np.float64)
        joints2d = np.where((conf >= self.config.min_confidence)[:, None], person.joints2d, np.nan)
        rig2d = map_joints(joints2d, person.joint_set, RIG.name)
        rig3d = None
        if person.joints3d is not None:
            rig3d = map_joints(person.joints3d, person.joint_set, RIG.name)
            rig3d = rig3d - rig3d[RIG.index("Hips")]
        return rig2d, rig3d

    def _appearance(self, person: Observation, rig2d: np.ndarray, image: np.ndarray | None) -> np.ndarray | None:
        if person.appearance is not None:
            return np.asarray(person.appearance, dtype=np.float64)
        if image is None:
            return None
        torso = rig2d[RIG.indices(list(_TORSO))]
        torso = torso[np.isfinite(torso).all(axis=1)]
        if len(torso) < 3:
            return None
        return appearance_histogram(image, np.concatenate([torso.min(axis=0), torso.max(axis=0)]))

    def _cost(self, track: _Track, rig2d: np.ndarray, rig3d: np.ndarray | None, look: np.ndarray | None,
              t: float) -> tuple[float, bool]:
        """(dissimilarity, whether the detection is within the near gate of the prediction)."""
        c = self.config
        gap = max(t - track.last_seen, 0.0)
        predicted = track.joints2d + track.velocity2d * min(gap, 0.5)
        d = np.linalg.norm(rig2d - predicted, axis=1)
        d = d[np.isfinite(d)]
        if len(d) < 2:
            return _INFEASIBLE, False
        distance = float(np.mean(d)) / (max(track.size_px, _size(rig2d)) * (1.0 + c.lost_2d_growth * gap))
        cost = c.weight_2d * distance
        if rig3d is not None and track.joints3d is not None:
            d3 = np.linalg.norm(rig3d - track.joints3d, axis=1)
            d3 = d3[np.isfinite(d3)]
            if len(d3):
                cost += c.weight_3d * float(np.mean(d3)) / c.pose3d_scale_m
        if look is not None and track.appearance is not None:
            cost += c.weight_appearance * _hellinger(look, track.appearance)
        return cost, distance <= c.near_gate

    def update(self, frame: FrameObservations, image: np.ndarray | None = None) -> list[TrackedPerson]:
        """Match this frame's people to performers; returns one entry per accepted person."""
        c, t = self.config, float(frame.time)
        self._forget(t)
        views = [self._rig_views(person) for person in frame.people]
        duplicate = self._duplicates(frame.people, views)
        looks = [self._appearance(person, rig2d, image) for person, (rig2d, _) in zip(frame.people, views, strict=True)]
        ids = list(self.tracks)
        costs = np.full((len(frame.people), len(ids)), _INFEASIBLE)
        near = np.zeros(costs.shape, dtype=bool)
        for i, ((rig2d, rig3d), look) in enumerate(zip(views, looks, strict=True)):
            if duplicate[i]:
                continue
            for k, pid in enumerate(ids):
                costs[i, k], near[i, k] = self._cost(self.tracks[pid], rig2d, rig3d, look, t)
        assigned: dict[int, int] = {}
        if costs.size:
            rows, cols = linear_sum_assignment(costs)
            assigned = {int(r): ids[k] for r, k in zip(rows, cols, strict=True)
                        if costs[r, k] <= c.max_cost or near[r, k]}
        matched = set(assigned.values())
        for pid in ids:
            if pid not in matched:
                self.tracks[pid].lost = True
        result = []
        for i, person in enumerate(frame.people):
            rig2d, rig3d = views[i]
            pid = assigned.get(i)
            if duplicate[i]:
                continue
            is_new = pid is None
            if is_new:
                seen = int((np.nan_to_num(person.confidence) >= c.min_confidence).sum())
                if seen < c.min_joints_new or np.isfinite(rig2d).all(axis=1).sum() < 2:
                    continue
                pid = self._start(rig2d, rig3d, looks[i], t)
            else:
                self._refresh(self.tracks[pid], rig2d, rig3d, looks[i], t)
            result.append(TrackedPerson(pid, dataclasses.replace(person, track_id=pid), is_new, i))
        return result

    def _duplicates(self, people: tuple[Observation, ...], views: list) -> list[bool]:
        """Which detections repeat a more confident detection of the same person in this frame."""
        result = [False] * len(people)
        score = [float(np.nanmean(np.asarray(p.confidence, dtype=np.float64))) if len(p.confidence) else 0.0
                 for p in people]
        for i in range(len(people)):
            for k in range(len(people)):
                if i == k or result[k] or (score[k], -k) < (score[i], -i):
                    continue
                d = np.linalg.norm(views[i][0] - views[k][0], axis=1)
                d = d[np.isfinite(d)]
                size = max(_size(views[i][0]), _size(views[k][0]))
                if len(d) < 2 or float(np.mean(d)) / size >= self.config.duplicate_gate:
                    continue
                if views[i][1] is not None and views[k][1] is not None:  # two people may overlap in 2D,
                    d3 = np.linalg.norm(views[i][1] - views[k][1], axis=1)  # rarely in 3D pose as well
                    d3 = d3[np.isfinite(d3)]
                    if len(d3) and float(np.mean(d3)) >= self.config.duplicate_3d_m:
                        continue
                result[i] = True
                break
        return result

    def _start(self, rig2d: np.ndarray, rig3d: np.ndarray | None, look: np.ndarray | None, t: float) -> int:
        pid = self._next_id
        self._next_id += 1
        self.tracks[pid] = _Track(pid, t, t, rig2d, np.zeros_like(rig2d), rig3d, look, t, _size(rig2d))
        logger.info("performer %d appeared at %.2f s", pid, t)
        return pid

    def _refresh(self, track: _Track, rig2d: np.ndarray, rig3d: np.ndarray | None, look: np.ndarray | None,
                 t: float) -> None:
        dt = t - track.last_seen
        if 0 < dt < 0.5 and not track.lost:
            velocity = (rig2d - track.joints2d) / dt
            track.velocity2d = np.where(np.isfinite(velocity), 0.5 * velocity + 0.5 * track.velocity2d, 0.0)
        else:
            track.velocity2d = np.zeros_like(rig2d)
        track.joints2d = np.where(np.isfinite(rig2d), rig2d, track.joints2d + track.velocity2d * min(dt, 0.5))
        if rig3d is not None:
            track.joints3d = rig3d if track.joints3d is None else np.where(np.isfinite(rig3d), rig3d, track.joints3d)
        refresh_due = t - track.appearance_time >= self.config.appearance_refresh_s
        if look is not None and (track.appearance is None or refresh_due):
            track.appearance, track.appearance_time = look, t
        elif look is not None:
            rate = self.config.appearance_update
            track.appearance = (1.0 - rate) * track.appearance + rate * look
        track.size_px = 0.8 * track.size_px + 0.2 * _size(rig2d)
        track.last_seen, track.lost = t, False
        track.hits += 1

    def _forget(self, t: float) -> None:
        for pid in [pid for pid, tr in self.tracks.items() if tr.lost and t - tr.last_seen > self.config.keep_lost_s]:
            logger.info("performer %d lost for good", pid)
            del self.tracks[pid]


def _size(rig2d: np.ndarray) -> float:
    """Size of a person in pixels: the larger side of their joints' bounding box (at least 20)."""
    valid = rig2d[np.isfinite(rig2d).all(axis=1)]
    if len(valid) < 2:
        return 100.0
    return float(max(np.ptp(valid[:, 0]), np.ptp(valid[:, 1]), 20.0))
