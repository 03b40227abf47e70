"""Shared fixtures: where the shared test data lives, and skips for what a machine lacks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
TEST_DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the checkout (CI has it); skips where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def blender_exe() -> str:
    """Path of the ``blender`` executable; skips where it is not installed."""
    exe = shutil.which("blender")
    if exe is None:
        pytest.skip("blender is not on PATH (scripts/setup.sh installs it)")
    return exe


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip tests marked ``gpu`` where the CUDA driver reports no GPU (probed once, without nvidia-smi)."""
    marked = [item for item in items if "gpu" in item.keywords]
    if not marked:
        return
    from engines.providers import probe_availability

    problem = probe_availability().gpu_problem
    if problem is None:
        return
    skip = pytest.mark.skip(reason=f"needs an NVIDIA GPU: {problem}")
    for item in marked:
        item.add_marker(skip)
