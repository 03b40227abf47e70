"""Synthetic performers: rendered figures sit exactly where their projected ground truth says.

Renders a few 320x240 frames with Mesa's software renderer (no GPU, no display needed).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from mocap_app.cli import main
from mocap_app.skeletons import BLAZEPOSE33, RIG
from mocap_app.synth.appearance import Appearance, preset_look
from mocap_app.synth.body import build_body, surface_landmarks
from mocap_app.synth.camera import look_at_camera
from mocap_app.synth.groundtruth import read_clip_truth
from mocap_app.synth.motion import arrange, load_performer
from mocap_app.synth.render import Renderer
from mocap_app.synth.scene import default_stage

WIDTH, HEIGHT = 320, 240
WALK = "mocap/train/cmu_3dsmax/scaled_131_01.bvh"
SALSA = ("mocap/train/cmu_daz_acrnn/salsa/01.bvh", "mocap/train/cmu_daz_acrnn/salsa/02.bvh")


@pytest.fixture(scope="module")
def renderer():
    with Renderer() as r:
        r.set_stage(default_stage())
        yield r


@pytest.fixture(scope="module")
def walk(shared_data):
    return arrange([load_performer(shared_data / WALK, Appearance(), fps=30.0, start_s=1.0, duration_s=1.0)])[0]


def test_projected_joints_land_on_the_rendered_figure(renderer, walk):
    camera = look_at_camera((0.0, 1.0, 0.0), 4.0, 1.3, 0.0, WIDTH, HEIGHT)
    empty = renderer.render(camera, [])
    for frame in (0, 15, 29):
        pose = walk.poses[frame]
        result = renderer.render(camera, [build_body(pose, Appearance())])
        assert result.image.shape == (HEIGHT, WIDTH, 3) and result.image.dtype == np.uint8
        for joints, name in ((pose[:RIG.num_joints], RIG.name), (surface_landmarks(pose, Appearance()), "bp33")):
            uv = np.round(camera.project(joints)).astype(int)
            assert np.all((uv >= 0) & (uv < [WIDTH, HEIGHT])), name
            on_figure = result.ids[uv[:, 1], uv[:, 0]] == 1
            # Joints may hide behind the own body, but the figure covers (nearly) every one of them.
            assert on_figure.mean() >= 0.9, (name, frame, on_figure.mean())
            changed = np.abs(result.image[uv[:, 1], uv[:, 0]].astype(int) - empty.image[uv[:, 1], uv[:, 0]]).sum(1)
            assert (changed[on_figure] > 0).mean() >= 0.9
        depth_at_hips = result.depth[tuple(np.round(camera.project(pose[0]))[::-1].astype(int))]
        assert abs(depth_at_hips - camera.world_to_camera(pose[0])[2]) < 0.25


def test_feet_stand_on_the_floor_at_the_requested_height(walk):
    soles = walk.poses[:, [RIG.index("LeftToeBase"), RIG.index("RightToeBase")], 1].min(axis=1)
    assert 0.0 < np.median(soles) < 0.12
    head_top = walk.poses[:, RIG.num_joints, 1]  # first tip row: the head top
    assert 1.55 < np.median(head_top) < 1.95


def test_synth_command_writes_video_truth_and_calibration(shared_data, tmp_path):
    out = tmp_path / "clip"
    status = main(["synth", "--bvh", str(shared_data / SALSA[0]), str(shared_data / SALSA[1]), "--out", str(out),
                   "--width", str(WIDTH), "--height", str(HEIGHT), "--fps", "10", "--duration", "0.4",
                   "--start", "5", "--bvh-fps", "60"])
    assert status == 0
    truth = read_clip_truth(out)
    scene = truth.scene
    assert scene["image_size"] == [WIDTH, HEIGHT] and len(scene["performers"]) == 2
    frames = scene["num_frames"]
    assert frames == 4 and truth.pixels[RIG.name].shape == (frames, 2, RIG.num_joints, 2)
    assert truth.world[BLAZEPOSE33.name].shape == (frames, 2, BLAZEPOSE33.num_joints, 3)
    # Both performers are in view and each is seen (not every joint hidden by the partner).
    assert np.isfinite(truth.boxes).all()
    assert ((truth.visibility[RIG.name] == 2).mean(axis=(0, 2)) > 0.5).all()
    # Camera and world coordinates agree through the stored camera pose, and pixels through K.
    rotation = np.array(scene["camera"]["rotation_wc"])
    centre = np.array(scene["camera"]["centre_world"])
    world, cam = truth.world[RIG.name], truth.camera[RIG.name]
    np.testing.assert_allclose(cam @ rotation.T + centre, world, atol=2e-3)
    projected = (cam / cam[..., 2:]) @ truth.K[:2].T
    np.testing.assert_allclose(projected, truth.pixels[RIG.name], atol=0.02)
    # The floor plane passes under the feet: toes a few centimetres above it.
    plane = scene["floor_plane_camera"]
    toes = cam[..., RIG.index("LeftToeBase"), :]
    heights = toes @ np.array(plane["normal"]) + plane["d"]
    assert np.all(heights > -0.05) and np.median(heights) < 0.2
    assert (out / "video.mp4").stat().st_size > 1000
    from calibration.camera_file import CameraCalibration

    calibration = CameraCalibration.load(out / "calibration.json")
    np.testing.assert_allclose(calibration.camera_matrix, truth.K)
    assert calibration.ground is not None
    np.testing.assert_allclose(calibration.ground.camera_centre_world, centre)
    first = json.loads((out / "truth.jsonl").read_text().splitlines()[0])
    assert set(first["performers"][0]) >= {"id", "bbox_visible", "bbox_full", "rig22", "blazepose33"}


def test_bad_bvh_is_one_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.bvh"
    bad.write_text("HIERARCHY\nROOT Hips\n{\n")
    assert main(["synth", "--bvh", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert main(["synth", "--bvh", str(tmp_path / "missing.bvh"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("mocap synth: error:") == 2


def test_preset_looks_differ_between_performers():
    assert preset_look(0).shirt != preset_look(1).shirt and preset_look(0).trousers != preset_look(1).trousers
