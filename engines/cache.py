"""The TensorRT engine cache: one folder per (ONNX file, GPU, TensorRT version, precision, shapes).

A TensorRT engine only runs on the GPU model (compute capability) and TensorRT version that built
it, for the shapes it was built for. :class:`EngineKey` holds all of that; its digest names the
entry's folder, so a change to any part (a retrained ONNX file, a new GPU, a TensorRT upgrade,
another precision) is simply a cache miss and the engine is rebuilt. Each entry holds the
serialized engine and ``manifest.json`` (the key, the engine's size and sha256). An entry whose
manifest does not match its key or whose engine file is missing, truncated or altered is corrupt:
:meth:`EngineCache.lookup` deletes it, says so once, and reports a miss. Entries are written to a
temporary folder and renamed into place, so a crash mid-write never leaves a half entry.

A build that failed (e.g. out of GPU memory) is remembered per key (:meth:`EngineCache.record_failure`)
so later starts fall back at once instead of failing the same multi-minute build on every start;
``mocap engines build`` retries it, ``mocap engines clear`` forgets it.

Layout (root: the user cache dir's ``engines/``, or ``$MOCAP_ENGINES_DIR``)::

    <model>-<precision>-<digest16>/model.engine, manifest.json
    timing/<gpu>-sm<cc>-trt<version>.cache      TensorRT timing cache, shared by builds on that GPU
    calibration/<model>-<onnx sha16>.cache      INT8 calibration cache
    failures/<digest16>.json                    why the last build for that key failed
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import platformdirs

from mocap_app.checksums import file_sha256

logger = logging.getLogger(__name__)

#: Environment variable that moves the engine cache (tests, shared installs).
ENGINES_DIR_ENV = "MOCAP_ENGINES_DIR"
MANIFEST_NAME = "manifest.json"
ENGINE_NAME = "model.engine"
#: Layout version of ``manifest.json``; another value is treated as a stale entry.
MANIFEST_FORMAT = 1
DIGEST_CHARS = 16
#: Precisions a TensorRT engine can be built in.
PRECISIONS = ("fp32", "fp16", "int8")
#: Folders of the cache root that are not engine entries.
_RESERVED_FOLDERS = ("timing", "calibration", "failures")


def default_cache_dir() -> Path:
    """The engine cache folder: ``$MOCAP_ENGINES_DIR`` or the user cache dir's ``mocap/engines``."""
    override = os.environ.get(ENGINES_DIR_ENV)
    return Path(override).expanduser() if override else Path(platformdirs.user_cache_dir("mocap")) / "engines"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "unknown"


