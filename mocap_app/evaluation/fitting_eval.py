"""`mocap eval fitting`: how well tracking + Stage III fitting recover ground-truth motion.

Ground truth (BVH) -> noisy observations (:mod:`.synthetic_observations`) -> :class:`Stage3` ->
metrics against the ground truth, for the fitted output and, as the baseline, for the noisy 3D
input joints the fitter was given:

* MPJPE and PA-MPJPE (mm): root-relative joint error, before/after a per-frame similarity
  (Procrustes) alignment, over the rig joints the keypoints map to;
* acceleration error (mm per frame^2): mean |a_est - a_gt| of root-relative joints;
* foot skate (cm per frame): mean horizontal motion of a foot joint between two frames in which
  the ground truth has it planted (within 5 cm of its lowest height, moving < 1 cm per frame);
  the input baseline places the noisy root-relative joints on the true root;
* exported take: the fitted motion as ``export_take`` writes it (root + local rotations with the
  final bone lengths), foot-locked by :mod:`mocap_app.fitting.foot_lock`: its MPJPE and foot skate
  (``export_*``); the live ``foot_skate_cm`` is what the fitter streams;
* identity switches: how often the performer id covering a ground-truth performer changes (per
  frame a one-to-one assignment of outputs to performers by mean joint distance, within 0.5 m);
  performers evaluated together (``--pair``) are placed ``PAIR_SPACING_M`` apart sideways, as two
  clips recorded apart share one origin;
* fitting time: milliseconds per performer per frame (wall clock of the fit, per call).
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..fitting.camera import FitCamera
from ..fitting.foot_lock import lock_feet, rig_positions
from ..pipeline.stage3 import Stage3, Stage3Config
from ..progress import progress
from ..skeletons import RIG, VNECT21, map_joints
from .metrics import accel_error as _accel_error
from .metrics import foot_skate as _foot_skate
from .metrics import joint_errors as _joint_errors
from .synthetic_observations import NoiseModel, load_motion, look_at_view, make_observations

#: Evaluation frame rate (webcam rate; the CMU data is resampled to it).
EVAL_FPS = 30.0
_HUES = (2, 17, 9, 24)
#: Mean joint distance (metres) within which an output performer covers a ground-truth one.
OWNER_GATE_M = 0.5
#: Lateral (x) distance between performers evaluated together, metres (see ``_evaluate``).
PAIR_SPACING_M = 1.0


@dataclass
class FittingReport:
    """Metrics of one evaluated clip (or pair); ``input_*`` are the noisy-input baselines."""

    clip: str
    frames: int
    performers: int
    mpjpe_mm: float
    pa_mpjpe_mm: float
    input_mpjpe_mm: float
    input_pa_mpjpe_mm: float
    accel_error: float
    input_accel_error: float
    foot_skate_cm: float
    input_foot_skate_cm: float
    gt_foot_skate_cm: float
    root_error_mm: float
    export_mpjpe_mm: float
    export_foot_skate_cm: float
    id_switches: int
    fit_ms_mean: float
    fit_ms_p95: float
    extra: dict = field(default_factory=dict)


def _owners(fitted: dict[int, np.ndarray], gt_rig: list[np.ndarray], count: int) -> np.ndarray:
    """(performers, frames) output id covering each ground-truth performer, -1 where none does.

    Per frame a one-to-one assignment (Hungarian) minimising the mean world distance over *all*
    joints, within ``OWNER_GATE_M``: partners' roots can nearly coincide where their paths cross,
    and "the nearest root" would then hand one output to both, or swap them, without any identity
    switch in the output.
    """
    ids = sorted(fitted)
    owner = np.full((len(gt_rig), count), -1)
    if not ids:
        return owner
    estimates = np.stack([fitted[pid] for pid in ids])  # (I, F, J, 3)
    for f in range(count):
        distance = np.linalg.norm(estimates[None, :, f] - np.stack([g[f] for g in gt_rig])[:, None], axis=-1)
        cost = np.nanmean(distance, axis=-1)  # (performers, ids); NaN where an id has no pose
        rows, cols = linear_sum_assignment(np.where(np.isfinite(cost), cost, 1e9))
        for row, col in zip(rows, cols, strict=True):
            if cost[row, col] < OWNER_GATE_M:
                owner[row, f] = ids[col]
    return owner


def _exported(motions: dict[int, list], offsets: dict[int, np.ndarray | None], count: int,
              foot_lock: bool) -> dict[int, np.ndarray]:
    """(F, J, 3) world positions per performer of the take as exported (optionally foot-locked)."""
    out = {}
    for pid, items in motions.items():
        index = np.array([m.frame for m in items])
        roots = np.stack([m.root_position for m in items])
        quats = np.stack([m.local_rotations for m in items])
        if foot_lock:
            locked = lock_feet(roots, quats, offsets[pid], EVAL_FPS)
            roots, quats = locked.root_positions, locked.local_rotations
        out[pid] = np.full((count, RIG.num_joints, 3), np.nan)
        out[pid][index] = rig_positions(roots, quats, offsets[pid], EVAL_FPS)
    return out


def evaluate(*args, **kwargs) -> FittingReport:
    """See :func:`_evaluate`; silences numpy's empty-slice warnings (frames where nothing matched)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _evaluate(*args, **kwargs)


