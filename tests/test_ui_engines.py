"""The engine choice: every Stage I engine is offered, and one without weights says how to get them, in the window."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from mocap_app.backends import BACKENDS, load_backend  # noqa: E402
from mocap_app.errors import WeightsMissingError  # noqa: E402
from ui.settings import SettingsDialog  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from ui_support import RUN_TIMEOUT_MS, open_window  # noqa: E402

ENGINES = ("blazepose", "xnect", "multiposenet")


def missing_weights_message(engine: str) -> str | None:
    """The engine's own one-line refusal on this machine, or ``None`` when its weights are here."""
    try:
        load_backend(engine, max_people=1, device="cpu")
    except WeightsMissingError as exc:
        return str(exc)
    return None


def test_settings_offer_every_engine(qtbot, tmp_path: Path):
    window = open_window(qtbot, tmp_path)
    dialog = SettingsDialog(window.settings, window)
    qtbot.addWidget(dialog)
    offered = [dialog.engine.itemText(i) for i in range(dialog.engine.count())]
    assert set(ENGINES) <= set(offered) and set(offered) == set(BACKENDS)
    dialog.engine.setCurrentText("multiposenet")
    assert dialog.settings().engine == "multiposenet"


@pytest.mark.parametrize("engine", ["xnect", "multiposenet"])
def test_engine_without_weights_is_explained_in_the_window(qtbot, tmp_path: Path, engine: str):
    message = missing_weights_message(engine)
    if message is None:
        pytest.skip(f"{engine} weights are installed here; the refusal cannot be shown")
    window = open_window(qtbot, tmp_path)
    window.apply_settings(dataclasses.replace(window.settings, engine=engine))
    clip = tmp_path / "still.avi"
    import cv2

    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (320, 240))
    for _ in range(3):
        writer.write(np.full((240, 320, 3), 90, np.uint8))
    writer.release()
    window.select_source(str(clip))
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.start()
    assert window.banner.isVisible()
    assert window.banner.text() == message  # the engine's own one line, which names the fix
    assert "mocap train" in message or "mocap weights" in message
    assert window.worker is None and window.start_action.isEnabled()  # the app keeps running
    assert window.banner.title() == "Models missing"
