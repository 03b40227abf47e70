"""People far from the camera: detection tiles cover the frame and find who the whole-frame pass misses."""

from __future__ import annotations

import numpy as np
import pytest
from blazepose_support import models_root

from mocap_app.backends import blazepose_people as geometry
from mocap_app.backends.blazepose import BlazePoseBackend, BlazePoseConfig
from mocap_app.cli import main
from mocap_app.sources import open_source


@pytest.mark.parametrize("size", [(640, 480), (1280, 720), (480, 640)])
def test_tiles_cover_the_whole_frame_with_overlap(size):
    width, height = size
    tiles = geometry.detection_tiles(width, height)
    assert 2 <= len(tiles) <= 8
    covered = np.zeros((height, width), dtype=bool)
    for tile in tiles:
        x0, y0 = (tile.center - tile.size / 2).astype(int)
        x1, y1 = (tile.center + tile.size / 2).astype(int)
        assert x0 >= 0 and y0 >= 0 and x1 <= width and y1 <= height
        covered[y0:y1, x0:x1] = True
    assert covered.mean() > 0.99
    assert geometry.detection_tiles(80, 60) == []


def test_three_performers_at_four_metres_are_all_found(shared_data, tmp_path):
    train = shared_data / "mocap" / "train"
    clip = tmp_path / "three"
    assert main(["synth", "--bvh", str(train / "cmu_3dsmax" / "131_01.bvh"),
                 str(train / "cmu_motionbuilder" / "05_06.bvh"), str(train / "cmu_daz_acrnn" / "indian" / "04.bvh"),
                 "--bvh-fps", "60", "--out", str(clip), "--duration", "1.5", "--width", "640", "--height", "480",
                 "--distance", "4.0"]) == 0

    def most_people(tile_detection: bool, hide_tracked: bool = True) -> int:
        config = BlazePoseConfig(max_people=3, detect_interval=2, tile_detection=tile_detection,
                                 hide_tracked=hide_tracked)
        backend = BlazePoseBackend.from_store(config, root=models_root())
        with open_source(clip / "video.mp4") as source:
            return max(len(backend(frame).people) for frame in source)

    assert most_people(tile_detection=False, hide_tracked=False) == 1  # the whole-frame pass sees only the nearest
    assert most_people(tile_detection=True) >= 2
