"""``mocap eval video``: the whole pipeline on a rendered clip, measured against its exact truth.

A clip folder from ``mocap synth`` (video, ``truth.jsonl``, ``scene.json``, ``calibration.json``)
runs through Stage I (any engine), Stage II, identity tracking and Stage III
(:mod:`.video_run`); this module compares what came out with the truth:

* detection rate: truth performers in view (half their joints inside the image) matched by a
  detection; detections and truth are matched per frame by the Hungarian algorithm on the mean
  rig-joint pixel distance over the truth's figure height (gate :data:`MATCH_GATE`);
* 2D error of the pipeline's 2D output (the observations Stage III tracked and fitted, with the
  detector's left/right limb mix-ups undone, :mod:`~mocap_app.tracking.limb_swap`) against the
  truth in the engine's joint set (the synthetic figure carries BlazePose's 33 landmarks on its
  surface), pixels: median and 90th percentile over joints inside the image, and per joint the
  bias (mean error vector, systematic) apart from the random error (RMS scatter about that
  mean); ``raw_px_*`` is the same median and 90th percentile of the engine's own 2D as it came
  out of Stage I;
* 3D, root-relative, in camera axes, on the rig joints the engine's joint set maps to: the
  engine's raw 3D (mapped to the rig by the same :func:`~mocap_app.skeletons.map_joints` that
  feeds Stage III) and the Stage III output, both against the truth landmarks mapped to the rig
  the same way:
  MPJPE, PA-MPJPE (per-frame similarity alignment), 3DPCK at :data:`PCK_THRESHOLD_M`,
  acceleration error;
* root position error (world, metres) when the pipeline had the rendered calibration;
* foot skate of the Stage III output while the truth foot is planted;
* identity switches: changes of the Stage III performer id matched to each truth performer, with
  CLEAR MOT's rule for the matching (Bernardin and Stiefelhagen 2008): a truth performer keeps the
  performer it was last matched to while that one is within the gate, and only the rest are matched
  afresh, so two dancers a few pixels apart do not trade one fitted skeleton on noise;
  ``extra["id_switches_per_frame_matching"]`` counts them with every frame matched afresh;
* frames per second of the pipeline.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..skeletons import RIG, get_mapping, get_skeleton, map_joints
from ..synth.groundtruth import ClipTruth, read_clip_truth
from ..types import Observation
from . import metrics
from .video_run import ClipRun, load_rendered_calibration, make_pipeline, run_clip

#: A detection matches a truth performer when its mean rig-joint distance is below this fraction of
#: the truth's figure height.
MATCH_GATE = 0.5
#: A truth performer counts as in view when at least this fraction of its joints is inside the image.
MIN_IN_VIEW = 0.5
PCK_THRESHOLD_M = 0.150
_HIPS = RIG.index("Hips")
_MM, _CM = 1000.0, 100.0


@dataclass
class VideoReport:
    """Accuracy of the pipeline on one rendered clip; ``raw_*`` measure the engine's own output.

    ``px_*`` are the pipeline's corrected 2D (what Stage III fitted), ``raw_px_*`` the engine's 2D
    as it came out of Stage I; ``raw_mpjpe_mm`` etc. the engine's own 3D.

    Lengths in millimetres unless named otherwise; NaN where a metric had nothing to compare.
    """

    clip: str
    engine: str
    provider: str
    calibrated: bool
    frames: int
    performers: int
    figure_height_px: float
    detection_rate: float
    px_median: float
    px_p90: float
    px_median_seen: float
    px_bias: float
    px_random: float
    raw_px_median: float
    raw_px_p90: float
    raw_mpjpe_mm: float
    raw_pa_mpjpe_mm: float
    raw_pck150: float
    mpjpe_mm: float
    pa_mpjpe_mm: float
    pck150: float
    root_error_mm: float
    raw_accel_error: float
    accel_error: float
    foot_skate_cm: float
    gt_foot_skate_cm: float
    id_switches: int
    fps: float
    extra: dict = field(default_factory=dict)


def _truth_set(truth: ClipTruth, joint_set: str) -> str:
    """The truth joint set to compare an engine's joints with: its own when rendered, else the rig."""
    return joint_set if joint_set in truth.pixels else RIG.name


def _to_rig(values: np.ndarray, joint_set: str) -> np.ndarray:
    return values if joint_set == RIG.name else map_joints(values, joint_set, RIG.name)


