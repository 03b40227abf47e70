"""Where the BlazePose models live, and how ``mocap models fetch`` gets them there.

Google publishes the BlazePose GHUM networks (Apache-2.0) inside the ``mediapipe==0.10.21`` wheel on
PyPI; later wheels dropped them, and the ``mediapipe`` package itself (which pins numpy<2) is never
installed. ``fetch_blazepose`` downloads that one wheel with ``pip download --no-deps``, extracts
the two ``.tflite`` files, checks their sha256, converts them to ONNX with sidecars
(:func:`models.export.convert_tflite`, which needs torch, imported only here and only then) and
stores everything in the user cache directory. Running it again does nothing once the converted
files are in place and match.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from .checksums import file_sha256
from .errors import MocapError, WeightsMissingError

logger = logging.getLogger(__name__)

#: Environment variable that moves the model store (tests, shared installs).
MODELS_DIR_ENV = "MOCAP_MODELS_DIR"
WHEEL_REQUIREMENT = "mediapipe==0.10.21"
#: Platform tried when pip finds no wheel for this interpreter: the models are the same in every wheel.
FALLBACK_PLATFORM = ("manylinux_2_28_x86_64", "311")
FETCH_HINT = "Run 'mocap models fetch' (needs PyPI, or '--from-wheel PATH' offline)."


@dataclass(frozen=True)
class ModelFile:
    """One network inside the wheel: its member path and the sha256 the download must have."""

    name: str
    member: str
    sha256: str


BLAZEPOSE_FILES: tuple[ModelFile, ...] = (
    ModelFile("pose_detection", "mediapipe/modules/pose_detection/pose_detection.tflite",
              "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c"),
    ModelFile("pose_landmark_full", "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
              "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f"),
)


def models_dir() -> Path:
    """The folder holding ``blazepose/`` (user cache dir, or ``$MOCAP_MODELS_DIR``)."""
    override = os.environ.get(MODELS_DIR_ENV)
    return Path(override).expanduser() if override else Path(platformdirs.user_cache_dir("mocap")) / "models"


def engine_dir(engine: str, root: Path | None = None) -> Path:
    """An engine's folder inside ``root`` (default :func:`models_dir`): ``blazepose``, ``xnect``, ..."""
    return (models_dir() if root is None else Path(root)) / engine


def blazepose_dir(root: Path | None = None) -> Path:
    """The BlazePose folder inside ``root`` (default :func:`models_dir`)."""
    return engine_dir("blazepose", root)


def retrained_or_packaged(folder: Path, name: str, packaged: Path) -> Path:
    """``folder/name`` when the user retrained that network into the model store, else the shipped one."""
    retrained = folder / name
    return retrained if retrained.is_file() else packaged


def is_complete(folder: Path) -> bool:
    """True when every network has its ONNX, sidecar and verified TFLite source in ``folder``."""
    for model in BLAZEPOSE_FILES:
        tflite_path = folder / "tflite" / Path(model.member).name
        if not ((folder / f"{model.name}.onnx").is_file() and (folder / f"{model.name}.toml").is_file()
                and tflite_path.is_file() and file_sha256(tflite_path) == model.sha256):
            return False
    return True


def blazepose_paths(root: Path | None = None) -> dict[str, Path]:
    """ONNX path of each BlazePose network, by name (``root`` as for :func:`blazepose_dir`).

    Raises:
        WeightsMissingError: the models have not been fetched (the message names the command).
    """
    folder = blazepose_dir(root)
    paths = {model.name: folder / f"{model.name}.onnx" for model in BLAZEPOSE_FILES}
    missing = [name for name, path in paths.items() if not (path.is_file() and path.with_suffix(".toml").is_file())]
    if missing:
        raise WeightsMissingError(f"BlazePose models not found in {folder}. {FETCH_HINT}")
    return paths


