"""Per-performer bone lengths: the rig's proportions measured from the first frames, then fixed.

As in VNect/XNect, the relative bone lengths come from averaging the 3D predictions over the
first frames of an identity, and the absolute scale from the performer's height (measured on a
calibrated floor, otherwise the default height: XNect's "all persons share one height"). Each
measured *segment* is a pair of observed rig joints; the rest offsets on the rig chain between
them are scaled together, left and right averaged (people are near symmetric and it halves the
noise). Segments that are never observed keep the rig's proportions.

Lengths alone cannot move a joint sideways, so the two rigid "girdles" get their full shape from
the observations (:func:`girdle_shape`): where the hip joints sit relative to the pelvis joint
(CMU skeletons: 10 cm below it, DAZ: 3 cm above, the rig: 5 cm below) and the shoulder joints
relative to the neck. Otherwise even perfect input would leave those joints centimetres off.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..skeletons import RIG, RIG_REST_HEIGHT_M

#: Smallest/largest factor a measured segment may scale its rest offsets by (rejects garbage).
SEGMENT_SCALE_RANGE = (0.6, 1.6)
#: Fewest valid samples before a segment is measured. One: a performer is sized from their first
#: frame on. One frame gives a noisy length, but leaving segments at the rig's proportions until
#: three have come in made the size jump by up to 8% between the first re-sizes.
MIN_SAMPLES = 1

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


def _segment_pairs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Joint index pairs of every segment's left and right side (``from``, ``to``: (2, R) each; a
    segment without sides measures one pair, twice), and whether the second one is a real mirror."""
    first, second, mirrored = [], [], []
    for a, b, _, is_width in _SEGMENTS:
        single = is_width or not a.startswith("Left") and not b.startswith("Left")
        first.append(RIG.indices([a, a if single else _mirror_name(a)]))
        second.append(RIG.indices([b, b if single else _mirror_name(b)]))
        mirrored.append(not single)
    return np.array(first).T, np.array(second).T, np.array(mirrored)


_PAIR_FROM, _PAIR_TO, _MIRRORED = _segment_pairs()


