"""``mocap train xnect-stage1 --distill``: label the user's own videos with BlazePose and train Stage I on them."""

from __future__ import annotations

import onnx
from blazepose_support import write_people_video

from mocap_app.cli import main


def test_distillation_labels_a_video_trains_and_exports(shared_data, tmp_path, store_env, capsys):
    videos = tmp_path / "videos"
    videos.mkdir()
    write_people_video(shared_data, videos / "walk.avi", 12)
    out = tmp_path / "stage1.onnx"
    assert main(["train", "xnect-stage1", "--distill", str(videos), "--distill-every", "2", "--variant", "xnect_tiny",
                 "--size", "192", "128", "--export-size", "192", "128", "--steps", "4", "--batch", "2",
                 "--out", str(out)]) == 0
    onnx.checker.check_model(onnx.load(str(out)))
    assert out.with_suffix(".toml").is_file() and "wrote" in capsys.readouterr().out
