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


def measure_metric_scale(joints2d: np.ndarray, confidence: np.ndarray, joints3d: np.ndarray,
                         camera: FitCamera, default_height_m: float) -> float | None:
    """Metres per unit of a root-relative 3D observation, from the foot ray and head billboard.

    The billboard of :func:`measure_height` is intersected with the rays of *every* seen joint;
    the heights found there, compared with the same joints' heights in the 3D observation (both
    measured from the ankles), give the 3D's scale. More robust than the head alone, and
    independent of where a detector puts its "head" keypoint.

    Args:
        joints2d, confidence: (J, 2) undistorted rig-joint pixels and (J,) confidences.
        joints3d: (J, 3) root-relative rig joints, world axes (NaN = missing).
        camera: must have a calibrated floor, else ``None`` is returned.
        default_height_m: used for the ankles' height above the floor.
    """
    if not camera.has_floor:
        return None
    conf = np.nan_to_num(confidence)
    feet = [RIG.index(name) for name in _FEET if conf[RIG.index(name)] >= MIN_CONFIDENCE]
    if not feet or not np.isfinite(joints2d[feet]).all() or not np.isfinite(joints3d[feet]).all():
        return None
    up = np.array([0.0, 1.0, 0.0])
    ankle_y = ANKLE_FRACTION * default_height_m
    ground = _ray_plane(camera.t_wc, camera.rays(joints2d[feet].mean(axis=0)), np.array([0.0, ankle_y, 0.0]), up)
    if ground is None:
        return None
    facing = camera.t_wc - ground
    facing[1] = 0.0
    if np.linalg.norm(facing) < 1e-6:
        return None
    normal = facing / np.linalg.norm(facing)
    base_3d = joints3d[feet, 1].mean()
    ratios = []
    for joint in range(RIG.num_joints):
        rise_3d = joints3d[joint, 1] - base_3d
        if conf[joint] < MIN_CONFIDENCE or not np.isfinite(joints2d[joint]).all() or not rise_3d > 0.3 * 0.5:
            continue
        point = _ray_plane(camera.t_wc, camera.rays(joints2d[joint]), ground, normal)
        if point is not None:
            ratios.append((point[1] - ankle_y) / rise_3d)
    if len(ratios) < 3:
        return None
    scale = float(np.median(ratios))
    return scale if 0.2 < scale < 5.0 else None
