"""The 1-Euro filter (Casiez et al., CHI 2012) over arrays, with real timestamps.

A low-pass filter whose cutoff rises with speed: slow motion is smoothed hard (no jitter), fast
motion passes with little lag. ``cutoff = min_cutoff + beta * |derivative|`` in Hz, each sample's
smoothing factor computed from the actual time since the previous sample, so a webcam that drops
to 20 fps is filtered the same way as one at 30 fps.

VNect's parameters (Mehta et al. 2017, Ch. 8.2.1) are the defaults of the three filters of the
pipeline: 2D joints (min cutoff 1.7 Hz, beta 0.3), 3D joints (0.8, 0.4) and the final pose
(20, 0.4). The derivative cutoff is not given there; Casiez et al.'s 1 Hz is used.

Units matter: ``beta`` multiplies the speed in the signal's own units per second (pixels for 2D,
metres for 3D), so the 2D filter is given speeds normalised by the person's size (see ``scale``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Gaps longer than this (seconds) restart the filter instead of smoothing across them.
RESET_AFTER_S = 0.5


@dataclass(frozen=True)
class OneEuroParams:
    """Parameters of one 1-Euro filter.

    Attributes:
        min_cutoff: cutoff frequency at rest, Hz (lower = smoother, more lag at rest).
        beta: how fast the cutoff rises with speed, per (unit/second).
        d_cutoff: cutoff of the speed estimate, Hz.
    """

    min_cutoff: float
    beta: float
    d_cutoff: float = 1.0

    def __post_init__(self) -> None:
        if not (self.min_cutoff > 0 and self.d_cutoff > 0 and self.beta >= 0):
            raise ValueError(f"1-Euro needs min_cutoff > 0, d_cutoff > 0, beta >= 0; got {self}.")

    @classmethod
    def parse(cls, text: str) -> OneEuroParams:
        """From ``"MIN_CUTOFF,BETA"`` (as typed on the command line)."""
        try:
            parts = [float(v) for v in text.split(",")]
            return cls(*parts)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"expected MIN_CUTOFF,BETA such as 1.7,0.3; got {text!r} ({exc})") from None


#: VNect's filter settings, the pipeline's defaults.
FILTER_2D = OneEuroParams(1.7, 0.3)
FILTER_3D = OneEuroParams(0.8, 0.4)
FILTER_FINAL = OneEuroParams(20.0, 0.4)


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
    tau = 1.0 / (2.0 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """Filters arrays of a fixed shape sample by sample; NaN entries are passed through and skipped.

    An entry that is NaN keeps its previous state (and outputs NaN), so a joint that disappears
    for a few frames resumes smoothly; after ``RESET_AFTER_S`` without samples it starts afresh.

    Example:
        >>> f = OneEuroFilter(FILTER_3D)
        >>> smooth = f(np.zeros((17, 3)), t=0.0)
    """

    def __init__(self, params: OneEuroParams, reset_after_s: float = RESET_AFTER_S) -> None:
        self.params = params
        self.reset_after_s = reset_after_s
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t: np.ndarray | None = None

    def reset(self) -> None:
        self._x = self._dx = self._t = None

    def __call__(self, value: np.ndarray, t: float, scale: float = 1.0) -> np.ndarray:
        """Filter one sample taken at time ``t`` (seconds).

        Args:
            value: the sample (any fixed shape); NaN = missing.
            t: its timestamp, seconds; must not go backwards (a step back resets the filter).
            scale: divides the speed before ``beta`` applies (e.g. the person's height in pixels,
                so the 2D filter behaves the same near and far from the camera).
        """
        x = np.asarray(value, dtype=np.float64)
        if self._x is None or self._x.shape != x.shape:
            self._x = np.full(x.shape, np.nan)
            self._dx = np.zeros(x.shape)
            self._t = np.full(x.shape, -np.inf)
        dt = t - self._t
        valid = np.isfinite(x)
        fresh = valid & (~np.isfinite(self._x) | (dt > self.reset_after_s) | (dt <= 0))
        step = valid & ~fresh
        if step.any():
            dts = dt[step]
            prev = self._x[step]
            dx = (x[step] - prev) / dts
            a_d = _alpha(self.params.d_cutoff, dts)
            dx_hat = a_d * dx + (1.0 - a_d) * self._dx[step]
            cutoff = self.params.min_cutoff + self.params.beta * np.abs(dx_hat) / max(scale, 1e-9)
            a = _alpha(cutoff, dts)
            self._x[step] = a * x[step] + (1.0 - a) * prev
            self._dx[step] = dx_hat
        self._x[fresh] = x[fresh]
        self._dx[fresh] = 0.0
        self._t[valid] = t
        return np.where(valid, self._x, np.nan)
