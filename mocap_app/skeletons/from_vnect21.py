"""Any keypoint set's joints placed on a ``vnect21`` body (e.g. a lifted 3D pose in a detector's joint set).

A 2D-only front end (COCO-17, BlazePose-33) is lifted to a ``vnect21`` pose; its observation keeps
its own joint set, so the 3D must be expressed in that set too. Rules, in order:

1. COCO-17 joints (also BlazePose's, which has them under the same names) come from
   :func:`~mocap_app.skeletons.face.coco17_from_vnect21`: body joints by name, the face from the head.
2. Any other joint that the set's own mapping to ``vnect21`` (or ``mpi3dhp17``) reads from exactly
   one joint takes that joint's position (e.g. BlazePose ``left_foot_index`` <- ``left_toe``).
3. Everything else stays NaN (e.g. BlazePose's heels, mouth and eye corners).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from .face import coco17_from_vnect21
from .keypoint_sets import COCO17, MPI3DHP17, VNECT21
from .mappings import SKELETONS, get_mapping, get_skeleton


@cache
def _single_sources(joint_set: str) -> tuple[tuple[int, int], ...]:
    """(index in ``joint_set``, index in vnect21) for joints that a mapping to vnect21 reads one to one."""
    pairs: dict[int, int] = {}
    for target in (VNECT21, MPI3DHP17):
        try:
            weights = get_mapping(joint_set, target.name).weights
        except KeyError:
            continue
        for row, joint in enumerate(target.joints):
            sources = np.flatnonzero(weights[row])
            if len(sources) == 1:
                pairs.setdefault(int(sources[0]), VNECT21.index(joint))
    return tuple(sorted(pairs.items()))


def supports(joint_set: str) -> bool:
    """Whether :func:`keypoints_from_vnect21` can place the joints of ``joint_set`` (known and mapped)."""
    return joint_set in SKELETONS and bool(_single_sources(joint_set))


def keypoints_from_vnect21(points: np.ndarray, joint_set: str) -> np.ndarray:
    """(..., 21, 3) ``vnect21`` points -> (..., J, 3) points of ``joint_set`` (float64, NaN where unknown).

    Raises:
        KeyError: the joint set has no mapping to ``vnect21`` or ``mpi3dhp17``.
    """
    points = np.asarray(points, dtype=np.float64)
    schema = get_skeleton(joint_set)
    if not supports(joint_set):
        raise KeyError(f"Joint set {joint_set!r} has no mapping to {VNECT21.name} or {MPI3DHP17.name}.")
    result = np.full(points.shape[:-2] + (schema.num_joints, 3), np.nan)
    for own, body in _single_sources(joint_set):
        result[..., own, :] = points[..., body, :]
    shared = [joint for joint in COCO17.joints if joint in schema.joints]
    if joint_set not in (VNECT21.name, MPI3DHP17.name) and shared:
        coco = coco17_from_vnect21(points)
        result[..., schema.indices(shared), :] = coco[..., COCO17.indices(shared), :]
    return result
