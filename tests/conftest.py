"""Shared fixtures: where the shared test data lives, and skips for what a machine lacks."""

from __future__ import annotations

import shutil
import sys
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


@pytest.fixture(autouse=True)
def _delete_qt_windows():
    """Delete the test's Qt windows while the application still exists.

    Left to Python's garbage collection at interpreter exit, the native OpenGL window of the 3D view
    would be destroyed after QApplication and crash the process after every test has passed.
    """
    yield
    widgets = sys.modules.get("PySide6.QtWidgets")
    app = widgets.QApplication.instance() if widgets is not None else None
    if app is None:
        return
    from PySide6.QtCore import QCoreApplication, QEvent

    for widget in app.topLevelWidgets():
        widget.close()
        widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    app.processEvents()


@pytest.fixture
def store_env(monkeypatch):
    """Point the application's model store at the session's BlazePose models (fetched once if needed)."""
    from blazepose_support import models_root

    from mocap_app.models_store import MODELS_DIR_ENV

    monkeypatch.setenv(MODELS_DIR_ENV, str(models_root()))
