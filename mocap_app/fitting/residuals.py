"""The Stage III energy as ONE vectorised pyceres cost function.

pyceres calls back into Python once per residual block and evaluation, so every term is evaluated
here together, in numpy, with an analytic Jacobian built from the rig's kinematic Jacobian
(:mod:`mocap_app.fitting.kinematics`). The terms follow XNect's Eq. 8.3 plus a prior and a foot
contact pin; each residual is in metres (or radians), multiplied by ``sqrt(weight)``:

==========  ==============================================================================
term        residual
==========  ==============================================================================
3D          ``sqrt(c_j) * S R_cw ((p_j - p_root) - x3d_j)``: root-relative 3D in camera axes, its
            image-plane (x, y) components scaled by ``S = sqrt(lateral)``: there the 2D term is
            far more precise, and a detector's 3D noise across the image plane would otherwise
            change the body's apparent size, i.e. its depth, from frame to frame
2D          Cauchy-robust ``sqrt(c_j) * (proj(p_j) - x2d_j) * z_root / f``: pixels at the
            performer's depth converted to metres, so 2D and 3D weights are comparable
limits      ``max(0, lo - q) + max(0, q - hi)``: soft anatomical limits, radians
prior       ``q - q_relaxed``: a weak pull towards a relaxed standing pose, radians
temporal    ``(r_j - (r_j[t-1] + v_j[t-1] dt)) * (dt_30 / dt)^2``: acceleration of the root-relative
            joints ``r_j = p_j - p_root``, expressed per 30 fps frame so the weight does not
            depend on the frame rate; the root's own acceleration has a separate, weaker weight
            (a strong one makes the depth, which only the body's size in pixels fixes, a weakly
            sprung mass that oscillates)
depth       ``(z_root - z_root[t-1]) * dt_30 / dt``: change of the root's camera depth
foot        ``p_foot - anchor`` for feet in contact with the floor (weight 0 otherwise)
==========  ==============================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyceres

from .kinematics import NUM_PARAMS, ROOT_DOFS, Pose, RigKinematics

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
        joints3d_lateral: factor on the 3D term's image-plane components (1 = isotropic).
        joints2d: reprojection term (metres at the performer's depth).
        robust_2d_m: Cauchy scale of the reprojection term, metres at the performer's depth.
        limits: soft joint limits.
        prior: pull towards the relaxed pose (keeps unobserved angles, e.g. twists, quiet).
        temporal: acceleration of every root-relative joint.
        temporal_root: acceleration of the root.
        depth: change of the root's depth along the camera axis (off by default: it holds a performer
            walking towards the camera back; the root acceleration term damps the depth instead).
        foot_contact: pin of a foot that is on the floor and still.
    """

    joints3d: float = 1.0
    joints3d_lateral: float = 0.25
    joints2d: float = 4.0
    robust_2d_m: float = 0.05
    limits: float = 1.0
    prior: float = 1e-3
    temporal: float = 0.5
    temporal_root: float = 0.05
    depth: float = 0.0
    foot_contact: float = 200.0

    def __post_init__(self) -> None:
        for name in ("joints3d", "joints3d_lateral", "joints2d", "limits", "prior", "temporal", "temporal_root",
                     "depth", "foot_contact"):
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
        self._cache: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None
        self._last_pose: tuple[np.ndarray, Pose] | None = None
        bounds = np.cumsum((0,) + self._sizes)
        self._slices = tuple(slice(int(lo), int(hi)) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True))
        angle_index = np.arange(self.num_angles)
        self._limit_rows = self._slices[2].start + angle_index
        self._limit_cols = ROOT_DOFS + angle_index
        self._low, self._high = kinematics.lower[3:], kinematics.upper[3:]
        self._prior = kinematics.prior[3:]
        self._sl, self._sp = np.sqrt(weights.limits), np.sqrt(weights.prior)
        self._cauchy = max(np.sqrt(weights.joints2d) * weights.robust_2d_m, 1e-9)  # a zero 2D weight stays finite
        # The prior's Jacobian is constant: it lives in the template every Jacobian starts from.
        self._jac_template = np.zeros((self.num_residuals_total, NUM_PARAMS))
        self._jac_template[self._slices[3].start + angle_index, ROOT_DOFS + angle_index] = self._sp
        self._prepare()

    def _prepare(self) -> None:
        """Precompute per-frame constants: square-root weights, clean targets, the prediction.

        NaN confidences count as 0 (``NaN > 0`` is false) and NaN targets are zeroed where their
        weight is 0, with plain comparisons: this runs once per frame and performer.
        """
        t, w = self.targets, self.weights
        conf3 = np.minimum(np.where(t.weights3d > 0, t.weights3d, 0.0), 1.0)
        ok3 = np.isfinite(t.joints3d).all(axis=1) & (conf3 > 0)
        self._w3 = np.where(ok3, np.sqrt(w.joints3d * conf3), 0.0)
        self._x3 = np.where(ok3[:, None], t.joints3d, 0.0)
        conf2 = np.minimum(np.where(t.weights2d > 0, t.weights2d, 0.0), 1.0)
        ok2 = np.isfinite(t.joints2d).all(axis=1) & (conf2 > 0)
        self._w2 = np.where(ok2, np.sqrt(w.joints2d * conf2), 0.0)
        self._x2 = np.where(ok2[:, None], t.joints2d, 0.0)
        self._R_cw = np.asarray(t.R_wc, dtype=np.float64).T
        # World -> camera axes, image-plane rows scaled: the 3D residual's (3, 3) projector.
        self._P3 = self._R_cw * np.array([[np.sqrt(w.joints3d_lateral)], [np.sqrt(w.joints3d_lateral)], [1.0]])
        self._focal = t.K[[0, 1], [0, 1]].astype(np.float64)
        self._centre = t.K[[0, 1], [2, 2]].astype(np.float64)
        self._pixel_to_m = max(float(t.depth_ref), MIN_DEPTH_M) / self._focal
        ratio = NOMINAL_DT / max(float(t.dt), 1e-4)
        joints = self.kin.num_joints
        if t.prev_positions is not None and np.isfinite(t.prev_positions).all():
            pred = t.prev_positions + np.where(np.isfinite(t.prev_velocity), t.prev_velocity, 0.0) * t.dt
            self._pred = pred - pred[0]
            self._pred[0] = pred[0]
            self._wt = np.full(joints, np.sqrt(w.temporal) * ratio**2)
            self._wt[0] = np.sqrt(w.temporal_root) * ratio**2
        else:
            self._pred, self._wt = np.zeros((joints, 3)), np.zeros(joints)
        if t.prev_root_depth is not None and np.isfinite(t.prev_root_depth):
            self._wd, self._prev_depth = np.sqrt(w.depth) * ratio, float(t.prev_root_depth)
        else:
            self._wd, self._prev_depth = 0.0, 0.0
        self._wf = np.sqrt(w.foot_contact * np.where(t.foot_weights > 0, t.foot_weights, 0.0))
        self._anchors = np.where(np.isfinite(t.foot_anchors), t.foot_anchors, 0.0)

    def residuals_and_jacobian(self, params: np.ndarray, jacobian: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        """(R,) residuals and (R, P) Jacobian (``None`` when not asked for) at ``params``."""
        pose = self.kin.forward(params, self.anchor, self.offsets, jacobian=jacobian)
        self._last_pose = (params, pose)
        pos, jfk = pose.positions, pose.jacobian
        t = self.targets
        res = np.empty(self.num_residuals_total)
        s3, s2, sl, sp, st, sd, sf = self._slices
        # 3D, root-relative, camera axes with damped image-plane components.
        rel = pos - pos[0]
        res[s3] = (((rel - self._x3) @ self._P3.T) * self._w3[:, None]).ravel()
        # 2D reprojection, Cauchy-robust, in metres at the performer's depth.
        cam = (pos - t.t_wc) @ t.R_wc
        depth = cam[:, 2]
        front = depth > MIN_DEPTH_M
        z = np.where(front, depth, 1.0)
        uv = cam[:, :2] / z[:, None] * self._focal + self._centre
        w2 = np.where(front, self._w2, 0.0)
        raw = (uv - self._x2) * self._pixel_to_m * w2[:, None]
        robust, dw = cauchy_scale((raw**2).sum(axis=1), self._cauchy)
        res[s2] = (raw * robust[:, None]).ravel()
        # Joint limits and prior.
        angles = params[ROOT_DOFS:]
        res[sl] = self._sl * (np.maximum(self._low - angles, 0.0) + np.maximum(angles - self._high, 0.0))
        res[sp] = self._sp * (angles - self._prior)
        # Temporal (acceleration, root-relative joints and the root) and depth smoothing.
        moved = rel.copy()
        moved[0] = pos[0]
        res[st] = (self._wt[:, None] * (moved - self._pred)).ravel()
        res[sd] = self._wd * (depth[0] - self._prev_depth)
        # Foot contact pins.
        res[sf] = ((pos[t.foot_joints] - self._anchors) * self._wf[:, None]).ravel()
        if not jacobian:
            return res, None
        jac = self._jac_template.copy()
        joints = self.kin.num_joints
        jrel = jfk - jfk[0:1]
        jac[s3] = (np.matmul(self._P3, jrel) * self._w3[:, None, None]).reshape(3 * joints, NUM_PARAMS)
        jcam = np.matmul(self._R_cw, jfk)  # (J, 3, P) d cam / d params
        duv = (jcam[:, :2, :] - (cam[:, :2] / z[:, None])[:, :, None] * jcam[:, 2:3, :]) / z[:, None, None]
        jraw = duv * (self._focal * self._pixel_to_m * w2[:, None])[:, :, None]  # (J, 2, P)
        proj = np.matmul(raw[:, None, :], jraw)  # (J, 1, P): r^T dr
        jac[s2] = (robust[:, None, None] * jraw + 2.0 * (dw[:, None] * raw)[:, :, None] * proj).reshape(
            2 * joints, NUM_PARAMS)
        jac[self._limit_rows, self._limit_cols] = self._sl * ((angles > self._high).astype(float)
                                                              - (angles < self._low).astype(float))
        jrel[0] = jfk[0]
        jac[st] = (self._wt[:, None, None] * jrel).reshape(3 * joints, NUM_PARAMS)
        jac[sd] = self._wd * jcam[0, 2:3, :]
        jac[sf] = (jfk[t.foot_joints] * self._wf[:, None, None]).reshape(3 * self.num_feet, NUM_PARAMS)
        return res, jac

    def pose(self, params: np.ndarray) -> Pose:
        """Forward kinematics at ``params``, from the last evaluation when it was at the same point
        (the solver's last evaluation is usually its solution: this saves one kinematics pass per frame)."""
        if self._last_pose is not None and np.array_equal(self._last_pose[0], params):
            return self._last_pose[1]
        return self.kin.forward(params, self.anchor, self.offsets)

    def Evaluate(self, parameters, residuals, jacobians) -> bool:  # noqa: N802 (pyceres API name)
        # Ceres evaluates a trial point without, then (once accepted) again with the Jacobian: both
        # come from one kinematics pass, kept for the second call.
        params = np.array(parameters[0], dtype=np.float64)
        if self._cache is None or not np.array_equal(self._cache[0], params):
            self._cache = (params, *self.residuals_and_jacobian(params, jacobian=True))
        _, values, jac = self._cache
        if not np.isfinite(values).all():
            return False
        residuals[:] = values
        if jacobians is not None and jacobians[0] is not None:
            jacobians[0][:] = jac.ravel()
        return True
