"""Left/right limb-swap correction: injected leg mix-ups are undone, clean sequences pass untouched."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mocap_app.evaluation.fitting_eval import EVAL_FPS
from mocap_app.evaluation.synthetic_observations import NoiseModel, load_motion, look_at_view, make_observations
from mocap_app.fitting.camera import FitCamera
from mocap_app.pipeline.stage3 import Stage3, Stage3Config
from mocap_app.skeletons import BLAZEPOSE33, COCO17, LIMB_GROUPS, SKELETONS, VNECT21, get_skeleton, limb_swap_pairs
from mocap_app.tracking.limb_swap import LimbSwapConfig, LimbSwapCorrector, LimbSwapFilter
from mocap_app.types import FrameObservations, Observation

#: The correction is off by default (opt-in); these tests exercise it switched on.
ON = LimbSwapConfig(enabled=True)

FPS = 30.0
STRIDE_PX = 60.0       # each ankle swings this far in front of and behind the hips (side view)
WALK_PX_PER_S = 90.0


def _walker(schema, frame: int, rng: np.random.Generator) -> Observation:
    """A side-view walker (about 400 px tall) whose legs swing in opposite phase, one stride a second."""
    phase = np.sin(2 * np.pi * frame / FPS)
    hip_x = 300.0 + WALK_PX_PER_S * frame / FPS
    place = {"hip": (0.0, 300.0), "knee": (0.5, 400.0), "ankle": (1.0, 500.0), "heel": (0.8, 510.0),
             "foot_index": (1.3, 515.0), "toe": (1.3, 515.0), "shoulder": (0.0, 160.0), "elbow": (0.0, 230.0),
             "wrist": (0.0, 290.0), "pinky": (0.0, 305.0), "index": (0.0, 305.0), "thumb": (0.0, 300.0),
             "hand": (0.0, 305.0)}
    points = np.empty((schema.num_joints, 2))
    for j, name in enumerate(schema.joints):
        side = 1.0 if name.startswith("left") else -1.0 if name.startswith("right") else 0.0
        part = name.split("_", 1)[1] if side else name
        swing, y = place.get(part, (0.0, 110.0))          # face and centre joints sit around the head
        legs = part in ("knee", "ankle", "heel", "foot_index", "toe")
        points[j] = (hip_x + (side * swing * STRIDE_PX * phase if legs else 0.0), y)
    points += rng.normal(0.0, 1.5, points.shape)
    joints3d = np.column_stack([(points - points.mean(axis=0)) / 250.0, np.zeros(len(points))])
    conf = np.full(schema.num_joints, 0.9, np.float32)
    return Observation(schema.name, points.astype(np.float32), conf, np.array([0, 0, 1, 1], np.float32),
                       joints3d.astype(np.float32))


def _swapped(person: Observation, group: str = "legs") -> Observation:
    left, right = limb_swap_pairs(person.joint_set)[group]
    order = np.arange(len(person.confidence))
    order[left], order[right] = right, left
    return dataclasses.replace(person, joints2d=person.joints2d[order], confidence=person.confidence[order],
                               joints3d=person.joints3d[order])


def _sequence(schema, frames: int, seed: int = 0) -> list[Observation]:
    rng = np.random.default_rng(seed)
    return [_walker(schema, f, rng) for f in range(frames)]


@pytest.mark.parametrize("schema", [BLAZEPOSE33, COCO17], ids=lambda s: s.name)
def test_injected_leg_swaps_are_undone(schema):
    clean = _sequence(schema, 90)
    # Mix-ups after a stride of clean frames, where the legs are apart (they cross at frames 0, 15,
    # 30, ...): a run of five frames, a single frame, and a run of three.
    injected = set(range(35, 40)) | {52} | set(range(66, 69))
    filt = LimbSwapFilter(schema.name, ON)
    for f, person in enumerate(clean):
        seen = _swapped(person) if f in injected else person
        out = filt(seen, f / FPS)
        np.testing.assert_array_equal(out.joints2d, person.joints2d, err_msg=f"frame {f}")
        np.testing.assert_array_equal(out.confidence, person.confidence)
        np.testing.assert_array_equal(out.joints3d, person.joints3d)
        assert (filt.swapped == ("legs",)) == (f in injected), f
        if f not in injected:
            assert out is seen  # untouched frames are passed through as they came


@pytest.mark.parametrize("seed", range(4))
def test_clean_walks_are_never_swapped(seed):
    rng = np.random.default_rng(100 + seed)
    filt = LimbSwapFilter(BLAZEPOSE33.name, ON)
    offset = int(rng.integers(0, 30))  # start anywhere in the stride, crossings included
    for f, person in enumerate(_sequence(BLAZEPOSE33, 150, seed)[offset:]):
        assert filt(person, f / FPS) is person, f


def test_feet_mixed_up_alone_are_exchanged_without_the_knees():
    clean = _sequence(BLAZEPOSE33, 60)
    left, right = limb_swap_pairs(BLAZEPOSE33.name)["legs"]
    filt = LimbSwapFilter(BLAZEPOSE33.name, ON)
    for f, person in enumerate(clean):
        seen = person
        if f in (37, 38):   # ankle, heel and toe mixed up, knees right
            order = np.arange(BLAZEPOSE33.num_joints)
            order[left[1:]], order[right[1:]] = right[1:], left[1:]
            seen = dataclasses.replace(person, joints2d=person.joints2d[order])
        np.testing.assert_array_equal(filt(seen, f / FPS).joints2d, person.joints2d, err_msg=f"frame {f}")


def test_labels_changed_while_the_legs_cross_are_undone_from_their_velocities():
    """Detectors mix the legs up where they pass each other: no jump, only the motion reverses."""
    clean = _sequence(BLAZEPOSE33, 60)
    mixed = set(range(31, 37))   # the legs cross at frame 30; labels wrong for the next six frames
    filt = LimbSwapFilter(BLAZEPOSE33.name, ON)
    fixed = 0
    for f, person in enumerate(clean):
        out = filt(_swapped(person) if f in mixed else person, f / FPS)
        if f in mixed:
            fixed += np.array_equal(out.joints2d, person.joints2d)
        else:
            np.testing.assert_array_equal(out.joints2d, person.joints2d, err_msg=f"frame {f}")
    assert fixed >= 4   # the first frames after the crossing are too close to call


@pytest.mark.parametrize("outlier", [(40.0, 0.0), (0.0, -60.0), (25.0, 25.0)])
def test_one_wild_joint_or_a_dropped_one_never_exchanges_the_legs(outlier):
    clean = _sequence(BLAZEPOSE33, 60)
    ankle, knee = BLAZEPOSE33.index("left_ankle"), BLAZEPOSE33.index("right_knee")
    filt = LimbSwapFilter(BLAZEPOSE33.name, ON)
    for f, person in enumerate(clean):
        points, conf = person.joints2d.copy(), person.confidence.copy()
        if f % 7 == 3:
            points[ankle] += np.float32(outlier)
        if f % 11 == 5:
            points[knee], conf[knee] = np.nan, 0.0
        filt(dataclasses.replace(person, joints2d=points, confidence=conf), f / FPS)
        assert filt.swapped == (), f


@pytest.mark.parametrize(("clip", "source_fps"), [("cmu_motionbuilder/05_06.bvh", None),
                                                   ("cmu_daz_acrnn/martial/05.bvh", 60.0)])
def test_detector_like_noise_on_real_motion_is_never_taken_for_a_swap(shared_data, clip, source_fps):
    """The `mocap eval fitting` observations (jitter, outliers, dropped joints; no mix-ups) pass untouched.

    A wrongly exchanged frame makes the fit cross its legs, far worse than a missed mix-up.
    """
    motion = load_motion(shared_data / "mocap" / "train" / clip, EVAL_FPS, source_fps, max_frames=200)
    view = look_at_view(np.nanmean(motion[:, VNECT21.index("pelvis")], axis=0))
    for seed in range(2):
        noise = NoiseModel(pixel_sigma=4.0, outlier_rate=0.06, drop_rate=0.06)
        frames, _ = make_observations([motion], view, EVAL_FPS, noise, [2], seed)
        filt = LimbSwapFilter(VNECT21.name, ON)
        for frame in frames:
            person = frame.people[0]
            assert filt(person, frame.time) is person, (seed, frame.frame)


def test_a_swap_from_the_first_frame_on_is_kept_as_detected():
    """Without a clean frame to compare with, the detector's labels stand (no guessing)."""
    filt = LimbSwapFilter(BLAZEPOSE33.name, ON)
    for f, person in enumerate(_sequence(BLAZEPOSE33, 20)):
        seen = _swapped(person)
        assert filt(seen, f / FPS) is seen


