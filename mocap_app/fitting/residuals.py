"""The Stage III energy as ONE vectorised pyceres cost function.

pyceres calls back into Python once per residual block and evaluation, so every term is evaluated
here together, in numpy, with an analytic Jacobian built from the rig's kinematic Jacobian
(:mod:`mocap_app.fitting.kinematics`). The terms follow XNect's Eq. 8.3 plus a prior and a foot
contact pin; each residual is in metres (or radians), multiplied by ``sqrt(weight)``:

==========  ==============================================================================
term        residual
==========  ==============================================================================
3D          ``sqrt(c_j) * ((p_j - p_root) - x3d_j)``: root-relative 3D, world axes
2D          Cauchy-robust ``sqrt(c_j) * (proj(p_j) - x2d_j) * z_root / f``: pixels at the
            performer's depth converted to metres, so 2D and 3D weights are comparable
limits      ``max(0, lo - q) + max(0, q - hi)``: soft anatomical limits, radians
prior       ``q - q_relaxed``: a weak pull towards a relaxed standing pose, radians
temporal    ``(p_j - (p_j[t-1] + v_j[t-1] dt)) * (dt_30 / dt)^2``: acceleration, expressed per
            30 fps frame so the weight does not depend on the frame rate
depth       ``(z_root - z_root[t-1]) * dt_30 / dt``: change of the root's camera depth
foot        ``p_foot - anchor`` for feet in contact with the floor (weight 0 otherwise)
==========  ==============================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyceres

from .kinematics import NUM_PARAMS, ROOT_DOFS, RigKinematics

#: Frame interval the temporal residuals are expressed in, seconds (30 fps).
NOMINAL_DT = 1.0 / 30.0
#: Points closer to the camera than this (metres) are not projected (their 2D residual is off).
MIN_DEPTH_M = 0.05


@dataclass(frozen=True)
class FitWeights:
    """Weights of the energy terms (each multiplies a squared residual; see the module table).

    The defaults were chosen on the CMU training clips with ``mocap eval fitting`` (never on the
    evaluation clips). They play the roles of XNect's w_3D, w_2D, w_lim, w_temp, w_depth; the
    numbers differ because our residuals are all in metres/radians rather than mixed units.

    Attributes:
        joints3d: root-relative 3D term.
        joints2d: reprojection term (metres at the performer's depth).
        robust_2d_m: Cauchy scale of the reprojection term, metres at the performer's depth.
        limits: soft joint limits.
        prior: pull towards the relaxed pose (keeps unobserved angles, e.g. twists, quiet).
        temporal: acceleration of every joint.
        depth: change of the root's depth along the camera axis.
        foot_contact: pin of a foot that is on the floor and still.
    """

    joints3d: float = 1.0
    joints2d: float = 4.0
    robust_2d_m: float = 0.05
    limits: float = 1.0
    prior: float = 1e-3
    temporal: float = 0.5
    depth: float = 2.0
    foot_contact: float = 20.0

    def __post_init__(self) -> None:
        for name in ("joints3d", "joints2d", "limits", "prior", "temporal", "depth", "foot_contact"):
            if not np.isfinite(getattr(self, name)) or getattr(self, name) < 0:
                raise ValueError(f"FitWeights.{name} must be a finite number >= 0, got {getattr(self, name)}.")
        if not self.robust_2d_m > 0:
            raise ValueError(f"FitWeights.robust_2d_m must be > 0, got {self.robust_2d_m}.")


@dataclass(frozen=True)
class FrameTargets:
    """Everything one frame's fit is pulled towards, already in the rig's joints.

    Attributes:
        joints3d: (J, 3) root-relative target positions, world axes, metres; rows with zero
            weight are ignored (NaN allowed there).
        weights3d: (J,) per-joint confidence of ``joints3d`` in [0, 1].
        joints2d: (J, 2) undistorted pixel targets.
        weights2d: (J,) per-joint confidence of ``joints2d`` in [0, 1].
        K: (3, 3) camera matrix.
        R_wc: (3, 3) rotation camera -> world.
        t_wc: (3,) camera centre in world, metres.
        depth_ref: camera depth of the performer used to turn pixels into metres.
        prev_positions: (J, 3) fitted world positions at t-1, or ``None`` (first frame).
        prev_velocity: (J, 3) fitted velocity at t-1, metres per second (zeros if unknown).
        prev_root_depth: root camera depth at t-1, or ``None``.
        dt: seconds since the previous frame.
        foot_joints: (F,) rig joint indices that may be pinned.
        foot_anchors: (F, 3) world positions they are pinned to.
        foot_weights: (F,) 1 for a pinned joint, 0 for a free one.
    """

    joints3d: np.ndarray
    weights3d: np.ndarray
    joints2d: np.ndarray
    weights2d: np.ndarray
    K: np.ndarray
    R_wc: np.ndarray
    t_wc: np.ndarray
    depth_ref: float
    prev_positions: np.ndarray | None
    prev_velocity: np.ndarray
    prev_root_depth: float | None
    dt: float
    foot_joints: np.ndarray
    foot_anchors: np.ndarray
    foot_weights: np.ndarray


def cauchy_scale(sq_norm: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Factor ``w = sqrt(rho(s) / s)`` turning a residual of squared norm ``s`` into a Cauchy-robust
    one (``|w r|^2 = rho(s)``, ``rho(s) = c^2 log(1 + s / c^2)``), and ``dw/ds``.

    Returns:
        (w, dw_ds), both shaped like ``sq_norm``.
    """
    c2 = scale * scale
    u = sq_norm / c2
    small = u < 1e-6
    safe_u = np.where(small, 1.0, u)
    log_term = np.log1p(safe_u)
    w = np.where(small, 1.0 - u / 4.0, np.sqrt(log_term / safe_u))
    dw = np.where(small, -1.0 / (4.0 * c2), (safe_u / (1.0 + safe_u) - log_term) / (c2 * safe_u**2) / (2.0 * w))
    return w, dw


class PoseCost(pyceres.CostFunction):
    """All energy terms of one performer in one frame, over one parameter block of size ``NUM_PARAMS``.

    ``anchor`` and ``offsets`` are the root's anchor orientation and the performer's rest offsets
    (constant during the solve). :meth:`residuals_and_jacobian` is the numpy core, also used by
    tests to check the Jacobian against finite differences.
    """

    def __init__(self, kinematics: RigKinematics, weights: FitWeights, targets: FrameTargets,
                 anchor: np.ndarray, offsets: np.ndarray) -> None:
        super().__init__()
        self.kin = kinematics
        self.weights = weights
        self.targets = targets
        self.anchor = anchor
        self.offsets = offsets
        joints = kinematics.num_joints
        self.num_angles = NUM_PARAMS - ROOT_DOFS
        self.num_feet = len(targets.foot_joints)
        self._sizes = (3 * joints, 2 * joints, self.num_angles, self.num_angles, 3 * joints, 1, 3 * self.num_feet)
        self.num_residuals_total = sum(self._sizes)
        self.set_num_residuals(self.num_residuals_total)
        self.set_parameter_block_sizes([NUM_PARAMS])
        self._prepare()

    def _prepare(self) -> None:
        """Precompute per-frame constants: square-root weights, clean targets, the prediction."""
        t, w = self.targets, self.weights
        ok3 = np.isfinite(t.joints3d).all(axis=1) & (np.nan_to_num(t.weights3d) > 0)
        self._w3 = np.where(ok3, np.sqrt(w.joints3d * np.clip(np.nan_to_num(t.weights3d), 0, 1)), 0.0)
        self._x3 = np.where(ok3[:, None], np.nan_to_num(t.joints3d), 0.0)
        ok2 = np.isfinite(t.joints2d).all(axis=1) & (np.nan_to_num(t.weights2d) > 0)
        self._w2 = np.where(ok2, np.sqrt(w.joints2d * np.clip(np.nan_to_num(t.weights2d), 0, 1)), 0.0)
        self._x2 = np.where(ok2[:, None], np.nan_to_num(t.joints2d), 0.0)
        self._R_cw = np.asarray(t.R_wc, dtype=np.float64).T
        self._focal = np.array([t.K[0, 0], t.K[1, 1]])
        self._centre = np.array([t.K[0, 2], t.K[1, 2]])
        self._pixel_to_m = max(float(t.depth_ref), MIN_DEPTH_M) / self._focal
        ratio = NOMINAL_DT / max(float(t.dt), 1e-4)
        if t.prev_positions is not None and np.isfinite(t.prev_positions).all():
            self._pred = t.prev_positions + np.nan_to_num(t.prev_velocity) * t.dt
            self._wt = np.sqrt(w.temporal) * ratio**2
        else:
            self._pred, self._wt = np.zeros((self.kin.num_joints, 3)), 0.0
        if t.prev_root_depth is not None and np.isfinite(t.prev_root_depth):
            self._wd, self._prev_depth = np.sqrt(w.depth) * ratio, float(t.prev_root_depth)
        else:
            self._wd, self._prev_depth = 0.0, 0.0
        self._wf = np.sqrt(w.foot_contact * np.nan_to_num(t.foot_weights))
        self._anchors = np.nan_to_num(t.foot_anchors)

    def residuals_and_jacobian(self, params: np.ndarray, jacobian: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        """(R,) residuals and (R, P) Jacobian (``None`` when not asked for) at ``params``."""
        pose = self.kin.forward(params, self.anchor, self.offsets, jacobian=jacobian)
        pos, jfk = pose.positions, pose.jacobian
        t, w = self.targets, self.weights
        parts, jparts = [], []
        # 3D, root-relative.
        rel = pos - pos[0]
        parts.append(((rel - self._x3) * self._w3[:, None]).ravel())
        # 2D reprojection, Cauchy-robust, in metres at the performer's depth.
        cam = (pos - t.t_wc) @ t.R_wc
        depth = cam[:, 2]
        front = depth > MIN_DEPTH_M
        z = np.where(front, depth, 1.0)
        uv = cam[:, :2] / z[:, None] * self._focal + self._centre
        err = (uv - self._x2) * self._pixel_to_m
        w2 = np.where(front, self._w2, 0.0)
        raw = err * w2[:, None]
        robust, dw = cauchy_scale((raw**2).sum(axis=1), np.sqrt(w.joints2d) * w.robust_2d_m)
        parts.append((raw * robust[:, None]).ravel())
        # Joint limits and prior.
        angles = params[ROOT_DOFS:]
        low, high = self.kin.lower[3:], self.kin.upper[3:]
        sl = np.sqrt(w.limits)
        parts.append(sl * (np.maximum(low - angles, 0.0) + np.maximum(angles - high, 0.0)))
        sp = np.sqrt(w.prior)
        parts.append(sp * (angles - self.kin.prior[3:]))
        # Temporal (acceleration) and depth smoothing.
        parts.append((self._wt * (pos - self._pred)).ravel())
        root_depth = depth[0]
        parts.append(np.array([self._wd * (root_depth - self._prev_depth)]))
        # Foot contact pins.
        feet = pos[t.foot_joints]
        parts.append(((feet - self._anchors) * self._wf[:, None]).ravel())
        residuals = np.concatenate(parts)
        if not jacobian:
            return residuals, None
        joints = self.kin.num_joints
        jparts.append(((jfk - jfk[0:1]) * self._w3[:, None, None]).reshape(3 * joints, NUM_PARAMS))
        jcam = np.einsum("ki,jkp->jip", t.R_wc, jfk)  # (J, 3, P) d cam / d params
        duv = (jcam[:, :2, :] - (cam[:, :2] / z[:, None])[:, :, None] * jcam[:, 2:3, :]) / z[:, None, None]
        jraw = duv * (self._focal * self._pixel_to_m * w2[:, None])[:, :, None]  # (J, 2, P)
        proj = np.einsum("ja,jap->jp", raw, jraw)  # r^T dr
        j2 = robust[:, None, None] * jraw + 2.0 * (dw[:, None] * raw)[:, :, None] * proj[:, None, :]
        jparts.append(j2.reshape(2 * joints, NUM_PARAMS))
        jl = np.zeros((self.num_angles, NUM_PARAMS))
        idx = np.arange(self.num_angles)
        jl[idx, ROOT_DOFS + idx] = sl * ((angles > high).astype(float) - (angles < low).astype(float))
        jparts.append(jl)
        jp = np.zeros((self.num_angles, NUM_PARAMS))
        jp[idx, ROOT_DOFS + idx] = sp
        jparts.append(jp)
        jparts.append((self._wt * jfk).reshape(3 * joints, NUM_PARAMS))
        jparts.append(self._wd * jcam[0, 2:3, :])
        jparts.append((jfk[t.foot_joints] * self._wf[:, None, None]).reshape(3 * self.num_feet, NUM_PARAMS))
        return residuals, np.concatenate(jparts, axis=0)

    def Evaluate(self, parameters, residuals, jacobians) -> bool:  # noqa: N802 (pyceres API name)
        want = jacobians is not None and jacobians[0] is not None
        values, jac = self.residuals_and_jacobian(np.asarray(parameters[0]), jacobian=want)
        if not np.isfinite(values).all():
            return False
        residuals[:] = values
        if want:
            jacobians[0][:] = jac.ravel()
        return True
