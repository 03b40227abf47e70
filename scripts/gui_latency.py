#!/usr/bin/env python3
"""Measure how responsive the desktop application's GUI thread is while it processes a video.

Runs ``mocap-app --source VIDEO --start --measure-latency --frames N`` (in a virtual X server when
there is no display) and prints the lateness percentiles of a 10 ms GUI-thread timer (start-up and
steady state) and the time spent in each slot and paint. The target is no stall over 50 ms; note
the machine's load (printed first) and that software OpenGL under Xvfb is slower than a GPU.

Usage::

    .venv/bin/python scripts/gui_latency.py VIDEO [--frames 150] [--calibration camera.json]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: Virtual screen used when there is no display.
XVFB_SCREEN = "-screen 0 1920x1080x24"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("video", type=Path, help="video file to process")
    parser.add_argument("--frames", type=int, default=150, help="frames to process before quitting (default 150)")
    parser.add_argument("--calibration", type=Path, help="camera calibration file to use")
    args = parser.parse_args(argv)
    if not args.video.is_file():
        print(f"gui_latency: error: {args.video} does not exist; pass a video file", file=sys.stderr)
        return 2
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "ui.app", "--source", str(args.video), "--start", "--measure-latency",
                   "--frames", str(args.frames), "--settings", str(Path(folder) / "settings.ini")]
        if args.calibration is not None:
            command += ["--calibration", str(args.calibration)]
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            if shutil.which("xvfb-run") is None:
                print("gui_latency: error: no display and no xvfb-run; install xvfb (apt-get install xvfb)",
                      file=sys.stderr)
                return 2
            command = ["xvfb-run", "-a", "-s", XVFB_SCREEN, *command]
        return subprocess.run(command, cwd=REPO, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
