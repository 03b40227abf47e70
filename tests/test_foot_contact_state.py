"""FootContacts: windowed planting, debounced lifting, and the depth creep of a planted body."""

from __future__ import annotations

import numpy as np
import pytest

from mocap_app.fitting.contact import ContactConfig, FootContacts

FPS = 30.0
STANDING = np.array([0.08, 0.02])  # an ankle and a toe joint over the floor, metres


def _still_feet(rng: np.random.Generator, sigma: float = 0.01) -> np.ndarray:
    """(2, 3) feet standing at fixed places, observed with ``sigma`` metres of noise."""
    feet = np.array([[0.0, 0.08, 0.0], [0.0, 0.02, 0.15]])
    return feet + rng.normal(0.0, sigma, feet.shape)


def _run(contacts: FootContacts, frames: int, start: int, rng: np.random.Generator, moved_2d=None) -> None:
    for f in range(start, start + frames):
        seen = _still_feet(rng)
        contacts.update(f / FPS, seen, seen, STANDING, np.ones(2, bool),
                        np.full(2, np.nan) if moved_2d is None else moved_2d(f), has_floor=True)


def test_still_feet_are_planted_after_the_window_and_held_on_noise():
    rng, contacts = np.random.default_rng(0), FootContacts(2, ContactConfig())
    _run(contacts, ContactConfig().window - 1, 0, rng)
    assert not contacts.planted.any()  # one noisy frame, or a few, cannot tell planted from slow
    _run(contacts, 30, ContactConfig().window - 1, rng)
    assert contacts.planted.all()


def test_one_outlier_detection_does_not_lift_a_planted_foot_but_a_step_does():
    rng, contacts = np.random.default_rng(1), FootContacts(2, ContactConfig())
    _run(contacts, 20, 0, rng)
    anchors = contacts.anchors.copy()
    _run(contacts, 1, 20, rng, moved_2d=lambda f: np.array([0.4, np.nan]))  # a detector jumps 40 cm once
    assert contacts.planted.all()
    np.testing.assert_array_equal(contacts.anchors, anchors)
    _run(contacts, 1, 21, rng)
    for f in (22, 23):  # the ankle really steps away (in 2D and in 3D)
        seen = _still_feet(rng) + [[0.0, 0.0, 0.3], [0.0, 0.0, 0.0]]
        contacts.update(f / FPS, seen, seen, STANDING, np.ones(2, bool), np.array([0.3, np.nan]), has_floor=True)
        assert contacts.planted[0] == (f == 22)  # two frames of evidence lift it
    assert contacts.planted[1]


def test_rising_foot_is_lifted():
    rng, contacts = np.random.default_rng(2), FootContacts(2, ContactConfig())
    _run(contacts, 20, 0, rng)
    for f in range(20, 26):
        seen = _still_feet(rng) + [0.0, 0.25, 0.0]
        contacts.update(f / FPS, seen, seen, STANDING, np.ones(2, bool), np.full(2, np.nan), has_floor=True)
    assert not contacts.planted.any()


def test_shift_moves_the_anchors_with_the_body():
    rng, contacts = np.random.default_rng(3), FootContacts(2, ContactConfig())
    _run(contacts, 20, 0, rng)
    anchors = contacts.anchors.copy()
    contacts.shift(np.array([0.0, 0.0, 0.001]))
    np.testing.assert_allclose(contacts.anchors - anchors, [[0.0, 0.0, 0.001]] * 2)
    _run(contacts, 5, 20, rng)
    assert contacts.planted.all()  # the shifted history is no motion


def test_creep_closes_a_large_depth_gap_within_a_second_but_barely_follows_jitter():
    """A planted body whose depth evidence disagrees by 40 cm gets there within about a second;
    evidence that only jitters by a few centimetres moves the planted feet at ``creep_mps``."""
    config = ContactConfig()
    contacts = FootContacts(2, config)
    dt, gap, moved = 1.0 / FPS, np.array([0.0, 0.0, 0.4]), []
    for _ in range(round(FPS)):  # one second of frames, the evidence fixed 40 cm away
        step = contacts.creep(gap, dt)
        assert np.allclose(np.cross(step, gap), 0.0) and step @ gap >= 0.0  # along the gap, never away
        assert np.linalg.norm(step) <= np.linalg.norm(gap) + 1e-12  # never beyond the evidence
        gap, moved = gap - step, moved + [float(np.linalg.norm(step))]
    assert np.linalg.norm(gap) < 0.15 and max(moved) > 0.02
    jitter = contacts.creep(np.array([0.03, 0.0, -0.04]), dt)  # 5 cm: within ``creep_free_m``
    assert np.linalg.norm(jitter) == pytest.approx(config.creep_mps * dt)


def test_creep_at_a_fixed_speed_alone_leaves_the_gap_open():
    contacts = FootContacts(2, ContactConfig(creep_rate=0.0))
    step = contacts.creep(np.array([0.0, 0.0, 0.4]), 1.0 / FPS)
    assert np.linalg.norm(step) == pytest.approx(ContactConfig().creep_mps / FPS)


def test_negative_creep_is_rejected():
    with pytest.raises(ValueError):
        ContactConfig(creep_rate=-1.0)


def test_a_lifted_foot_is_not_pinned_again_at_once():
    """A pin that holds the body back also holds the observed foot (fitted root + 3D) near itself:
    when the 2D shows the foot gone, it is lifted and stays free for ``replant_frames`` updates,
    instead of passing the planting test at once and being pinned again at its old anchor."""
    for replant in (0, 4):
        rng, contacts = np.random.default_rng(4), FootContacts(2, ContactConfig(replant_frames=replant))
        _run(contacts, 20, 0, rng)
        gone = lambda f: np.array([0.2, np.nan])  # noqa: E731  (the ankle's 2D detection is 20 cm away)
        _run(contacts, 2, 20, rng, moved_2d=gone)
        if replant == 0:  # lifted and planted again in the same update, where the pin held it
            assert contacts.planted.all()
            continue
        assert not contacts.planted[0] and contacts.planted[1]
        for f in range(22, 22 + replant):
            _run(contacts, 1, f, rng)
            assert contacts.planted[0] == (f == 22 + replant - 1)  # free for replant_frames updates in all
