"""File checksums: the one sha256 helper for model fetching, sidecars and the engine cache.

A dependency-free leaf module (like ``errors`` and ``conventions``) that ``engines/`` and
``models/`` import too.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

_CHUNK_BYTES = 1 << 20


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks so large weight files never sit in memory whole."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()
