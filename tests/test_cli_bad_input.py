"""Bad input to every ``mocap`` command ends in one line on stderr and exit status 2, never a traceback.

Each case is a command line with ``{placeholders}`` for small bad files made in a temporary folder
(empty, random bytes, a PNG under another name, a folder, a path under a file); the cases stop
before any network is loaded, so the module runs in seconds.
"""

from __future__ import annotations

import json
import shlex
import zlib
from pathlib import Path

import numpy as np
import pytest

from mocap_app.cli import main
from mocap_app.observations_io import ObservationWriter
from mocap_app.takes.recorder import JOURNAL_NAME, new_journal_path
from mocap_app.types import FrameObservations

#: A 1x1 PNG: a real image file, for the "PNG renamed to .bvh/.json/.jsonl" cases.
_PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
        + b"\x00\x00\x00\x0cIDATx" + zlib.compress(b"\x00\x80\x80\x80")[2:] + b"\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.fixture
def bad(tmp_path: Path) -> dict[str, str]:
    """Paths of bad inputs, by placeholder name."""
    rng = np.random.default_rng(0)
    garbage = rng.integers(0, 256, 4096, dtype=np.uint8).tobytes()
    files = {}
    for ext in ("bvh", "json", "jsonl", "pt", "whl", "mp4"):
        (tmp_path / f"garbage.{ext}").write_bytes(garbage)
        (tmp_path / f"empty.{ext}").write_bytes(b"")
        (tmp_path / f"png.{ext}").write_bytes(_PNG)
        files.update({f"garbage_{ext}": f"garbage.{ext}", f"empty_{ext}": f"empty.{ext}", f"png_{ext}": f"png.{ext}"})
    (tmp_path / "folder").mkdir()
    (tmp_path / "clip.mp4").write_bytes(garbage)
    with ObservationWriter(tmp_path / "obs.jsonl") as writer:
        writer.write(FrameObservations(frame=0, time=0.0, width=64, height=48, people=()))
    files.update(folder="folder", clip="clip.mp4", obs="obs.jsonl", under_file="png.bvh/x", missing="missing.bvh")
    return {key: str(tmp_path / value) for key, value in files.items()}


#: (command line, text the error line must contain).
CASES = [
    # bvh
    ("bvh info {missing}", "No BVH file"),
    ("bvh info {folder}", "folder"),
    ("bvh info {empty_bvh}", "truncated"),
    ("bvh info {garbage_bvh}", "HIERARCHY"),
    ("bvh info {png_bvh}", "HIERARCHY"),
    ("bvh convert {garbage_bvh} {folder}/out.bvh", "HIERARCHY"),
    # sources / models
    ("sources --check {missing}", "no such file"),
    ("sources --check {folder}", "no images"),
    ("models fetch --from-wheel {garbage_whl}", "not a wheel"),
    ("models fetch --from-wheel {missing}", "No wheel"),
    # run: outputs never overwrite the inputs, nothing is loaded before these checks
    ("run --source {clip} --observations {clip}", "would overwrite"),
    ("run --source {clip} --overlay {clip}", "would overwrite"),
    ("run --source {clip} --observations {folder}/o.jsonl --overlay {folder}/o.jsonl", "same file"),
    ("run --source {clip} --observations {folder}", "is a folder"),
    ("run --source {clip} --observations {folder}/o.jsonl --max-frames 0", "--max-frames"),
    ("run --source {clip} --observations {folder}/o.jsonl --max-people 0", "--max-people"),
    ("run --source {clip}", "Nothing to write"),
    # fit
    ("fit --observations {missing} --export {folder}", "No observation file"),
    ("fit --observations {empty_jsonl} --export {folder}", "no frames"),
    ("fit --observations {garbage_jsonl} --export {folder}", "not a valid observation line"),
    ("fit --observations {png_jsonl} --export {folder}", "not a valid observation line"),
    ("fit --observations {obs} --export {obs}", "a file is in the way"),
    ("fit --observations {obs} --export {under_file}", "part of the path is a file"),
    ("fit --observations {obs} --export {folder} --fps nan", "--fps"),
    ("fit --observations {obs} --export {folder} --height 50", "--height"),
    ("fit --observations {obs} --export {folder} --calibration {png_json}", "not valid JSON"),
    # take
    ("take recover {missing} --export {folder}", "No take journal"),
    ("take recover {garbage_jsonl} --export {folder}", "not a take journal"),
    ("take recover {empty_jsonl} --export {folder}", "not a take journal"),
    ("take recover {obs} --export {folder}", "not a take journal"),
    ("take recover {obs} --export {folder} --fps 0", "--fps"),
    # calibrate
    ("calibrate intrinsics --images {folder} --out {folder}/c.json --max-rms nan", "--max-rms"),
    ("calibrate intrinsics --images {folder} --out {folder}/c.json --board 1x1", "3x3"),
    ("calibrate intrinsics --images {folder} --out {folder}/c.json --square 0", "square size"),
    ("calibrate intrinsics --images {missing} --out {folder}/c.json", "No image folder"),
    ("calibrate intrinsics --video {garbage_mp4} --out {folder}/c.json", "cannot be opened"),
    ("calibrate intrinsics --images {folder} --out {under_file}.json", "does not exist"),
    ("calibrate ground --image {png_bvh} --calibration {missing}", "No calibration file"),
    ("calibrate show {garbage_json}", "not valid JSON"),
    ("calibrate show {empty_json}", "not valid JSON"),
    ("calibrate show {folder}", "No calibration file"),
    ("calibrate board --out {folder}/b.png --dpi 100000", "--dpi"),
    ("calibrate board --out {folder}/b.pdf --square nan", "square size"),
    ("calibrate board --out {folder}", ".pdf or .png"),
    # synth
    ("synth --bvh {missing} --out {folder}", "No BVH file"),
    ("synth --bvh {garbage_bvh} --out {folder}", "HIERARCHY"),
    ("synth --bvh {missing} --out {folder} --performer-height 50", "--performer-height"),
    # eval
    ("eval fitting --bvh {missing}", "No BVH file"),
    ("eval fitting --bvh {garbage_bvh} --source-fps nan", "--source-fps"),
    ("eval video {missing}", "No clip folder"),
    ("eval video {folder}", "scene.json"),
    # bench / demo / weights
    ("bench --threads 0", "--threads"),
    ("bench --source {clip} --frames 0", "--frames"),
    ("demo --seconds nan --out {folder}", "--seconds"),
    ("demo --distance nan --out {folder}", "--distance"),
    ("weights import selecsls60 {missing}", "No weights file"),
]

