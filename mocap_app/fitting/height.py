"""A performer's height from one calibrated camera: XNect's foot ray and head billboard.

When a performer first appears (Mehta et al. 2020, Ch. 8.3.3): the ray through their 2D feet meets
the floor where they stand; a vertical billboard there, facing the camera, meets the ray through
their head at the head's height. This is done once, over the first few frames, because feet do
not touch the floor in every frame later. Without a calibrated floor every performer gets the
default height (XNect's "all persons share one height"), so shorter people seem farther away.
"""

from __future__ import annotations

import logging

import numpy as np

from ..skeletons import RIG, RIG_REST_HEIGHT_M
from .camera import FitCamera

logger = logging.getLogger(__name__)

#: Heights outside this range (metres) are measurement failures (person off the floor, bad 2D).
PLAUSIBLE_HEIGHT_M = (1.0, 2.3)
#: Smallest joint confidence used for the measurement.
MIN_CONFIDENCE = 0.3
_FEET = ("LeftFoot", "RightFoot")
_HEAD = "Head"
_REST = RIG.rest_positions()
_FLOOR_Y = _REST[:, 1].min() - 0.01  # soles are about 1 cm under the toe joints
#: Fraction of the standing height at which the rig's ankle and head joints sit.
ANKLE_FRACTION = float((_REST[RIG.index("LeftFoot"), 1] - _FLOOR_Y) / RIG_REST_HEIGHT_M)
HEAD_FRACTION = float((_REST[RIG.index(_HEAD), 1] - _FLOOR_Y) / RIG_REST_HEIGHT_M)
_FOOT_JOINTS = tuple(RIG.indices(["LeftFoot", "RightFoot", "LeftToeBase", "RightToeBase"]))
#: Standing height of each of ``_FOOT_JOINTS`` above the floor, as a fraction of the body height.
_FOOT_FRACTIONS = (_REST[list(_FOOT_JOINTS), 1] - _FLOOR_Y) / RIG_REST_HEIGHT_M
#: Weight of the "lowest foot on the floor" row against one joint's projection rows.
FLOOR_ROW_WEIGHT = 10.0


def _ray_plane(origin: np.ndarray, direction: np.ndarray, point: np.ndarray, normal: np.ndarray) -> np.ndarray | None:
    denom = float(direction @ normal)
    if abs(denom) < 1e-9:
        return None
    distance = float((point - origin) @ normal) / denom
    return origin + distance * direction if distance > 0 else None


def measure_height(joints2d: np.ndarray, confidence: np.ndarray, camera: FitCamera,
                   default_height_m: float) -> float | None:
    """Height of a standing performer in metres, or ``None`` when it cannot be measured.

    Args:
        joints2d: (J, 2) rig-joint pixels, undistorted (NaN = missing).
        confidence: (J,) rig-joint confidences.
        camera: a camera with a calibrated floor (``has_floor``); otherwise ``None`` is returned.
        default_height_m: used for the ankles' height above the floor (a few centimetres).
    """
    if not camera.has_floor:
        return None
    conf = np.nan_to_num(confidence)
    feet = [RIG.index(name) for name in _FEET if conf[RIG.index(name)] >= MIN_CONFIDENCE]
    head = RIG.index(_HEAD)
    if not feet or conf[head] < MIN_CONFIDENCE or not np.isfinite(joints2d[feet + [head]]).all():
        return None
    foot_pixel = joints2d[feet].mean(axis=0)
    up = np.array([0.0, 1.0, 0.0])
    ankle = np.array([0.0, ANKLE_FRACTION * default_height_m, 0.0])
    ground = _ray_plane(camera.t_wc, camera.rays(foot_pixel), ankle, up)
    if ground is None:
        return None
    facing = camera.t_wc - ground
    facing[1] = 0.0
    if np.linalg.norm(facing) < 1e-6:
        return None
    head_point = _ray_plane(camera.t_wc, camera.rays(joints2d[head]), ground, facing / np.linalg.norm(facing))
    if head_point is None:
        return None
    height = float(head_point[1] / HEAD_FRACTION)
    if not PLAUSIBLE_HEIGHT_M[0] <= height <= PLAUSIBLE_HEIGHT_M[1]:
        logger.debug("implausible measured height %.2f m ignored", height)
        return None
    return height


#: A height sample counts when its pose is within this much uprightness of the most upright one seen.
UPRIGHT_TOLERANCE = 0.08
_LEG_CHAINS = tuple(tuple(RIG.indices([side + joint for joint in ("Foot", "Leg", "UpLeg")]))
                    for side in ("Left", "Right"))
_TRUNK = tuple(RIG.indices(["Hips", "Neck", _HEAD]))


