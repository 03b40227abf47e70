"""The 1-Euro filter with real (variable) timestamps."""

from __future__ import annotations

import numpy as np
import pytest

from mocap_app.tracking.one_euro import FILTER_2D, OneEuroFilter, OneEuroParams


def test_smooths_jitter_at_rest_and_follows_fast_motion():
    rng = np.random.default_rng(0)
    times = np.cumsum(rng.uniform(1 / 40, 1 / 15, 200))  # variable frame rate
    noisy = rng.normal(0.0, 1.0, 200)
    f = OneEuroFilter(OneEuroParams(1.0, 0.0))
    out = np.array([f(np.array([v]), t)[0] for v, t in zip(noisy, times, strict=True)])
    assert out[50:].std() < 0.6 * noisy[50:].std()
    fast = OneEuroFilter(OneEuroParams(1.0, 1.0))
    ramp = 100.0 * times
    tracked = np.array([fast(np.array([v]), t)[0] for v, t in zip(ramp, times, strict=True)])
    assert abs(tracked[-1] - ramp[-1]) < 0.05 * 100.0  # lags less than 50 ms at speed


def test_same_signal_same_output_whatever_the_sampling():
    """A constant-velocity ramp filtered at 30 fps and at irregular times agrees at shared instants."""
    f1, f2 = OneEuroFilter(FILTER_2D), OneEuroFilter(FILTER_2D)
    regular = np.arange(0, 2, 1 / 30)
    irregular = np.sort(np.concatenate([regular[::2], regular[1::6]]))
    out1 = {round(t, 6): f1(np.array([3 * t]), t)[0] for t in regular}
    out2 = {round(t, 6): f2(np.array([3 * t]), t)[0] for t in irregular}
    assert abs(out1[round(regular[-2], 6)] - out2[round(regular[-2], 6)]) < 0.05


def test_nan_is_skipped_and_long_gaps_reset():
    f = OneEuroFilter(OneEuroParams(0.5, 0.0), reset_after_s=0.5)
    f(np.array([0.0, 0.0]), 0.0)
    out = f(np.array([np.nan, 1.0]), 0.033)
    assert np.isnan(out[0]) and 0 < out[1] < 1
    assert f(np.array([10.0, 10.0]), 2.0)[0] == 10.0  # after a long gap: starts afresh


def test_rejects_bad_parameters():
    with pytest.raises(ValueError):
        OneEuroParams(0.0, 0.3)
    assert OneEuroParams.parse("1.7,0.3") == FILTER_2D
