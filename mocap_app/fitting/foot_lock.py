"""Offline foot locking of a whole recorded take: planted feet stay put in the exported BVH.

Live fitting (:mod:`.contact`) must decide about contacts from the past alone, so a planted foot
still slides by the fit's jitter. A finished take can look both ways, like the foot-lock cleanup
step of studio mocap tools:

0. **Glides** (``glide_speed_mps``): where the two ankles keep their distance while they move,
   the whole body glides on its feet: that is the live fit's monocular depth estimate moving
   (above all while a performer is sized in the first frames), not a step. A first pass locks
   the low foot joints there by height alone and only shifts the root (:func:`gliding`); steps
   1-3 then run on the result.

1. **Contacts** per foot joint (ankle = ``*Foot``, toe = ``*ToeBase``): the joint is low (within a
   margin of its floor level: the higher of its low percentile height over the take and a rolling
   low percentile, so a fit whose floor drifts up a little still plants) and slow (horizontal speed
   by centred differences, lightly smoothed), with hysteresis (stricter to enter than to stay), short
   gaps merged and too-short segments dropped. Each contact then starts ``lead_s`` earlier: the
   live fit lands a foot late, and its last swing frames are where a planted foot slid most. A first
   contact near the take's start reaches back to frame 0 over a low foot (the live fit settling, ``settle_s``).
   A low joint far slower than the other leg's foot counts as slow whatever its own speed
   (``swing_ratio``): while the live fit's depth settles a planted foot glides by centimetres per
   frame, too fast for the speed test, but the swinging foot beside it is several times faster. A toe
   contact also ends ``toe_trail_s`` later (the live toe starts to slide before toe-off).
2. **Locks**: per contact segment the median position of the joint over its detected frames
   (height clamped to its floor level, and to a calibrated floor when one is given; in the lead
   frames horizontal only).
3. **Correction**: first the root is shifted horizontally so the planted joints land on their
   locks on average (``shift_root``): a monocular fit's feet slide mostly because the whole body's
   depth jitters, and moving the body keeps the fitted root-relative pose. What is left (two
   planted feet that disagree, heights) is taken up by the legs: the ankle target per frame is the
   ankle lock (ankle in contact) or the ankle moved by the toe's offset from its lock (only the toe
   in contact: heel raised). Outside contacts every correction is interpolated between segment
   ends and faded out with a smoothstep over ``blend_s``, so nothing pops; the fade blends the
   position towards the lock (``blend_to_lock``), so the step onto a lock is short. Analytic two-bone IK on
   UpLeg -> Leg -> Foot reaches the target with the take's bone lengths, keeps the knee a hinge
   about its own axis (the bend plane turns only as far as the target demands) and turns the Foot
   joint back so the foot keeps its world orientation, except where ankle and toe are both down:
   there the foot turns (smallest rotation, faded in and out) so the toe also lands on its lock.
   Frames whose lock lies more than ``max_overreach_m`` beyond the leg's reach are left out of the
   IK (the rest of the body is not bent to reach it; the correction fades there like at a contact's
   end), so a walking contact whose ends are out of reach (a trailing leg at toe-off, a foot still
   swinging in the lead frames) keeps its planted middle; a smaller overreach straightens the leg
   and leaves the ankle that little short of the lock. A toe down whose ankle lock is out of reach
   (only the toe in contact, or the last frames of an ankle contact: the heel lifting at toe-off while
   the live fit still holds it low) pivots instead: the leg reaches as far as it can and the foot
   turns so the toe lands on its lock, as long as leg and foot together reach it (:mod:`.leg_ik`).

Everything is vectorised over frames; Python loops run over the four foot joints, two legs and
contact segments only. Forward kinematics comes from :mod:`mocap_app.bvh` (``motion_from_rig`` +
``forward_kinematics``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.spatial.transform import Rotation

from ..bvh import forward_kinematics, motion_from_rig
from ..conventions import BVH_UNITS_PER_METRE
from ..skeletons import RIG
from .leg_ik import EPS, MAX_REACH_FRACTION, normalise, two_bone_ik

logger = logging.getLogger(__name__)

#: (UpLeg, Leg, Foot, ToeBase) joint names of each leg.
LEGS = (("LeftUpLeg", "LeftLeg", "LeftFoot", "LeftToeBase"), ("RightUpLeg", "RightLeg", "RightFoot", "RightToeBase"))
#: Percentile of a joint's heights over the take taken as its floor level.
FLOOR_PERCENTILE = 2.0
#: Percentile of a joint's heights over a rolling window taken as its local floor level (``floor_window_s``).
ROLLING_FLOOR_PERCENTILE = 5.0


@dataclass(frozen=True)
class FootLockConfig:
    """Thresholds of the foot-lock pass (metres, metres per second, frames at the take's rate).

    Attributes:
        enter_height_m / exit_height_m: height above the joint's floor level to start / keep a contact.
        enter_speed_mps / exit_speed_mps: smoothed horizontal speed to start / keep a contact.
        speed_sigma_frames: Gaussian smoothing of the speed (frames).
        min_contact_s: shortest contact segment kept, seconds.
        max_gap_s: non-contact gaps up to this long between two contacts are merged, seconds.
        blend_s: fade of the correction in and out of a contact, seconds.
        max_overreach_m: leave out of the IK the frames whose lock needs more than this beyond the
            leg's reach (a segment with no frame left counts as skipped).
        shift_root: first move the root horizontally so the planted joints land on their locks on
            average (the fit's foot slide is mostly the body's depth jitter), then IK the rest.
        lead_s: start every contact this much earlier: the live fit's filters land a foot a frame
            or more after the performer did, and those frames would otherwise slide at full swing
            speed. In the lead frames the lock is horizontal only (the foot is not pulled down early).
        floor_window_s: the floor level of a joint is also a rolling low percentile over this window
            (the higher of that and the take's), so a foot planted while the fit's floor drifts up
            by a few centimetres still counts as low; 0 uses the take's level alone.
        blend_to_lock: outside a contact blend the joint's position towards the lock (the correction
            shrinks as the foot nears it) instead of fading a constant offset, so the last step onto
            the lock is short rather than the fit's full swing step.
        glide_speed_mps: where the two ankles move slower than this relative to each other, low
            foot joints are in contact whatever their speed: the whole body gliding on its feet
            is the live fit's depth error, not motion (see :func:`gliding`); 0 switches it off.
        settle_s / settle_height_m: a joint's first contact that starts within ``settle_s`` of the
            take's start is started at frame 0 when the joint stays within ``settle_height_m`` of its
            floor level until then: while the live fit settles it moves planted feet by centimetres
            per frame (see :func:`_settling`); ``settle_s`` 0 switches it off.
        toe_trail_s: end every toe contact this much later (horizontal lock only, like the lead): at
            toe-off the toe stays down while the heel rises, but the live toe starts to slide before
            its smoothed speed ends the contact.
        swing_ratio / swing_max_speed_mps: a joint slower than ``swing_ratio`` times the other leg's
            foot (the slower of its ankle and toe) and than ``swing_max_speed_mps`` counts as slow, so
            only its height decides (see :func:`_slow_beside_swing`); ``swing_ratio`` 0 switches it off.
    """

    enter_height_m: float = 0.07
    exit_height_m: float = 0.10
    enter_speed_mps: float = 0.30
    exit_speed_mps: float = 0.60
    speed_sigma_frames: float = 2.0
    min_contact_s: float = 0.1
    max_gap_s: float = 0.1
    blend_s: float = 0.15
    max_overreach_m: float = 0.03
    shift_root: bool = True
    lead_s: float = 0.1
    floor_window_s: float = 2.0
    blend_to_lock: bool = True
    glide_speed_mps: float = 0.3
    settle_s: float = 0.3
    settle_height_m: float = 0.05
    swing_ratio: float = 0.4
    swing_max_speed_mps: float = 1.2
    toe_trail_s: float = 0.04

    def __post_init__(self) -> None:
        if not (0 < self.enter_height_m <= self.exit_height_m and 0 < self.enter_speed_mps <= self.exit_speed_mps):
            raise ValueError("FootLockConfig: need 0 < enter <= exit for both the height and the speed thresholds.")
        if min(self.min_contact_s, self.max_gap_s, self.blend_s, self.max_overreach_m, self.speed_sigma_frames,
               self.lead_s, self.floor_window_s, self.glide_speed_mps, self.settle_s, self.settle_height_m,
               self.swing_ratio, self.swing_max_speed_mps, self.toe_trail_s) < 0:
            raise ValueError("FootLockConfig: durations, sigma, speeds, ratios and max_overreach_m must be >= 0.")


@dataclass(frozen=True)
class FootLockResult:
    """A foot-locked take.

    Attributes:
        root_positions: (F, 3) root positions, metres (shifted horizontally when ``shift_root``).
        local_rotations: (F, J, 4) local quaternions (x, y, z, w) with corrected leg joints.
        contacts: (F, 4) bool contact of LeftFoot, LeftToeBase, RightFoot, RightToeBase.
        segments: contact segments locked (per leg: runs of frames with the ankle or the toe down).
        skipped: such segments skipped because the lock was out of the leg's reach in all their frames.
    """

    root_positions: np.ndarray
    local_rotations: np.ndarray
    contacts: np.ndarray
    segments: int
    skipped: int


def rig_positions(root_positions: np.ndarray, local_rotations: np.ndarray, offsets: np.ndarray | None,
                  fps: float = 30.0) -> np.ndarray:
    """(F, J, 3) world joint positions, metres, of a take in the export representation."""
    motion = motion_from_rig(root_positions, local_rotations, 1.0 / fps, offsets)
    return forward_kinematics(motion) / BVH_UNITS_PER_METRE


def _segments(mask: np.ndarray) -> tuple[np.ndarray, int]:
    labels, count = ndimage.label(mask)
    return labels, count


def _horizontal_speed(positions: np.ndarray, fps: float, config: FootLockConfig) -> np.ndarray:
    """(F,) smoothed horizontal speed of (F, 3) positions, m/s (centred differences)."""
    velocity = np.gradient(positions[:, [0, 2]], axis=0) * fps if len(positions) > 1 else np.zeros((1, 2))
    if config.speed_sigma_frames > 0:
        velocity = ndimage.gaussian_filter1d(velocity, config.speed_sigma_frames, axis=0, mode="nearest")
    return np.linalg.norm(velocity, axis=1)


def _height(positions: np.ndarray, fps: float, config: FootLockConfig) -> np.ndarray:
    """(F,) height of one joint's (F, 3) positions above its floor level (take's and rolling), metres."""
    floor = np.percentile(positions[:, 1], FLOOR_PERCENTILE)
    window = round(config.floor_window_s * fps)
    if window >= 3:
        rolling = ndimage.percentile_filter(positions[:, 1], ROLLING_FLOOR_PERCENTILE, size=window, mode="nearest")
        floor = np.maximum(floor, rolling)
    return positions[:, 1] - floor


def detect_contacts(positions: np.ndarray, fps: float, config: FootLockConfig,
                    still: np.ndarray | None = None) -> np.ndarray:
    """(F,) bool contact of one joint from its (F, 3) world positions over the whole take.

    ``still`` (F,) bool: frames where the joint counts as slow whatever its speed (the whole body
    glides, see :func:`gliding`); only its height decides there.
    """
    height = _height(positions, fps, config)
    speed = _horizontal_speed(positions, fps, config)
    if still is not None:
        speed = np.where(still, 0.0, speed)
    enter = (height < config.enter_height_m) & (speed < config.enter_speed_mps)
    stay = (height < config.exit_height_m) & (speed < config.exit_speed_mps)
    labels, _ = _segments(stay)  # hysteresis: a "stay" run counts only if it holds an "enter" frame
    contact = np.isin(labels, np.unique(labels[enter & (labels > 0)]))
    gap_labels, gaps = _segments(~contact)
    if gaps:
        length = np.bincount(gap_labels.ravel())
        inner = np.ones(gaps + 1, dtype=bool)
        inner[[0, gap_labels[0], gap_labels[-1]]] = False  # gaps at the take's ends are no gaps
        short = inner & (length <= round(config.max_gap_s * fps))
        contact |= short[gap_labels] & (gap_labels > 0)
    contact = _drop_short(contact, fps, config)
    return contact


def gliding(positions: np.ndarray, ankles: tuple[int, int], fps: float, config: FootLockConfig) -> np.ndarray:
    """(F,) bool frames where the whole body glides: the two ankles move together.

    A live fit glides the whole body, planted feet included, when its monocular depth estimate
    moves (above all while a performer's size is measured in the first frames). A real body
    that travels moves one foot past the other (a step), and one that stands keeps both still,
    so two feet that keep their distance (slower than ``glide_speed_mps`` relative to each other)
    while they move are depth error: the foot joints are then judged by their height alone, the
    lock holds them and the root shift takes the glide out of the body's path.
    """
    left, right = ankles
    return _horizontal_speed(positions[:, left] - positions[:, right], fps, config) < config.glide_speed_mps


def _slow_beside_swing(positions: np.ndarray, joints: list[int], fps: float, config: FootLockConfig) -> np.ndarray:
    """(F, 4) bool frames where a foot joint is far slower than the other leg's foot (ankle and toe).

    The live fit's feet glide with its depth estimate (above all while the performer is sized in
    the first frames), which moves a planted foot by a few centimetres per frame, faster than the
    speed test allows, while the other foot swings several times faster still. A low joint slower
    than ``swing_ratio`` times the other foot (and than ``swing_max_speed_mps``) counts as slow.
    """
    if config.swing_ratio <= 0:
        return np.zeros((len(positions), len(joints)), dtype=bool)
    speed = np.stack([_horizontal_speed(positions[:, joint], fps, config) for joint in joints], axis=1)
    other = np.minimum(speed[:, [2, 2, 0, 0]], speed[:, [3, 3, 1, 1]])  # (joints: ankle, toe, ankle, toe)
    return (speed < config.swing_ratio * other) & (speed < config.swing_max_speed_mps)


def _settling(contact: np.ndarray, height: np.ndarray, fps: float, config: FootLockConfig) -> np.ndarray:
    """(F,) ``contact`` with its first segment started at frame 0 where the joint stays low until then.

    In its first frames the live fit is still settling (sizing the performer, filters warming up)
    and moves a planted foot by centimetres per frame, so the speed test finds the contact only
    once it has settled. A foot that stays within ``settle_height_m`` of its floor level from the
    first frame until a contact that starts within ``settle_s`` did not step there: it was planted
    all along. (A low run with no contact after it is left alone: it holds no lock to extend.)
    """
    starts = np.flatnonzero(contact)
    if not len(starts) or starts[0] == 0 or starts[0] > round(config.settle_s * fps):
        return contact
    out = contact.copy()
    if (height[:starts[0]] < config.settle_height_m).all():
        out[:starts[0]] = True
    return out


def _lead(contact: np.ndarray, frames: int, trail: int = 0) -> np.ndarray:
    """(F,) ``contact`` with every segment started ``frames`` earlier and ended ``trail`` frames later."""
    out = contact.copy()
    for k in range(1, min(frames, len(contact) - 1) + 1):
        out[:-k] |= contact[k:]
    for k in range(1, min(trail, len(contact) - 1) + 1):
        out[k:] |= contact[:-k]
    return out


def _drop_short(contact: np.ndarray, fps: float, config: FootLockConfig) -> np.ndarray:
    labels, count = _segments(contact)
    if not count:
        return contact
    keep = np.bincount(labels.ravel()) >= max(2, round(config.min_contact_s * fps))
    keep[0] = False
    return keep[labels]


def _locks(positions: np.ndarray, contact: np.ndarray, floor_y: float | None, core: np.ndarray) -> np.ndarray:
    """(F, 3) lock position per frame of one joint, NaN outside its contacts.

    ``contact`` (F,) are the frames locked, ``core`` (F,) those detected (``contact`` less the lead
    frames): the lock is the median over the core; in lead frames only its horizontal part holds.
    """
    labels, count = _segments(contact)
    locks = np.full_like(positions, np.nan)
    joint_floor = np.percentile(positions[:, 1], FLOOR_PERCENTILE)
    if floor_y is not None:
        joint_floor = max(joint_floor, floor_y)
    for segment in range(1, count + 1):
        inside = labels == segment
        lock = np.median(positions[inside & core], axis=0)
        lock[1] = max(lock[1], joint_floor)
        locks[inside] = lock
        lead = inside & ~core
        locks[lead, 1] = np.maximum(lock[1], positions[lead, 1])
    return locks


def _fade(active: np.ndarray, shift: np.ndarray, blend_frames: int, current: np.ndarray | None = None) -> np.ndarray:
    """(F, 3) correction: ``shift`` on active frames, interpolated between them and smoothstep-faded outside.

    With ``current`` (F, 3) positions the target ``current + shift`` is interpolated instead, and the
    faded correction is the way from ``current`` to it (the position is blended, not the offset).
    """
    frames = np.arange(len(active))
    where = np.flatnonzero(active)
    base = np.zeros_like(shift) if current is None else current
    target = base + shift
    out = np.stack([np.interp(frames, where, target[where, k]) for k in range(3)], axis=1) - base
    distance = ndimage.distance_transform_edt(~active) if blend_frames > 0 else np.where(active, 0.0, np.inf)
    t = np.clip(1.0 - distance / (blend_frames + 1), 0.0, 1.0)
    return out * (t * t * (3.0 - 2.0 * t))[:, None]


def _shift_root(positions: np.ndarray, joints: list[int], contacts: np.ndarray, locks: np.ndarray,
                blend_frames: int, blend_to_lock: bool) -> np.ndarray:
    """(F, 3) horizontal root shift that carries the planted joints onto their locks (mean over them)."""
    active = contacts.any(axis=1)
    shift = np.zeros((len(positions), 3))
    if not active.any():
        return shift
    delta = locks[:, :, [0, 2]] - positions[:, joints][:, :, [0, 2]]  # NaN where a joint is not planted
    shift[np.ix_(np.flatnonzero(active), [0, 2])] = np.nanmean(delta[active], axis=1)
    return _fade(active, shift, blend_frames, positions[:, 0] * [1, 0, 1] if blend_to_lock else None)


def _heel_off(contact: np.ndarray, out_of_reach: np.ndarray) -> np.ndarray:
    """(F,) bool frames at the end of a contact segment whose lock is out of reach from there on.

    That is a heel lifting at toe-off while the live fit still holds it low: the toe pivots instead.
    """
    labels, count = _segments(contact)
    off = np.zeros_like(contact)
    for segment in range(1, count + 1):
        inside = np.flatnonzero(labels == segment)
        reach = inside[~out_of_reach[inside]]
        off[inside[inside > (reach[-1] if len(reach) else -1)]] = True
    return off


def _leg_correction(positions: np.ndarray, world: dict[str, np.ndarray], names: tuple[str, ...],
                    offsets: np.ndarray, contacts: np.ndarray, locks: np.ndarray, fps: float,
                    config: FootLockConfig) -> tuple[np.ndarray, dict[str, np.ndarray], int, int]:
    """Frames moved (F,), new world rotations of one leg there, segments locked and segments skipped.

    ``contacts`` (F, 2) and ``locks`` (F, 2, 3) are the ankle's and the toe's.
    """
    up, leg, foot, toe = (RIG.index(n) for n in names)
    ankle_contact, toe_contact = contacts[:, 0], contacts[:, 1]
    ankle_locks, toe_locks = locks[:, 0], locks[:, 1]
    shift =  np.where(ankle_contact[:, None], ankle_locks - positions[:, foot], toe_locks - positions[:, toe])
    active = ankle_contact | toe_contact
    thigh, shin = float(np.linalg.norm(offsets[leg])), float(np.linalg.norm(offsets[foot]))
    hip, knee, ankle = positions[:, up], positions[:, leg], positions[:, foot]
    skipped = count = 0
    if active.any():
        labels, count = _segments(active)
        overreach = np.linalg.norm(ankle + np.nan_to_num(shift) - hip, axis=1) - (thigh + shin)
        # Per frame, not per segment: a walking contact is out of reach only at its ends (the lead
        # frames of a foot still swinging, a trailing leg at toe-off), and dropping the whole
        # segment for those frames would let the planted middle slide. A toe down with the heel up
        # can still be reached by a straight leg and a foot pivoted onto it (the foot turn below).
        foot_length = np.linalg.norm(positions[:, toe] - ankle, axis=1)
        toe_reach = np.linalg.norm(np.nan_to_num(toe_locks) - hip, axis=1) - (thigh + shin) - foot_length
        pivot = toe_contact & (toe_reach <= config.max_overreach_m) & (
            ~ankle_contact | _heel_off(ankle_contact, overreach > config.max_overreach_m))
        shift = np.where((pivot & ankle_contact)[:, None], toe_locks - positions[:, toe], shift)
        active &= (overreach <= config.max_overreach_m) | pivot
        skipped = count - len(np.unique(labels[active]))
    if not active.any():
        return np.zeros(len(active), dtype=bool), {}, 0, skipped
    correction = _fade(active, np.nan_to_num(shift), round(config.blend_s * fps),
                       ankle if config.blend_to_lock else None)
    moved = np.linalg.norm(correction, axis=1) > 0
    thigh_turn, shin_turn, _ = two_bone_ik(hip[moved], knee[moved], ankle[moved], ankle[moved] + correction[moved],
                                           world[leg][moved][:, :, 0], thigh, shin)
    # Toe down: turn the foot (faded like the shift) so the toe lands on its lock from where the IK put
    # the ankle (its lock, or as far as the leg reaches when the toe pivots).
    both = toe_contact & active
    aim = np.zeros((len(active), 3))
    if both.any():
        reached = ankle[both] + correction[both] - hip[both]  # where the IK puts the ankle: clamped to reach
        reached *= np.minimum(1.0, MAX_REACH_FRACTION * (thigh + shin) / np.maximum(
            np.linalg.norm(reached, axis=1), EPS))[:, None]
        now = positions[both, toe] - ankle[both]
        want = toe_locks[both] - (hip[both] + reached)
        axis = np.cross(now, want)
        sine, cosine = np.linalg.norm(axis, axis=1), np.einsum("fi,fi->f", now, want)
        aim[both] = normalise(axis) * np.arctan2(sine, cosine)[:, None]
        aim = _fade(both, aim, round(config.blend_s * fps))
    new = {"up": thigh_turn @ world[up][moved], "leg": shin_turn @ thigh_turn @ world[leg][moved],
           "foot": Rotation.from_rotvec(aim[moved]).as_matrix() @ world[foot][moved]}
    return moved, new, count - skipped, skipped


def _contacts_and_locks(positions: np.ndarray, joints: list[int], fps: float, config: FootLockConfig,
                        floor_y: float | None, still: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(F, 4) contacts (lead frames included) and (F, 4, 3) locks of the ``joints`` of (F, J, 3) positions."""
    slow = _slow_beside_swing(positions, joints, fps, config)
    if still is not None:
        slow |= still[:, None]
    core = np.stack([detect_contacts(positions[:, joint], fps, config, slow[:, c]) for c, joint in enumerate(joints)],
                    axis=1)
    lead, trail = round(config.lead_s * fps), round(config.toe_trail_s * fps)  # (the toes are the odd columns)
    contacts = np.stack([_lead(core[:, c], lead, trail if c % 2 else 0) for c in range(len(joints))], axis=1)
    if config.settle_s > 0:
        contacts = np.stack([_settling(contacts[:, c], _height(positions[:, j], fps, config), fps, config)
                             for c, j in enumerate(joints)], axis=1)
    locks = np.stack([_locks(positions[:, j], contacts[:, c], floor_y, core[:, c]) for c, j in enumerate(joints)],
                     axis=1)
    return contacts, locks


