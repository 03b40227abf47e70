"""The root's distance from the camera: measured from the body's own size in pixels, then filtered.

One camera fixes a body's depth only through its size in pixels. :func:`reprojecting_root` measures
it for a fitted pose without any other term of the fit (planted feet, temporal terms) pulling on it,
and :class:`DepthSmoothing` configures the alpha-beta filter the fitter runs on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .camera import FitCamera

#: Roots closer to the camera than this (metres) are not depth-filtered.
MIN_SMOOTHED_DEPTH_M = 0.1
#: Cauchy scale (pixels) and number of reweightings of the depth measurement.
REPROJECTION_CAUCHY_PX = 8.0
REPROJECTION_REWEIGHTS = 2
#: Joints below this confidence are not used, and fewer than ``MIN_JOINTS`` seen ones give no measurement.
MIN_CONFIDENCE = 0.1
MIN_JOINTS = 5


@dataclass(frozen=True)
class DepthSmoothing:
    """An alpha-beta (steady-state Kalman) filter on the root's distance from the camera.

    One camera fixes a body's depth only through its size in pixels, which detector noise makes
    jitter by several centimetres per frame; every joint then slides back and forth along the
    viewing ray, and planted feet skate. After each solve the root is moved along its viewing ray
    (which changes the 2D projection very little) to the filtered depth.

    Attributes:
        alpha: share of each frame's depth innovation taken into the depth.
        beta: share taken into the depth velocity.
        reset_m: an innovation this large (metres) restarts the filter at the measured depth.
    """

    alpha: float = 0.2
    beta: float = 0.02
    reset_m: float = 0.75


def _solve_3x3(matrix: np.ndarray, rhs: np.ndarray) -> np.ndarray | None:
    """``matrix^-1 rhs`` for a (3, 3) system by cofactors (far cheaper than LAPACK at this size);
    ``None`` when it is (nearly) singular."""
    (a, b, c), (d, e, f), (g, h, i) = matrix.tolist()
    cofactors = [e * i - f * h, c * h - b * i, b * f - c * e,
                 f * g - d * i, a * i - c * g, c * d - a * f,
                 d * h - e * g, b * g - a * h, a * e - b * d]
    det = a * cofactors[0] + b * cofactors[3] + c * cofactors[6]
    if abs(det) < 1e-12:
        return None
    return np.array(cofactors).reshape(3, 3) @ rhs / det


def reprojecting_root(relative: np.ndarray, joints2d: np.ndarray, confidence: np.ndarray,
                      camera: FitCamera) -> np.ndarray | None:
    """(3,) root position that best reprojects a root-relative pose (J, 3) onto 2D joints (J, 2), or ``None``.

    Each seen joint gives two linear equations ``(a r_3 - r_k) . (T + x_j - C) = 0`` in the root
    ``T`` (``a``: normalised image coordinate, ``r_k``: rows of the world-to-camera rotation);
    the least-squares solution is reweighted twice with a Cauchy loss against outliers.
    """
    conf = np.asarray(confidence, dtype=np.float64)  # (a NaN confidence fails the comparison below)
    seen = np.isfinite(joints2d).all(axis=1) & (conf >= MIN_CONFIDENCE) & np.isfinite(relative).all(axis=1)
    if seen.sum() < MIN_JOINTS:
        return None
    R_cw = camera.R_wc.T
    norm = (joints2d[seen] - camera.K[:2, 2]) / camera.K[[0, 1], [0, 1]]
    rows = (norm[:, :, None] * R_cw[2][None, None, :] - R_cw[:2][None, :, :]).reshape(-1, 3)  # (2N, 3)
    rhs = np.einsum("nk,nk->n", rows, camera.t_wc - np.repeat(relative[seen], 2, axis=0))
    weight = np.repeat(conf[seen], 2)  # squared weights of the rows
    root = None
    for _ in range(REPROJECTION_REWEIGHTS + 1):
        weighted = rows.T * weight  # (3, 2N)
        solved = _solve_3x3(weighted @ rows, weighted @ rhs)  # normal equations, cheaper than lstsq here
        if solved is None:
            break
        root = solved
        depth = max(float(camera.to_camera(root)[2]), MIN_SMOOTHED_DEPTH_M)
        error = (rows @ root - rhs) / depth  # normalised image units
        scale = REPROJECTION_CAUCHY_PX / camera.K[0, 0]
        weight = np.repeat(conf[seen], 2) / (1.0 + (error / scale) ** 2)
    return root if root is not None and np.isfinite(root).all() else None
