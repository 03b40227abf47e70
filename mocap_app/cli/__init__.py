"""The ``mocap`` command line: one table of commands, each in its own module, loaded on demand.

Every command module provides ``add_arguments(parser)`` and ``run(args) -> int``. Errors a user can
cause (:class:`~mocap_app.errors.MocapError`, paths the operating system refuses) end in one line on stderr and exit
status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import logging
import sys
from pathlib import Path

from .. import __version__
from ..errors import MocapError

#  command        module                          one-line help
COMMANDS: dict[str, tuple[str, str]] = {
    "sources": ("mocap_app.cli.sources_cmd", "list the cameras this machine can open"),
    "bvh": ("mocap_app.cli.bvh_cmd", "inspect and convert BVH files"),
    "models": ("mocap_app.cli.models_cmd", "fetch and convert the BlazePose models (mocap models fetch)"),
    "run": ("mocap_app.cli.run_cmd", "run a video or camera through a Stage I engine into observations"),
    "bench": ("mocap_app.cli.bench_cmd", "time each stage of an engine and print frames per second"),
    "engines": ("mocap_app.cli.engines_cmd", "build, list and clear cached TensorRT engines"),
    "calibrate": ("mocap_app.cli.calibrate_cmd", "camera intrinsics and the ground plane from a checkerboard"),
    "synth": ("mocap_app.cli.synth_cmd", "render synthetic performers from BVH motion with exact ground truth"),
    "fit": ("mocap_app.cli.fit_cmd", "fit skeletons to an observation file and export BVH"),
    "eval": ("mocap_app.cli.eval_cmd", "measure tracking + fitting against ground-truth motion"),
    "take": ("mocap_app.cli.take_cmd", "recover a take journal left by a crash as BVH"),
    "train": ("mocap_app.cli.train_cmd", "train XNect Stage I/II, the PRN and MultiPoseNet"),
    "weights": ("mocap_app.cli.weights_cmd", "import published or trained weights (weights import selecsls60 FILE)"),
    "demo": ("mocap_app.cli.demo_cmd", "capture a rendered walk and wave end to end: BVH, overlay, accuracy"),
}

#: Exceptions that are the user's to fix: shown as one line, never as a traceback. ``OSError`` covers
#: the operating system refusing a path (missing folder, a file where a folder should be, permissions,
#: a full or read-only disk).
USER_ERRORS = (MocapError, OSError)

#: What to do about an operating-system error on a path, by errno.
_OS_ERROR_FIXES = {
    errno.ENOENT: "no such file or folder (or it cannot be created there); check the path",
    errno.EEXIST: "a file is in the way where a folder is needed; choose another path",
    errno.ENOTDIR: "part of the path is a file, not a folder; choose another path",
    errno.EISDIR: "that is a folder; give a file path",
    errno.EACCES: "permission denied; choose a writable location or fix the permissions",
    errno.EPERM: "not permitted; choose a writable location or fix the permissions",
    errno.EROFS: "the file system is read-only; write somewhere else",
    errno.ENOSPC: "the disk is full; free some space or write somewhere else",
}


def describe_error(exc: BaseException) -> str:
    """One line for a user error: our own messages as they are, OS errors with the path and the fix."""
    if not isinstance(exc, OSError) or exc.filename is None:
        return str(exc)  # raised by this package with a message that already names the fix
    path = Path(str(exc.filename))
    if path.name.startswith(".") and "tmp" in path.name:  # an atomic write's temporary file: name its folder
        where = f"cannot write in the folder {path.parent}"
    else:
        where = f"cannot use {path}"
    fix = _OS_ERROR_FIXES.get(exc.errno or 0, f"{(exc.strerror or str(exc)).lower()}; check the path")
    return f"{where}: {fix}."


def _top_parser() -> argparse.ArgumentParser:
    listing = "\n".join(f"  {name:<12} {text}" for name, (_, text) in COMMANDS.items())
    parser = argparse.ArgumentParser(
        prog="mocap", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Real-time monocular motion capture: webcam or video in, 3D skeletons and BVH out.",
        epilog=f"commands:\n{listing}\n\nRun 'mocap COMMAND --help' for a command's options.")
    parser.add_argument("--version", action="version", version=f"mocap {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    parser.add_argument("command", choices=sorted(COMMANDS), metavar="COMMAND", help="one of the commands below")
    parser.add_argument("args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``mocap``; returns the process exit status."""
    top = _top_parser().parse_args(argv)
    module_name, text = COMMANDS[top.command]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"mocap {top.command}", description=text[0].upper() + text[1:] + ".")
    module.add_arguments(parser)
    args = parser.parse_args(top.args)
    level = logging.WARNING - 10 * min(top.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(level)
    try:
        return int(module.run(args) or 0)
    except USER_ERRORS as exc:
        if top.debug:
            raise
        print(f"mocap {top.command}: error: {describe_error(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"mocap {top.command}: interrupted", file=sys.stderr)
        return 130
