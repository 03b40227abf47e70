"""Per-performer bone lengths: the rig's proportions measured from the first frames, then fixed.

As in VNect/XNect, the relative bone lengths come from averaging the 3D predictions over the
first frames of an identity, and the absolute scale from the performer's height (measured on a
calibrated floor, otherwise the default height: XNect's "all persons share one height"). Each
measured *segment* is a pair of observed rig joints; the rest offsets on the rig chain between
them are scaled together, left and right averaged (people are near symmetric and it halves the
noise). Segments that are never observed keep the rig's proportions.
"""

from __future__ import annotations

import numpy as np

from ..skeletons import RIG, RIG_REST_HEIGHT_M

#: Smallest/largest factor a measured segment may scale its rest offsets by (rejects garbage).
SEGMENT_SCALE_RANGE = (0.6, 1.6)
#: Fewest valid samples before a segment is measured.
MIN_SAMPLES = 3

#  from joint      to joint        rest offsets scaled (x-only for widths)
_SEGMENTS: tuple[tuple[str, str, tuple[str, ...], bool], ...] = (
    ("LeftUpLeg",   "LeftLeg",      ("LeftLeg",), False),
    ("LeftLeg",     "LeftFoot",     ("LeftFoot",), False),
    ("LeftFoot",    "LeftToeBase",  ("LeftToeBase",), False),
    ("LeftArm",     "LeftForeArm",  ("LeftForeArm",), False),
    ("LeftForeArm", "LeftHand",     ("LeftHand",), False),
    ("Hips",        "Spine1",       ("Spine", "Spine1"), False),
    ("Spine1",      "Neck",         ("Spine2", "Neck"), False),
    ("Neck",        "Head",         ("Head",), False),
    ("LeftUpLeg",   "RightUpLeg",   ("LeftUpLeg", "RightUpLeg"), True),
    ("LeftArm",     "RightArm",     ("LeftShoulder", "LeftArm", "RightShoulder", "RightArm"), True),
)


def _mirror_name(name: str) -> str:
    return name.replace("Left", "Right") if name.startswith("Left") else name


def segment_lengths(samples: np.ndarray) -> dict[int, float]:
    """Median length of each measurable segment.

    Args:
        samples: (N, J, 3) rig-joint positions from N frames, metres (NaN = missing).

    Returns:
        segment row index -> length, metres, for segments with at least ``MIN_SAMPLES`` samples
        (left and right sides pooled).
    """
    result = {}
    for row, (a, b, _, is_width) in enumerate(_SEGMENTS):
        pairs = [(a, b)] if is_width or not a.startswith("Left") and not b.startswith("Left") else [
            (a, b), (_mirror_name(a), _mirror_name(b))]
        lengths = []
        for first, second in pairs:
            d = np.linalg.norm(samples[:, RIG.index(first)] - samples[:, RIG.index(second)], axis=-1)
            lengths.append(d[np.isfinite(d)])
        pooled = np.concatenate(lengths)
        if len(pooled) >= MIN_SAMPLES:
            result[row] = float(np.median(pooled))
    return result


def rig_height(offsets: np.ndarray) -> float:
    """Standing height of a rig with these rest offsets: floor (lowest toe/foot) to head top, metres."""
    positions = np.zeros((RIG.num_joints, 3))
    for index, parent in enumerate(RIG.parents):
        positions[index] = (positions[parent] if parent >= 0 else 0.0) + (offsets[index] if parent >= 0 else 0.0)
    rest_scale = np.linalg.norm(offsets[RIG.index("Head")]) / np.linalg.norm(RIG.rest_offsets[RIG.index("Head")])
    head_top = positions[RIG.index("Head"), 1] + RIG.end_sites["Head"][1] * rest_scale
    return float(head_top - positions[:, 1].min())


def estimate_offsets(samples: np.ndarray | None, height_m: float) -> np.ndarray:
    """Rest offsets of a performer: measured proportions, scaled to ``height_m``.

    Args:
        samples: (N, J, 3) rig-joint positions (any consistent units; only ratios are used), or
            ``None`` for the rig's own proportions.
        height_m: the performer's standing height, metres.

    Returns:
        (J, 3) rest offsets, metres; row 0 (the root) is the rig's.
    """
    offsets = RIG.rest_offsets.copy()
    measured = {} if samples is None or not len(samples) else segment_lengths(np.asarray(samples, dtype=np.float64))
    factors = {}
    for row, length in measured.items():
        a, _, scaled, is_width = _SEGMENTS[row]
        idx = RIG.indices(list(scaled))
        rest = abs(RIG.rest_offsets[idx, 0]).sum() if is_width else np.linalg.norm(RIG.rest_offsets[idx].sum(axis=0))
        factors[row] = length / max(rest, 1e-6)
    # Only proportions are kept (the 3D may be in other units); the height sets the size below.
    overall = float(np.median(list(factors.values()))) if factors else 1.0
    for row, factor in factors.items():
        a, _, scaled, is_width = _SEGMENTS[row]
        factor = float(np.clip(factor / overall, *SEGMENT_SCALE_RANGE))
        chains = [scaled] if is_width or not a.startswith("Left") else [scaled, tuple(map(_mirror_name, scaled))]
        for chain in chains:
            idx = RIG.indices(list(chain))
            if is_width:
                offsets[idx, 0] = RIG.rest_offsets[idx, 0] * factor
            else:
                offsets[idx] = RIG.rest_offsets[idx] * factor
    offsets *= height_m / rig_height(offsets)
    offsets[0] = RIG.rest_offsets[0] * height_m / RIG_REST_HEIGHT_M
    return offsets


def skeleton_scale_ratio(samples: np.ndarray, offsets: np.ndarray) -> float:
    """Factor that brings observed 3D (N, J, 3) to the size of a rig with ``offsets``.

    The ratio of the summed median lengths of the measurable segments on the rig and in the
    samples; 1 when nothing can be measured. Used to retarget Stage II's 3D to the fixed skeleton.
    """
    observed = segment_lengths(np.asarray(samples, dtype=np.float64))
    if not observed:
        return 1.0
    rest = np.zeros((RIG.num_joints, 3))
    for index, parent in enumerate(RIG.parents):
        if parent >= 0:
            rest[index] = rest[parent] + offsets[index]
    own = segment_lengths(np.repeat(rest[None], MIN_SAMPLES, axis=0))
    total = sum(observed[row] for row in observed if row in own)
    return float(sum(own[row] for row in observed if row in own) / total) if total > 0 else 1.0