def segment_lengths(samples: np.ndarray) -> dict[int, float]:
    """Median length of each measurable segment.

    Args:
        samples: (N, J, 3) rig-joint positions from N frames, metres (NaN = missing).

    Returns:
        segment row index -> length, metres, for segments with at least ``MIN_SAMPLES`` samples
        (left and right sides pooled).
    """
    # All segments at once (this runs on every re-size): (2, N, R) lengths, one sort, NaNs sorted last.
    d = np.linalg.norm(samples[:, _PAIR_FROM] - samples[:, _PAIR_TO], axis=-1).transpose(1, 0, 2)
    d[1, :, ~_MIRRORED] = np.nan  # (a segment without sides counts once)
    d = np.sort(d.reshape(-1, len(_SEGMENTS)), axis=0)
    count = np.isfinite(d).sum(axis=0)
    columns = np.arange(len(_SEGMENTS))
    median = 0.5 * (d[np.maximum(count - 1, 0) // 2, columns] + d[count // 2 - (count == 0), columns])
    return {row: float(median[row]) for row in columns if count[row] >= max(MIN_SAMPLES, 1)}


def _scaled_chains() -> tuple[list[list[np.ndarray]], list[float]]:
    """Per segment row: the joint index arrays whose rest offsets it scales (a left chain and its
    mirror), and the rig's own length of the segment (x extent for widths), metres."""
    chains, rest_lengths = [], []
    for a, _, scaled, is_width in _SEGMENTS:
        names = [scaled] if is_width or not a.startswith("Left") else [scaled, tuple(map(_mirror_name, scaled))]
        chains.append([np.array(RIG.indices(list(chain))) for chain in names])
        idx = chains[-1][0]
        rest = abs(RIG.rest_offsets[idx, 0]).sum() if is_width else np.linalg.norm(RIG.rest_offsets[idx].sum(axis=0))
        rest_lengths.append(max(float(rest), 1e-6))
    return chains, rest_lengths


_SCALED_CHAINS, _REST_LENGTHS = _scaled_chains()
#: (from joint, to joint) -> segment row, for naming segments from outside (bias factors).
_SEGMENT_ROWS = {(a, b): row for row, (a, b, _, _) in enumerate(_SEGMENTS)}


def rig_height(offsets: np.ndarray) -> float:
    """Standing height of a rig with these rest offsets: floor (lowest toe/foot) to head top, metres."""
    positions = np.zeros((RIG.num_joints, 3))
    for index, parent in enumerate(RIG.parents):
        positions[index] = (positions[parent] if parent >= 0 else 0.0) + (offsets[index] if parent >= 0 else 0.0)
    rest_scale = np.linalg.norm(offsets[RIG.index("Head")]) / np.linalg.norm(RIG.rest_offsets[RIG.index("Head")])
    head_top = positions[RIG.index("Head"), 1] + RIG.end_sites["Head"][1] * rest_scale
    return float(head_top - positions[:, 1].min())


def estimate_offsets(samples: np.ndarray | None, height_m: float, lengths: dict[int, float] | None = None,
                     bias: Mapping[tuple[str, str], float] | None = None) -> np.ndarray:
    """Rest offsets of a performer: measured proportions, scaled to ``height_m``.

    Args:
        samples: (N, J, 3) rig-joint positions (any consistent units; only ratios are used), or
            ``None`` for the rig's own proportions.
        height_m: the performer's standing height, metres.
        lengths: ``segment_lengths(samples)`` when the caller has it already (saves measuring twice).
        bias: (from joint, to joint) segment -> factor on its measured length relative to the others:
            the known bias of the 3D's joint set (``mocap_app.skeletons.bone_length_bias``).

    Returns:
        (J, 3) rest offsets, metres; row 0 (the root) is the rig's.
    """
    offsets = RIG.rest_offsets.copy()
    if samples is None or not len(samples):
        measured = {}
    else:
        measured = segment_lengths(np.asarray(samples, dtype=np.float64)) if lengths is None else lengths
    factors = {row: length / _REST_LENGTHS[row] for row, length in measured.items()}
    bias_rows = {_SEGMENT_ROWS[segment]: float(factor) for segment, factor in (bias or {}).items()}
    # Only proportions are kept (the 3D may be in other units); the height sets the size below.
    overall = float(np.median(list(factors.values()))) if factors else 1.0
    for row, factor in factors.items():
        is_width = _SEGMENTS[row][3]
        factor = min(max(factor / overall, SEGMENT_SCALE_RANGE[0]), SEGMENT_SCALE_RANGE[1]) * bias_rows.get(row, 1.0)
        for idx in _SCALED_CHAINS[row]:
            if is_width:
                offsets[idx, 0] = RIG.rest_offsets[idx, 0] * factor
            else:
                offsets[idx] = RIG.rest_offsets[idx] * factor
    if samples is not None and len(samples):
        _apply_girdles(offsets, np.asarray(samples, dtype=np.float64), overall)
    offsets *= height_m / rig_height(offsets)
    offsets[0] = RIG.rest_offsets[0] * height_m / RIG_REST_HEIGHT_M
    return offsets


def girdle_shape(samples: np.ndarray, centre: str, left: str, right: str) -> np.ndarray | None:
    """Median shape of a left/right joint pair around a centre joint, in the body's own frame.

    The frame of each sample: x from the right joint to the left one, y the body's up (``Neck -
    Hips``) made perpendicular to x, z = x cross y (forward). Rigid "girdles" (the pelvis: Hips and
    both hip joints; the shoulder line: Neck and both shoulder joints) have a fixed shape there,
    which segment lengths alone cannot express: CMU skeletons put the hip joints 10 cm below the
    pelvis joint, DAZ ones 3 cm above it, the rig 5 cm below.

    Args:
        samples: (N, J, 3) rig-joint positions (NaN = missing).
        centre, left, right: rig joint names.

    Returns:
        (3,) ``(half_width, drop, forward)``: half the left-right distance, how far the pair's
        midpoint lies below the centre and in front of it, in the samples' units; ``None`` when
        fewer than ``MIN_SAMPLES`` frames show all of the joints.
    """
    c, lft, rgt = (samples[:, RIG.index(name)] for name in (centre, left, right))
    up = samples[:, RIG.index("Neck")] - samples[:, RIG.index("Hips")]
    ok = np.isfinite(np.concatenate([c, lft, rgt, up], axis=1)).all(axis=1)
    if ok.sum() < MIN_SAMPLES:
        return None
    c, lft, rgt, up = c[ok], lft[ok], rgt[ok], up[ok]
    x = lft - rgt
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)
    y = up - np.sum(up * x, axis=1, keepdims=True) * x
    y /= np.maximum(np.linalg.norm(y, axis=1, keepdims=True), 1e-9)
    z = np.cross(x, y)
    mid = 0.5 * (lft + rgt) - c
    return np.median(np.stack([0.5 * np.linalg.norm(lft - rgt, axis=1), -np.sum(mid * y, axis=1),
                               np.sum(mid * z, axis=1)], axis=1), axis=0)


def _apply_girdles(offsets: np.ndarray, samples: np.ndarray, unit: float) -> None:
    """Set the hip joints' and shoulders' rest offsets (in place) to the observed girdle shapes.

    ``unit`` is the samples' length per rig length (their median segment ratio).
    """
    pelvis = girdle_shape(samples, "Hips", "LeftUpLeg", "RightUpLeg")
    if pelvis is not None:
        half_width, drop, forward = pelvis / unit
        offsets[RIG.index("LeftUpLeg")] = (half_width, -drop, forward)
        offsets[RIG.index("RightUpLeg")] = (-half_width, -drop, forward)
    shoulders = girdle_shape(samples, "Neck", "LeftArm", "RightArm")
    if shoulders is not None:
        half_width, drop, forward = shoulders / unit
        neck = offsets[RIG.index("Neck")]
        for side, sign in (("Left", 1.0), ("Right", -1.0)):
            clavicle = offsets[RIG.index(side + "Shoulder")]
            inner = float(np.clip(abs(clavicle[0]), 0.0, 0.5 * half_width))
            offsets[RIG.index(side + "Shoulder")] = (sign * inner, neck[1] - drop, neck[2] + forward)
            offsets[RIG.index(side + "Arm")] = (sign * (half_width - inner), 0.0, 0.0)


def skeleton_scale_ratio(samples: np.ndarray, offsets: np.ndarray, lengths: dict[int, float] | None = None) -> float:
    """Factor that brings observed 3D (N, J, 3) to the size of a rig with ``offsets``.

    The ratio of the summed median lengths of the measurable segments on the rig and in the
    samples; 1 when nothing can be measured. Used to retarget Stage II's 3D to the fixed skeleton.
    ``lengths``: ``segment_lengths(samples)`` when the caller has it already.
    """
    observed = segment_lengths(np.asarray(samples, dtype=np.float64)) if lengths is None else lengths
    if not observed:
        return 1.0
    rest = np.zeros((RIG.num_joints, 3))
    for index, parent in enumerate(RIG.parents):
        if parent >= 0:
            rest[index] = rest[parent] + offsets[index]
    own = segment_lengths(np.repeat(rest[None], max(MIN_SAMPLES, 1), axis=0))
    total = sum(observed[row] for row in observed if row in own)
    return float(sum(own[row] for row in observed if row in own) / total) if total > 0 else 1.0
