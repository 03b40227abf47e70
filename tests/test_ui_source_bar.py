"""Source selection: cameras found come with a resolution/frame-rate choice, video files do not, and a
running source locks the choice."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from mocap_app.sources import CameraInfo  # noqa: E402
from ui.source_bar import CAMERA_MODES, DRIVER_DEFAULT, SourceBar  # noqa: E402

CAMERAS = [CameraInfo(0, 640, 480, 30.0, "V4L2"), CameraInfo(2, 1280, 720, 60.0, "V4L2")]


def test_cameras_offer_modes_and_files_do_not(qtbot, tmp_path):
    clip = str(tmp_path / "take.mp4")
    bar = SourceBar(last_source=clip)
    qtbot.addWidget(bar)
    bar.resize(1400, 40)  # wide enough that no control moves into the overflow menu
    bar.show()
    qtbot.waitExposed(bar)
    changes = []
    bar.source_changed.connect(lambda: changes.append(bar.source_spec()))

    bar.populate(CAMERAS)
    specs = [bar.source_combo.itemData(i) for i in range(bar.source_combo.count())]
    assert specs == ["0", "2", clip]  # the cameras found, then the last file
    assert "1280x720, 60 fps, V4L2" in bar.source_combo.itemText(1)
    assert bar.source_spec() == clip and bar.camera_mode() is None and not bar.mode_combo.isVisible()

    bar.select_source("2")
    modes = [bar.mode_combo.itemText(i) for i in range(bar.mode_combo.count())]
    assert modes[0] == DRIVER_DEFAULT and len(modes) == 1 + len(CAMERA_MODES)
    qtbot.waitUntil(bar.mode_combo.isVisible, timeout=2000)  # the toolbar lays out on the next event loop pass
    assert bar.camera_mode() is None  # the driver's default first
    bar.mode_combo.setCurrentIndex(2)
    assert bar.camera_mode() == CAMERA_MODES[1]
    assert changes[-1] == "2"

    bar.set_running(True)
    assert not bar.source_combo.isEnabled() and not bar.mode_combo.isEnabled() and not bar.browse_button.isEnabled()
    bar.set_running(False)
    assert bar.source_combo.isEnabled() and bar.mode_combo.isEnabled()
