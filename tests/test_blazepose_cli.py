"""``mocap models`` and ``mocap run`` end to end: observation file, overlay video, clear errors."""

from __future__ import annotations

import cv2
import pytest
from blazepose_support import write_people_video

from mocap_app.cli import main
from mocap_app.models_store import MODELS_DIR_ENV
from mocap_app.observations_io import read_observations


@pytest.fixture(scope="module")
def people_video(shared_data, tmp_path_factory):
    return write_people_video(shared_data, tmp_path_factory.mktemp("video") / "people.avi", 8)


def test_run_writes_observations_and_overlay(store_env, people_video, tmp_path, capsys):
    observations, overlay = tmp_path / "out.jsonl", tmp_path / "out.mp4"
    status = main(["run", "--source", str(people_video), "--engine", "blazepose", "--observations",
                   str(observations), "--overlay", str(overlay), "--max-frames", "6"])
    assert status == 0
    frames = list(read_observations(observations))
    assert [frame.frame for frame in frames] == list(range(6))
    assert frames[0].width == 640 and all(frame.people for frame in frames)
    person = frames[-1].people[0]
    assert person.joint_set == "blazepose33" and person.joints3d is not None and person.track_id is not None
    video = cv2.VideoCapture(str(overlay))
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == 6
    video.release()
    assert "CPUExecutionProvider" in capsys.readouterr().out


def test_run_without_models_says_to_fetch(monkeypatch, people_video, tmp_path, capsys):
    monkeypatch.setenv(MODELS_DIR_ENV, str(tmp_path / "empty"))
    status = main(["run", "--source", str(people_video), "--observations", str(tmp_path / "o.jsonl")])
    assert status == 2
    err = capsys.readouterr().err
    assert "mocap models fetch" in err and len(err.strip().splitlines()) == 1


def test_run_bad_source(store_env, tmp_path, capsys):
    assert main(["run", "--source", str(tmp_path / "nope.mp4"), "--observations", str(tmp_path / "o.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_models_fetch_is_idempotent_and_status(store_env, capsys):
    assert main(["models", "fetch"]) == 0
    assert "already" in capsys.readouterr().out
    assert main(["models", "status"]) == 0
    assert "complete" in capsys.readouterr().out


def test_models_fetch_rejects_a_bad_wheel(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv(MODELS_DIR_ENV, str(tmp_path / "store"))
    fake = tmp_path / "mediapipe-0.10.21-py3-none-any.whl"
    fake.write_bytes(b"not a zip")
    assert main(["models", "fetch", "--from-wheel", str(fake)]) == 2
    assert "not a wheel" in capsys.readouterr().err
    assert main(["models", "fetch", "--from-wheel", str(tmp_path / "absent.whl")]) == 2
    assert "No wheel" in capsys.readouterr().err


def test_models_fetch_reports_a_hash_mismatch(monkeypatch, tmp_path, capsys):
    import zipfile

    from mocap_app.models_store import BLAZEPOSE_FILES

    monkeypatch.setenv(MODELS_DIR_ENV, str(tmp_path / "store"))
    wheel = tmp_path / "mediapipe-0.10.21-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for model in BLAZEPOSE_FILES:
            archive.writestr(model.member, b"tampered")
    assert main(["models", "fetch", "--from-wheel", str(wheel)]) == 2
    assert "sha256" in capsys.readouterr().err


def test_models_fetch_offline_message(monkeypatch, tmp_path):
    from mocap_app.errors import MocapError
    from mocap_app.models_store import download_wheel

    for name, value in {"PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_RETRIES": "0", "PIP_TIMEOUT": "1",
                        "PIP_NO_CACHE_DIR": "1", "PIP_FIND_LINKS": ""}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(MocapError, match="--from-wheel"):
        download_wheel(tmp_path)