def download_wheel(dest: Path) -> Path:
    """``pip download --no-deps mediapipe==0.10.21`` into ``dest``; returns the wheel path.

    Raises:
        MocapError: pip is missing or PyPI cannot be reached / has no wheel.
    """
    base = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-q", "-d", str(dest)]
    platform, python = FALLBACK_PLATFORM
    attempts = ([WHEEL_REQUIREMENT],
                ["--only-binary=:all:", "--platform", platform, "--python-version", python, WHEEL_REQUIREMENT])
    errors = []
    for extra in attempts:
        try:
            result = subprocess.run(base + extra, capture_output=True, text=True, timeout=600, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            errors.append(str(exc))
            continue
        wheels = sorted(dest.glob("mediapipe-*.whl"))
        if result.returncode == 0 and wheels:
            return wheels[0]
        errors.append((result.stderr or result.stdout).strip().splitlines()[-1:] or ["pip failed"])
    detail = "; ".join(str(e[0] if isinstance(e, list) else e) for e in errors)
    raise MocapError(f"Could not download {WHEEL_REQUIREMENT} from PyPI ({detail}). Offline? On a machine with "
                     f"network run 'pip download --no-deps {WHEEL_REQUIREMENT}', copy the wheel here and run "
                     "'mocap models fetch --from-wheel PATH'.")


def extract_verified(wheel: Path, dest: Path) -> dict[str, Path]:
    """Extract the two ``.tflite`` files from the wheel into ``dest`` and check their sha256.

    Raises:
        MocapError: the file is not a wheel, lacks a model, or a hash does not match.
    """
    dest.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    try:
        with zipfile.ZipFile(wheel) as archive:
            for model in BLAZEPOSE_FILES:
                target = dest / Path(model.member).name
                try:
                    with archive.open(model.member) as source, target.open("wb") as sink:
                        shutil.copyfileobj(source, sink)
                except KeyError:
                    raise MocapError(f"{wheel} has no {model.member}; use the {WHEEL_REQUIREMENT} wheel.") from None
                digest = file_sha256(target)
                if digest != model.sha256:
                    target.unlink()
                    raise MocapError(f"{model.member} in {wheel} has sha256 {digest}, expected {model.sha256}. "
                                     f"The download is corrupt or not {WHEEL_REQUIREMENT}; fetch it again.")
                paths[model.name] = target
    except zipfile.BadZipFile as exc:
        raise MocapError(f"{wheel} is not a wheel (zip) file: {exc}. Download {WHEEL_REQUIREMENT} again.") from exc
    return paths


#: Package the conversion imports -> the extra that installs it.
_CONVERSION_EXTRAS = {"torch": "train", "tflite": "dev", "onnx": "dev"}


def _converter() -> Callable[[Path, str, Path], Path]:
    """The TFLite -> ONNX converter, imported only now: it needs torch (never on the inference path)."""
    try:
        from models.export import convert_tflite
    except ModuleNotFoundError as exc:
        package = (exc.name or "").split(".")[0]
        if package in _CONVERSION_EXTRAS:
            raise MocapError(f"Converting the models needs {package}: install with "
                             f"pip install -e .[{_CONVERSION_EXTRAS[package]}]") from exc
        raise
    return convert_tflite


def fetch_blazepose(from_wheel: Path | None = None, force: bool = False,
                    step: Callable[[str], None] | None = None, root: Path | None = None) -> Path:
    """Make the converted BlazePose models available; returns their folder.

    Args:
        from_wheel: a ``mediapipe-0.10.21-*.whl`` already on disk (no network needed).
        force: convert again even when the store is complete.
        step: called with a short description before each step (progress display).
        root: models folder (default :func:`models_dir`).

    Raises:
        MocapError: offline, wrong or corrupt wheel, hash mismatch, torch missing.
    """
    report = step or (lambda text: None)
    folder = blazepose_dir(root)
    if not force and is_complete(folder):
        logger.info("BlazePose models already in %s", folder)
        return folder
    if from_wheel is not None and not Path(from_wheel).is_file():
        raise FileNotFoundError(f"No wheel at {from_wheel}. Pass the path of a mediapipe-0.10.21 .whl file.")
    convert = _converter()
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=".fetch-") as temp:
        work = Path(temp)
        if from_wheel is None:
            report(f"downloading {WHEEL_REQUIREMENT} from PyPI")
            wheel = download_wheel(work)
        else:
            wheel = Path(from_wheel)
        report("extracting and verifying sha256")
        staged = work / "blazepose"
        sources = extract_verified(wheel, staged / "tflite")
        for name, path in sources.items():
            report(f"converting {name} to ONNX")
            convert(path, name, staged)
        if folder.exists():
            shutil.rmtree(folder)
        staged.rename(folder)
    logger.info("BlazePose models stored in %s", folder)
    return folder