def _costs(pred: list[np.ndarray], truth: np.ndarray, heights: np.ndarray, present: np.ndarray) -> np.ndarray:
    """(P, N) mean rig-joint distance over figure height; ``pred`` (J, 2) and ``truth`` (P, J, 2) rig pixels."""
    cost = np.full((len(truth), len(pred)), np.inf)
    for k in np.flatnonzero(present):
        for i, p in enumerate(pred):
            d = np.linalg.norm(p - truth[k], axis=1)
            d = d[np.isfinite(d)]
            if len(d) >= 2:
                cost[k, i] = float(d.mean()) / heights[k]
    return cost


def _assign(cost: np.ndarray, keep: dict[int, int] | None = None) -> dict[int, int]:
    """Truth index -> prediction index for one frame's :func:`_costs`, within the gate.

    ``keep`` (truth index -> prediction index, e.g. last frame's pairs) are kept where still within
    the gate before the others are matched (CLEAR MOT's correspondence rule).
    """
    if not cost.size or not np.isfinite(cost).any():
        return {}
    kept = {k: i for k, i in (keep or {}).items() if cost[k, i] < MATCH_GATE}
    finite = np.where(np.isfinite(cost), cost, 1e6)
    finite[list(kept), :] = 1e6
    finite[:, list(kept.values())] = 1e6
    rows, cols = linear_sum_assignment(finite)
    fresh = {int(r): int(c) for r, c in zip(rows, cols, strict=True)
             if cost[r, c] < MATCH_GATE and r not in kept and c not in kept.values()}
    return kept | fresh


def _match(pred: list[np.ndarray], truth: np.ndarray, heights: np.ndarray, present: np.ndarray) -> dict[int, int]:
    """Truth index -> prediction index for one frame (:func:`_costs`, then :func:`_assign`)."""
    if not pred or not present.any():
        return {}
    return _assign(_costs(pred, truth, heights, present))


def _rel(x: np.ndarray) -> np.ndarray:
    return x - x[..., _HIPS:_HIPS + 1, :]


def _errors_2d(errors: np.ndarray, seen: np.ndarray) -> dict[str, Any]:
    """Summary of (N, J, 2) pixel error vectors (NaN where not compared); ``seen`` (N, J) truly visible."""
    norms = np.linalg.norm(errors, axis=-1)
    valid = np.isfinite(norms)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        bias = np.nanmean(errors, axis=0)                                      # (J, 2)
        random = np.sqrt(np.nanmean(np.sum((errors - bias) ** 2, axis=-1), axis=0))  # (J,)
    counted = valid.sum(axis=0) >= 2
    bias_norm = np.linalg.norm(bias, axis=-1)
    nan = float("nan")
    return {
        "px_median": float(np.median(norms[valid])) if valid.any() else nan,
        "px_p90": float(np.percentile(norms[valid], 90)) if valid.any() else nan,
        "px_median_seen": float(np.median(norms[valid & seen])) if (valid & seen).any() else nan,
        "px_bias": float(bias_norm[counted].mean()) if counted.any() else nan,
        "px_random": float(random[counted].mean()) if counted.any() else nan,
        "bias_px": bias, "random_px": random, "counted": counted,
    }


