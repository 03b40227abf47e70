"""Distillation data for Stage I: the BlazePose engine's output on the user's own videos.

Every ``every``-th frame of each video under the folder goes through the ``blazepose`` backend; its
people become a MuCo-3DHP style JSON (``keypoints_img`` and ``keypoints_cam`` in ``vnect21`` order,
millimetres, root-relative: only bone vectors are learned from them; ``keypoints_vis`` where the
landmark is confident) next to the saved frames, which :func:`models.xnect_data.load_muco` reads.
Head top and spine have no BlazePose landmark and stay unsupervised.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import cv2
import numpy as np

from mocap_app.backends import load_backend
from mocap_app.errors import MocapError
from mocap_app.progress import Progress
from mocap_app.skeletons import VNECT21, map_joints
from mocap_app.sources import open_source

logger = logging.getLogger(__name__)

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")
#: BlazePose confidence (visibility x presence) above which a landmark is a label.
MIN_CONFIDENCE = 0.5


def distill_videos(video_dir: Path, out_dir: Path, every: int = 5) -> tuple[Path, Path]:
    """Label the videos with BlazePose; returns (JSON path, image folder)."""
    videos = sorted(p for p in Path(video_dir).rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES)
    if not videos:
        raise MocapError(f"No videos ({', '.join(VIDEO_SUFFIXES)}) under {video_dir}.")
    image_dir = Path(out_dir) / "images"
    image_dir.mkdir(parents=True, exist_ok=True)
    backend = load_backend("blazepose")
    images, annotations = [], []
    with Progress(label="distill frames", unit="fr") as bar:
        for video_index, video in enumerate(videos):
            backend.reset()
            with open_source(str(video), live=False) as source:
                index = 0
                while (frame := source.read()) is not None:
                    observations = backend(frame)        # every frame: the tracker needs continuity
                    index += 1
                    bar.update()
                    if (index - 1) % every or not observations.people:
                        continue
                    name = f"{video_index:03d}_{index - 1:06d}.jpg"
                    cv2.imwrite(str(image_dir / name), frame.image)
                    image_id = len(images)
                    images.append({"id": image_id, "file_name": name, "width": frame.width, "height": frame.height})
                    for person in observations.people:
                        annotations.append(_annotation(person, image_id, len(annotations)))
    json_path = Path(out_dir) / "distill.json"
    json_path.write_text(json.dumps({"images": images, "annotations": annotations}), encoding="utf-8")
    logger.info("Distilled %d frames, %d people from %d videos", len(images), len(annotations), len(videos))
    return json_path, image_dir


def _annotation(person, image_id: int, annotation_id: int) -> dict:
    xy = map_joints(person.joints2d, person.joint_set, VNECT21.name)
    conf = map_joints(person.confidence[:, None], person.joint_set, VNECT21.name)[:, 0]
    cam = map_joints(person.joints3d, person.joint_set, VNECT21.name) * 1000.0
    visible = np.isfinite(xy).all(-1) & np.isfinite(cam).all(-1) & (np.nan_to_num(conf) >= MIN_CONFIDENCE)
    return {"id": annotation_id, "image_id": image_id, "keypoints_img": np.nan_to_num(xy).round(2).tolist(),
            "keypoints_cam": np.nan_to_num(cam).round(1).tolist(), "keypoints_vis": visible.tolist()}
