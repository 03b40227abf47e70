"""`SkeletonFitter`: joint angles and a global root position per performer per frame.

Levenberg-Marquardt (pyceres) over one vectorised cost function (:class:`~.residuals.PoseCost`),
warm-started from the previous frame. The first frame of a performer is initialised from the
observation (root orientation by Kabsch alignment of the torso when 3D is given, else the two
facing directions tried; depth from the body's size in pixels) and solved with more iterations.
A later fit whose 3D misfit shows it lost the pose (e.g. facing backwards) is re-initialised the
same way.

Depth (beyond XNect): after each solve the root is moved along its viewing ray to an alpha-beta
filtered depth, measured from the fitted pose's own reprojection (:mod:`.depth`).

Foot contact (beyond XNect): after each solve, :class:`~.contact.FootContacts` decides from a short
window of observations which foot joints are planted; the next frames pin them to where the fit
had them (:mod:`.contact`). While a foot is planted the depth filter may only creep the body (and
its anchors) along the viewing ray, faster the more the evidence disagrees, so planted feet
neither skate nor hold a wrong depth forever.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field

import numpy as np
import pyceres
from scipy.spatial.transform import Rotation

from ..skeletons import RIG
from ..skeletons.kinematic import FOOT_JOINTS
from .camera import FitCamera
from .contact import ContactConfig, FootContacts
from .depth import MIN_SMOOTHED_DEPTH_M, DepthSmoothing, reprojecting_root
from .kinematics import NUM_PARAMS, ROOT_DOFS, RigKinematics, elementary_rotations, quaternions_from_matrices
from .residuals import FitWeights, FrameTargets, PoseCost

logger = logging.getLogger(__name__)

_TORSO = RIG.indices(["Hips", "LeftUpLeg", "RightUpLeg", "Spine1", "Neck", "LeftArm", "RightArm"])
_FEET = RIG.indices(list(FOOT_JOINTS))
#: Fewest confidently seen 2D joints for a frame to be fitted (else the pose is held).
MIN_VISIBLE_JOINTS = 5
#: Confidence below which a joint counts as not seen.
VISIBLE_CONFIDENCE = 0.1
#: Mean 3D misfit (metres) above which a warm-started fit is taken to have lost the pose.
LOST_POSE_M = 0.15
#: Nearest plausible root depth in front of the camera, metres: a fit closer than this (or behind
#: the camera) has left the right basin and is initialised afresh.
MIN_ROOT_DEPTH_M = 0.3


@dataclass(frozen=True)
class FitConfig:
    """Solver settings.

    Attributes:
        weights: energy term weights.
        max_iterations: LM iterations per frame (warm-started).
        init_iterations: LM iterations on a performer's first frame.
        max_warm_gap_s: a performer unseen for longer than this (seconds) is initialised afresh
            when they come back: the old pose and velocities say nothing about where they are now.
        contact: foot contact thresholds; ``None`` disables the foot pin.
        depth: root depth filter; ``None`` disables it.
    """

    weights: FitWeights = field(default_factory=FitWeights)
    max_iterations: int = 3
    init_iterations: int = 40
    max_warm_gap_s: float = 0.5
    contact: ContactConfig | None = field(default_factory=ContactConfig)
    depth: DepthSmoothing | None = field(default_factory=DepthSmoothing)


@dataclass(frozen=True)
class RigObservation:
    """One performer's (filtered) observation in rig joints.

    Attributes:
        joints2d: (J, 2) undistorted pixels, NaN = missing.
        confidence2d: (J,) in [0, 1].
        joints3d: (J, 3) root-relative positions, world axes, metres (already scaled to the
            performer's skeleton), or ``None`` for 2D-only input.
        confidence3d: (J,) in [0, 1].
    """

    joints2d: np.ndarray
    confidence2d: np.ndarray
    joints3d: np.ndarray | None = None
    confidence3d: np.ndarray | None = None

    def visible(self) -> int:
        """Number of confidently seen 2D joints."""
        ok = np.isfinite(self.joints2d).all(axis=1) & (self.confidence2d >= VISIBLE_CONFIDENCE)  # NaN: not seen
        return int(ok.sum())


@dataclass(frozen=True)
class FitResult:
    """The fitted pose of one frame.

    Attributes:
        root_position: (3,) world position of Hips, metres.
        local_rotations: (J, 4) quaternions (x, y, z, w) relative to the parent and the T-pose.
        world_positions: (J, 3) world joint positions, metres.
        contacts: (F,) bool, which of ``FOOT_JOINTS`` are planted.
        fitted: False when the frame was not fitted (too little seen) and the pose was held.
    """

    root_position: np.ndarray
    local_rotations: np.ndarray
    world_positions: np.ndarray
    contacts: np.ndarray
    fitted: bool = True


@dataclass
class PerformerFit:
    """The fitter's memory of one performer (mutable; one per identity).

    Attributes:
        offsets: (J, 3) rest offsets, metres (set by the caller; fixed after the first frames).
        params: (P,) last solution (root increments folded into ``anchor``).
        anchor: (3, 3) root orientation.
        positions: (J, 3) last fitted world positions, ``None`` before the first fit.
        velocity: (J, 3) metres per second.
        param_velocity: (P,) smoothed parameter change per second (warm start extrapolation).
        time: time of the last fit, seconds.
        root_depth: camera depth of the root at the last fit, metres.
        filtered_depth: the depth filter's root depth, metres (``None`` before the first fit).
        depth_velocity: its rate of change, metres per second.
        contacts: the foot contact state (created by the fitter on the first fit).
        standing: (offsets, (F,) standing heights of the foot joints) cache.
        fitted_offsets: the ``offsets`` the last fit used (a different object means the body was re-sized).
    """

    offsets: np.ndarray
    params: np.ndarray = field(default_factory=lambda: np.zeros(NUM_PARAMS))
    anchor: np.ndarray = field(default_factory=lambda: np.eye(3))
    positions: np.ndarray | None = None
    velocity: np.ndarray = field(default_factory=lambda: np.zeros((RIG.num_joints, 3)))
    param_velocity: np.ndarray = field(default_factory=lambda: np.zeros(NUM_PARAMS))
    time: float = 0.0
    root_depth: float = 3.0
    filtered_depth: float | None = None
    depth_velocity: float = 0.0
    contacts: FootContacts | None = None
    standing: tuple[np.ndarray, np.ndarray] | None = None
    fitted_offsets: np.ndarray | None = None

    @property
    def in_contact(self) -> np.ndarray:
        """(F,) bool, which of ``FOOT_JOINTS`` are planted."""
        return self.contacts.planted if self.contacts is not None else np.zeros(len(FOOT_JOINTS), dtype=bool)

    def release_contacts(self) -> None:
        """Lift every planted foot (the body is about to jump: re-sized or re-initialised)."""
        if self.contacts is not None:
            self.contacts.release_all()

    def forget_motion(self) -> None:
        """Drop the pose history (keep the body's size): the next fit starts like a first frame."""
        self.positions = None
        self.velocity = np.zeros_like(self.velocity)
        self.param_velocity = np.zeros_like(self.param_velocity)
        self.filtered_depth, self.depth_velocity = None, 0.0
        self.release_contacts()


def params_from_state(root_position: np.ndarray, root_rotation: np.ndarray,
                      angles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pack a pose into (params, anchor): the root rotation becomes the anchor, increments zero."""
    params = np.zeros(NUM_PARAMS)
    params[:3] = root_position
    params[ROOT_DOFS:] = angles
    return params, np.asarray(root_rotation, dtype=np.float64).copy()


def state_from_params(params: np.ndarray, anchor: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unpack (params, anchor) into (root_position (3,), root_rotation (3, 3), angles (N,))."""
    increments = elementary_rotations(np.arange(3), np.asarray(params[3:ROOT_DOFS], dtype=np.float64))
    rotation = anchor @ increments[0] @ increments[1] @ increments[2]
    return np.array(params[:3], dtype=np.float64), rotation, np.array(params[ROOT_DOFS:], dtype=np.float64)


def _kabsch(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Rotation R minimising |R source_i - target_i| over (N, 3) centred point sets."""
    u, _, vt = np.linalg.svd(target.T @ source)
    d = np.sign(np.linalg.det(u @ vt)) or 1.0
    return u @ np.diag([1.0, 1.0, d]) @ vt


def _cost_value(cost: PoseCost, params: np.ndarray) -> float:
    """Ceres' cost (half the squared residual norm) of ``params``."""
    residuals, _ = cost.residuals_and_jacobian(params, jacobian=False)
    return 0.5 * float(residuals @ residuals) if np.isfinite(residuals).all() else np.inf


def _misfit_3d(positions: np.ndarray, obs: RigObservation) -> float:
    """Mean distance (metres) of fitted (J, 3) joints, root-relative, from the observed 3D (0 without 3D)."""
    if obs.joints3d is None:
        return 0.0
    distance = np.linalg.norm(positions - positions[0] - obs.joints3d, axis=1)
    distance = distance[np.isfinite(distance)]
    return float(distance.mean()) if len(distance) else 0.0


class SkeletonFitter:
    """Fits the rig to one performer's observation per frame.

    Example:
        >>> fitter = SkeletonFitter()
        >>> state = PerformerFit(offsets=RIG.rest_offsets.copy())
        >>> result = fitter.fit(state, observation, camera, time=0.0)   # doctest: +SKIP
    """

    def __init__(self, config: FitConfig | None = None) -> None:
        self.config = config or FitConfig()
        self.kin = RigKinematics()
        self._options = pyceres.SolverOptions()
        self._options.linear_solver_type = pyceres.LinearSolverType.DENSE_NORMAL_CHOLESKY
        self._options.trust_region_strategy_type = pyceres.TrustRegionStrategyType.LEVENBERG_MARQUARDT
        self._options.minimizer_progress_to_stdout = False
        self._options.logging_type = pyceres.LoggingType.SILENT
        self._options.num_threads = 1
        self._options.function_tolerance = 1e-5
        self._options.parameter_tolerance = 1e-6

    # Initialisation -------------------------------------------------------------------------
    def _initial_rotations(self, obs: RigObservation, camera: FitCamera) -> list[np.ndarray]:
        rest = self.kin.forward(self.kin.zero_params(), np.eye(3), RIG.rest_offsets).positions
        if obs.joints3d is not None:
            conf = np.nan_to_num(obs.confidence3d) if obs.confidence3d is not None else np.ones(RIG.num_joints)
            ok = np.isfinite(obs.joints3d[_TORSO]).all(axis=1) & (conf[_TORSO] > 0)
            if ok.sum() >= 3:
                src = rest[_TORSO][ok] - rest[0]
                dst = obs.joints3d[_TORSO][ok]
                return [_kabsch(src - src.mean(axis=0), dst - dst.mean(axis=0))]
        towards = -camera.R_wc[:, 2]
        yaw = np.arctan2(towards[0], towards[2])
        return [Rotation.from_euler("y", yaw + turn).as_matrix() for turn in (0.0, np.pi)]

    def _initial_position(self, state: PerformerFit, obs: RigObservation,
                          camera: FitCamera) -> tuple[np.ndarray, float]:
        ok = np.isfinite(obs.joints2d).all(axis=1) & (np.nan_to_num(obs.confidence2d) >= VISIBLE_CONFIDENCE)
        pixels = obs.joints2d[ok]
        rest = self.kin.forward(self.kin.zero_params(), np.eye(3), state.offsets).positions
        extent_m = np.ptp(rest[ok, 1]) if ok.sum() >= 2 else 1.0
        if obs.joints3d is not None:
            valid3 = ok & np.isfinite(obs.joints3d).all(axis=1)
            if valid3.sum() >= 2:
                extent_m = max(np.ptp(obs.joints3d[valid3, 1]), np.ptp(obs.joints3d[valid3, 0]), 0.2)
                pixels = obs.joints2d[valid3]
        extent_px = max(np.ptp(pixels[:, 1]), np.ptp(pixels[:, 0]), 1.0) if len(pixels) >= 2 else 100.0
        depth = float(np.clip(camera.K[1, 1] * max(extent_m, 0.2) / extent_px, 0.5, 50.0))
        hips = obs.joints2d[RIG.index("Hips")]
        centre = hips if np.isfinite(hips).all() else pixels.mean(axis=0)
        ray = camera.rays(centre)
        forward = camera.R_wc[:, 2]
        return camera.t_wc + ray * depth / max(float(ray @ forward), 1e-3), depth

    # Solving --------------------------------------------------------------------------------
    def _targets(self, state: PerformerFit, obs: RigObservation, camera: FitCamera, dt: float) -> FrameTargets:
        joints = RIG.num_joints
        feet_w, anchors = np.zeros(len(_FEET)), np.zeros((len(_FEET), 3))
        if self.config.contact is not None and state.contacts is not None:
            anchors, feet_w = state.contacts.anchors, state.contacts.planted.astype(np.float64)
        return FrameTargets(
            joints3d=obs.joints3d if obs.joints3d is not None else np.zeros((joints, 3)),
            weights3d=(obs.confidence3d if obs.confidence3d is not None else np.ones(joints))
            if obs.joints3d is not None else np.zeros(joints),
            joints2d=obs.joints2d, weights2d=obs.confidence2d, K=camera.K, R_wc=camera.R_wc, t_wc=camera.t_wc,
            depth_ref=state.root_depth, prev_positions=state.positions, prev_velocity=state.velocity,
            prev_root_depth=state.root_depth if state.positions is not None else None, dt=dt,
            foot_joints=_FEET, foot_anchors=anchors, foot_weights=feet_w)

    def _restart(self, state: PerformerFit, obs: RigObservation, camera: FitCamera, targets: FrameTargets,
                 solution: np.ndarray, anchor: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
        """Re-initialise a fit that lost the pose (e.g. turned the wrong way), like a first frame.

        The warm-started solve can stay in a wrong basin (a body facing backwards fits the 2D
        almost as well). The restarts start from the observation's torso orientation at the
        current place; the temporal terms are left out of the comparison (they favour staying
        wrong), and the warm-started solution is kept unless a restart explains the frame better.

        Returns:
            (solution, anchor, whether a restart won).
        """
        free = dataclasses.replace(targets, prev_positions=None, prev_root_depth=None, foot_weights=np.zeros_like(
            targets.foot_weights))
        best = (solution, anchor, _cost_value(PoseCost(self.kin, self.config.weights, free, anchor, state.offsets),
                                              solution), False)
        for rotation in self._initial_rotations(obs, camera):
            params, new_anchor = params_from_state(solution[:3], rotation, self.kin.prior[3:])
            candidate, value = self._solve(PoseCost(self.kin, self.config.weights, free, new_anchor, state.offsets),
                                           params, self.config.init_iterations)
            if np.isfinite(candidate).all() and value < best[2]:
                best = (candidate, new_anchor, value, True)
        if best[3]:
            logger.debug("pose lost; re-initialised from the observation")
        return best[0], best[1], best[3]

    def _solve(self, cost: PoseCost, params: np.ndarray, iterations: int) -> tuple[np.ndarray, float]:
        x = params.copy()
        problem = pyceres.Problem()
        problem.add_residual_block(cost, None, [x])
        self._options.max_num_iterations = iterations
        summary = pyceres.SolverSummary()
        pyceres.solve(self._options, problem, summary)
        return x, float(summary.final_cost)

    def fit(self, state: PerformerFit, obs: RigObservation, camera: FitCamera, time: float) -> FitResult | None:
        """Fit one frame and update ``state``.

        Returns:
            The pose, or ``None`` for a performer never fitted whose first frame shows too little.
            A later frame that shows too little returns the previous pose with ``fitted=False``.
        """
        if state.positions is not None and time - state.time > self.config.max_warm_gap_s:
            state.forget_motion()
        if state.positions is not None and state.fitted_offsets is not None and \
                state.offsets is not state.fitted_offsets:
            self._resized(state)
        first, restarted, pose = state.positions is None, False, None
        if obs.visible() < MIN_VISIBLE_JOINTS:
            return None if first else self._result(state, fitted=False)
        dt = float(np.clip(time - state.time, 1e-3, 1.0)) if not first else 1.0 / 30.0
        if first:
            position, state.root_depth = self._initial_position(state, obs, camera)
            best = None
            for rotation in self._initial_rotations(obs, camera):
                params, anchor = params_from_state(position, rotation, self.kin.prior[3:])
                cost = PoseCost(self.kin, self.config.weights, self._targets(state, obs, camera, dt), anchor,
                                state.offsets)
                solution, value = self._solve(cost, params, self.config.init_iterations)
                if best is None or value < best[2]:
                    best = (solution, anchor, value)
            solution, anchor = best[0], best[1]
        else:
            anchor = state.anchor
            targets = self._targets(state, obs, camera, dt)
            cost = PoseCost(self.kin, self.config.weights, targets, anchor, state.offsets)
            start = state.params + state.param_velocity * dt  # constant-velocity warm start
            start[3:ROOT_DOFS] = 0.0
            solution, _ = self._solve(cost, start, self.config.max_iterations)
            if np.isfinite(solution).all():
                pose = cost.pose(solution)
                if float(camera.to_camera(pose.positions[0])[2]) < MIN_ROOT_DEPTH_M:
                    logger.debug("fit went behind the camera; initialising afresh")
                    state.forget_motion()
                    return self.fit(state, obs, camera, time)
                if _misfit_3d(pose.positions, obs) > LOST_POSE_M:
                    solution, anchor, restarted = self._restart(state, obs, camera, targets, solution, anchor)
        if not np.isfinite(solution).all():
            logger.debug("fit diverged; holding the previous pose")
            return None if first else self._result(state, fitted=False)
        root, rotation, angles = state_from_params(solution, anchor)
        previous_params = state.params
        state.params, state.anchor = params_from_state(root, rotation, angles)
        if restarted:  # the jump to the new basin is no motion: forget the velocities and the pins
            state.param_velocity[:] = 0.0
            state.release_contacts()
        elif not first:
            velocity = (state.params - previous_params) / dt
            velocity[3:ROOT_DOFS] = 0.0
            state.param_velocity = 0.5 * velocity + 0.5 * state.param_velocity
        if pose is None or restarted:  # (the same pose as the solution's: only the anchor was re-packed)
            pose = self.kin.forward(state.params, state.anchor, state.offsets)
        if self.config.depth is not None:
            shift = self._depth_correction(state, pose.positions, obs, camera, dt)
            if state.in_contact.any():  # planted feet hold the body: it (and they) may only creep
                shift = state.contacts.creep(shift, dt)
                state.contacts.shift(shift)
            state.params[:3] += shift
            pose = dataclasses.replace(pose, positions=pose.positions + shift)
        if not first:
            state.velocity = np.zeros_like(pose.positions) if restarted else (pose.positions - state.positions) / dt
        state.positions, state.time, state.fitted_offsets = pose.positions, time, state.offsets
        state.root_depth = float(camera.to_camera(pose.positions[0])[2])
        if self.config.contact is not None:
            self._update_contacts(state, obs, camera, time)
        return self._result(state, fitted=True, pose=pose)

    def _depth_correction(self, state: PerformerFit, positions: np.ndarray, obs: RigObservation,
                          camera: FitCamera, dt: float) -> np.ndarray:
        """(3,) world translation that brings the fitted body to the filtered depth (updates the filter).

        The depth measurement is the body's own: the translation that best reprojects the fitted
        root-relative pose onto the 2D joints (linear least squares, two Cauchy reweightings), so
        planted feet, which hold the fit in place, cannot bias it.
        """
        config = self.config.depth
        measured_root = reprojecting_root(positions - positions[0], obs.joints2d, obs.confidence2d, camera)
        current = float(camera.to_camera(positions[0])[2])
        if measured_root is None or current <= MIN_SMOOTHED_DEPTH_M:
            return np.zeros(3)
        measured = float(camera.to_camera(measured_root)[2])
        if state.filtered_depth is None:  # (re)start at the body's own depth, unless it is implausibly far off
            state.filtered_depth = measured if abs(measured - current) < config.reset_m else current
            state.depth_velocity = 0.0
        predicted = state.filtered_depth + state.depth_velocity * dt
        innovation = measured - predicted
        if abs(innovation) > config.reset_m:
            state.filtered_depth, state.depth_velocity = measured, 0.0
        else:
            state.filtered_depth = predicted + config.alpha * innovation
            state.depth_velocity += config.beta * innovation / dt
        return camera.R_wc @ (camera.to_camera(positions[0]) * (state.filtered_depth / current - 1.0))

    def _resized(self, state: PerformerFit) -> None:
        """Carry a performer's motion over to new rest offsets (the caller re-sized the body).

        Nothing is moved: the root, the velocities, the depth filter and the planted feet stay as
        they are, and only the joint positions the temporal terms compare against are recomputed
        with the new bone lengths. A re-size changes the depth the body's size in pixels implies;
        the depth filter takes the body there at its own pace, and only creeps while a foot is
        planted (see :meth:`fit`). Moving the root at once (e.g. scaling it about the camera
        centre) or restarting the filter instead makes the whole body, planted feet included,
        jump by decimetres at the re-sizes of a performer's first seconds.
        """
        state.positions = self.kin.forward(state.params, state.anchor, state.offsets).positions
        state.fitted_offsets = state.offsets

    # Contacts -------------------------------------------------------------------------------
    def _standing_heights(self, state: PerformerFit) -> np.ndarray:
        """(F,) heights of the foot joints over the floor in the rest pose, metres (cached per skeleton)."""
        if state.standing is None or state.standing[0] is not state.offsets:
            rest = self.kin.forward(self.kin.zero_params(), np.eye(3), state.offsets).positions
            state.standing = (state.offsets, rest[_FEET, 1] - rest[:, 1].min())
        return state.standing[1]

    def _update_contacts(self, state: PerformerFit, obs: RigObservation, camera: FitCamera, time: float) -> None:
        """Hand the observed feet to the contact state (see :mod:`.contact`).

        The *observed* foot is the fitted root plus the root-relative 3D observation (the fitted foot
        where there is no 3D): never the pinned fit itself, which would hold its own pin. Only joints
        the 2D detections show can be planted: nothing could ever lift the others.
        """
        if state.contacts is None or state.contacts.config is not self.config.contact:
            state.contacts = FootContacts(len(_FEET), self.config.contact)
        feet = state.positions[_FEET]
        seen = feet
        if obs.joints3d is not None:
            seen = np.where(np.isfinite(obs.joints3d[_FEET]), state.positions[0] + obs.joints3d[_FEET], feet)
        seen2d = obs.joints2d[_FEET]
        observed = np.isfinite(seen2d).all(axis=1) & (obs.confidence2d[_FEET] >= VISIBLE_CONFIDENCE)  # NaN: not seen
        pixel_to_m = state.root_depth / camera.K[0, 0]
        moved_2d = np.full(len(_FEET), np.nan)
        if state.contacts.planted.any():
            moved_2d[observed] = np.linalg.norm(camera.project(state.contacts.anchors[observed]) - seen2d[observed],
                                                axis=-1) * pixel_to_m
        state.contacts.update(time, seen, feet, self._standing_heights(state), observed, moved_2d, camera.has_floor)

    def _result(self, state: PerformerFit, fitted: bool, pose=None) -> FitResult:
        if pose is None:
            pose = self.kin.forward(state.params, state.anchor, state.offsets)
        quats = quaternions_from_matrices(pose.local_rotations)
        return FitResult(root_position=pose.positions[0].copy(), local_rotations=quats,
                         world_positions=pose.positions.copy(), contacts=state.in_contact.copy(), fitted=fitted)