def evaluate_run(truth: ClipTruth, run: ClipRun, clip: str = "") -> VideoReport:
    """Compare a pipeline run with the clip's truth (see the module docstring for every metric)."""
    frames = min(len(run.results), len(truth.boxes))
    count = truth.boxes.shape[1]
    joint_set = next((p.joint_set for r in run.results for p in r.observations.people), RIG.name)
    tset = _truth_set(truth, joint_set)
    t_px = truth.pixels[tset][:frames]
    t_rig_px = _to_rig(t_px, tset)
    t_rig_cam = _rel(_to_rig(truth.camera[tset][:frames], tset))
    t_rig_world = _to_rig(truth.world[tset][:frames], tset)
    in_image = truth.visibility[tset][:frames] >= 1
    seen = truth.visibility[tset][:frames] == 2
    heights = truth.boxes[:frames, :, 3] - truth.boxes[:frames, :, 1]
    present = (in_image.mean(axis=-1) >= MIN_IN_VIEW) & np.isfinite(heights)
    compared = get_mapping(joint_set, RIG.name).available if joint_set != RIG.name else np.ones(RIG.num_joints, bool)
    compared = compared & np.isfinite(t_rig_cam).all(axis=(0, 1, 3))

    shape = (count, frames, RIG.num_joints, 3)
    raw3d, fit3d, fit_world = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
    err2d = np.full((frames, count, t_px.shape[2], 2), np.nan)
    raw_err2d = np.full_like(err2d, np.nan)
    owners = np.full((count, frames), -1)
    fresh_owners = np.full((count, frames), -1)
    last_owner = np.full(count, -1)
    detected = 0
    for f, result in enumerate(run.results[:frames]):
        people = result.observations.people
        matches = _match([_to_rig(p.joints2d, p.joint_set) for p in people], t_rig_px[f], heights[f], present[f])
        for k, i in matches.items():
            detected += int(present[f, k])
            err2d[f, k] = _pixel_errors(people[i], tset, t_px[f, k], in_image[f, k])
        engine_people = run.engine_observations[f].people if f < len(run.engine_observations) else people
        raw_matches = _match([_to_rig(p.joints2d, p.joint_set) for p in engine_people], t_rig_px[f], heights[f],
                             present[f])
        for k, i in raw_matches.items():
            person = engine_people[i]
            raw_err2d[f, k] = _pixel_errors(person, tset, t_px[f, k], in_image[f, k])
            if person.joints3d is not None:
                raw3d[k, f] = _rel(map_joints(person.joints3d, person.joint_set, RIG.name))
        fitted = list(result.motion)
        ids = [m.performer_id for m in fitted]
        cost = _costs([run.camera.project(m.world_positions) for m in fitted], t_rig_px[f], heights[f], present[f])
        for k, i in _assign(cost).items():
            fresh_owners[k, f] = ids[i]
        keep = {k: ids.index(last_owner[k]) for k in range(count) if last_owner[k] in ids}
        for k, i in _assign(cost, keep).items():
            motion = fitted[i]
            owners[k, f] = last_owner[k] = motion.performer_id
            fit_world[k, f] = motion.world_positions
            fit3d[k, f] = _rel(run.camera.to_camera(motion.world_positions))
    report = _report(truth, run, clip, frames, t_rig_cam, t_rig_world, compared, raw3d, fit3d, fit_world, err2d,
                     seen, owners, detected / max(int(present.sum()), 1), heights[present], tset)
    report.extra["id_switches_per_frame_matching"] = sum(metrics.id_switches(fresh_owners[k]) for k in range(count))
    raw_norms = np.linalg.norm(raw_err2d, axis=-1)
    raw_norms = raw_norms[np.isfinite(raw_norms)]
    if len(raw_norms):
        report.raw_px_median, report.raw_px_p90 = float(np.median(raw_norms)), float(np.percentile(raw_norms, 90))
    return report


def _pixel_errors(person: Observation, tset: str, truth_px: np.ndarray, in_image: np.ndarray) -> np.ndarray:
    """(J, 2) error vectors of one person's 2D in the truth joint set ``tset``; NaN outside the image."""
    own = person.joints2d if person.joint_set == tset else map_joints(person.joints2d, person.joint_set, tset)
    return np.where(in_image[:, None], own - truth_px, np.nan)


