"""``mocap bvh info`` / ``mocap bvh convert``, and one-line errors naming file and line for bad BVH input."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from mocap_app.bvh import forward_kinematics, motion_from_rig, read_bvh, write_bvh
from mocap_app.cli import main
from mocap_app.skeletons import RIG

FRAMES = 12


@pytest.fixture
def take(tmp_path):
    """A small valid BVH of the rig (12 frames at 30 fps) and its text lines."""
    rng = np.random.default_rng(3)
    quaternions = Rotation.random(FRAMES * RIG.num_joints, random_state=rng).as_quat().reshape(FRAMES, -1, 4)
    root = rng.normal([0.0, 0.95, 0.0], 0.1, size=(FRAMES, 3))
    path = tmp_path / "take.bvh"
    write_bvh(path, motion_from_rig(root, quaternions, 1.0 / 30.0))
    return path


def _lines(path):
    return path.read_text().splitlines()


def _first_frame_line(path) -> int:
    """1-based line number of the first motion line."""
    return next(i for i, line in enumerate(_lines(path), start=1) if line.startswith("Frame Time")) + 1


def test_info_prints_joints_frames_fps_duration(take, capsys):
    assert main(["bvh", "info", str(take)]) == 0
    out = capsys.readouterr().out
    assert "joints      22: Hips, Spine" in out
    assert f"frames      {FRAMES}" in out
    assert "(30.000 fps)" in out
    assert "duration    0.400 s" in out
    assert "ZXY (22 joints)" in out


def test_convert_changes_order_and_units_exactly(take, tmp_path, capsys):
    out_path = tmp_path / "out.bvh"
    assert main(["bvh", "convert", str(take), str(out_path), "--order", "yzx", "--scale", "m"]) == 0
    assert "order YZX" in capsys.readouterr().out
    source, converted = read_bvh(take), read_bvh(out_path)
    assert converted.skeleton.names == source.skeleton.names
    assert converted.skeleton.channels[0] == ("Xposition", "Yposition", "Zposition",
                                              "Yrotation", "Zrotation", "Xrotation")
    assert converted.frame_time == source.frame_time
    np.testing.assert_allclose(forward_kinematics(converted) * 100.0, forward_kinematics(source), atol=1e-4)


def test_convert_with_a_factor_and_kept_order(take, tmp_path):
    out_path = tmp_path / "out.bvh"
    assert main(["bvh", "convert", str(take), str(out_path), "--scale", "2.5"]) == 0
    source, converted = read_bvh(take), read_bvh(out_path)
    rotations = [c.endswith("rotation") for joint in source.skeleton.channels for c in joint]
    np.testing.assert_array_equal(converted.values[:, rotations], source.values[:, rotations])
    np.testing.assert_allclose(forward_kinematics(converted), forward_kinematics(source) * 2.5, atol=1e-5)


def test_convert_inch_from_metres(take, tmp_path):
    metres, inches = tmp_path / "m.bvh", tmp_path / "in.bvh"
    assert main(["bvh", "convert", str(take), str(metres), "--scale", "m"]) == 0
    assert main(["bvh", "convert", str(metres), str(inches), "--scale", "inch", "--from-units", "m"]) == 0
    np.testing.assert_allclose(forward_kinematics(read_bvh(inches)) * 2.54,
                               forward_kinematics(read_bvh(take)), atol=1e-4)


@pytest.mark.parametrize("argv", [["--order", "XXZ"], ["--scale", "furlong"], ["--scale", "-1"]])
def test_bad_options_exit_2(take, tmp_path, argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["bvh", "convert", str(take), str(tmp_path / "out.bvh"), *argv])
    assert exit_info.value.code == 2
    assert "error: argument" in capsys.readouterr().err


def _assert_one_line_error(argv, capsys, *fragments):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for fragment in fragments:
        assert fragment in err, err


def test_missing_file(tmp_path, capsys):
    missing = tmp_path / "nope.bvh"
    _assert_one_line_error(["bvh", "info", str(missing)], capsys, "No BVH file at", str(missing))


def _corrupt(path, line: int, new_text: str | None):
    """Replace 1-based line ``line`` (None deletes it and everything after: truncation)."""
    lines = _lines(path)
    lines = lines[:line - 1] if new_text is None else lines[:line - 1] + [new_text] + lines[line:]
    path.write_text("\n".join(lines) + "\n")


def test_wrong_value_count_names_the_line(take, capsys):
    line = _first_frame_line(take) + 4
    _corrupt(take, line, " ".join(_lines(take)[line - 1].split()[:-2]))
    _assert_one_line_error(["bvh", "info", str(take)], capsys, f"{take}:{line}:", "frame 5 has 67 values",
                           "declares 69 channels")


def test_non_numeric_value_names_the_line(take, capsys):
    line = _first_frame_line(take) + 2
    words = _lines(take)[line - 1].split()
    _corrupt(take, line, " ".join(words[:10] + ["12.5abc"] + words[11:]))
    _assert_one_line_error(["bvh", "info", str(take)], capsys, f"{take}:{line}:", "'12.5abc' is not a finite number")


def test_nan_value_names_the_line(take, capsys):
    line = _first_frame_line(take) + 11
    words = _lines(take)[line - 1].split()
    _corrupt(take, line, " ".join(["nan"] + words[1:]))
    _assert_one_line_error(["bvh", "info", str(take)], capsys, f"{take}:{line}:", "'nan' is not a finite number")


def test_not_a_bvh_file(tmp_path, capsys):
    picture = tmp_path / "picture.bvh"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    _assert_one_line_error(["bvh", "info", str(picture)], capsys, f"{picture}:1:", "expected 'HIERARCHY'")


def test_truncated_motion_names_the_line(take, capsys):
    cut = _first_frame_line(take) + 7  # 7 complete frames remain
    _corrupt(take, cut, None)
    _assert_one_line_error(["bvh", "info", str(take)], capsys, f"{take}:{cut}:", f"7 of the {FRAMES} frames")


def test_truncated_mid_line_names_the_line(take, tmp_path, capsys):
    text = take.read_text()
    take.write_text(text[:len(text) - len(_lines(take)[-1]) // 2 - 1])  # half of the last frame line
    _assert_one_line_error(["bvh", "info", str(take)], capsys, f"{take}:{len(_lines(take))}:",
                           f"frame {FRAMES} has")
    out_path = tmp_path / "out.bvh"
    _assert_one_line_error(["bvh", "convert", str(take), str(out_path)], capsys, "frame")
    assert not out_path.exists()


def test_truncated_hierarchy_names_the_end(take, capsys):
    _corrupt(take, 20, None)
    _assert_one_line_error(["bvh", "info", str(take)], capsys, f"{take}:19:", "truncated")


@pytest.mark.parametrize(("line", "text", "message"), [
    (4, "\tOFFSET 0.0 abc 0.0", "OFFSET y must be a number, found 'abc'"),
    (5, "\tCHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation", "declares 6 channels but lists 5"),
    (5, "\tCHANNELS 3 Xposition Yposition Wrotation", "unknown channel 'Wrotation'"),
    (6, "\tJIONT Spine", "expected 'JOINT', 'End Site' or '}' in joint 'Hips', found 'JIONT'"),
    (1, "HIERARCHIE", "expected 'HIERARCHY'"),
])
def test_malformed_hierarchy_names_the_line(take, capsys, line, text, message):
    _corrupt(take, line, text)
    _assert_one_line_error(["bvh", "info", str(take)], capsys, f"{take}:{line}:", message)


@pytest.mark.parametrize(("offset", "text", "message"), [
    (-2, "Frames: twelve", "frame count must be a whole number"),
    (-1, "Frame Time: 0", "frame time must be a positive number"),
    (-1, "Frame Rate: 30", "expected 'Frame Time:"),
])
def test_malformed_motion_header_names_the_line(take, capsys, offset, text, message):
    line = _first_frame_line(take) + offset
    _corrupt(take, line, text)
    _assert_one_line_error(["bvh", "info", str(take)], capsys, f"{take}:{line}:", message)