def lock_feet(root_positions: np.ndarray, local_rotations: np.ndarray, offsets: np.ndarray | None,
              fps: float, config: FootLockConfig | None = None, floor_y: float | None = None) -> FootLockResult:
    """Foot-lock a whole take (see the module docstring).

    Args:
        root_positions: (F, 3) root (Hips) world positions, metres.
        local_rotations: (F, J, 4) local quaternions (x, y, z, w) of the rig joints (row 0 global).
        offsets: (J, 3) the performer's rest offsets, metres; ``None`` for the rig's.
        fps: the take's frame rate.
        config: thresholds; defaults when ``None``.
        floor_y: calibrated floor height, metres; ``None`` estimates each foot joint's floor level.

    Returns:
        The corrected take (the inputs are not modified).
    """
    config = config or FootLockConfig()
    offsets = RIG.rest_offsets if offsets is None else np.asarray(offsets, dtype=np.float64)
    roots = np.array(root_positions, dtype=np.float64)
    quats = np.array(local_rotations, dtype=np.float64)
    frames = len(roots)
    contacts = np.zeros((frames, 4), dtype=bool)
    if frames < 3:
        return FootLockResult(roots, quats, contacts, 0, 0)
    positions = rig_positions(roots, quats, offsets, fps)
    local = Rotation.from_quat(quats.reshape(-1, 4)).as_matrix().reshape(frames, RIG.num_joints, 3, 3)
    world = {0: local[:, 0]}
    for j in range(1, RIG.num_joints):  # world rotations (the rig lists parents first)
        world[j] = world[RIG.parents[j]] @ local[:, j]
    joints = [RIG.index(name) for names in LEGS for name in names[2:]]  # ankle, toe, ankle, toe
    if config.shift_root and config.glide_speed_mps > 0:  # first take the glides out of the body's path
        still = gliding(positions, (joints[0], joints[2]), fps, config)
        if still.any():
            glide_contacts, glide_locks = _contacts_and_locks(positions, joints, fps, config, floor_y, still)
            shift = _shift_root(positions, joints, glide_contacts, glide_locks, round(config.blend_s * fps),
                                config.blend_to_lock)
            roots += shift
            positions = positions + shift[:, None]
    contacts, locks = _contacts_and_locks(positions, joints, fps, config, floor_y)
    if config.shift_root:  # the root-relative pose stays as fitted; only the body's path changes
        shift = _shift_root(positions, joints, contacts, locks, round(config.blend_s * fps),
                            config.blend_to_lock)
        roots += shift
        positions = positions + shift[:, None]
    segments = skipped = 0
    for side, names in enumerate(LEGS):
        up, leg, foot = (RIG.index(name) for name in names[:3])
        pair = slice(2 * side, 2 * side + 2)
        moved, new, count, bad = _leg_correction(positions, world, names, offsets, contacts[:, pair], locks[:, pair],
                                                 fps, config)
        segments += count
        skipped += bad
        if not moved.any():
            continue
        chain = np.stack([world[RIG.parents[up]][moved].transpose(0, 2, 1) @ new["up"],
                          new["up"].transpose(0, 2, 1) @ new["leg"],
                          new["leg"].transpose(0, 2, 1) @ new["foot"]], axis=1)
        fixed = Rotation.from_matrix(chain.reshape(-1, 3, 3)).as_quat().reshape(-1, 3, 4)
        before = quats[moved][:, [up, leg, foot]]
        fixed *= np.where(np.einsum("fjk,fjk->fj", fixed, before) < 0, -1.0, 1.0)[..., None]  # keep the sign
        rows = np.flatnonzero(moved)
        quats[rows[:, None], np.array([up, leg, foot])[None, :]] = fixed
    logger.info("foot lock: %d contact segments locked, %d skipped (out of reach)", segments, skipped)
    return FootLockResult(roots, quats, contacts, segments, skipped)
