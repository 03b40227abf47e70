"""``mocap eval video DIR``: the whole pipeline on a rendered clip, measured against its truth.

    mocap synth --bvh walk.bvh --out clips/walk --yaw 90 --distance 2.8
    mocap eval video clips/walk                      # table
    mocap eval video clips/walk --calibration none --json

A sub-command of ``mocap eval`` (:mod:`.eval_cmd` adds it); the metrics are defined in
:mod:`mocap_app.evaluation.video_eval`.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict
from pathlib import Path

from ..backends import BACKENDS, DEFAULT_BACKEND
from ..errors import MocapError
from ..evaluation.video_run import CALIBRATION_MODES

#: Table rows: label, format, then the Stage III field and (where there is one) the raw-engine field.
_ROWS_3D = (("MPJPE (mm)", "{:.1f}", "mpjpe_mm", "raw_mpjpe_mm"),
            ("PA-MPJPE (mm)", "{:.1f}", "pa_mpjpe_mm", "raw_pa_mpjpe_mm"),
            ("3DPCK @150 mm (%)", "{:.1%}", "pck150", "raw_pck150"),
            ("accel error (mm/frame^2)", "{:.2f}", "accel_error", "raw_accel_error"))


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``video`` to the sub-commands of ``mocap eval``."""
    video = sub.add_parser("video", help="the whole pipeline on a clip rendered by 'mocap synth'")
    video.add_argument("folder", type=Path, metavar="DIR", help="clip folder (video.mp4, truth.jsonl, scene.json)")
    video.add_argument("--engine", default=DEFAULT_BACKEND, choices=sorted(BACKENDS), help="Stage I engine")
    video.add_argument("--calibration", default="rendered", choices=CALIBRATION_MODES,
                       help="rendered: the clip's exact camera and floor (DIR/calibration.json); none: assumed "
                            "54 degree field of view, no floor (default rendered)")
    video.add_argument("--max-frames", type=int, default=None, metavar="N", help="evaluate at most N frames")
    video.add_argument("--max-people", type=int, default=None, metavar="N",
                       help="most performers tracked (default: the clip's performer count)")
    video.add_argument("--limb-swap", action="store_true",
                       help="undo the detector's short left/right leg mix-ups (experimental; off by default)")
    video.add_argument("--mirror-average", action="store_true",
                       help="BlazePose also reads each person mirrored and averages (off by default)")
    video.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _fmt(template: str, value: float) -> str:
    return template.format(value) if math.isfinite(value) else "n/a"


def report_table(report) -> str:  # report: VideoReport
    """The human-readable summary of a :class:`~mocap_app.evaluation.video_eval.VideoReport`."""
    r = report
    lines = [f"{r.clip}: {r.frames} frames, {r.performers} performer(s), engine {r.engine} on {r.provider}, "
             f"{'rendered calibration' if r.calibrated else 'no calibration'}",
             f"  {'detection rate':<28}{_fmt('{:.1%}', r.detection_rate):>10}",
             f"  {'figure height (px)':<28}{_fmt('{:.0f}', r.figure_height_px):>10}",
             f"  {'2D error median / p90 (px)':<28}{_fmt('{:.1f}', r.px_median):>10} / {_fmt('{:.1f}', r.px_p90)}"
             f"   (visible joints: median {_fmt('{:.1f}', r.px_median_seen)})",
             f"  {'  engine alone, raw 2D':<28}{_fmt('{:.1f}', r.raw_px_median):>10} / {_fmt('{:.1f}', r.raw_px_p90)}"
             "   (the engine's own 2D; differs only with --limb-swap)",
             f"  {'2D bias / random (px)':<28}{_fmt('{:.1f}', r.px_bias):>10} / {_fmt('{:.1f}', r.px_random)}"
             "   (per joint: |mean error|, RMS scatter about it)",
             f"  {'':<28}{'Stage III':>10}{'raw engine':>14}"]
    for label, template, fitted, raw in _ROWS_3D:
        lines.append(f"  {label:<28}{_fmt(template, getattr(r, fitted)):>10}{_fmt(template, getattr(r, raw)):>14}")
    lines += [f"  {'root position error (mm)':<28}{_fmt('{:.0f}', r.root_error_mm):>10}",
              f"  {'foot skate (cm/frame)':<28}{_fmt('{:.2f}', r.foot_skate_cm):>10}"
              f"   (truth {_fmt('{:.2f}', r.gt_foot_skate_cm)})",
              f"  {'identity switches':<28}{r.id_switches:>10d}"
              f"   (CLEAR MOT; {r.extra.get('id_switches_per_frame_matching', 0)} matching every frame afresh)",
              f"  {'pipeline frames per second':<28}{_fmt('{:.1f}', r.fps):>10}"]
    return "\n".join(lines)


def report_json(report) -> str:
    """The report as JSON (NaN written as null)."""
    def clean(value):
        if isinstance(value, float):
            return value if math.isfinite(value) else None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        return value

    return json.dumps(clean(asdict(report)), indent=2)


def run(args: argparse.Namespace) -> int:
    from ..evaluation.video_eval import evaluate_video

    if args.max_frames is not None and args.max_frames < 3:
        raise MocapError(f"--max-frames must be at least 3, got {args.max_frames}.")
    if args.max_people is not None and args.max_people < 1:
        raise MocapError(f"--max-people must be at least 1, got {args.max_people}.")
    if not args.folder.is_dir():
        raise FileNotFoundError(f"No clip folder at {args.folder}; render one with 'mocap synth --out DIR'.")
    report = evaluate_video(args.folder, args.engine, args.calibration, args.max_frames, args.max_people,
                            show_progress=not args.json, limb_swap=args.limb_swap,
                            mirror_average=args.mirror_average)
    print(report_json(report) if args.json else report_table(report))
    return 0
