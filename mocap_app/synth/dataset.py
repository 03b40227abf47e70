"""Synthetic training images for the image networks (XNect Stage I, MultiPoseNet), in COCO format.

Each image shows 1-4 performers posed from random frames of random BVH takes, with random looks,
places and headings, sometimes behind a pillar or a floating prop, on a random stage, seen by a
random camera. The folder holds ``images/NNNNNN.jpg`` and ``annotations.json``, a COCO
person-keypoints file (``images``, ``annotations``, ``categories``) that any COCO keypoint loader
reads, extended with what 3D training needs:

* per image: ``camera`` (``K``, ``rotation_wc``, ``centre_world``) and ``floor_plane_camera``;
* per person: ``keypoints`` (COCO-17, x y v with COCO's v: 0 outside the image, 1 hidden, 2 seen),
  ``keypoints_blazepose33`` (the same for BlazePose's 33), ``joints_rig22_2d`` (u v v),
  ``joints_rig22_camera`` (22 x 3 metres, OpenCV camera axes), ``bbox`` (the visible pixels'
  box, x y w h), ``bbox_full`` (the whole figure's box, also hidden parts) and ``pixels_visible``.

``annotations.jsonl`` gets one line per finished image as generation goes, so an interrupted run
keeps what it made; ``annotations.json`` is written at the end.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..bvh import read_bvh
from ..errors import MocapError
from ..progress import Progress
from ..skeletons import BLAZEPOSE33, COCO17, RIG
from .appearance import random_appearance
from .body import BodyMesh, build_body, prop_mesh, surface_landmarks
from .camera import look_at_camera
from .groundtruth import PerformerTruth, frame_record
from .motion import driving_poses, proportions, retarget
from .render import Renderer
from .scene import random_stage

logger = logging.getLogger(__name__)

ANNOTATIONS_FILE = "annotations.json"
PROGRESS_FILE = "annotations.jsonl"
JPEG_QUALITY = 92
#: A person with fewer visible pixels than this is not annotated (fully hidden or out of view).
MIN_VISIBLE_PIXELS = 150
#: Seconds of motion around the chosen frame used to find the floor (keeps jumps in the air).
FLOOR_WINDOW_S = 1.0
CAMERA_DISTANCE_M = (3.0, 7.5)
CAMERA_HEIGHT_M = (0.6, 2.4)
CAMERA_FOV_DEG = (42.0, 68.0)
#: Probability that an image gets a prop between the camera and a performer.
PROP_PROBABILITY = 0.3
MIN_SEPARATION_M = 0.45


@dataclass(frozen=True, eq=False)
class _Take:
    poses: np.ndarray  # (F, 27, 3) file units
    lengths: dict[str, float]
    fps: float
    name: str


class MotionPool:
    """BVH takes to draw poses from, parsed on first use and kept."""

    def __init__(self, paths: list[Path]) -> None:
        if not paths:
            raise MocapError("No BVH files to draw motions from; pass --bvh with files or folders of .bvh files.")
        self.paths = paths
        self._takes: dict[Path, _Take] = {}

    def take(self, index: int) -> _Take:
        path = self.paths[index]
        if path not in self._takes:
            motion = read_bvh(path)
            self._takes[path] = _Take(driving_poses(motion), proportions(motion), motion.fps, path.name)
        return self._takes[path]


def _yaw(points: np.ndarray, angle: float, pivot: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    rotation = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    return (points - pivot) @ rotation.T + pivot


def _positions(rng: np.random.Generator, count: int) -> np.ndarray:
    """(count, 2) floor positions (x, z) near the origin, kept MIN_SEPARATION_M apart where possible."""
    radius = 0.3 + 0.6 * count
    chosen: list[np.ndarray] = []
    for _ in range(count):
        for _ in range(20):
            candidate = rng.uniform(-radius, radius, 2)
            if all(np.linalg.norm(candidate - other) > MIN_SEPARATION_M for other in chosen):
                break
        chosen.append(candidate)
    return np.array(chosen)


def _triplets(pixels: list, visibility: list) -> np.ndarray:
    """(J, 3) COCO rows x, y, v; a joint outside the image is 0, 0, 0 as COCO writes unlabelled joints."""
    rows = np.array([[np.nan, np.nan] if u is None else [u, v] for u, v in pixels], dtype=np.float64)
    vis = np.asarray(visibility, dtype=np.float64)
    rows[vis == 0] = 0.0
    return np.round(np.concatenate([rows, vis[:, None]], axis=1), 2)


def _box_xywh(box: list[float] | None) -> list[float] | None:
    return None if box is None else [box[0], box[1], round(box[2] - box[0], 1), round(box[3] - box[1], 1)]


def _annotation(entry: dict, image_id: int, annotation_id: int) -> dict | None:
    """One COCO annotation from a performer's truth record; None when too little of it is seen."""
    if entry["pixels_visible"] < MIN_VISIBLE_PIXELS or entry["bbox_visible"] is None:
        return None
    bp = _triplets(entry[BLAZEPOSE33.name]["pixels"], entry[BLAZEPOSE33.name]["visibility"])
    coco = bp[BLAZEPOSE33.indices(COCO17.joints)]
    rig = entry[RIG.name]
    return {
        "id": annotation_id, "image_id": image_id, "category_id": 1, "iscrowd": 0,
        "bbox": _box_xywh(entry["bbox_visible"]), "area": entry["pixels_visible"],
        "keypoints": coco.ravel().tolist(), "num_keypoints": int((coco[:, 2] > 0).sum()),
        "keypoints_blazepose33": bp.ravel().tolist(),
        "joints_rig22_2d": _triplets(rig["pixels"], rig["visibility"]).ravel().tolist(),
        "joints_rig22_camera": rig["camera"],
        "bbox_full": _box_xywh(entry["bbox_full"]), "pixels_visible": entry["pixels_visible"],
    }