@dataclass(frozen=True, slots=True)
class EngineKey:
    """Everything a built engine depends on.

    Attributes:
        model: the network's name (the ONNX file's stem), for listing and folder names only.
        onnx_sha256: hex sha256 of the ONNX file.
        gpu_name: e.g. ``"NVIDIA GeForce RTX 3060"``.
        compute_capability: e.g. ``"8.6"``.
        tensorrt_version: e.g. ``"10.7.0"``.
        precision: one of :data:`PRECISIONS`.
        input_shapes: per input ``(name, min, opt, max)`` shapes of its optimisation profile
            (all three equal for a fixed-shape input).
    """

    model: str
    onnx_sha256: str
    gpu_name: str
    compute_capability: str
    tensorrt_version: str
    precision: str
    input_shapes: tuple[tuple[str, tuple[int, ...], tuple[int, ...], tuple[int, ...]], ...]

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"Unknown precision {self.precision!r}; valid: {', '.join(PRECISIONS)}.")

    def as_json(self) -> dict:
        """The key as plain JSON types (tuples become lists)."""
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_json(cls, data: dict) -> EngineKey:
        """The key :meth:`as_json` wrote (``TypeError``/``ValueError``/``KeyError`` if it is not one)."""
        shapes = tuple((str(name), tuple(low), tuple(opt), tuple(high))
                       for name, low, opt, high in data["input_shapes"])
        fields = {name: str(data[name]) for name in ("model", "onnx_sha256", "gpu_name", "compute_capability",
                                                      "tensorrt_version", "precision")}
        return cls(input_shapes=shapes, **fields)

    @property
    def digest(self) -> str:
        """Stable hex digest of every field (canonical JSON, sorted keys)."""
        text = json.dumps(self.as_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def folder_name(self) -> str:
        return f"{_slug(self.model)}-{self.precision}-{self.digest[:DIGEST_CHARS]}"


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """One cached engine as :meth:`EngineCache.entries` lists it."""

    folder: Path
    model: str
    precision: str
    gpu_name: str
    tensorrt_version: str
    size_bytes: int
    created: float
    problem: str | None


class EngineCache:
    """Lookup, atomic store, corruption check, listing and clearing of built engines.

    Example:
        >>> cache = EngineCache(tmp_path)                                   # doctest: +SKIP
        >>> path = cache.lookup(key) or cache.store(key, build(), source)   # doctest: +SKIP
    """

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()

    # --- entries --------------------------------------------------------------------------------

    def entry_dir(self, key: EngineKey) -> Path:
        return self.root / key.folder_name

    def _problem(self, folder: Path, key: EngineKey | None) -> str | None:
        """Why the entry in ``folder`` cannot be used (``None``: it is intact and matches ``key``)."""
        try:
            manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            return f"unreadable manifest ({exc.__class__.__name__})"
        if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
            return "manifest of another format"
        if key is not None and manifest.get("key") != key.as_json():
            return "manifest does not match its key"
        try:
            if EngineKey.from_json(manifest["key"]).folder_name != folder.name:
                return "manifest does not match its folder"
        except (KeyError, TypeError, ValueError):
            return "manifest has no valid key"
        engine = folder / ENGINE_NAME
        if not engine.is_file():
            return "engine file missing"
        if engine.stat().st_size != manifest.get("engine_bytes"):
            return "engine file has the wrong size (truncated?)"
        if file_sha256(engine) != manifest.get("engine_sha256"):
            return "engine file does not match its checksum"
        return None

    def lookup(self, key: EngineKey) -> Path | None:
        """The cached engine file for ``key``, or ``None`` (a corrupt entry is deleted first)."""
        folder = self.entry_dir(key)
        if not folder.is_dir():
            return None
        problem = self._problem(folder, key)
        if problem is not None:
            self.invalidate(key, problem)
            return None
        return folder / ENGINE_NAME

    def invalidate(self, key: EngineKey, reason: str) -> None:
        """Delete ``key``'s entry, saying why once (corrupt file, engine the runtime rejected)."""
        folder = self.entry_dir(key)
        if folder.exists():
            logger.warning("Cached TensorRT engine %s is unusable (%s): deleted, it will be rebuilt.", folder, reason)
            shutil.rmtree(folder, ignore_errors=True)

    def store(self, key: EngineKey, engine: bytes, source: str | Path, build_seconds: float = 0.0) -> Path:
        """Write ``engine`` for ``key`` atomically; drop older engines of the same source and precision.

        Returns:
            The stored engine file.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        manifest = {"format": MANIFEST_FORMAT, "key": key.as_json(), "source": str(source),
                    "engine_bytes": len(engine), "engine_sha256": hashlib.sha256(engine).hexdigest(),
                    "created": time.time(), "build_seconds": round(float(build_seconds), 2)}
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.root))
        try:
            (staging / ENGINE_NAME).write_bytes(engine)
            (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
            folder = self.entry_dir(key)
            if folder.exists():
                shutil.rmtree(folder)
            staging.rename(folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self._prune_stale(key, str(source))
        self.clear_failure(key)
        return folder / ENGINE_NAME

    def _prune_stale(self, key: EngineKey, source: str) -> None:
        """Remove entries built from the same file at the same precision under an older key."""
        for folder in self._folders():
            if folder.name == key.folder_name:
                continue
            manifest = self._manifest(folder)
            if manifest and manifest.get("source") == source and manifest.get("key", {}).get("precision") == \
                    key.precision:
                logger.info("Removing stale engine %s (replaced by %s)", folder.name, key.folder_name)
                shutil.rmtree(folder, ignore_errors=True)

    def _folders(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.iterdir()
                      if p.is_dir() and not p.name.startswith(".") and p.name not in _RESERVED_FOLDERS)

    @staticmethod
    def _manifest(folder: Path) -> dict | None:
        try:
            data = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return None
        return data if isinstance(data, dict) else None

    def entries(self) -> list[CacheEntry]:
        """Every cached engine, each with the problem that makes it unusable (``None``: intact)."""
        listed = []
        for folder in self._folders():
            manifest = self._manifest(folder) or {}
            key = manifest.get("key", {}) if isinstance(manifest.get("key"), dict) else {}
            engine = folder / ENGINE_NAME
            listed.append(CacheEntry(folder=folder, model=str(key.get("model", folder.name)),
                                     precision=str(key.get("precision", "?")), gpu_name=str(key.get("gpu_name", "?")),
                                     tensorrt_version=str(key.get("tensorrt_version", "?")),
                                     size_bytes=engine.stat().st_size if engine.is_file() else 0,
                                     created=float(manifest.get("created", 0.0)), problem=self._problem(folder, None)))
        return listed

    def clear(self, model: str | None = None) -> int:
        """Delete every entry (or only ``model``'s) and remembered failures; returns entries deleted."""
        removed = 0
        for entry in self.entries():
            if model is None or entry.model == model:
                shutil.rmtree(entry.folder, ignore_errors=True)
                removed += 1
        if model is None:
            for sub in ("failures",):
                shutil.rmtree(self.root / sub, ignore_errors=True)
            for staging in self.root.glob(".staging-*") if self.root.is_dir() else ():
                shutil.rmtree(staging, ignore_errors=True)
        return removed

    # --- failures, timing and calibration caches ------------------------------------------------

    def _failure_path(self, key: EngineKey) -> Path:
        return self.root / "failures" / f"{key.digest[:DIGEST_CHARS]}.json"

    def record_failure(self, key: EngineKey, reason: str) -> None:
        """Remember that building ``key`` failed, so the next start falls back without retrying."""
        path = self._failure_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"model": key.model, "reason": reason, "time": time.time()}), encoding="utf-8")

    def failure(self, key: EngineKey) -> str | None:
        """Why the last build of ``key`` failed, or ``None``."""
        try:
            return str(json.loads(self._failure_path(key).read_text(encoding="utf-8"))["reason"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def clear_failure(self, key: EngineKey) -> None:
        self._failure_path(key).unlink(missing_ok=True)

    def timing_cache_path(self, key: EngineKey) -> Path:
        """TensorRT's timing cache for the key's GPU and TensorRT version (speeds up later builds)."""
        name = f"{_slug(key.gpu_name)}-sm{key.compute_capability.replace('.', '')}-trt{key.tensorrt_version}.cache"
        return self.root / "timing" / name

    def calibration_cache_path(self, key: EngineKey) -> Path:
        """INT8 calibration cache of the key's ONNX file (valid for any GPU)."""
        return self.root / "calibration" / f"{_slug(key.model)}-{key.onnx_sha256[:DIGEST_CHARS]}.cache"
