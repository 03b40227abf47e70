"""Synthetic training data: COCO-format images whose boxes, keypoints and 3D joints agree."""

from __future__ import annotations

import cv2
import numpy as np

from mocap_app.cli import main
from mocap_app.skeletons import COCO17, RIG
from mocap_app.synth.dataset import read_dataset

TAKES = ("mocap/train/cmu_3dsmax/scaled_131_01.bvh", "mocap/train/cmu_daz_acrnn/martial/04.bvh")
COUNT = 5


def test_dataset_samples_are_consistent(shared_data, tmp_path):
    out = tmp_path / "ds"
    status = main(["synth", "--dataset", str(COUNT), "--bvh", *(str(shared_data / t) for t in TAKES),
                   "--out", str(out), "--width", "256", "--height", "192", "--seed", "4"])
    assert status == 0
    data = read_dataset(out)
    assert len(data["images"]) == COUNT and data["categories"][0]["keypoints"] == list(COCO17.joints)
    assert len(data["annotations"]) >= COUNT  # at least one person seen per image on average
    assert len({a["id"] for a in data["annotations"]}) == len(data["annotations"])
    images = {image["id"]: image for image in data["images"]}
    for annotation in data["annotations"]:
        image = images[annotation["image_id"]]
        pixels = cv2.imread(str(out / image["file_name"]))
        assert pixels.shape == (192, 256, 3)
        x, y, w, h = annotation["bbox"]
        keypoints = np.array(annotation["keypoints"]).reshape(len(COCO17.joints), 3)
        seen = keypoints[keypoints[:, 2] == 2, :2]
        # Seen keypoints lie in the visible box (up to a pixel of rounding), and count as annotated.
        assert np.all((seen >= [x - 1, y - 1]) & (seen <= [x + w + 1, y + h + 1]))
        assert annotation["num_keypoints"] == int((keypoints[:, 2] > 0).sum())
        # The visible box lies inside the full figure's box.
        fx, fy, fw, fh = annotation["bbox_full"]
        assert fx <= x + 1 and fy <= y + 1 and fx + fw >= x + w - 1 and fy + fh >= y + h - 1
        # The 3D joints project onto the 2D joints through the image's camera.
        camera = np.array(annotation["joints_rig22_camera"])
        rig2d = np.array(annotation["joints_rig22_2d"]).reshape(RIG.num_joints, 3)
        inside = rig2d[:, 2] > 0
        projected = (camera / camera[:, 2:]) @ np.array(image["camera"]["K"])[:2].T
        np.testing.assert_allclose(projected[inside], rig2d[inside, :2], atol=0.02)
