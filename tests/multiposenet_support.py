"""Tiny COCO-format keypoint datasets drawn with OpenCV, for MultiPoseNet loop tests (no rendering engine)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from mocap_app.skeletons import COCO17

#: A standing person in a unit box (x right, y down): COCO-17 keypoints.
STICK = np.array([[0.5, 0.08], [0.55, 0.06], [0.45, 0.06], [0.6, 0.08], [0.4, 0.08], [0.7, 0.25], [0.3, 0.25],
                  [0.78, 0.42], [0.22, 0.42], [0.8, 0.58], [0.2, 0.58], [0.62, 0.58], [0.38, 0.58], [0.63, 0.78],
                  [0.37, 0.78], [0.64, 0.97], [0.36, 0.97]])


def write_stick_dataset(folder: Path, count: int = 4, size: tuple[int, int] = (96, 128), seed: int = 0) -> Path:
    """``count`` images of 1-2 stick figures with COCO annotations; returns the JSON path."""
    rng = np.random.default_rng(seed)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    height, width = size
    images, annotations = [], []
    for image_id in range(1, count + 1):
        canvas = rng.integers(0, 60, (height, width, 3)).astype(np.uint8)
        for _ in range(int(rng.integers(1, 3))):
            box_h = rng.uniform(0.5, 0.8) * height
            box_w = 0.45 * box_h
            x0, y0 = rng.uniform(0, width - box_w), rng.uniform(0, height - box_h)
            points = STICK * [box_w, box_h] + [x0, y0]
            for parent, child in COCO17.bones:
                cv2.line(canvas, tuple(np.round(points[parent]).astype(int)),
                         tuple(np.round(points[child]).astype(int)), (40, 200, 240), 2)
            keypoints = np.concatenate([points, np.full((17, 1), 2.0)], axis=1)
            annotations.append({"id": len(annotations) + 1, "image_id": image_id, "category_id": 1, "iscrowd": 0,
                                "keypoints": keypoints.ravel().tolist(), "num_keypoints": 17,
                                "bbox": [x0, y0, box_w, box_h], "area": box_w * box_h * 0.5})
        name = f"{image_id:06d}.jpg"
        cv2.imwrite(str(folder / "images" / name), canvas)
        images.append({"id": image_id, "file_name": name, "width": width, "height": height})
    path = folder / "annotations.json"
    path.write_text(json.dumps({"images": images, "annotations": annotations,
                                "categories": [{"id": 1, "name": "person", "keypoints": list(COCO17.joints)}]}))
    return path
