"""Motion that drives a synthetic performer: BVH takes turned into rig joint positions in metres.

A BVH file of any CMU flavour (MotionBuilder, 3ds Max, DAZ naming; inches-ish, centimetre or metre
units) becomes a (F, 27, 3) "driving pose" sequence (the rig joints plus five tips, see
:data:`~mocap_app.synth.body.DRIVER_JOINTS`): scaled to a stated standing height, resampled to the
output frame rate, its lowest sole resting on the floor (y = 0). Proportions can be varied per
segment while the hips keep their captured path. The head top turns with the head joint's own
rotation in every flavour, and a neck shorter than an adult's (DAZ) is lengthened to full stature.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..bvh import BVHMotion, BVHSkeleton, forward_kinematics, read_bvh, with_end_sites
from ..errors import BVHError
from ..skeletons import RIG
from ..skeletons.bvh_names import HEAD_TOP_TIP, head_top_offset, rig_sources
from .appearance import Appearance
from .body import DRIVER_JOINTS, REFERENCE_STATURE_M, TIP_PARENTS

_IDX = {name: index for index, name in enumerate(DRIVER_JOINTS)}
#: Parent of each driving-pose row (the rig's tree, tips under their end-site joints).
DRIVER_PARENTS = RIG.parents + tuple(RIG.index(parent) for parent in TIP_PARENTS.values())
#: Rig target name of each driving-pose row ("<joint>/end" for the tips).
_TARGETS = RIG.joints + tuple(f"{parent}/end" for parent in TIP_PARENTS.values())
#: Depth of the sole below the ankle, toe joint and toe tip for a 1.73 m figure (see body.py), metres.
_SOLE_DEPTH = {"LeftFoot": 0.080, "RightFoot": 0.080, "LeftToeBase": 0.036, "RightToeBase": 0.036,
               "LeftToeTip": 0.028, "RightToeTip": 0.028}
#: Percentile of per-frame lowest sole height taken as the floor (robust to a few bad frames).
FLOOR_PERCENTILE = 2.0
_SEGMENTS = {
    "arm": ("LeftForeArm", "LeftHand", "LeftHandTip", "RightForeArm", "RightHand", "RightHandTip"),
    "leg": ("LeftLeg", "LeftFoot", "RightLeg", "RightFoot"),
    "torso": ("Spine", "Spine1", "Spine2", "Neck", "Head", "HeadTop", "LeftShoulder", "RightShoulder"),
}


@dataclass(frozen=True, eq=False)
class PerformerMotion:
    """One performer's motion, ready to render.

    Attributes:
        poses: (F, 27, 3) float64 world positions of DRIVER_JOINTS, metres, y up, floor y = 0.
        fps: frames per second of ``poses``.
        source: where the motion came from (a file name or "parametric").
    """

    poses: np.ndarray
    fps: float
    source: str

    @property
    def num_frames(self) -> int:
        return int(self.poses.shape[0])


def driving_poses(motion: BVHMotion) -> np.ndarray:
    """(F, 27, 3) driving poses in the file's units, from a BVH take of a known CMU flavour.

    Raises:
        BVHError: the skeleton's joint names match no known flavour.
    """
    try:
        _, table = rig_sources(motion.skeleton.names)
    except KeyError as exc:
        raise BVHError(str(exc.args[0]) + " Use a CMU BVH in MotionBuilder, 3ds Max or DAZ naming.") from None
    extended, ends = with_end_sites(motion)
    index = {name: i for i, name in enumerate(motion.skeleton.names)} | ends
    for target, sources in table.items():
        for source, _ in sources:
            if source not in index:
                raise BVHError(f"The BVH joint {source.split('/')[0]!r} has no End Site; cannot place {target}.")
    extended, head_top = _with_head_top(extended, table, index)
    positions = forward_kinematics(extended)
    poses = np.zeros((motion.num_frames, len(DRIVER_JOINTS), 3))
    for row, target in enumerate(_TARGETS):
        if target == HEAD_TOP_TIP:
            poses[:, row] = positions[:, head_top]
            continue
        for source, weight in table[target]:
            poses[:, row] += weight * positions[:, index[source]]
    return poses


def _with_head_top(extended: BVHMotion, table: dict, index: dict[str, int]) -> tuple[BVHMotion, int]:
    """``extended`` with one more channel-less joint, the head top, under the BVH head joint.

    The head top then turns with the head joint's own rotation (see
    :func:`~mocap_app.skeletons.bvh_names.head_top_offset`), so the figure's head takes the captured
    head orientation rather than the neck's. Returns the take and the new joint's index.
    """
    skeleton = extended.skeleton
    rest = skeleton.rest_positions()
    joint, offset = head_top_offset(table, {name: rest[i] for name, i in index.items()})
    grown = BVHSkeleton(skeleton.names + ("__head_top",), skeleton.parents + (index[joint],),
                        np.vstack([skeleton.offsets, offset]), skeleton.channels + ((),), {})
    return BVHMotion(grown, extended.frame_time, extended.values), skeleton.num_joints


def resample(poses: np.ndarray, source_fps: float, fps: float) -> np.ndarray:
    """(F, ..., 3) poses at ``source_fps`` -> poses at ``fps`` by linear interpolation in time."""
    count = int(np.floor((poses.shape[0] - 1) * fps / source_fps)) + 1
    t = np.arange(count) * source_fps / fps
    lo = np.minimum(np.floor(t).astype(int), poses.shape[0] - 1)
    hi = np.minimum(lo + 1, poses.shape[0] - 1)
    w = (t - lo).reshape(-1, *([1] * (poses.ndim - 1)))
    return poses[lo] * (1 - w) + poses[hi] * w


def _segment_lengths(pose: np.ndarray) -> dict[str, float]:
    """Leg, arm and trunk (hips to head top) lengths of one (27, 3) driving pose, its units."""
    def length(*chain: str) -> float:
        points = pose[[_IDX[name] for name in chain]]
        return float(np.linalg.norm(np.diff(points, axis=0), axis=1).sum())

    sides = ("Left", "Right")
    return {"leg": 0.5 * sum(length(f"{s}UpLeg", f"{s}Leg", f"{s}Foot") for s in sides),
            "arm": 0.5 * sum(length(f"{s}Arm", f"{s}ForeArm", f"{s}Hand") for s in sides),
            "torso": length("Hips", "Spine", "Spine1", "Spine2", "Neck", "Head", "HeadTop")}


def _reference_lengths() -> dict[str, float]:
    rest = RIG.rest_positions()
    tips = [rest[RIG.index(parent)] + np.array(RIG.end_sites[parent]) for parent in TIP_PARENTS.values()]
    return _segment_lengths(np.concatenate([rest, tips]))


def proportions(motion: BVHMotion) -> dict[str, float]:
    """Segment lengths of a take's skeleton (from its OFFSETs, so any rest pose works), file units.

    CMU's ASF-derived skeletons (MotionBuilder and 3ds Max flavours) have a trunk about a third
    shorter relative to the legs than a person's; :func:`retarget` uses these lengths to restore
    human proportions. The entry ``"neck_scale"`` (dimensionless) is the factor on the Neck-Head
    bone that makes the retargeted rest pose stand its full height (:func:`neck_scale`).
    """
    rest = BVHMotion(motion.skeleton, motion.frame_time, np.zeros((1, motion.skeleton.num_channels)))
    pose = driving_poses(rest)
    lengths = _segment_lengths(pose[0])
    return lengths | {"neck_scale": neck_scale(pose, lengths)}


def neck_scale(rest: np.ndarray, lengths: dict[str, float]) -> float:
    """Factor on the Neck-Head bone that lifts a low-set head to adult height, >= 1.

    Retargeting matches the trunk's bone-chain length (hips to head top) to the reference rig's,
    but a family whose head joint sits low above the neck joint falls short of the stature: the
    DAZ skeletons' Neck-Head bone is 7 cm for a 1.73 m figure where the CMU families' is 14-15 cm
    (their head joint at the skull base, 14.5 cm below the vertex, as in adults), and they stood
    1.66 m to the head top. The bone is lengthened along its captured direction until the rest pose
    (T-pose, every channel zero) stands :data:`REFERENCE_STATURE_M` to the head top. Skeletons that
    already stand that tall (the CMU families, 0.8-1.8 cm over) keep their necks.

    Args:
        rest: (1, 27, 3) driving rest pose, file units.
        lengths: its segment lengths (:func:`_segment_lengths`).
    """
    standing = retarget(rest, lengths, Appearance())[0]
    stature = standing[_IDX["HeadTop"], 1]
    rise = standing[_IDX["Head"], 1] - standing[_IDX["Neck"], 1]
    if rise <= 0.0:
        return 1.0
    return max(1.0, 1.0 + (REFERENCE_STATURE_M - stature) / rise)


def floor_height(poses: np.ndarray, scale: float) -> float:
    """Height of the floor under (F, 27, 3) poses: a low percentile of each frame's lowest sole point.

    ``scale`` is the figure's stature over the 1.73 m reference (sole depths scale with it).
    """
    soles = np.stack([poses[:, _IDX[j], 1] - depth * scale for j, depth in _SOLE_DEPTH.items()], axis=1)
    return float(np.percentile(soles.min(axis=1), FLOOR_PERCENTILE))


def retarget(poses: np.ndarray, lengths: dict[str, float], look: Appearance) -> np.ndarray:
    """Scale (F, 27, 3) poses to ``look.height_m`` with human proportions, then stand them on the floor.

    Args:
        poses: driving poses in the take's units.
        lengths: the take's leg, arm and torso lengths in the same units and its ``neck_scale``
            (:func:`proportions`; without it the neck is kept).
        look: target height and proportion factors.

    The legs set the scale (the hips keep their path, scaled); arm and torso segments are then
    lengthened or shortened along their captured directions to the reference proportions of the
    rig times the look's factors; the Neck-Head bone also by ``neck_scale``.
    """
    reference = _reference_lengths()
    size = look.height_m / REFERENCE_STATURE_M
    poses = poses * (size * reference["leg"] / lengths["leg"])
    factors = np.ones(len(DRIVER_JOINTS))
    for segment, joints in _SEGMENTS.items():
        natural = (reference[segment] / reference["leg"]) / (lengths[segment] / lengths["leg"])
        factors[[_IDX[j] for j in joints]] = getattr(look, f"{segment}_scale") * (1.0 if segment == "leg" else natural)
    factors[_IDX["Head"]] *= lengths.get("neck_scale", 1.0)
    if np.any(factors != 1.0):
        out = poses.copy()
        for joint, parent in enumerate(DRIVER_PARENTS):
            if parent >= 0:
                out[:, joint] = out[:, parent] + factors[joint] * (poses[:, joint] - poses[:, parent])
        poses = out
    poses[..., 1] -= floor_height(poses, look.height_m / REFERENCE_STATURE_M)
    return poses


def load_performer(path: str | Path, look: Appearance, fps: float, start_s: float = 0.0,
                   duration_s: float | None = None, source_fps: float | None = None) -> PerformerMotion:
    """Read a BVH take and make it a performer's motion.

    Args:
        path: BVH file (CMU MotionBuilder, 3ds Max or DAZ naming).
        look: the performer's appearance (height and proportions are applied).
        fps: output frame rate.
        start_s: skip this many seconds of the take.
        duration_s: keep at most this many seconds (``None``: to the end).
        source_fps: the take's true frame rate where its header's Frame Time is wrong (some CMU
            conversions say 120 for 60 Hz data); ``None`` trusts the header.

    Raises:
        FileNotFoundError, BVHError: unreadable or unknown BVH.
    """
    motion = read_bvh(path)
    poses = driving_poses(motion)
    rate = source_fps or motion.fps
    first = int(round(start_s * rate))
    last = motion.num_frames if duration_s is None else min(motion.num_frames, first + int(round(duration_s * rate)))
    if first >= last:
        raise BVHError(f"The take lasts {motion.num_frames / rate:.1f} s; --start {start_s} leaves nothing.", str(path))
    poses = resample(poses[first:last], rate, fps)
    return PerformerMotion(poses=retarget(poses, proportions(motion), look), fps=fps, source=Path(path).name)


def arrange(motions: list[PerformerMotion], spacing_m: float = 1.2, overlap_m: float = 0.5) -> list[PerformerMotion]:
    """Place several performers on one stage and centre the group on the origin.

    Takes recorded together (e.g. a salsa couple) keep their relative placement. Performers whose
    hips would overlap (takes recorded separately, all near the capture origin) are spread along x,
    ``spacing_m`` apart.
    """
    count = min(m.num_frames for m in motions)
    hips = np.stack([m.poses[:count, _IDX["Hips"]] for m in motions])  # (P, F, 3)
    offsets = np.zeros((len(motions), 3))
    for i in range(1, len(motions)):
        distance = np.linalg.norm((hips[i] - hips[:i])[..., [0, 2]], axis=-1).mean(axis=-1).min()
        if distance < overlap_m:
            offsets[i, 0] = spacing_m * ((i + 1) // 2) * (1 if i % 2 else -1)
    centre = (hips + offsets[:, None]).reshape(-1, 3).mean(axis=0)
    centre[1] = 0.0
    return [PerformerMotion(poses=m.poses[:count] + offsets[i] - centre, fps=m.fps, source=m.source)
            for i, m in enumerate(motions)]
