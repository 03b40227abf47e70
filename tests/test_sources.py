"""Frame sources: video files, image folders, cameras (real and an injected fake device), the reader thread."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from mocap_app.cli import main
from mocap_app.errors import SourceError
from mocap_app.sources import (
    CameraSource,
    FrameSource,
    ImageFolderSource,
    SourceState,
    ThreadedReader,
    VideoSource,
    list_cameras,
    natural_key,
    open_source,
)
from mocap_app.types import Frame

WIDTH, HEIGHT = 64, 48
STEP = 6  # grey level step between consecutive test frames, so order is visible in the pixels


def grey(index: int) -> np.ndarray:
    return np.full((HEIGHT, WIDTH, 3), (index * STEP) % 250, np.uint8)


def write_video(path: Path, frames: int, fps: float = 25.0) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (WIDTH, HEIGHT))
    assert writer.isOpened(), "this OpenCV build cannot write MJPG"
    for index in range(frames):
        writer.write(grey(index))
    writer.release()
    return path


def write_folder(folder: Path, names: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for index, name in enumerate(names):
        assert cv2.imwrite(str(folder / name), grey(index))
    return folder


def missing_camera_index() -> int:
    """An index with no camera behind it: index 0 on a machine without cameras."""
    return max((camera.index for camera in list_cameras()), default=-1) + 1


# --- video files ------------------------------------------------------------------------------
def test_video_frames_order_and_timestamps(tmp_path: Path) -> None:
    path = write_video(tmp_path / "take.avi", frames=24, fps=25.0)
    with VideoSource(path) as source:
        assert source.size == (WIDTH, HEIGHT)
        assert source.frame_count == 24
        assert source.fps == pytest.approx(25.0)
        frames = list(source)
        assert source.state is SourceState.ENDED
    assert [f.index for f in frames] == list(range(24))
    assert all(f.image.dtype == np.uint8 and f.image.shape == (HEIGHT, WIDTH, 3) for f in frames)
    times = np.array([f.timestamp for f in frames])
    np.testing.assert_allclose(times, np.arange(24) / 25.0, atol=1e-3)
    means = [f.image.mean() for f in frames]
    assert np.all(np.diff(means) > 0), "frames out of order"
    assert source.bad_frames == 0 and frames[0].source == str(path)


def test_shared_sample_video(shared_data: Path) -> None:
    with VideoSource(shared_data / "video" / "vtest.avi") as source:
        assert source.size == (768, 576)
        assert source.frame_count == 795
        frames = sum(1 for _ in source)
        assert frames == 795 and source.bad_frames == 0


@pytest.mark.parametrize("make", ["random", "header_only"])
def test_unreadable_video_is_refused_at_open(tmp_path: Path, make: str) -> None:
    path = tmp_path / "broken.avi"
    if make == "random":
        path.write_bytes(np.random.default_rng(0).integers(0, 256, 20000, dtype=np.uint8).tobytes())
    else:
        data = write_video(tmp_path / "good.avi", frames=30).read_bytes()
        path.write_bytes(data[: len(data) // 20])
    with pytest.raises(SourceError, match="cannot decode video .*ffmpeg -i"):
        VideoSource(path).open()


def test_truncated_video_ends_early_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data = write_video(tmp_path / "good.avi", frames=40).read_bytes()
    path = tmp_path / "truncated.avi"
    path.write_bytes(data[: int(len(data) * 0.6)])
    with caplog.at_level(logging.WARNING), VideoSource(path) as source:
        frames = list(source)
        assert source.bad_frames == 1 and source.state is SourceState.ENDED
    assert 0 < len(frames) < 40
    assert "does not decode" in caplog.text


# --- image folders ----------------------------------------------------------------------------
def test_natural_sort_key() -> None:
    names = ["img10.png", "img2.png", "IMG1.png", "img2b.png", "a.png"]
    assert sorted(names, key=natural_key) == ["a.png", "IMG1.png", "img2.png", "img2b.png", "img10.png"]


def test_image_folder_natural_order_fps_and_skips(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    names = [f"img{i}.png" for i in range(1, 13)]  # written with grey levels in natural order
    folder = write_folder(tmp_path / "seq", names)
    (folder / "img5.png").write_bytes(b"not an image")           # position 4: skipped
    cv2.imwrite(str(folder / "img7.png"), np.zeros((10, 10, 3), np.uint8))  # position 6: wrong size
    (folder / "notes.txt").write_text("ignored: not an image extension")
    with caplog.at_level(logging.WARNING), ImageFolderSource(folder, fps=10.0) as source:
        assert source.frame_count == 12 and source.size == (WIDTH, HEIGHT)
        frames = list(source)
    expected = [i for i in range(12) if i not in (4, 6)]
    assert [f.index for f in frames] == expected
    assert [f.timestamp for f in frames] == pytest.approx([i / 10.0 for i in expected])
    assert [int(round(f.image.mean())) for f in frames] == [i * STEP for i in expected]
    assert source.bad_frames == 2
    assert "img5.png" in caplog.text and "img7.png" in caplog.text


def test_empty_or_unreadable_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="no images in"):
        ImageFolderSource(tmp_path / "empty").open()
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "a.jpg").write_bytes(b"junk")
    with pytest.raises(SourceError, match="none of the 1 images"):
        ImageFolderSource(tmp_path / "junk").open()


def test_open_source_dispatch(tmp_path: Path) -> None:
    video = write_video(tmp_path / "v.avi", frames=3)
    folder = write_folder(tmp_path / "seq", ["a.png"])
    assert isinstance(open_source(str(video)), VideoSource)
    assert isinstance(open_source(folder), ImageFolderSource)
    camera = open_source("2")
    assert isinstance(camera, CameraSource) and camera.index == 2 and camera.live
    assert not open_source(video).live and open_source(video, live=True).live
    with pytest.raises(SourceError, match="no such file or folder"):
        open_source(tmp_path / "missing.mp4")


# --- cameras ----------------------------------------------------------------------------------
def test_missing_real_camera_is_reported() -> None:
    index = missing_camera_index()
    with pytest.raises(SourceError, match=f"camera {index} not found"):
        CameraSource(index).open()


class FakeDevice:
    """A webcam that is unplugged after ``unplug_after`` frames and comes back after ``outage`` reopens."""

    def __init__(self, unplug_after: int | None = None, outage: int = 0, present: tuple[int, ...] = (0,)) -> None:
        self.unplug_after = unplug_after
        self.outage = outage
        self.present = present
        self.plugged = True
        self.delivered = 0
        self.failed_opens = 0

    def factory(self, index: int, api: int) -> FakeCapture:
        opened = index in self.present and self.plugged
        if index in self.present and not self.plugged:
            self.failed_opens += 1
            self.plugged = self.failed_opens >= self.outage  # comes back on the next attempt
        return FakeCapture(self, opened)


class FakeCapture:
    def __init__(self, device: FakeDevice, opened: bool) -> None:
        self.device, self.opened = device, opened

    def isOpened(self) -> bool:  # noqa: N802
        return self.opened

    def grab(self) -> bool:
        device = self.device
        if device.unplug_after is not None and device.delivered == device.unplug_after and device.plugged:
            device.plugged = False
            device.unplug_after = None  # unplugged once
        return self.opened and device.plugged

    def retrieve(self) -> tuple[bool, np.ndarray | None]:
        self.device.delivered += 1
        return True, grey(self.device.delivered)

    def get(self, prop_id: int) -> float:
        return {cv2.CAP_PROP_FRAME_WIDTH: WIDTH, cv2.CAP_PROP_FRAME_HEIGHT: HEIGHT, cv2.CAP_PROP_FPS: 30.0}.get(
            prop_id, 0.0)

    def set(self, prop_id: int, value: float) -> bool:
        return True

    def release(self) -> None:
        self.opened = False

    def getBackendName(self) -> str:  # noqa: N802
        return "FAKE"


def test_missing_camera_lists_the_ones_found() -> None:
    device = FakeDevice(present=(1,))
    assert [(c.index, c.width, c.height, c.backend) for c in list_cameras(4, device.factory)] == [
        (1, WIDTH, HEIGHT, "FAKE")]
    with pytest.raises(SourceError, match=r"camera 3 not found \(cameras found: 1 \(64x48\)\)"):
        CameraSource(3, capture_factory=device.factory).open()


def test_camera_reconnects_after_an_outage(caplog: pytest.LogCaptureFixture) -> None:
    device = FakeDevice(unplug_after=5, outage=3)
    source = CameraSource(0, reconnect_timeout=30.0, capture_factory=device.factory)
    with caplog.at_level(logging.WARNING), source:
        assert source.fps == 30.0 and source.frame_count is None
        frames = [source.read() for _ in range(10)]
        assert source.state is SourceState.RUNNING
    assert all(f is not None for f in frames)
    assert [f.index for f in frames] == list(range(10))
    assert all(b.timestamp >= a.timestamp for a, b in zip(frames, frames[1:], strict=False))
    assert (source.disconnects, source.reconnects, device.failed_opens) == (1, 1, 3)
    assert "stopped delivering" in caplog.text and "is back" in caplog.text


def test_camera_that_never_returns_ends_cleanly_in_the_reader(caplog: pytest.LogCaptureFixture) -> None:
    device = FakeDevice(unplug_after=4, outage=10**9)
    source = CameraSource(0, reconnect_timeout=0.3, capture_factory=device.factory)
    with caplog.at_level(logging.ERROR), ThreadedReader(source, live=False) as reader:
        frames = list(reader)  # ends with None, no exception
        assert source.state is SourceState.LOST
    assert [f.index for f in frames] == [0, 1, 2, 3]
    assert (source.disconnects, source.reconnects) == (1, 0)
    assert reader.finished and "did not come back" in caplog.text


def test_stop_interrupts_a_reconnect_wait() -> None:
    device = FakeDevice(unplug_after=1, outage=10**9)
    source = CameraSource(0, reconnect_timeout=60.0, capture_factory=device.factory)
    reader = ThreadedReader(source).start()
    assert reader.get(timeout=5.0) is not None
    deadline = time.monotonic() + 5.0
    while source.state is not SourceState.RECONNECTING and time.monotonic() < deadline:
        time.sleep(0.01)
    assert source.state is SourceState.RECONNECTING
    reader.stop()  # would leave the thread running (and the source open) if cancel() were ignored
    assert source.state is SourceState.CLOSED


# --- the reader thread ------------------------------------------------------------------------
@pytest.mark.parametrize("live", [True, False])
def test_live_drops_stale_frames_offline_keeps_all(tmp_path: Path, live: bool) -> None:
    folder = write_folder(tmp_path / "seq", [f"f{i:03d}.png" for i in range(30)])
    source = ImageFolderSource(folder, fps=300.0)  # live playback delivers a frame every 3.3 ms
    got = []
    with ThreadedReader(source, live=live, queue_size=4) as reader:
        for frame in reader:
            got.append(frame.index)
            time.sleep(0.04)  # a consumer ten times slower than the source
    assert got == sorted(set(got)) and got[-1] == 29
    assert reader.delivered == len(got)
    if live:
        assert reader.dropped > 0 and len(got) + reader.dropped == 30
    else:
        assert got == list(range(30)) and reader.dropped == 0
    assert reader.measured_fps > 0


class FailingSource(FrameSource):
    """Delivers three frames, then fails the way a buggy driver would."""

    def __init__(self) -> None:
        super().__init__("failing")
        self.count = 0

    def open(self) -> None:
        self.state = SourceState.RUNNING

    def read(self) -> Frame | None:
        if self.count == 3:
            raise RuntimeError("driver exploded")
        self.count += 1
        return Frame(grey(self.count), self.count - 1, self.count / 30.0, self.name)

    def close(self) -> None:
        self.state = SourceState.CLOSED

    fps = property(lambda self: 30.0)
    frame_count = property(lambda self: None)
    size = property(lambda self: (WIDTH, HEIGHT))


def test_reader_thread_errors_reach_the_consumer() -> None:
    with ThreadedReader(FailingSource(), live=False) as reader:
        frames = [reader.get(timeout=5.0) for _ in range(3)]
        with pytest.raises(SourceError, match="reading failing failed: RuntimeError: driver exploded"):
            reader.get(timeout=5.0)
    assert [f.index for f in frames] == [0, 1, 2]


# --- the command line -------------------------------------------------------------------------
def test_cli_sources_lists_or_explains(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sources", "--max-index", "3"]) == 0
    out = capsys.readouterr().out
    assert "No cameras found" in out or "resolution" in out


def test_cli_check_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    video = write_video(tmp_path / "ok.avi", frames=12)
    assert main(["sources", "--check", str(video)]) == 0
    assert "12 frames read of 12" in capsys.readouterr().out

    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00" * 4096)
    assert main(["sources", "--check", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "cannot decode video" in err and "Traceback" not in err and err.count("\n") == 1

    index = missing_camera_index()
    assert main(["sources", "--check", str(index)]) == 2
    assert f"camera {index} not found" in capsys.readouterr().err

    with pytest.raises(SystemExit) as exc:
        main(["sources", "--max-index", "0"])
    assert exc.value.code == 2
