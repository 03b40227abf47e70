"""The desktop application opens a real window."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from mocap_app import __version__  # noqa: E402
from ui.main_window import MainWindow  # noqa: E402


def test_main_window_opens_and_shows_version(qtbot):
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.isVisible()
    assert __version__ in window.windowTitle()
    assert window.statusBar().currentMessage() == "Ready"
