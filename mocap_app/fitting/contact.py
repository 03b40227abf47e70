"""Foot contact: which foot joints are planted on the floor, and where, decided frame by frame.

A detector's foot jitters by centimetres from frame to frame (and now and then jumps by decimetres),
far more than a planted foot moves, so single frames cannot tell a planted foot from a slow one.
:class:`FootContacts` therefore looks at a short window of the *observed* foot (the fitted root plus
the root-relative 3D observation, never the pinned fit, which would hold its own pin):

* a free foot joint is planted when, over the last ``window`` frames, its mean height is within
  ``height_m`` of its standing height over the floor and its least-squares speed is below
  ``speed_mps``; its anchor is where the *fit* has it then, so planting moves nothing;
* a planted joint is lifted only after ``release_frames`` consecutive frames in which the observed
  foot (its recent mean, or its 2D detection at the performer's depth) is ``release_m`` from the
  anchor or ``lift_m`` above its standing height (one outlier detection does not lift a foot);
* a joint planted for fewer than ``min_frames`` is not lifted by distance alone (hysteresis);
* a lifted joint is not planted again for ``replant_frames``: the observed foot is the fitted root plus
  the 3D, so a pin that held the body back also held the observed foot near itself, and the joint
  would pass the planting test at once and be pinned again at its old anchor.

The fit then pins planted joints to their anchors (:mod:`.residuals`, ``foot`` term).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

#: Frames of lowest-foot heights kept to estimate the floor when it is not calibrated.
FLOOR_HISTORY = 90


@dataclass(frozen=True)
class ContactConfig:
    """When a foot joint counts as planted.

    Attributes:
        height_m: plant only within this height (metres) of the joint's standing height over the floor.
        speed_mps: ... and when the observed joint's horizontal speed over the window is below this.
        release_m: the observations must move a planted joint this far (horizontally in 3D, or in 2D
            at the performer's depth) from its anchor to lift it ...
        lift_m: ... or put it this far above its standing height.
        window: frames of observed foot positions the speed and the mean position are taken over.
        release_frames: consecutive frames of such evidence needed to lift a joint.
        min_frames: frames a new pin is held against distance evidence (height still lifts it).
        replant_frames: frames a lifted joint may not be planted again: its speed window still holds
            the frames the pin held the body back in, so it would pass the test at once and be pinned
            again where the fit has it, which is the old anchor (a pin that is never lifted).
        creep_mps: the depth filter may always move a body that stands on planted feet (and their
            anchors with it) this fast along the viewing ray, metres per second ...
        creep_rate: ... and faster where the evidence disagrees more: up to this share per second
            of the gap between the pinned body's depth and the filtered depth. A new pin is placed
            where the fit has the foot, so a body whose depth has drifted (e.g. walking towards the
            camera, each step lands a little short) keeps the drift over step after step; a gap
            closed at a fixed slow speed grows to decimetres and is then undone by a jump.
        creep_free_m: ... where the part of the gap beyond this counts (metres): the frame to frame
            jitter of the depth evidence is not followed faster than ``creep_mps``.
    """

    height_m: float = 0.08
    speed_mps: float = 0.6
    release_m: float = 0.06
    lift_m: float = 0.1
    window: int = 4
    release_frames: int = 2
    min_frames: int = 3
    replant_frames: int = 4
    creep_mps: float = 0.01
    creep_rate: float = 2.0
    creep_free_m: float = 0.1

    def __post_init__(self) -> None:
        if self.window < 2 or self.release_frames < 1 or self.min_frames < 0 or self.replant_frames < 0 or \
                min(self.creep_mps, self.creep_rate, self.creep_free_m) < 0:
            raise ValueError("ContactConfig needs window >= 2, release_frames >= 1 and min_frames, replant_frames, "
                             f"creep_mps, creep_rate, creep_free_m >= 0; got {self}.")


class FootContacts:
    """The contact state of one performer's foot joints (mutable; one per performer).

    Attributes:
        planted: (F,) bool, which joints are pinned.
        anchors: (F, 3) world positions they are pinned to, metres.

    Example:
        >>> contacts = FootContacts(4, ContactConfig())
        >>> contacts.update(time, seen, fitted, standing, observed, moved_2d, has_floor)  # doctest: +SKIP
    """

    def __init__(self, count: int, config: ContactConfig) -> None:
        self.config = config
        self.planted = np.zeros(count, dtype=bool)
        self.anchors = np.zeros((count, 3))
        self._held = np.zeros(count, dtype=np.int64)
        self._strikes = np.zeros(count, dtype=np.int64)
        self._resting = np.zeros(count, dtype=np.int64)
        self._times: deque[float] = deque(maxlen=config.window)
        self._seen: deque[np.ndarray] = deque(maxlen=config.window)
        self._floor: deque[float] = deque(maxlen=FLOOR_HISTORY)

    def release_all(self) -> None:
        """Lift every joint and forget the observed history (the body jumped: re-sized or re-initialised)."""
        self.planted[:] = False
        self._strikes[:] = 0
        self._resting[:] = 0
        self._times.clear()
        self._seen.clear()

    def creep(self, gap: np.ndarray, dt: float) -> np.ndarray:
        """(3,) the part of a wanted translation ``gap`` (3,) a body on planted feet may make in ``dt`` seconds.

        At most ``creep_mps`` plus ``creep_rate`` times the gap beyond ``creep_free_m`` per second,
        so a large disagreement with the depth evidence is closed within about ``1 / creep_rate``
        seconds while the frame to frame jitter of the evidence moves planted feet by millimetres.
        """
        length = float(np.linalg.norm(gap))
        config = self.config
        allowed = (config.creep_mps + config.creep_rate * max(0.0, length - config.creep_free_m)) * dt
        return gap * min(1.0, allowed / max(length, 1e-12))

    def shift(self, translation: np.ndarray) -> None:
        """Move every anchor and the observed history by ``translation`` (3,) (the body was moved)."""
        self.anchors += translation
        for seen in self._seen:
            seen += translation

    def update(self, time: float, seen: np.ndarray, fitted: np.ndarray, standing: np.ndarray, observed: np.ndarray,
               moved_2d: np.ndarray, has_floor: bool) -> None:
        """Plant or lift each joint after a solve.

        Args:
            time: seconds.
            seen: (F, 3) observed world positions of the foot joints, metres.
            fitted: (F, 3) fitted world positions (where a new pin is anchored).
            standing: (F,) heights of the joints over the floor in the rest pose, metres.
            observed: (F,) whether the detector shows the joint (others are never planted).
            moved_2d: (F,) distance of each anchor's projection from the joint's 2D detection, metres
                at the performer's depth (NaN where not seen).
            has_floor: the floor is calibrated at y = 0 (else its height is estimated from the feet).
        """
        config = self.config
        self._times.append(float(time))
        self._seen.append(np.array(seen, dtype=np.float64))
        window = np.stack(self._seen)  # (W, F, 3)
        mean = window.mean(axis=0)
        clearance = mean[:, 1] - standing
        self._floor.append(float(clearance.min()))
        height = clearance - (0.0 if has_floor else float(np.median(self._floor)))
        speed = self._speed(window)
        recent = window[-2:].mean(axis=0)
        self._held[self.planted] += 1
        self._resting = np.maximum(self._resting - 1, 0)
        for k in np.flatnonzero(self.planted):
            moved = float(np.linalg.norm((recent[k] - self.anchors[k])[[0, 2]]))
            if np.isfinite(moved_2d[k]):
                moved = max(moved, float(moved_2d[k]))
            far = moved > config.release_m and self._held[k] > config.min_frames
            self._strikes[k] = self._strikes[k] + 1 if far or height[k] > config.lift_m else 0
            if self._strikes[k] >= config.release_frames:
                self.planted[k], self._strikes[k] = False, 0
                self._resting[k] = config.replant_frames
        plant = ~self.planted & (self._resting == 0) & observed & (height < config.height_m) & \
            (speed < config.speed_mps)
        self.planted |= plant
        self.anchors[plant] = fitted[plant]
        self._held[plant] = 0

    def _speed(self, window: np.ndarray) -> np.ndarray:
        """(F,) horizontal speed of the least-squares line through the window, m/s (inf until it is full)."""
        if len(self._times) < self.config.window:
            return np.full(window.shape[1], np.inf)
        t = np.asarray(self._times) - np.mean(self._times)
        denominator = float(t @ t)
        if denominator <= 0.0:
            return np.full(window.shape[1], np.inf)
        slope = np.einsum("w,wfk->fk", t, window[:, :, [0, 2]]) / denominator
        return np.linalg.norm(slope, axis=1)