def _report(truth: ClipTruth, run: ClipRun, clip: str, frames: int, t_cam: np.ndarray, t_world: np.ndarray,
            compared: np.ndarray, raw3d: np.ndarray, fit3d: np.ndarray, fit_world: np.ndarray, err2d: np.ndarray,
            seen: np.ndarray, owners: np.ndarray, detection_rate: float, heights: np.ndarray,
            tset: str) -> VideoReport:
    count = owners.shape[0]
    gt = np.moveaxis(t_cam, 1, 0)[:, :, compared]      # (P, F, Jc, 3)
    gt_world = np.moveaxis(t_world, 1, 0)              # (P, F, J, 3)
    raw, fit = raw3d[:, :, compared], fit3d[:, :, compared]
    summary = _errors_2d(err2d.reshape(-1, *err2d.shape[2:]), seen.reshape(-1, seen.shape[-1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        raw_mp, raw_pa = zip(*[metrics.joint_errors(raw[k], gt[k]) for k in range(count)], strict=True)
        fit_mp, fit_pa = zip(*[metrics.joint_errors(fit[k], gt[k]) for k in range(count)], strict=True)
        root = np.linalg.norm(fit_world[:, :, _HIPS] - gt_world[:, :, _HIPS], axis=-1)
        report = VideoReport(
            clip=clip, engine=run.engine, provider=run.provider, calibrated=run.calibrated, frames=frames,
            performers=count, figure_height_px=float(np.median(heights)) if len(heights) else float("nan"),
            detection_rate=detection_rate,
            **{key: summary[key] for key in ("px_median", "px_p90", "px_median_seen", "px_bias", "px_random")},
            raw_px_median=float("nan"), raw_px_p90=float("nan"),
            raw_mpjpe_mm=_pooled_mm(raw_mp), raw_pa_mpjpe_mm=_pooled_mm(raw_pa),
            raw_pck150=metrics.pck(raw, gt, PCK_THRESHOLD_M),
            mpjpe_mm=_pooled_mm(fit_mp), pa_mpjpe_mm=_pooled_mm(fit_pa),
            pck150=metrics.pck(fit, gt, PCK_THRESHOLD_M),
            root_error_mm=_MM * float(np.nanmean(root)) if run.calibrated and np.isfinite(root).any() else float("nan"),
            raw_accel_error=_MM * float(np.nanmean([metrics.accel_error(raw[k], gt[k]) for k in range(count)])),
            accel_error=_MM * float(np.nanmean([metrics.accel_error(fit[k], gt[k]) for k in range(count)])),
            foot_skate_cm=_CM * float(np.nanmean([metrics.foot_skate(fit_world[k], gt_world[k])
                                                  for k in range(count)])),
            gt_foot_skate_cm=_CM * float(np.nanmean([metrics.foot_skate(gt_world[k], gt_world[k])
                                                     for k in range(count)])),
            id_switches=sum(metrics.id_switches(owners[k]) for k in range(count)), fps=run.fps)
    joints = get_skeleton(tset).joints
    report.extra = {
        "truth_joint_set": tset, "compared_rig_joints": [RIG.joints[j] for j in np.flatnonzero(compared)],
        "performer_ids": sorted({int(i) for i in owners.ravel() if i >= 0}),
        "stage_ms": _mean_timings(run),
        "per_joint_2d": {joints[j]: {"bias_px": [round(float(v), 2) for v in summary["bias_px"][j]],
                                     "random_px": round(float(summary["random_px"][j]), 2)}
                         for j in np.flatnonzero(summary["counted"])},
    }
    return report


def _pooled_mm(per_performer: tuple[list[float], ...]) -> float:
    """Mean over every performer's per-frame errors (metres), in millimetres."""
    pooled = [value for values in per_performer for value in values]
    return _MM * float(np.mean(pooled)) if pooled else float("nan")


def _mean_timings(run: ClipRun) -> dict[str, float]:
    keys = {key for r in run.results for key in r.timings_ms}
    return {key: round(float(np.mean([r.timings_ms.get(key, 0.0) for r in run.results])), 2) for key in sorted(keys)}


def evaluate_video(folder: str | Path, engine: str, calibration: str = "rendered", max_frames: int | None = None,
                   max_people: int | None = None, backend: Any = None, show_progress: bool = True,
                   limb_swap: bool = False, mirror_average: bool = False) -> VideoReport:
    """Run the pipeline on a rendered clip folder and measure it.

    Args:
        folder: clip folder from ``mocap synth``.
        engine: Stage I engine name.
        calibration: ``"rendered"`` (the clip's exact camera and floor) or ``"none"`` (assumed FOV).
        max_frames: evaluate at most this many frames.
        max_people: most performers tracked (default: the clip's performer count).
        backend: an already built Stage I backend (tests pass one loaded from their model folder).
        show_progress: draw a progress bar.
        limb_swap: switch on Stage III's left/right leg-swap correction.
        mirror_average: BlazePose reads each crop mirrored too and averages (ignored with ``backend``).

    Raises:
        FileNotFoundError, MocapError: missing clip files, unknown calibration mode, missing weights.
    """
    folder = Path(folder)
    truth = read_clip_truth(folder)
    pipeline = make_pipeline(engine, load_rendered_calibration(folder, calibration),
                             max_people or len(truth.scene["performers"]), backend, limb_swap,
                             mirror_average)
    run = run_clip(folder, pipeline, max_frames, show_progress=show_progress)
    return evaluate_run(truth, run, folder.name)