def _performer(rng: np.random.Generator, pool: MotionPool, place: np.ndarray):
    """A random look and a posed (27, 3) figure standing at ``place`` (x, z) with a random heading."""
    take = pool.take(int(rng.integers(len(pool.paths))))
    frame = int(rng.integers(take.poses.shape[0]))
    half = int(FLOOR_WINDOW_S * take.fps / 2)
    start = max(0, frame - half)
    look = random_appearance(rng)
    window = retarget(take.poses[start:frame + half + 1], take.lengths, look)
    pose = window[frame - start]
    hips = pose[RIG.index("Hips")].copy()
    pose = _yaw(pose, float(rng.uniform(0, 2 * np.pi)), hips)
    pose[:, [0, 2]] += place - hips[[0, 2]]
    return look, pose


def _props(rng: np.random.Generator, camera_centre: np.ndarray, poses: list[np.ndarray]) -> list[BodyMesh]:
    """Sometimes one prop between the camera and a performer, partly hiding them."""
    if rng.random() >= PROP_PROBABILITY:
        return []
    target = poses[int(rng.integers(len(poses)))][RIG.index("Hips")]
    at = camera_centre + rng.uniform(0.35, 0.7) * (target - camera_centre)
    colour = tuple(float(c) for c in rng.uniform(0.1, 0.9, 3))
    if rng.random() < 0.5:
        at[1] = 0.0
        return [prop_mesh(at, np.array([rng.uniform(0.08, 0.25), rng.uniform(0.8, 2.2), 0.0]), colour, pillar=True)]
    at[1] = rng.uniform(0.3, 1.6)
    return [prop_mesh(at, rng.uniform(0.1, 0.35, 3), colour, pillar=False)]


