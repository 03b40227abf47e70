"""Pose-accuracy metrics shared by every evaluation (``mocap eval fitting``, ``mocap eval video``).

All functions take plain arrays in metres (or pixels), skip NaN joints and frames, and return NaN
when nothing was comparable, so a caller never has to special-case a performer that was not seen.
"""

from __future__ import annotations

import numpy as np

from ..skeletons import RIG

#: Ground-truth contact: within this height of the foot's lowest height, metres ...
CONTACT_HEIGHT_M = 0.05
#: ... and moving less than this per frame (horizontal), metres.
CONTACT_STEP_M = 0.01
FOOT_JOINTS = RIG.indices(["LeftFoot", "RightFoot", "LeftToeBase", "RightToeBase"])
#: Fewest comparable joints for a frame to count in MPJPE / PA-MPJPE.
MIN_JOINTS = 4


def procrustes_align(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """``pred`` (N, 3) aligned to ``gt`` (N, 3) by the best rotation, scale and translation."""
    mp, mg = pred.mean(axis=0), gt.mean(axis=0)
    p, g = pred - mp, gt - mg
    u, s, vt = np.linalg.svd(p.T @ g)
    d = np.sign(np.linalg.det(u @ vt)) or 1.0
    s[-1] *= d
    u[:, -1] *= d
    rotation = u @ vt
    scale = s.sum() / max((p**2).sum(), 1e-12)
    return scale * p @ rotation + mg


def joint_errors(pred: np.ndarray, gt: np.ndarray) -> tuple[list[float], list[float]]:
    """Per-frame MPJPE and PA-MPJPE (metres) of root-relative (F, J, 3) arrays (NaN joints skipped).

    Frames with fewer than :data:`MIN_JOINTS` comparable joints are left out of both lists.
    """
    mp, pa = [], []
    for p, g in zip(pred, gt, strict=True):
        ok = np.isfinite(p).all(axis=1) & np.isfinite(g).all(axis=1)
        if ok.sum() < MIN_JOINTS:
            continue
        mp.append(float(np.linalg.norm(p[ok] - g[ok], axis=1).mean()))
        pa.append(float(np.linalg.norm(procrustes_align(p[ok], g[ok]) - g[ok], axis=1).mean()))
    return mp, pa


def accel_error(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean |a_pred - a_gt| (units per frame^2) of (F, J, 3) sequences; NaN frames are skipped."""
    accel_p = pred[2:] - 2 * pred[1:-1] + pred[:-2]
    accel_g = gt[2:] - 2 * gt[1:-1] + gt[:-2]
    err = np.linalg.norm(accel_p - accel_g, axis=-1)
    return float(np.nanmean(err)) if np.isfinite(err).any() else float("nan")


def foot_skate(est: np.ndarray, gt: np.ndarray) -> float:
    """Mean horizontal step (metres/frame) of feet in ground-truth contact; (F, J, 3) rig world arrays.

    A foot joint is in contact between two frames when the ground truth has it within
    :data:`CONTACT_HEIGHT_M` of its lowest height and moving less than :data:`CONTACT_STEP_M`.
    """
    steps = []
    for joint in FOOT_JOINTS:
        g = gt[:, joint]
        if not np.isfinite(g).all():
            continue
        low = np.nanpercentile(g[:, 1], 2.0)
        gt_step = np.linalg.norm(np.diff(g[:, [0, 2]], axis=0), axis=1)
        low_enough = g[:, 1] < low + CONTACT_HEIGHT_M
        planted = low_enough[1:] & low_enough[:-1] & (gt_step < CONTACT_STEP_M)
        est_step = np.linalg.norm(np.diff(est[:, joint][:, [0, 2]], axis=0), axis=1)
        steps.append(est_step[planted & np.isfinite(est_step)])
    pooled = np.concatenate(steps) if steps else np.array([])
    return float(pooled.mean()) if len(pooled) else float("nan")


def pck(pred: np.ndarray, gt: np.ndarray, threshold: float) -> float:
    """Fraction (0..1) of comparable joints of (..., J, 3) arrays within ``threshold`` of the truth."""
    err = np.linalg.norm(pred - gt, axis=-1)
    err = err[np.isfinite(err)]
    return float((err < threshold).mean()) if len(err) else float("nan")


def id_switches(owners: np.ndarray) -> int:
    """How often the id covering one ground-truth performer changes; ``owners`` (F,) ints, -1 = none."""
    ids = owners[owners >= 0]
    return int(np.count_nonzero(np.diff(ids)))
