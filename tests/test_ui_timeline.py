"""Offline files: the timeline follows the video, pausing holds it, and a seek continues from the chosen frame."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

sys.path.insert(0, str(Path(__file__).parent))
from ui_support import (  # noqa: E402
    CLIP_FPS,
    CLIP_FRAMES,
    RUN_TIMEOUT_MS,
    open_window,
    require_models,
    write_people_video,
)

#: Frame the test jumps back to, and how long a paused run must stay still, milliseconds.
SEEK_TO = 3
PAUSE_CHECK_MS = 400


def test_timeline_pause_and_seek(qtbot, shared_data: Path, tmp_path: Path):
    require_models()
    window = open_window(qtbot, tmp_path)
    window.select_source(str(write_people_video(shared_data, tmp_path / "people.avi")))
    seen: list[int] = []
    window.frame_processed.connect(lambda result: seen.append(result.frame))
    window.start()
    qtbot.waitUntil(lambda: len(seen) >= 2 * SEEK_TO + 2, timeout=RUN_TIMEOUT_MS)

    # The timeline knows the file's length and follows the frames shown.
    slider = window.timeline._slider
    assert slider.isEnabled() and slider.maximum() == CLIP_FRAMES - 1
    assert window.timeline._label.text().endswith(f"/ 00:{CLIP_FRAMES / CLIP_FPS:05.2f}")

    # Paused: nothing new arrives (a frame already in flight may still land), and the timeline stays.
    window.pause_action.setChecked(True)
    qtbot.wait(PAUSE_CHECK_MS)
    count = len(seen)
    qtbot.wait(PAUSE_CHECK_MS)
    assert len(seen) == count and slider.value() == seen[-1]

    # Dragging the handle back and releasing it: processing continues from that frame, in order, to the end.
    slider.setSliderDown(True)
    slider.setValue(SEEK_TO)
    slider.setSliderDown(False)  # releasing emits sliderReleased -> seek_requested(SEEK_TO)
    before_seek = len(seen)
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.pause_action.setChecked(False)
    after = seen[before_seek:]
    assert after[0] == SEEK_TO, after
    assert after == list(range(SEEK_TO, CLIP_FRAMES))
    assert slider.value() == CLIP_FRAMES - 1