def _sample(rng: np.random.Generator, pool: MotionPool, renderer: Renderer, image_id: int, width: int,
            height: int, max_people: int) -> tuple[np.ndarray, dict, list[dict]]:
    """Render one random image: (RGB image, COCO image entry, per-performer truth records)."""
    camera = look_at_camera((0.0, float(rng.uniform(0.7, 1.2)), 0.0), float(rng.uniform(*CAMERA_DISTANCE_M)),
                            float(rng.uniform(*CAMERA_HEIGHT_M)), float(rng.uniform(0, 360)), width, height,
                            float(rng.uniform(*CAMERA_FOV_DEG)))
    renderer.set_stage(random_stage(rng, float(np.linalg.norm(camera.centre[[0, 2]])) + 1.5))
    people = int(rng.integers(1, max_people + 1))
    figures = [_performer(rng, pool, place) for place in _positions(rng, people)]
    bodies = [build_body(pose, look) for look, pose in figures]
    result = renderer.render(camera, bodies + _props(rng, camera.centre, [pose for _, pose in figures]))
    truths = [PerformerTruth({RIG.name: pose[:RIG.num_joints], BLAZEPOSE33.name: surface_landmarks(pose, look)},
                             body.positions.astype(np.float64))
              for (look, pose), body in zip(figures, bodies, strict=True)]
    record = frame_record(image_id, 0.0, camera, truths, result)
    normal, d = camera.floor_plane_camera()
    image = {"id": image_id, "file_name": f"images/{image_id:06d}.jpg", "width": width, "height": height,
             "camera": {"K": camera.K.tolist(), "rotation_wc": camera.rotation_wc.tolist(),
                        "centre_world": camera.centre.tolist()},
             "floor_plane_camera": {"normal": normal.tolist(), "d": d}}
    return result.image, image, record["performers"]


def generate_dataset(out: str | Path, bvh_paths: list[Path], count: int, seed: int = 0, width: int = 640,
                     height: int = 480, max_people: int = 4) -> float:
    """Render ``count`` annotated images into ``out``; returns the rate achieved, images per second.

    Args:
        out: output folder (created; ``images/`` inside).
        bvh_paths: takes to draw poses from (e.g. everything under a mocap/train folder).
        count: number of images.
        seed: random seed (the same seed and takes give the same images).
        width, height: image size, pixels.
        max_people: performers per image are drawn from 1..max_people.
    """
    out = Path(out)
    (out / "images").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    pool = MotionPool(sorted(bvh_paths))
    images: list[dict] = []
    annotations: list[dict] = []
    start = time.perf_counter()
    with Renderer() as renderer, open(out / PROGRESS_FILE, "w", encoding="utf-8") as progress_file, \
            Progress(total=count, label="dataset", unit="images") as bar:
        for image_id in range(count):
            rgb, image, performers = _sample(rng, pool, renderer, image_id, width, height, max_people)
            cv2.imwrite(str(out / image["file_name"]), rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            found = []
            for entry in performers:
                annotation = _annotation(entry, image_id, len(annotations) + len(found) + 1)
                if annotation is not None:
                    found.append(annotation)
            images.append(image)
            annotations.extend(found)
            progress_file.write(json.dumps({"image": image, "annotations": found}, separators=(",", ":")) + "\n")
            progress_file.flush()
            bar.update()
    rate = count / (time.perf_counter() - start)
    coco = {"info": {"description": "mocap synthetic performers", "images_per_second": round(rate, 3),
                     "joint_sets": {"rig22": list(RIG.joints), "blazepose33": list(BLAZEPOSE33.joints)}},
            "images": images, "annotations": annotations,
            "categories": [{"id": 1, "name": "person", "supercategory": "person", "keypoints": list(COCO17.joints),
                            "skeleton": (COCO17.bones + 1).tolist()}]}
    (out / ANNOTATIONS_FILE).write_text(json.dumps(coco, separators=(",", ":")), encoding="utf-8")
    logger.info("wrote %d images, %d people, %.2f images/s", count, len(annotations), rate)
    return rate


def read_dataset(folder: str | Path) -> dict:
    """Load ``annotations.json`` of a generated dataset (COCO dict with the extra fields above).

    Raises:
        FileNotFoundError: no annotations in ``folder``.
    """
    path = Path(folder) / ANNOTATIONS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"No {ANNOTATIONS_FILE} in {folder}; generate it with 'mocap synth --dataset N'.")
    return json.loads(path.read_text(encoding="utf-8"))