def _evaluate(bvh_paths: list[Path], config: Stage3Config | None = None, noise: NoiseModel | None = None,
             max_frames: int | None = None, source_fps: float | None = None, seed: int = 0,
             same_appearance: bool = False, show_progress: bool = True, foot_lock: bool = True) -> FittingReport:
    """Evaluate one clip, or several performers together (``len(bvh_paths) > 1``, e.g. a salsa pair).

    ``foot_lock``: foot-lock the exported take (as ``export_take`` does by default).
    """
    noise = noise or NoiseModel()
    gts = [load_motion(p, EVAL_FPS, source_fps, max_frames) for p in bvh_paths]
    count = min(len(g) for g in gts)
    gts = [g[:count] for g in gts]
    # Clips recorded apart (e.g. ACRNN salsa 29 and 30) share one origin; place them side by side
    # like two people dancing together, so their paths can cross but do not coincide.
    for k, g in enumerate(gts):
        g[..., 0] += (k - (len(gts) - 1) / 2.0) * PAIR_SPACING_M
    centre = np.mean([np.nanmean(g[:, VNECT21.index("pelvis")], axis=0) for g in gts], axis=0)
    view = look_at_view(centre)
    hues = [_HUES[0]] * len(gts) if same_appearance else list(_HUES[: len(gts)])
    frames, noisy = make_observations(gts, view, EVAL_FPS, noise, hues, seed)
    stage3 = Stage3(FitCamera.from_parts(view.K, view.R_wc, view.t_wc), config)
    fitted: dict[int, np.ndarray] = {}
    motions: dict[int, list] = {}
    fit_ms: list[float] = []
    iterator = progress(frames, label="fitting", unit="frames", stream=sys.stderr) if show_progress else frames
    for frame in iterator:
        for motion in stage3.process(frame):
            fitted.setdefault(motion.performer_id, np.full((count, RIG.num_joints, 3), np.nan))[frame.frame] = \
                motion.world_positions
            motions.setdefault(motion.performer_id, []).append(motion)
        fit_ms.extend(stage3.fit_ms.values())
    gt_rig = [map_joints(g, VNECT21.name, RIG.name) for g in gts]
    noisy_rig = [map_joints(n, VNECT21.name, RIG.name) for n in noisy]
    owner = _owners(fitted, gt_rig, count)
    exported = _exported(motions, {pid: stage3.rest_offsets(pid) for pid in motions}, count, foot_lock)
    switches = 0
    mp, pa, imp, ipa, acc, iacc, skate, iskate, gskate, root_err, per_joint = ([] for _ in range(11))
    xmp, xskate = [], []
    for k, g in enumerate(gt_rig):
        ids = owner[k][owner[k] >= 0]
        switches += int(np.count_nonzero(np.diff(ids)))
        est, exp = np.full_like(g, np.nan), np.full_like(g, np.nan)
        for f in range(count):
            if owner[k, f] >= 0:
                est[f] = fitted[owner[k, f]][f]
                exp[f] = exported[owner[k, f]][f]
        rel_est, rel_gt = est - est[:, :1], g - g[:, :1]
        mask = np.isfinite(g).all(axis=(0, 2))  # rig joints the ground truth has
        a, b = _joint_errors(rel_est[:, mask], rel_gt[:, mask])
        c, d = _joint_errors(noisy_rig[k][:, mask], rel_gt[:, mask])
        mp += a
        pa += b
        imp += c
        ipa += d
        xmp += _joint_errors((exp - exp[:, :1])[:, mask], rel_gt[:, mask])[0]
        xskate.append(_foot_skate(exp, g))
        per_joint.append(np.nanmean(np.linalg.norm(rel_est - rel_gt, axis=-1), axis=0))
        acc.append(_accel_error(rel_est[:, mask], rel_gt[:, mask]))
        iacc.append(_accel_error(noisy_rig[k][:, mask], rel_gt[:, mask]))
        skate.append(_foot_skate(est, g))
        iskate.append(_foot_skate(noisy_rig[k] + g[:, :1], g))
        gskate.append(_foot_skate(g, g))
        root_err.append(float(np.nanmean(np.linalg.norm(est[:, 0] - g[:, 0], axis=1))))
    mm = 1000.0
    return FittingReport(
        clip=" + ".join(Path(p).name for p in bvh_paths), frames=count, performers=len(gts),
        mpjpe_mm=mm * float(np.mean(mp)), pa_mpjpe_mm=mm * float(np.mean(pa)),
        input_mpjpe_mm=mm * float(np.mean(imp)), input_pa_mpjpe_mm=mm * float(np.mean(ipa)),
        accel_error=mm * float(np.nanmean(acc)), input_accel_error=mm * float(np.nanmean(iacc)),
        foot_skate_cm=100 * float(np.nanmean(skate)), input_foot_skate_cm=100 * float(np.nanmean(iskate)),
        gt_foot_skate_cm=100 * float(np.nanmean(gskate)), root_error_mm=mm * float(np.nanmean(root_err)),
        export_mpjpe_mm=mm * float(np.mean(xmp)), export_foot_skate_cm=100 * float(np.nanmean(xskate)),
        id_switches=switches, fit_ms_mean=float(np.mean(fit_ms)) if fit_ms else float("nan"),
        fit_ms_p95=float(np.percentile(fit_ms, 95)) if fit_ms else float("nan"),
        extra={"noise": asdict(noise), "foot_lock": foot_lock, "performer_ids": sorted(fitted), "fps": EVAL_FPS,
               "per_joint_mm": {RIG.joints[j]: round(mm * float(v), 1) for j, v in
                                enumerate(np.nanmean(per_joint, axis=0)) if np.isfinite(v)}})