#: Values argparse itself refuses (usage line + one error line, exit 2).
ARGPARSE_CASES = [
    "bvh convert {garbage_bvh} {folder}/o.bvh --scale 0",
    "bvh convert {garbage_bvh} {folder}/o.bvh --scale nan",
    "sources --max-index 0",
    "synth --bvh x.bvh --out {folder} --fps nan",
    "synth --bvh x.bvh --out {folder} --duration -5",
    "synth --bvh x.bvh --out {folder} --distance inf",
    "synth --bvh x.bvh --out {folder} --yaw nan",
    "fit --observations {obs} --export {folder} --filter-2d 0,0",
]


def _run(line: str, bad: dict[str, str]) -> int:
    return main(shlex.split(line.format(**bad)))


@pytest.mark.parametrize(("line", "expected"), CASES, ids=[case[0].split(" {")[0] + f" #{i}"
                                                            for i, case in enumerate(CASES)])
def test_bad_input_is_one_line_and_status_2(line: str, expected: str, bad: dict[str, str],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    status = _run(line, bad)
    err = capsys.readouterr().err
    lines = [text for text in err.splitlines() if text.strip()]
    assert status == 2, err
    assert "Traceback" not in err
    errors = [text for text in lines if ": error: " in text]  # (step and progress lines may precede it)
    assert len(errors) == 1 and lines[-1] == errors[0], err
    assert errors[0].startswith("mocap ")
    assert expected in errors[0]


@pytest.mark.parametrize("line", ARGPARSE_CASES)
def test_bad_numbers_are_refused_by_the_parser(line: str, bad: dict[str, str],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _run(line, bad)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("mocap ")


def test_run_refuses_to_overwrite_its_source(bad: dict[str, str]) -> None:
    before = Path(bad["clip"]).read_bytes()
    assert _run("run --source {clip} --observations {clip}", bad) == 2
    assert Path(bad["clip"]).read_bytes() == before


def test_torch_load_errors_are_one_line(bad: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    assert _run("weights import xnect-stage1 {garbage_pt}", bad) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "not a Stage I checkpoint" in err and "Traceback" not in err


def test_a_new_take_keeps_the_previous_journal(tmp_path: Path) -> None:
    """A second take into the same folder must not append to (and be merged with) the first one."""
    journal = tmp_path / JOURNAL_NAME
    journal.write_text(json.dumps({"type": "take"}) + "\n", encoding="utf-8")
    path = new_journal_path(tmp_path)
    assert path == journal and not journal.exists()
    kept = list(tmp_path.glob("take-*.journal.jsonl"))
    assert len(kept) == 1 and json.loads(kept[0].read_text(encoding="utf-8")) == {"type": "take"}
    assert new_journal_path(tmp_path / "new") == tmp_path / "new" / JOURNAL_NAME