def uprightness(joints2d: np.ndarray, confidence: np.ndarray) -> float | None:
    """How upright and extended a pose stands in the image, about 1 standing straight.

    The head's height above the ankles in pixels over the length of the chain between them (ankle,
    knee, hip, pelvis, neck, head) in pixels: a crouch, a bow or bent knees shorten the first but
    not the second, while the camera's distance and perspective scale both alike. The head-billboard
    height of a crouching performer is short by as much; this says which samples to trust.

    Args:
        joints2d: (J, 2) rig-joint pixels (image y down, NaN = missing).
        confidence: (J,) rig-joint confidences.

    Returns:
        The ratio, or ``None`` when a joint of the head, trunk or both legs is not seen.
    """
    needed = [j for chain in _LEG_CHAINS for j in chain] + list(_TRUNK)
    conf = np.nan_to_num(confidence)
    if (conf[needed] < MIN_CONFIDENCE).any() or not np.isfinite(joints2d[needed]).all():
        return None
    legs = [np.linalg.norm(np.diff(joints2d[list(chain) + [_TRUNK[0]]], axis=0), axis=1).sum() for chain in _LEG_CHAINS]
    trunk = np.linalg.norm(np.diff(joints2d[list(_TRUNK)], axis=0), axis=1).sum()
    ankles = joints2d[[chain[0] for chain in _LEG_CHAINS], 1].mean()
    chain = 0.5 * (legs[0] + legs[1]) + trunk
    return float((ankles - joints2d[_TRUNK[2], 1]) / chain) if chain > 1e-6 else None


def standing_height(heights: list[float], upright: list[float | None]) -> float:
    """The performer's height from per-frame head-billboard samples, judged by how upright each pose is.

    The plain median let a performer who crouches in their first frames (a dance, a warm-up) come out
    a fifth too short; only the samples whose :func:`uprightness` is within ``UPRIGHT_TOLERANCE`` of
    the most upright seen so far count (all of them when no uprightness could be measured).

    Args:
        heights: per-frame heights from :func:`measure_height`, metres.
        upright: the same frames' :func:`uprightness` (``None`` where unknown).
    """
    values = np.asarray(heights, dtype=np.float64)
    ratio = np.array([np.nan if u is None else u for u in upright], dtype=np.float64)
    if np.isfinite(ratio).any():
        values = values[ratio >= np.nanmax(ratio) - UPRIGHT_TOLERANCE]
    return float(np.median(values))


def measure_metric_scale(joints2d: np.ndarray, confidence: np.ndarray, joints3d: np.ndarray,
                         camera: FitCamera, default_height_m: float) -> float | None:
    """Metres per unit of a root-relative 3D observation, from its 2D projection and the floor.

    A monocular view fixes a 3D pose only up to a scaling about the camera centre; the floor breaks
    that tie. The pose ``X`` (root-relative, world axes) is placed at ``T + s X``, and the four
    unknowns ``(T, s)`` are solved *linearly* (least squares) from every seen joint's projection
    (``(a_i r_3 - r_k) . (T + s X_i - C) = 0`` for the normalised image coordinates ``a_i``) and one
    floor row: the lowest foot joint (ankle or toe, after subtracting its standing height) rests
    on ``y = 0``. Using every joint makes it far less biased than a head-height billboard.

    Args:
        joints2d, confidence: (J, 2) undistorted rig-joint pixels and (J,) confidences.
        joints3d: (J, 3) root-relative rig joints, world axes (NaN = missing).
        camera: must have a calibrated floor, else ``None`` is returned.
        default_height_m: scales the foot joints' standing heights above the floor.

    Returns:
        The scale ``s``, or ``None`` when too little is seen or the result is implausible.
    """
    if not camera.has_floor:
        return None
    conf = np.nan_to_num(confidence)
    seen = (conf >= MIN_CONFIDENCE) & np.isfinite(joints2d).all(axis=1) & np.isfinite(joints3d).all(axis=1)
    feet = [k for k, j in enumerate(_FOOT_JOINTS) if np.isfinite(joints3d[j]).all()]
    if seen.sum() < 4 or not feet:
        return None
    R_cw = camera.R_wc.T
    norm = (joints2d[seen] - camera.K[:2, 2]) / camera.K[[0, 1], [0, 1]]  # (N, 2) normalised coordinates
    rows = norm[:, :, None] * R_cw[2][None, None, :] - R_cw[:2][None, :, :]  # (N, 2, 3)
    weight = np.sqrt(conf[seen])[:, None, None]
    rows = (rows * weight).reshape(-1, 3)
    points = np.repeat(joints3d[seen], 2, axis=0)
    A = np.concatenate([rows, np.einsum("nk,nk->n", rows, points)[:, None]], axis=1)
    b = rows @ camera.t_wc
    # The support point: the foot joint lowest relative to its own standing height.
    standing = _FOOT_FRACTIONS[feet] * default_height_m
    lowest = int(np.argmin(joints3d[np.array(_FOOT_JOINTS)[feet], 1] - standing))
    floor_row = np.array([0.0, 1.0, 0.0, joints3d[_FOOT_JOINTS[feet[lowest]], 1]])
    A = np.vstack([A, FLOOR_ROW_WEIGHT * floor_row])
    b = np.append(b, FLOOR_ROW_WEIGHT * standing[lowest])
    solution, *_ = np.linalg.lstsq(A, b, rcond=None)
    scale = float(solution[3])
    return scale if np.isfinite(scale) and 0.2 < scale < 5.0 else None
