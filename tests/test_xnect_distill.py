"""``mocap train xnect-stage1 --distill``: label the user's own videos with BlazePose and train Stage I on them."""

from __future__ import annotations

import cv2
import onnx
from blazepose_support import models_root, people_clip

from mocap_app.cli import main
from mocap_app.models_store import MODELS_DIR_ENV


def test_distillation_labels_a_video_trains_and_exports(shared_data, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(MODELS_DIR_ENV, str(models_root()))
    videos = tmp_path / "videos"
    videos.mkdir()
    writer = cv2.VideoWriter(str(videos / "walk.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (640, 480))
    for image in people_clip(shared_data, 12):
        writer.write(image)
    writer.release()
    out = tmp_path / "stage1.onnx"
    assert main(["train", "xnect-stage1", "--distill", str(videos), "--distill-every", "2", "--variant", "xnect_tiny",
                 "--size", "192", "128", "--export-size", "192", "128", "--steps", "4", "--batch", "2",
                 "--out", str(out)]) == 0
    onnx.checker.check_model(onnx.load(str(out)))
    assert out.with_suffix(".toml").is_file() and "wrote" in capsys.readouterr().out
