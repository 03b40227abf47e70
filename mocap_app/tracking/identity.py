"""`IdentityTracker`: persistent performer ids from per-frame detections (XNect Ch. 8.3.1).

Each detection is compared with each known performer by three dissimilarities, summed with
weights into one cost, and the costs are assigned with the Hungarian algorithm:

* appearance: Hellinger distance between hue-saturation histograms of the torso box (30 x 30
  bins, value ignored so lighting matters less), in [0, 1] (:mod:`.appearance`);
* 2D pose: mean joint distance to the performer's constant-velocity prediction (the whole body's
  image velocity, extrapolated over a gap for at most ``predict_s``), divided by the performer's
  size in pixels and loosened the longer a performer has been lost;
* 3D pose: mean root-relative joint distance, divided by ``pose3d_scale_m``.

Both pose distances match every left/right pair of joints the better way round
(:mod:`.pose_distance`): a single-view detector swaps a walker's legs now and then, which would
otherwise look like a jump of a body width.

A pair is admissible when its cost is at most ``max_cost`` or the detection lies within
``near_gate`` person sizes of the performer's predicted 2D pose (a walker whose appearance drifts
with the lighting is still the same person where they were expected), but never when the looks
clearly differ (Hellinger above ``appearance_gate``): being close to where someone was expected
does not make a differently dressed person them. A detection left over is given back the id of a
lost performer it clearly looks like (``reid_appearance``, appearance first: after an occlusion
the pose and position may have changed a lot), else becomes a new performer (if enough of it is
seen). Lost performers are kept for ``keep_lost_s`` seconds.

A new performer is tentative until matched in ``confirm_frames`` consecutive frames: it has no
visible id, is not returned (so Stage III neither fits nor records it) and is dropped the first
frame it is missed. A detector that briefly reports one person twice (a bent-over body seen as two
overlapping people) therefore never becomes a second performer. In the assignment a tentative
performer's cost is raised by ``tentative_margin``, so when costs are close the established
performer keeps the detection and a short-lived duplicate cannot take over their identity. Only
while nobody is tracked at all (the start of a take, or after everyone was forgotten) is a new
performer confirmed at once: there is no one a duplicate could be taken for, and waiting would
only drop the first frames of the take.

A torso box that covers part of another person (two dancers overlapping, or a detection that
merged both) holds both people's colours: such a look is neither compared nor learnt. Clean looks
replace a performer's appearance every ``appearance_refresh_s`` seconds (30 s in XNect) and are
blended in slowly (``appearance_update`` per frame) for lighting changes. A performer's first few
looks (``appearance_trusted``) are averaged, and until then only a look of someone else altogether
(``young_appearance_gate``) vetoes a detection: a first look may show much of a partner the detector
has not found yet, and not even that where the performer stands (``young_stay``). A performer with
no appearance yet pays ``unknown_look_cost`` in the assignment where the others pay their look
distance.

A region sliding from one dancer onto the other (the one behind lost, the front one's region
drifting onto them) keeps its pose continuity, so the pose cues cannot tell; its torso box shows
the other dancer's clothes. A look, mixed or not, that matches a lost performer clearly better
than the performer it would go to (``look_match``, ``look_margin``) is never given to that
performer and is handed back to the lost one; a look as much a lost performer's as its own
performer's (``ambiguous_look``, ``ambiguous_margin``) goes to nobody that frame. Either way the
wrong id is never given, not even for the two or three frames the slide takes.

A dancer lost behind their partner for longer is found again beside them with a look still mixed
with the partner's, which re-identification cannot use, and would become a new performer. A
tentative performer confirmed within ``adopt_lost_gate`` person sizes of where a performer vanished
(one lost before it was first seen, whose trusted look is not clearly different from its latest
look) takes that performer's id instead.

While two performers overlap closely (``overlap_gate``), a detection as near to the other as to its
own performer (``overlap_margin``) goes to nobody that frame: the assignment's pick would be noise.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..skeletons import RIG, map_joints
from ..types import FrameObservations, Observation
from .appearance import HS_BINS, appearance_histogram, covered_fraction, hellinger, joints_box, mixed_boxes, torso_box
from .pose_distance import aligned_to, mean_distance, swap_invariant_distances
from .tracker_config import TrackerConfig

__all__ = ["HS_BINS", "IdentityTracker", "TrackedPerson", "TrackerConfig", "appearance_histogram"]

logger = logging.getLogger(__name__)

#: Cost given to pairs that must never be matched.
_INFEASIBLE = 1e6


@dataclass
class _Track:
    performer_id: int
    first_seen: float
    last_seen: float
    joints2d: np.ndarray          # (J, 2) rig joints, pixels, in the performer's own left/right order
    velocity2d: np.ndarray        # (2,) image velocity of the whole body, pixels per second
    joints3d: np.ndarray | None   # (J, 3) root-relative, metres
    appearance: np.ndarray | None
    appearance_time: float
    size_px: float
    lost: bool = False
    hits: int = 1
    tentative: bool = False       # not confirmed yet: internal (negative) key, not returned
    looks: int = 0                # clean looks the appearance is built from (since its last refresh)
    first_pose: np.ndarray | None = None  # (J, 2) rig joints when first seen, pixels
    last_look: np.ndarray | None = None   # the latest look, clean or not

    def trusted_look(self, config: TrackerConfig) -> bool:
        """Whether the appearance is built from enough clean looks for ``appearance_gate`` and re-identification."""
        return self.appearance is not None and self.looks >= config.appearance_trusted


@dataclass(frozen=True)
class TrackedPerson:
    """A detection with its persistent id; ``observation.track_id`` is set too.

    ``index`` is the detection's position in ``FrameObservations.people``; ``is_new`` is true on
    the frame a performer is confirmed (the first frame it is returned).
    """

    performer_id: int
    observation: Observation
    is_new: bool = False
    index: int = -1


@dataclass
class _Detection:
    """One detection as the tracker sees it (rig joint order)."""

    person: Observation
    rig2d: np.ndarray             # (J, 2) pixels, NaN where not confidently seen
    rig3d: np.ndarray | None      # (J, 3) root-relative metres
    torso: np.ndarray | None = None
    duplicate: bool = False
    look: np.ndarray | None = None  # appearance histogram of the torso box, None when unseen
    crowded: bool = True          # the torso box overlaps another detection's box
    near: frozenset[int] = frozenset()  # performers whose expected box covers the torso box
    look_distances: dict[int, float] = dataclasses.field(default_factory=dict)  # performer id -> Hellinger

    def clean_for(self, performer_id: int | None) -> bool:
        """Whether the look shows this person alone, given that it is ``performer_id``.

        With ``performer_id`` ``None`` (not known yet), one performer expected here may be the
        person themself.
        """
        if self.look is None or self.crowded:
            return False
        return len(self.near) <= 1 if performer_id is None else self.near <= {performer_id}


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
        self._next_tentative = -1

    def _detection(self, person: Observation) -> _Detection:
        conf = np.asarray(person.confidence, dtype=np.float64)
        joints2d = np.where((conf >= self.config.min_confidence)[:, None], person.joints2d, np.nan)
        rig2d = map_joints(joints2d, person.joint_set, RIG.name)
        rig3d = None
        if person.joints3d is not None:
            rig3d = map_joints(person.joints3d, person.joint_set, RIG.name)
            rig3d = rig3d - rig3d[RIG.index("Hips")]
        return _Detection(person, rig2d, rig3d, torso=torso_box(rig2d))

    def _looks(self, detections: list[_Detection], image: np.ndarray | None, t: float) -> None:
        """Set each detection's look and what may be mixed into it.

        A look is crowded when its torso box overlaps another detection's box, and ``near`` the
        performers whose expected box overlaps it (one of them may be the person themself; two
        mean a performer the detector did not see may be in the box too).
        """
        limit = self.config.mixed_overlap
        bodies = [None if d.duplicate else joints_box(d.rig2d) for d in detections]
        crowded = mixed_boxes([d.torso for d in detections], bodies, limit)
        expected = {pid: joints_box(self._predicted(track, t)) for pid, track in self.tracks.items()}
        for detection, is_crowded in zip(detections, crowded, strict=True):
            if detection.duplicate or detection.torso is None:
                continue
            detection.crowded = is_crowded
            detection.near = frozenset(pid for pid, box in expected.items()
                                       if box is not None and covered_fraction(detection.torso, box) > limit)
            if detection.person.appearance is not None:
                detection.look = np.asarray(detection.person.appearance, dtype=np.float64)
            elif image is not None:
                detection.look = appearance_histogram(image, detection.torso)
            if detection.look is not None:
                detection.look_distances = {pid: hellinger(detection.look, track.appearance)
                                            for pid, track in self.tracks.items() if track.appearance is not None}

    def _looks_like_other(self, detection: _Detection, pid: int) -> bool:
        """Whether the look matches a lost performer with a trusted look clearly better than performer ``pid``.

        Only a lost performer counts: while both dancers are seen the assignment weighs the looks of
        both, and a torso box showing a partner in front of it would otherwise veto its own dancer."""
        c = self.config
        own = detection.look_distances.get(pid)
        if own is None or detection.crowded:  # another detection in the torso box: their clothes may be in it
            return False
        return any(other != pid and self.tracks[other].lost and self.tracks[other].trusted_look(c)
                   and distance <= c.look_match
                   and distance + c.look_margin <= own for other, distance in detection.look_distances.items())

    def _predicted(self, track: _Track, t: float) -> np.ndarray:
        """(J, 2) where the performer's joints are expected at time ``t`` (constant image velocity)."""
        gap = min(max(t - track.last_seen, 0.0), self.config.predict_s)
        return track.joints2d + track.velocity2d * gap

    def _cost(self, track: _Track, detection: _Detection, t: float) -> float:
        """Dissimilarity of a performer and a detection; ``_INFEASIBLE`` when they cannot be one person."""
        c = self.config
        gap = max(t - track.last_seen, 0.0)
        distances, _ = swap_invariant_distances(detection.rig2d, self._predicted(track, t))
        mean2d = mean_distance(distances)
        if mean2d is None:
            return _INFEASIBLE
        distance = mean2d / (max(track.size_px, _size(detection.rig2d)) * (1.0 + c.lost_2d_growth * gap))
        cost = c.weight_2d * distance
        if detection.rig3d is not None and track.joints3d is not None:
            mean3d = mean_distance(swap_invariant_distances(detection.rig3d, track.joints3d)[0], min_joints=1)
            if mean3d is not None:
                cost += c.weight_3d * mean3d / c.pose3d_scale_m
        if detection.look is not None and track.appearance is not None:
            if not track.trusted_look(c) and not track.lost and distance <= c.young_stay:
                return cost + c.unknown_look_cost
            look_distance = detection.look_distances[track.performer_id]
            gate = c.appearance_gate if track.trusted_look(c) else c.young_appearance_gate
            if (look_distance > gate and detection.clean_for(None)) or self._looks_like_other(detection,
                                                                                              track.performer_id):
                return _INFEASIBLE
            cost += c.weight_appearance * look_distance
        return cost if cost <= c.max_cost or distance <= c.near_gate else _INFEASIBLE

    def update(self, frame: FrameObservations, image: np.ndarray | None = None) -> list[TrackedPerson]:
        """Match this frame's people to performers; returns one entry per confirmed performer seen.

        People left out (duplicates, too little seen, tentative performers) have no id yet.
        """
        t = float(frame.time)
        self._forget(t)
        trusted = not self.tracks  # nobody to be duplicated: new performers are confirmed at once
        detections = [self._detection(person) for person in frame.people]
        for detection, duplicate in zip(detections, self._duplicates(detections), strict=True):
            detection.duplicate = duplicate
        self._looks(detections, image, t)
        # Appearance first for performers coming back; then everyone by all cues; then what is left by looks.
        assigned = self._reidentify(detections, {}, margin=self.config.reid_margin)
        ids = [pid for pid in self.tracks if pid not in assigned.values()]
        costs = np.full((len(detections), len(ids)), _INFEASIBLE)
        for i, detection in enumerate(detections):
            if not detection.duplicate and i not in assigned:
                costs[i] = [self._cost(self.tracks[pid], detection, t) for pid in ids]
        if costs.size:  # established performers win close calls against tentative ones and unknown looks
            handicap = np.array([self.config.tentative_margin if self.tracks[pid].tentative else 0.0 for pid in ids])
            unknown = np.array([self.tracks[pid].appearance is None for pid in ids])
            seen = np.array([d.look is not None for d in detections])
            handicap = handicap + self.config.unknown_look_cost * (seen[:, None] & unknown[None, :])
            rows, cols = linear_sum_assignment(np.where(costs < _INFEASIBLE, costs + handicap, costs))
            assigned.update({int(r): ids[k] for r, k in zip(rows, cols, strict=True) if costs[r, k] < _INFEASIBLE})
        assigned.update(self._reidentify(detections, assigned))
        held = self._ambiguous(detections, assigned) | self._pose_ambiguous(assigned, ids, costs, t)
        assigned = {i: pid for i, pid in assigned.items() if i not in held}
        matched = set(assigned.values())
        for pid in [pid for pid in self.tracks if pid not in matched]:
            if self.tracks[pid].tentative:  # confirmation needs consecutive frames
                logger.debug("tentative performer %d dropped at %.2f s", pid, t)
                del self.tracks[pid]
            else:
                self.tracks[pid].lost = True
        result = []
        for i, detection in enumerate(detections):
            if detection.duplicate or i in held:
                continue
            pid = assigned.get(i)
            if pid is None:
                if not self._may_start(detection):
                    continue
                pid = self._start(detection, t, tentative=not trusted)
                is_new = not self.tracks[pid].tentative
            else:
                self._refresh(self.tracks[pid], detection, t)
                is_new = False
            if self.tracks[pid].tentative and self.tracks[pid].hits >= self.config.confirm_frames:
                pid, is_new = self._confirm(pid, t)
            if self.tracks[pid].tentative:
                continue
            person = detection.person
            result.append(TrackedPerson(pid, dataclasses.replace(person, track_id=pid), is_new, i))
        return result

    def _reidentify(self, detections: list[_Detection], assigned: dict[int, int],
                    margin: float | None = None) -> dict[int, int]:
        """Detection index -> performer id for detections left over that clearly look like a performer left over.

        With ``margin``, only performers already lost are candidates, and a candidate must look
        better than every performer still tracked by that margin (one whose tracked detection has
        just become someone else, as a detector's region slides from one dancer to the other).
        """
        taken = set(assigned.values())
        candidates = [pid for pid, track in self.tracks.items() if track.trusted_look(self.config) and pid not in taken
                      and (margin is None or track.lost)]
        # Coming back (margin given), a look with a lost performer expected near it may still be used:
        # a look mixing two people is within ``reid_appearance`` of neither, one mostly of the
        # performer coming back is (a dancer the other's region slid onto while they were hidden).
        free = [i for i, d in enumerate(detections) if i not in assigned and not d.duplicate
                and (d.clean_for(None) or (margin is not None and d.look is not None and not d.crowded))]
        if not candidates or not free:
            return {}
        tracked = [tr.appearance for tr in self.tracks.values() if not tr.lost and tr.appearance is not None]
        costs = np.full((len(free), len(candidates)), _INFEASIBLE)
        for r, i in enumerate(free):
            look = detections[i].look
            rival = min((hellinger(look, appearance) for appearance in tracked), default=1.0) if margin else 1.0
            for k, pid in enumerate(candidates):
                distance = hellinger(look, self.tracks[pid].appearance)
                clear = distance <= self.config.look_match and distance + self.config.look_margin <= rival
                if (distance <= self.config.reid_appearance and (margin is None or distance + margin <= rival)) or (
                        margin is not None and clear):
                    costs[r, k] = distance
        rows, cols = linear_sum_assignment(costs)
        found = {free[r]: candidates[k] for r, k in zip(rows, cols, strict=True) if costs[r, k] < _INFEASIBLE}
        for i, pid in found.items():
            logger.info("performer %d re-identified by appearance (%.2f)", pid,
                        costs[free.index(i), candidates.index(pid)])
        return found

    def _ambiguous(self, detections: list[_Detection], assigned: dict[int, int]) -> set[int]:
        """Detections given to a performer whose look is as much another performer's, who is lost or unmatched."""
        c = self.config
        taken = set(assigned.values())
        held = set()
        for i, pid in assigned.items():
            distances = detections[i].look_distances
            own = distances.get(pid)
            if own is None or own <= c.ambiguous_look or self.tracks[pid].tentative:
                continue
            if any(other not in taken and self.tracks[other].trusted_look(c) and not self.tracks[other].tentative
                   and distance <= own + c.ambiguous_margin for other, distance in distances.items()):
                logger.debug("detection %d: look %.2f from performer %d and as close to another: given to nobody",
                             i, own, pid)
                held.add(i)
        return held

    def _pose_ambiguous(self, assigned: dict[int, int], ids: list[int], costs: np.ndarray, t: float) -> set[int]:
        """Detections no dearer (``overlap_margin``) to another performer within ``overlap_gate`` sizes of their own."""
        c, column, tracks = self.config, {pid: k for k, pid in enumerate(ids)}, self.tracks
        held: set[int] = set()
        if c.overlap_gate <= 0:
            return held
        for i, pid in assigned.items():
            own = costs[i, column[pid]] if pid in column and not tracks[pid].tentative else _INFEASIBLE
            if own < _INFEASIBLE and any(
                    other != pid and not tracks[other].tentative and costs[i, k] <= own + c.overlap_margin
                    and self._apart(tracks[other], tracks[pid], t) <= c.overlap_gate for k, other in enumerate(ids)):
                held.add(i)
        return held

    def _apart(self, a: _Track, b: _Track, t: float) -> float:
        """Mean distance of two performers' predicted poses at ``t``, in person sizes (inf: too little seen)."""
        return _gap_in_sizes(self._predicted(a, t), self._predicted(b, t), max(a.size_px, b.size_px))

    def _may_start(self, detection: _Detection) -> bool:
        """Whether an unmatched detection is seen well enough to become a new performer."""
        seen = int((np.nan_to_num(detection.person.confidence) >= self.config.min_confidence).sum())
        return seen >= self.config.min_joints_new and np.isfinite(detection.rig2d).all(axis=1).sum() >= 2

    def _duplicates(self, detections: list[_Detection]) -> list[bool]:
        """Which detections repeat a more confident detection of the same person in this frame."""
        people = [d.person for d in detections]
        result = [False] * len(people)
        score = [float(np.nanmean(np.asarray(p.confidence, dtype=np.float64))) if len(p.confidence) else 0.0
                 for p in people]
        for i in range(len(people)):
            for k in range(len(people)):
                if i == k or result[k] or (score[k], -k) < (score[i], -i):
                    continue
                a, b = detections[i], detections[k]
                d = np.linalg.norm(a.rig2d - b.rig2d, axis=1)
                d = d[np.isfinite(d)]
                size = max(_size(a.rig2d), _size(b.rig2d))
                if len(d) < 2 or float(np.mean(d)) / size >= self.config.duplicate_gate:
                    continue
                if a.rig3d is not None and b.rig3d is not None:  # two people may overlap in 2D,
                    d3 = np.linalg.norm(a.rig3d - b.rig3d, axis=1)  # rarely in 3D pose as well
                    d3 = d3[np.isfinite(d3)]
                    if len(d3) and float(np.mean(d3)) >= self.config.duplicate_3d_m:
                        continue
                result[i] = True
                break
        return result

    def _start(self, detection: _Detection, t: float, tentative: bool) -> int:
        """Start a performer; a tentative one gets an internal negative key until confirmed."""
        tentative = tentative and self.config.confirm_frames > 1
        if tentative:
            pid, self._next_tentative = self._next_tentative, self._next_tentative - 1
        else:
            pid, self._next_id = self._next_id, self._next_id + 1
        rig2d = detection.rig2d
        look = detection.look if detection.clean_for(pid) else None
        self.tracks[pid] = _Track(pid, t, t, rig2d, np.zeros(2), detection.rig3d, look, t, _size(rig2d),
                                  tentative=tentative, looks=int(look is not None), first_pose=rig2d,
                                  last_look=detection.look)
        if not tentative:
            logger.info("performer %d appeared at %.2f s", pid, t)
        return pid

    def _confirm(self, key: int, t: float) -> tuple[int, bool]:
        """Give a tentative performer its visible id (ids stay dense: no gaps for dropped duplicates).

        The id is a lost performer's when one vanished near where the tentative one was first seen
        (``adopt_lost_gate``): the same person coming back. Returns the id and whether it is new.
        """
        track = self.tracks.pop(key)
        lost = self._lost_near(track)
        if lost is not None:
            old = self.tracks[lost]
            track.performer_id, track.tentative = lost, False
            track.first_seen, track.hits = old.first_seen, old.hits + track.hits
            if track.appearance is None or (old.trusted_look(self.config) and not track.trusted_look(self.config)):
                track.appearance, track.appearance_time, track.looks = old.appearance, old.appearance_time, old.looks
            self.tracks[lost] = track
            logger.info("performer %d back at %.2f s (seen since %.2f s where they vanished)", lost, t,
                        track.first_seen)
            return lost, False
        pid, self._next_id = self._next_id, self._next_id + 1
        track.performer_id, track.tentative = pid, False
        self.tracks[pid] = track
        logger.info("performer %d appeared at %.2f s (seen since %.2f s)", pid, t, track.first_seen)
        return pid, True

    def _lost_near(self, track: _Track) -> int | None:
        """The lost performer who vanished before ``track`` was first seen, nearest its first pose, and does not
        clearly look different (``None``: nobody)."""
        gate = self.config.adopt_lost_gate
        best, best_gap = None, gate
        if gate <= 0:
            return best
        for pid, other in self.tracks.items():
            if other.tentative or not other.lost or other.last_seen > track.first_seen:
                continue
            if (track.last_look is not None and other.trusted_look(self.config)
                    and hellinger(track.last_look, other.appearance) > self.config.appearance_gate):
                continue  # someone else in other clothes where they vanished
            relative = _gap_in_sizes(track.first_pose, other.joints2d, max(other.size_px, track.size_px))
            if relative <= best_gap:
                best, best_gap = pid, relative
        return best

    def _refresh(self, track: _Track, detection: _Detection, t: float) -> None:
        predicted = self._predicted(track, t)
        rig2d = aligned_to(detection.rig2d, swap_invariant_distances(detection.rig2d, predicted)[1])
        dt = t - track.last_seen
        if 0 < dt <= self.config.predict_s and not track.lost:
            steps = (rig2d - track.joints2d) / dt
            steps = steps[np.isfinite(steps).all(axis=1)]
            if len(steps):
                track.velocity2d = 0.5 * np.median(steps, axis=0) + 0.5 * track.velocity2d
        elif dt > self.config.predict_s:
            track.velocity2d = np.zeros(2)
        track.joints2d = np.where(np.isfinite(rig2d), rig2d, predicted)
        if detection.rig3d is not None:
            rig3d = detection.rig3d
            track.joints3d = rig3d if track.joints3d is None else np.where(np.isfinite(rig3d), rig3d, track.joints3d)
        look = detection.look if detection.clean_for(track.performer_id) else None
        refresh_due = t - track.appearance_time >= self.config.appearance_refresh_s
        if look is not None and track.appearance is not None and not track.trusted_look(self.config):
            # a young appearance this far from the performer's clean look was mostly someone else's: start again
            refresh_due = refresh_due or hellinger(look, track.appearance) > self.config.young_appearance_gate
        if look is not None and (track.appearance is None or refresh_due):
            track.appearance, track.appearance_time, track.looks = look, t, 1
        elif look is not None:  # the first looks are averaged, later ones blended in slowly
            track.looks += 1
            rate = max(self.config.appearance_update, 1.0 / track.looks)
            track.appearance = (1.0 - rate) * track.appearance + rate * look
        track.size_px = 0.8 * track.size_px + 0.2 * _size(rig2d)
        track.last_look = detection.look if detection.look is not None else track.last_look
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


def _gap_in_sizes(a: np.ndarray, b: np.ndarray, size_px: float) -> float:
    """Mean distance of two (J, 2) rig poses (left/right mix-ups forgiven) over ``size_px`` (inf: too little seen)."""
    gap = mean_distance(swap_invariant_distances(a, b)[0])
    return float("inf") if gap is None else gap / size_px
