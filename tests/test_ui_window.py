"""The desktop application in a real window (pytest-qt; run under 'xvfb-run -a', see scripts/test.sh).

The end-to-end tests run the real BlazePose models (fetched once per test session where this machine has
none, as on a fresh CI machine); the 3D view, settings and bad-input tests need no models.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings  # noqa: E402

from mocap_app.bvh import read_bvh  # noqa: E402
from mocap_app.overlay import performer_colour  # noqa: E402
from mocap_app.skeletons import RIG  # noqa: E402
from mocap_app.types import MotionFrame  # noqa: E402
from ui.main_window import MainWindow  # noqa: E402
from ui.recording_panel import ExportRequest  # noqa: E402
from ui.settings import AppSettings, load_settings, save_settings  # noqa: E402
from ui.skeleton_view import SkeletonView  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from blazepose_support import people_clip  # noqa: E402
from ui_support import (  # noqa: E402
    CLIP_FPS,
    CLIP_FRAMES,
    RUN_TIMEOUT_MS,
    artifact_path,
    coloured_pixels,
    open_window,
    qimage_rgb,
    require_models,
    run_to_end,
    wait_for_3d_view,
    write_people_video,
)


@pytest.fixture
def store(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, tmp_path: Path) -> MainWindow:
    return open_window(qtbot, tmp_path)


@pytest.fixture(scope="session")
def models() -> Path:
    return require_models()


@pytest.fixture
def people_video(shared_data: Path, tmp_path: Path) -> Path:
    return write_people_video(shared_data, tmp_path / "people.avi")


def test_3d_view_draws_a_performer_from_a_rest_pose(qtbot):
    view = SkeletonView()
    qtbot.addWidget(view)
    view.resize(480, 360)
    view.show()
    qtbot.waitExposed(view)
    wait_for_3d_view(qtbot, view)
    background = qimage_rgb(view.grabFramebuffer())
    colour = performer_colour(3)
    assert coloured_pixels(background, colour) == 0

    positions = RIG.rest_positions() + np.array([0.0, -1.2, -3.0])  # standing 3 m in front of the camera
    rotations = np.tile([0.0, 0.0, 0.0, 1.0], (RIG.num_joints, 1))
    view.set_pose([MotionFrame(3, 0, 0.0, positions[0], rotations, positions)])
    qtbot.waitUntil(lambda: view.performer_ids() == [3], timeout=2000)
    view.reset_camera()
    qtbot.wait(100)
    assert coloured_pixels(qimage_rgb(view.grabFramebuffer()), colour) > 200

    view.set_pose([])  # a performer that left is hidden
    qtbot.waitUntil(lambda: view.performer_ids() == [], timeout=2000)
    qtbot.wait(100)
    assert coloured_pixels(qimage_rgb(view.grabFramebuffer()), colour) == 0


def test_settings_persist_between_runs(qtbot, store: QSettings):
    settings = load_settings(store)
    assert settings == AppSettings(takes_dir=settings.takes_dir)  # nothing saved yet: defaults
    changed = AppSettings(max_people=3, euler_order="XYZ", export_scale=0.01,
                          fit_weights=settings.fit_weights.__class__(joints2d=7.5))
    save_settings(store, changed)
    store.setValue("filter_2d/beta", "not a number")  # a damaged value falls back to its default
    reloaded = load_settings(QSettings(store.fileName(), QSettings.Format.IniFormat))
    assert reloaded.max_people == 3 and reloaded.euler_order == "XYZ" and reloaded.export_scale == 0.01
    assert reloaded.fit_weights.joints2d == 7.5
    assert reloaded.filter_2d == AppSettings().filter_2d


def test_undecodable_video_is_reported_in_the_window(qtbot, window: MainWindow, tmp_path: Path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"this is not a video" * 100)
    run_to_end(qtbot, window, broken)
    assert window.banner.isVisible()
    assert "cannot decode video" in window.banner.text() and "ffmpeg" in window.banner.text()
    assert window.worker is None and window.start_action.isEnabled()  # the app keeps running


def test_bad_calibration_file_is_reported_and_not_used(qtbot, window: MainWindow, tmp_path: Path):
    bad = tmp_path / "camera.json"
    bad.write_text("{ not json")
    assert not window.load_calibration(bad)
    assert window.banner.isVisible() and "camera.json" in window.banner.text()
    assert window.calibration is None
    assert "uncalibrated" in window.calibration_label.text()


def test_video_runs_end_to_end_with_overlay_and_avatar(qtbot, window: MainWindow, models: Path,
                                                       people_video: Path, tmp_path: Path):
    results = []
    window.frame_processed.connect(results.append)
    run_to_end(qtbot, window, people_video)
    assert not window.banner.isVisible(), window.banner.text()
    assert len(results) == CLIP_FRAMES
    assert window.stats.provider_badge.text() == "CPU" and window.stats.engine_badge.text() == "blazepose"
    fitted = [r for r in results if r.motion]
    assert fitted, "no frame produced a fitted performer"
    assert {"stage1", "tracking", "fitting"} <= set(fitted[-1].timings_ms)

    # Show the last frame with a performer, as it was during the run.
    last = fitted[-1]
    window.view3d.set_pose(last.motion)
    performer = last.motion[0].performer_id
    qtbot.waitUntil(lambda: performer in window.view3d.performer_ids(), timeout=2000)
    window.view3d.follow(performer)
    qtbot.wait(200)
    view_pixels = qimage_rgb(window.view3d.grabFramebuffer())
    assert coloured_pixels(view_pixels, performer_colour(performer)) > 50

    video = window.video.current_image()
    assert video is not None
    overlay_ids = {o.track_id for r in results for o in r.observations.people}
    assert any(coloured_pixels(qimage_rgb(video), performer_colour(i)) > 20 for i in overlay_ids)

    shot = artifact_path(tmp_path, "screenshot_main.png")
    assert window.screenshot().save(str(shot))
    assert shot.stat().st_size > 10_000


def test_record_a_take_from_a_file_and_export_bvh(qtbot, window: MainWindow, models: Path, people_video: Path,
                                                  tmp_path: Path):
    window.select_source(str(people_video))
    with qtbot.waitSignal(window.frame_processed, timeout=RUN_TIMEOUT_MS):
        window.start()
    with qtbot.waitSignal(window.worker.recording_finished, timeout=RUN_TIMEOUT_MS):
        window.toggle_recording(True)  # the file ends while recording: the take is kept and closed
    qtbot.waitUntil(lambda: window.worker is None, timeout=RUN_TIMEOUT_MS)
    take = window.recording.selected_take()
    assert take is not None and take.path.is_file() and take.frames > 0 and take.performer_ids
    assert take.note == "ended"

    out = tmp_path / "export"
    out.mkdir()
    request = ExportRequest(take, take.performer_ids[0], "XYZ", 0.01, out)
    from ui import takes_bridge

    written = takes_bridge.export(request)
    motion = read_bvh(written[0])
    assert motion.skeleton.names[0] == "Hips" and motion.num_frames >= 1
    assert motion.skeleton.channels[1] == ("Xrotation", "Yrotation", "Zrotation")
    hips_height_m = motion.skeleton.offsets[0][1]  # scale 0.01: the file is in metres
    assert 0.3 < hips_height_m < 1.5


class _UnpluggedCamera:
    """A webcam (OpenCV capture interface) showing people that is unplugged after ``frames`` frames for good."""

    def __init__(self, frames: list[np.ndarray]) -> None:
        self.frames, self.delivered, self.plugged = frames, 0, True

    def factory(self, index: int, api: int) -> _UnpluggedCamera:
        return self

    def isOpened(self) -> bool:  # noqa: N802 (OpenCV's name)
        return self.plugged

    def grab(self) -> bool:
        self.plugged = self.plugged and self.delivered < len(self.frames)
        return self.plugged

    def retrieve(self) -> tuple[bool, np.ndarray]:
        self.delivered += 1
        return True, self.frames[self.delivered - 1].copy()

    def get(self, prop_id: int) -> float:
        return {cv2.CAP_PROP_FRAME_WIDTH: 640.0, cv2.CAP_PROP_FRAME_HEIGHT: 480.0, cv2.CAP_PROP_FPS: CLIP_FPS}.get(
            prop_id, 0.0)

    def set(self, prop_id: int, value: float) -> bool:
        return True

    def release(self) -> None:
        pass

    def getBackendName(self) -> str:  # noqa: N802 (OpenCV's name)
        return "TEST"


def test_camera_unplugged_while_recording_keeps_the_take(qtbot, models: Path, shared_data: Path, tmp_path: Path):
    from PySide6.QtCore import QThread

    from mocap_app.pipeline.runner import PipelineConfig
    from mocap_app.sources import CameraSource
    from ui.worker import PipelineWorker, SourceRequest

    device = _UnpluggedCamera(people_clip(shared_data, CLIP_FRAMES))
    worker = PipelineWorker(SourceRequest("0"), PipelineConfig(), source_factory=lambda request: CameraSource(
        0, reconnect_timeout=0.3, capture_factory=device.factory))
    thread = QThread()
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    errors, takes = [], []
    worker.error.connect(lambda title, message: errors.append(message))
    worker.recording_finished.connect(takes.append)
    worker.started.connect(lambda info: worker.start_recording(tmp_path))
    with qtbot.waitSignal(worker.finished, timeout=RUN_TIMEOUT_MS) as finished:
        thread.start()
    thread.quit()
    thread.wait()
    assert finished.args == ["lost"]
    assert len(errors) == 1 and "camera 0 was lost" in errors[0] and "take recorded so far is kept" in errors[0]
    assert len(takes) == 1 and takes[0].note == "lost" and takes[0].path.is_file()
    assert takes[0].frames > 0 and takes[0].performer_ids