def test_disabled_and_unknown_joint_sets_pass_through():
    person = _sequence(COCO17, 1)[0]
    assert LimbSwapFilter(COCO17.name, LimbSwapConfig(enabled=False))(person, 0.0) is person
    assert LimbSwapFilter(COCO17.name, LimbSwapConfig(groups=("tails",))).groups == {}


def test_corrector_keeps_state_per_performer_and_forgets_it():
    corrector = LimbSwapCorrector(ON)
    clean = _sequence(BLAZEPOSE33, 12)
    for f, person in enumerate(clean):
        corrector.correct(1, person, f / FPS)
        corrector.correct(2, person, f / FPS)
    corrector.keep_only({2})
    assert set(corrector.filters) == {2}
    # A new performer 1 starts afresh: its first (mixed-up) frame is taken as detected.
    seen = _swapped(clean[7])
    assert corrector.correct(1, seen, 12 / FPS) is seen


def test_stage3_fits_and_shows_the_corrected_legs():
    stage3 = Stage3(FitCamera.uncalibrated(1280, 720), Stage3Config(limb_swap=ON))
    clean = _sequence(BLAZEPOSE33, 40)
    left, right = limb_swap_pairs(BLAZEPOSE33.name)["legs"]
    for f, person in enumerate(clean):
        seen = _swapped(person) if f in (35, 36) else person
        motion = stage3.process(FrameObservations(f, f / FPS, 1280, 720, (seen,)))
        shown = stage3.tracked_observations.people[0]
        np.testing.assert_array_equal(shown.joints2d, person.joints2d)
        np.testing.assert_array_equal(stage3.engine_observations.people[0].joints2d, seen.joints2d)
        if f in (35, 36):
            assert not np.array_equal(shown.joints2d[left], seen.joints2d[left])
    assert motion and set(stage3.limb_swap.filters) == set(stage3.performers)


@pytest.mark.parametrize("name", sorted(LIMB_GROUPS))
def test_limb_groups_pair_each_left_joint_with_its_mirror(name):
    schema = get_skeleton(name)
    assert name in SKELETONS
    for group, (left, right) in limb_swap_pairs(name).items():
        assert len(left) == len(right) > 0, group
        for a, b in zip(left, right, strict=True):
            assert schema.joints[a].lower().startswith("left") and schema.joints[b].lower().startswith("right")
            assert schema.mirror[a] == schema.joints[b]


def test_the_correction_is_opt_in_for_the_pipeline():
    from mocap_app.pipeline.runner import PipelineConfig

    assert not LimbSwapConfig().enabled
    assert not PipelineConfig().stage3_config().limb_swap.enabled
    assert PipelineConfig(limb_swap=True).stage3_config().limb_swap.enabled
