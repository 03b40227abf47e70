"""``mocap eval``: measure the pipeline against ground-truth motion capture.

    mocap eval fitting --bvh clip.bvh [clip2.bvh ...] [--json]
    mocap eval fitting --pair salsa/29.bvh salsa/30.bvh --source-fps 60
    mocap eval video clips/walk [--engine blazepose] [--calibration rendered|none] [--json]

``fitting`` turns each BVH into noisy detector-like observations seen by a calibrated virtual
camera (noise model: ``mocap_app/evaluation/synthetic_observations.py``), runs identity tracking
and Stage III, and prints MPJPE / PA-MPJPE, acceleration error, foot skate, identity switches and
milliseconds per performer per frame, for the fitted output and for the noisy input, plus MPJPE and
foot skate of the take as exported (foot-locked unless ``--no-foot-lock``).

``video`` runs the whole pipeline on a clip rendered by ``mocap synth`` (see
``mocap_app/evaluation/video_eval.py`` and ``mocap_app/cli/eval_video_cmd.py``).
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict
from pathlib import Path

from ..errors import MocapError
from ..evaluation.synthetic_observations import NoiseModel
from .fit_cmd import add_stage3_arguments, stage3_config

_ROWS = (("MPJPE (mm)", "mpjpe_mm", "input_mpjpe_mm"), ("PA-MPJPE (mm)", "pa_mpjpe_mm", "input_pa_mpjpe_mm"),
         ("accel error (mm/frame^2)", "accel_error", "input_accel_error"),
         ("foot skate (cm/frame)", "foot_skate_cm", "input_foot_skate_cm"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="what", required=True, metavar="WHAT")
    fitting = sub.add_parser("fitting", help="tracking + skeleton fitting on ground-truth BVH motion")
    fitting.add_argument("--bvh", nargs="+", type=Path, default=[], metavar="FILE", help="clips, each evaluated alone")
    fitting.add_argument("--pair", nargs=2, type=Path, default=None, metavar=("A", "B"),
                         help="two clips performed together in one scene (identity tracking)")
    fitting.add_argument("--max-frames", type=int, default=None, help="evaluate at most this many frames (30 fps)")
    fitting.add_argument("--source-fps", type=float, default=None,
                         help="the files' true frame rate when the header is wrong (the ACRNN salsa files: 60)")
    fitting.add_argument("--seed", type=int, default=0, help="noise seed")
    fitting.add_argument("--no-3d", action="store_true", help="2D-only observations (no Stage II 3D)")
    fitting.add_argument("--same-appearance", action="store_true", help="give every performer the same colours")
    fitting.add_argument("--json", action="store_true", help="print JSON instead of a table")
    fitting.add_argument("--no-foot-lock", action="store_true", help="evaluate the exported take without foot locking")
    add_stage3_arguments(fitting)
    from . import eval_video_cmd

    eval_video_cmd.add_parser(sub)


def _table(report) -> str:
    lines = [f"{report.clip}: {report.frames} frames at 30 fps, {report.performers} performer(s)",
             f"  {'metric':<26}{'fitted':>10}{'noisy input':>14}"]
    for label, out, inp in _ROWS:
        lines.append(f"  {label:<26}{getattr(report, out):>10.2f}{getattr(report, inp):>14.2f}")
    lines.append(f"  {'ground-truth foot skate':<26}{report.gt_foot_skate_cm:>10.2f}")
    lines.append(f"  {'exported take MPJPE (mm)':<26}{report.export_mpjpe_mm:>10.2f}")
    lines.append(f"  {'exported take foot skate':<26}{report.export_foot_skate_cm:>10.2f}"
                 + ("   (foot-locked)" if report.extra.get("foot_lock") else "   (no foot lock)"))
    lines.append(f"  {'root position error (mm)':<26}{report.root_error_mm:>10.1f}")
    lines.append(f"  {'identity switches':<26}{report.id_switches:>10d}")
    lines.append(f"  {'ms per performer-frame':<26}{report.fit_ms_mean:>10.2f}   (p95 {report.fit_ms_p95:.2f})")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.what == "video":
        from . import eval_video_cmd

        return eval_video_cmd.run(args)
    from ..evaluation.fitting_eval import evaluate

    jobs = [[path] for path in args.bvh] + ([list(args.pair)] if args.pair else [])
    if not jobs:
        raise MocapError("Nothing to evaluate: give --bvh FILE... and/or --pair A B.")
    if args.max_frames is not None and args.max_frames < 3:
        raise MocapError("--max-frames must be at least 3.")
    if args.source_fps is not None and not 0 < args.source_fps < math.inf:
        raise MocapError(f"--source-fps must be a positive frame rate, got {args.source_fps}.")
    for path in (p for job in jobs for p in job):
        if not path.is_file():
            raise FileNotFoundError(f"No BVH file at {path}.")
    config, noise = stage3_config(args), NoiseModel(with_3d=not args.no_3d)
    reports = []
    for job in jobs:
        try:
            reports.append(evaluate(job, config, noise, args.max_frames, args.source_fps, args.seed,
                                    args.same_appearance, show_progress=not args.json,
                                    foot_lock=not args.no_foot_lock))
        except ValueError as exc:
            raise MocapError(f"Cannot evaluate {', '.join(map(str, job))}: {exc}") from exc
    if args.json:
        clean = [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(r).items()}
                 for r in reports]
        print(json.dumps(clean, indent=2))
    else:
        print("\n\n".join(_table(r) for r in reports))
    return 0
