"""Fit ``BONE_LENGTH_BIAS`` (mocap_app/skeletons/bone_bias.py) leave-one-render-out.

Usage (render folders from ``mocap synth`` of TRAIN motions only; BlazePose runs once per clip):

    python scripts/fit_bone_length_bias.py r/w1 r/w2 ... --daz r/m5 r/i04

(the renders and the exact command used are in ``mocap_app/skeletons/bone_bias.py``).

For each render: Stage III is replayed without any bias on the engine's own observations; the log
ratio of the truth's to the fitted rig's segment lengths is taken, each render's median over the
segments removed (only proportions count). Held out one render at a time, a segment's factor is
the mean of the two skeleton families' (CMU, DAZ) mean log ratios, kept only where both families
agree on its direction. Each segment is tried alone; the printout is its all-render factor and the
held-out Stage III MPJPE per render without and with it (keep segments that improve most renders
of both families).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import mocap_app.pipeline.stage3 as stage3
from mocap_app.evaluation.video_eval import evaluate_run
from mocap_app.evaluation.video_run import ClipRun, load_rendered_calibration, make_pipeline, run_clip
from mocap_app.fitting import bones
from mocap_app.fitting.camera import camera_from_calibration
from mocap_app.skeletons import RIG, map_joints
from mocap_app.synth.groundtruth import read_clip_truth
from mocap_app.types import FrameResult

#: Segments tried (those BlazePose measures; widths are left out: the truths differ between families).
SEGMENTS = (("LeftUpLeg", "LeftLeg"), ("LeftLeg", "LeftFoot"), ("LeftArm", "LeftForeArm"),
            ("LeftForeArm", "LeftHand"), ("Neck", "Head"))
MIN_LOG_RATIO = 0.03  # smallest family-mean bias kept (3%)


def replay(truth, calibration, observations, bias: dict) -> tuple[float, np.ndarray]:
    """Stage III alone on cached engine observations with ``bias``: (MPJPE mm, fitted rest offsets)."""
    stage3.bone_length_bias = lambda joint_set: bias  # the script's candidate, for this replay only
    camera = camera_from_calibration(calibration, observations[0].width, observations[0].height)
    s3 = stage3.Stage3(camera, stage3.Stage3Config())
    results = []
    for o in observations:
        motion = tuple(s3.process(o))  # (before reading tracked_observations, which it sets)
        results.append(FrameResult(frame=o.frame, time=o.time, observations=s3.tracked_observations, motion=motion,
                                   timings_ms={}))
    run = ClipRun(results=results, seconds=1.0, camera=camera, calibrated=True, engine="blazepose", provider="cpu",
                  engine_observations=list(observations))
    return evaluate_run(truth, run).mpjpe_mm, next(iter(s3.performers.values())).fit.offsets


def log_ratios(truth, offsets: np.ndarray) -> np.ndarray:
    """(len(SEGMENTS),) log of truth over fitted segment length, the median over them removed."""
    positions = np.zeros((RIG.num_joints, 3))
    for index, parent in enumerate(RIG.parents):
        if parent >= 0:
            positions[index] = positions[parent] + offsets[index]
    rows = [bones._SEGMENT_ROWS[s] for s in SEGMENTS]
    fitted = bones.segment_lengths(positions[None])
    true = bones.segment_lengths(map_joints(truth.camera["blazepose33"][:, 0], "blazepose33", RIG.name))
    r = np.log([true[row] / fitted[row] for row in rows])
    return r - np.median(r)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cmu", nargs="+", type=Path, help="renders of CMU-skeleton motions")
    parser.add_argument("--daz", nargs="+", type=Path, required=True, help="renders of DAZ-skeleton motions")
    parser.add_argument("--max-frames", type=int, default=None)
    args = parser.parse_args()
    clips, family = [*args.cmu, *args.daz], np.array([0] * len(args.cmu) + [1] * len(args.daz))
    data = []
    for folder in clips:
        calibration = load_rendered_calibration(folder, "rendered")
        run = run_clip(folder, make_pipeline("blazepose", calibration, 1), args.max_frames)
        data.append((read_clip_truth(folder), calibration, run.engine_observations))
    base = [replay(*d, {}) for d in data]
    ratios = np.array([log_ratios(d[0], offsets) for d, (_, offsets) in zip(data, base, strict=True)])
    for i, segment in enumerate(SEGMENTS):  # each segment alone, every render held out in turn
        held_out = []
        for k in range(len(clips)):
            train = np.arange(len(clips)) != k
            means = np.array([ratios[train & (family == f), i].mean() for f in (0, 1)])
            agree = np.sign(means[0]) == np.sign(means[1]) and np.abs(means).min() >= MIN_LOG_RATIO
            bias = {segment: float(np.exp(means.mean()))} if agree else {}
            held_out.append(replay(*data[k], bias)[0] if bias else base[k][0])
        before = np.array([b[0] for b in base])
        factor = float(np.exp(np.mean([ratios[family == f, i].mean() for f in (0, 1)])))
        print(f"{'-'.join(segment)}: factor {factor:.2f} (all renders); held-out Stage III MPJPE mm "
              + " ".join(f"{c.name} {b:.1f}->{a:.1f}" for c, b, a in zip(clips, before, held_out, strict=True))
              + f"; mean {before.mean():.1f}->{np.mean(held_out):.1f}, better on {int((held_out < before).sum())}")

if __name__ == "__main__":
    main()
