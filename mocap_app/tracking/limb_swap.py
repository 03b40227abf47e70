"""Left/right limb-swap correction: undo a detector's side mix-ups from each performer's recent motion.

In profile views BlazePose (and most monocular detectors) now and then labels the right leg's
knee, ankle, heel and toe as the left leg's and vice versa, for a few frames at a time; the 2D
error of those joints is then the stride length, and Stage III fits a leg crossing over.

A wrongly exchanged frame is far worse than a missed mix-up (it *creates* the crossing the fit
then follows), so the filter only acts on strong, consistent evidence. Per limb group
(:data:`~mocap_app.skeletons.LIMB_GROUPS`) and performer it tracks each joint of the group
relative to the midpoint of the limb roots (hips; label-free), with constant velocity over the
corrected output and outliers gated out, and per frame asks each left/right joint pair whether the
detector's labels or the exchanged ones fit that prediction better. A pair votes only if both
joints are confident, both tracks are reliable and the two joints are well apart in the image
(where the legs overlap, labels change nothing in 2D and the vote would be noise). It votes
"exchanged" when exchanging beats the detector's labels by at least
:attr:`LimbSwapConfig.evidence_ratio` (``r``) times the pair's separation: a true mix-up gains
about twice the separation, while the two joints' prediction errors can fake ``r`` only once
together they exceed ``1 + r / 2`` separations (triangle inequality).

The outer joints (ankle, heel, toe) are exchanged only when at least
:attr:`LimbSwapConfig.min_pairs` pairs vote and every voting outer pair votes "exchanged"; the
knee joins when it votes so itself (detectors often mix up the feet alone). A single outlier joint
(which by the triangle inequality can never favour the exchange on its own pair) or a single bad
track therefore cannot flip the legs. Where a pair's joints are close (the legs passing each
other), its tracks follow the labelling that continues their motion, so a detector that changes
the labels while the legs cross is caught on the next frames by the legs' velocities. Anything
less keeps the detector's labels; an exchange also ends after :attr:`LimbSwapConfig.max_swap_s`,
so the detector stays the anchor.

Only the current frame is decided (no look-ahead, no added latency). 2D pixels, confidences
and the 3D joints of a group are exchanged together, so the rest of the pipeline sees one
consistent person.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import numpy as np

from ..skeletons import limb_swap_pairs
from ..skeletons.limbs import limb_roots
from ..types import Observation

logger = logging.getLogger(__name__)

#: Smallest person size (pixels) that distances are measured against.
MIN_SIZE_PX = 20.0


@dataclass(frozen=True)
class LimbSwapConfig:
    """Settings of the limb-swap filter (distances are fractions of the person's 2D size).

    Attributes:
        enabled: switch the correction on. Off by default: on side-view renders of the training
            motions it undid about a quarter of the detector's leg mix-ups but also made a few of
            its own, which cost Stage III more than the fixed frames gained (``--limb-swap``).
        groups: limb groups checked (names in :data:`~mocap_app.skeletons.LIMB_GROUPS`). Legs
            only by default: on side-view renders the arms were rarely mixed up.
        min_separation: a left/right pair closer than this in the image has no vote.
        crossing_separation: a pair closer than this (the legs passing each other) is tracked by the
            labelling that continues its motion, whatever the labels said.
        evidence_ratio: a pair votes "exchanged" when exchanging its joints brings them closer to
            their predictions by at least this multiple of the pair's separation (a true mix-up
            gives about 2; the two prediction errors must together exceed 1.3 separations to fake 0.6).
        min_pairs: pairs that must vote (all "exchanged") before a group is exchanged.
        gate: a joint further than this from its prediction is taken as an outlier: its track
            coasts on its prediction and carries no vote until it is seen near it again.
        max_misses: frames a track coasts before it restarts from the detection.
        velocity_gain: weight of the newest frame-to-frame velocity in a track's velocity.
        min_confidence: joints below this confidence neither vote nor update their track.
        max_gap_s: a performer unseen for longer starts afresh (labels taken as detected).
        max_swap_s: longest run of exchanged frames; then the detector's labels are taken again
            and the tracks restart from them.
        warmup_frames: frames a filter watches before it may exchange anything.
    """

    enabled: bool = False
    groups: tuple[str, ...] = ("legs",)
    min_separation: float = 0.08
    crossing_separation: float = 0.12
    evidence_ratio: float = 0.6
    min_pairs: int = 2
    gate: float = 0.3
    max_misses: int = 2
    velocity_gain: float = 0.7
    min_confidence: float = 0.3
    max_gap_s: float = 0.5
    max_swap_s: float = 1.0
    warmup_frames: int = 5


class _GroupFilter:
    """Joint tracks and the exchange decision of one limb group of one performer."""

    def __init__(self, left: np.ndarray, right: np.ndarray, roots: tuple[int, int], config: LimbSwapConfig) -> None:
        self.left, self.right, self.roots, self.config = left, right, list(roots), config
        self.joints = np.concatenate([left, right])   # tracked joints: the left ones, then their mirrors
        self.reset()

    def reset(self) -> None:
        n = len(self.joints)
        self.position = np.full((n, 2), np.nan)       # (2K, 2) pixels from the roots' midpoint, corrected labels
        self.velocity = np.zeros((n, 2))              # pixels per second
        self.updates = np.zeros(n, dtype=int)         # detections taken since the track (re)started
        self.misses = np.zeros(n, dtype=int)          # frames coasted in a row
        self.frames = 0
        self.swap_frames = 0                          # exchanged frames in a row

    def step(self, joints2d: np.ndarray, conf: np.ndarray, dt: float, size: float) -> np.ndarray:
        """Feed one frame's (J, 2) pixels and (J,) confidences; returns the (K,) pairs to exchange.

        Positions are taken from the midpoint of the limb roots (hips), which does not depend on
        the labels, so the whole body's motion (a step, a turn, a jump) never looks like a swap.
        """
        config = self.config
        self.frames += 1
        origin = joints2d[self.roots].mean(axis=0)
        rooted = np.isfinite(origin).all() and bool(np.all(conf[self.roots] >= config.min_confidence))
        seen = joints2d[self.joints].astype(np.float64) - origin
        valid = np.isfinite(seen).all(axis=1) & (conf[self.joints] >= config.min_confidence) & rooted
        predicted = self.position + self.velocity * dt
        reliable = (self.updates >= 2) & (self.misses == 0)
        if self.swap_frames and self.swap_frames * dt >= config.max_swap_s:
            self.reset()   # the detector's labels stand again; tracks restart from them
            self.frames = 1
        exchange = np.zeros(len(self.left), dtype=bool)
        if self.frames > config.warmup_frames:
            exchange = self._exchanged_pairs(seen, valid & reliable, predicted, size)
        self.swap_frames = self.swap_frames + 1 if exchange.any() else 0
        # Where a pair's joints are close its labels mean little, so its tracks follow the labelling
        # that continues their motion: that keeps their velocities right through a crossing.
        k = len(self.left)
        left, right, p_left, p_right = seen[:k], seen[k:], predicted[:k], predicted[k:]
        overlap = np.linalg.norm(left - right, axis=1) < config.crossing_separation * size
        crossed = (np.linalg.norm(right - p_left, axis=1) + np.linalg.norm(left - p_right, axis=1)
                   < np.linalg.norm(left - p_left, axis=1) + np.linalg.norm(right - p_right, axis=1))
        follow = np.where(overlap & valid[:k] & valid[k:] & reliable[:k] & reliable[k:], crossed, exchange)
        order = np.arange(len(self.joints))
        order[:k][follow], order[k:][follow] = order[k:][follow], order[:k][follow]
        self._update(seen[order], valid[order], predicted, dt, size)
        return exchange

    def _exchanged_pairs(self, seen: np.ndarray, usable: np.ndarray, predicted: np.ndarray,
                         size: float) -> np.ndarray:
        """(K,) pairs that fit their predictions better exchanged, by the voting rule of the module.

        The outer pairs (below the first joint: ankle, heel, toe) decide; the first pair (knee)
        joins only when it votes "exchanged" itself, since detectors often mix up the feet alone.
        """
        config = self.config
        k = len(self.left)
        left, right, p_left, p_right = seen[:k], seen[k:], predicted[:k], predicted[k:]
        separation = np.linalg.norm(left - right, axis=1)
        votes = usable[:k] & usable[k:] & (separation >= config.min_separation * size)
        as_seen = np.linalg.norm(left - p_left, axis=1) + np.linalg.norm(right - p_right, axis=1)
        exchanged = np.linalg.norm(right - p_left, axis=1) + np.linalg.norm(left - p_right, axis=1)
        agree = votes & ((as_seen - exchanged) >= config.evidence_ratio * separation)
        outer_votes, outer_agree = votes[1:], agree[1:]
        if not outer_agree.any() or np.any(outer_votes & ~outer_agree) or agree.sum() < config.min_pairs:
            return np.zeros(k, dtype=bool)
        return np.concatenate([agree[:1], np.ones(k - 1, dtype=bool)])

    def _update(self, seen: np.ndarray, valid: np.ndarray, predicted: np.ndarray, dt: float, size: float) -> None:
        """Move the tracks on with the corrected frame: gated constant velocity, restarts after misses."""
        config = self.config
        started = self.updates > 0
        near = np.linalg.norm(np.nan_to_num(seen - predicted), axis=1) <= config.gate * size
        restart = valid & (~started | (self.misses >= config.max_misses))
        accept = valid & started & near & ~restart
        if dt > 0:
            step_velocity = (seen - self.position) / dt
            fresh = accept & (self.updates == 1)
            self.velocity[fresh] = step_velocity[fresh]
            blend = accept & ~fresh
            self.velocity[blend] += config.velocity_gain * (step_velocity[blend] - self.velocity[blend])
        coast = started & ~accept & ~restart
        self.position[coast] = predicted[coast]
        self.misses[coast] += 1
        self.position[accept | restart] = seen[accept | restart]
        self.velocity[restart] = 0.0
        self.updates[restart] = 1
        self.updates[accept] += 1
        self.misses[accept | restart] = 0


class LimbSwapFilter:
    """Limb-swap correction for one performer (all of its limb groups)."""

    def __init__(self, joint_set: str, config: LimbSwapConfig | None = None) -> None:
        self.joint_set = joint_set
        self.config = config or LimbSwapConfig()
        pairs, roots = limb_swap_pairs(joint_set), limb_roots(joint_set)
        self.groups = {name: _GroupFilter(*pairs[name], roots[name], self.config)
                       for name in self.config.groups if name in pairs}
        self.last_time: float | None = None
        #: Groups exchanged in the last frame (for logs and tests).
        self.swapped: tuple[str, ...] = ()

    def __call__(self, person: Observation, t: float) -> Observation:
        """The observation with any mixed-up limb group exchanged back (the input when none is)."""
        if not self.config.enabled or not self.groups or person.joint_set != self.joint_set:
            self.swapped = ()
            return person
        dt = 0.0 if self.last_time is None else t - self.last_time
        if self.last_time is not None and not 0.0 < dt <= self.config.max_gap_s:
            for group in self.groups.values():
                group.reset()
            dt = 0.0
        self.last_time = t
        joints2d = np.asarray(person.joints2d, dtype=np.float64)
        conf = np.nan_to_num(np.asarray(person.confidence, dtype=np.float64), nan=0.0)
        size = _person_size(joints2d, conf, self.config.min_confidence)
        order = np.arange(len(person.confidence))
        swapped = []
        for name, group in self.groups.items():
            pairs = group.step(joints2d, conf, dt, size)
            if pairs.any():
                swapped.append(name)
                order[group.left[pairs]], order[group.right[pairs]] = group.right[pairs], group.left[pairs]
        self.swapped = tuple(swapped)
        if not self.swapped:
            return person
        logger.debug("limb swap undone: %s", ", ".join(self.swapped))
        return dataclasses.replace(
            person, joints2d=person.joints2d[order], confidence=person.confidence[order],
            joints3d=None if person.joints3d is None else person.joints3d[order])


class LimbSwapCorrector:
    """:class:`LimbSwapFilter` per performer; state is dropped with the performer."""

    def __init__(self, config: LimbSwapConfig | None = None) -> None:
        self.config = config or LimbSwapConfig()
        self.filters: dict[int, LimbSwapFilter] = {}

    def correct(self, performer_id: int, person: Observation, t: float) -> Observation:
        """Correct one performer's observation at time ``t`` (seconds); untouched (and no filter
        kept) when the correction is switched off, its default."""
        if not self.config.enabled:
            return person
        current = self.filters.get(performer_id)
        if current is None or current.joint_set != person.joint_set:
            current = self.filters[performer_id] = LimbSwapFilter(person.joint_set, self.config)
        return current(person, t)

    def keep_only(self, performer_ids: set[int] | dict) -> None:
        """Forget every performer not in ``performer_ids``."""
        for pid in [pid for pid in self.filters if pid not in performer_ids]:
            del self.filters[pid]


def _person_size(joints2d: np.ndarray, conf: np.ndarray, min_confidence: float) -> float:
    """The person's 2D size (pixels): the larger side of the box around its confident joints."""
    usable = np.isfinite(joints2d).all(axis=1) & (conf >= min_confidence)
    if usable.sum() < 2:
        return MIN_SIZE_PX
    return max(float(np.ptp(joints2d[usable], axis=0).max()), MIN_SIZE_PX)
