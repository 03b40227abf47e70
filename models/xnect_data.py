"""Stage I training data in standard formats, with augmentation, as (image, targets) samples.

* COCO person keypoints JSON (``images``, ``annotations`` with 17 ``keypoints`` as x, y, v): 2D
  heatmaps and PAFs; joints COCO has or implies (``coco17 -> mpi3dhp17``: pelvis, neck and head are
  means of pairs) are supervised, head top and spine are masked.
* MuCo-3DHP style JSON (the COCO layout with per-person ``keypoints_img`` (J, 2) pixels,
  ``keypoints_cam`` (J, 3) millimetres in camera axes and optional ``keypoints_vis`` (J,), J = 21
  in ``vnect21`` order or 17 in ``mpi3dhp17`` order): heatmaps, PAFs and the channel-sparse encodings.

Augmentation (training only): scale 0.75-1.25, in-plane rotation +-20 deg (the 3D turns with it about
the optical axis), horizontal flip (left/right swapped, x negated), brightness/contrast jitter.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from mocap_app.errors import MocapError
from mocap_app.skeletons import COCO17, map_joints
from mocap_app.skeletons.xnect import STAGE1_SET

from .xnect_targets import Stage1Targets, render_targets

logger = logging.getLogger(__name__)

_J = STAGE1_SET.num_joints
_COCO_ANNOTATED = np.isfinite(map_joints(np.zeros((COCO17.num_joints, 1)), COCO17.name, STAGE1_SET.name)[:, 0])


@dataclass(frozen=True)
class Sample:
    """One image's people before augmentation: (P, J, 2) pixels, (P, J) visible, (P, J, 3) metres or None."""

    image_path: Path
    joints2d: np.ndarray
    visible: np.ndarray
    joints3d: np.ndarray | None
    annotated: np.ndarray


def _load_json(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise MocapError(f"Cannot read the annotation file {path} ({exc}).") from exc


def _by_image(data: dict) -> dict[int, tuple[str, list[dict]]]:
    images = {int(image["id"]): (image["file_name"], []) for image in data.get("images", [])}
    for annotation in data.get("annotations", []):
        if int(annotation["image_id"]) in images:
            images[int(annotation["image_id"])][1].append(annotation)
    return images


def load_coco(json_path: Path, image_dir: Path) -> list[Sample]:
    """Samples of a COCO keypoints file (images without annotated people skipped)."""
    samples = []
    for file_name, people_rows in _by_image(_load_json(json_path)).values():
        people = [np.asarray(a["keypoints"], np.float64).reshape(COCO17.num_joints, 3) for a in people_rows
                  if a.get("num_keypoints", 1) > 0 and not a.get("iscrowd", 0)]
        if not people:
            continue
        keypoints = np.stack(people)
        xy = np.where(keypoints[..., 2:3] > 0, keypoints[..., :2], np.nan)
        joints2d = map_joints(xy, COCO17.name, STAGE1_SET.name)
        samples.append(Sample(Path(image_dir) / file_name, np.nan_to_num(joints2d), np.isfinite(joints2d[..., 0]),
                              None, _COCO_ANNOTATED))
    return samples


def load_muco(json_path: Path, image_dir: Path) -> list[Sample]:
    """Samples of a MuCo-3DHP style file (see the module docstring)."""
    samples = []
    for file_name, people_rows in _by_image(_load_json(json_path)).values():
        if not people_rows:
            continue
        img = np.stack([np.asarray(a["keypoints_img"], np.float64)[:_J] for a in people_rows])
        cam = np.stack([np.asarray(a["keypoints_cam"], np.float64)[:_J] for a in people_rows]) / 1000.0
        vis = np.stack([np.asarray(a.get("keypoints_vis", np.ones(len(a["keypoints_img"]))), bool)[:_J]
                        for a in people_rows])
        if img.shape[1:] != (_J, 2) or cam.shape[1:] != (_J, 3):
            raise MocapError(f"{json_path}: keypoints_img/keypoints_cam must have at least {_J} joints in vnect21 "
                             f"or mpi3dhp17 order, got {img.shape[1]}.")
        samples.append(Sample(Path(image_dir) / file_name, img, vis & np.isfinite(img).all(-1), cam,
                              np.ones(_J, bool)))
    return samples


def augment_matrix(rng: np.random.Generator, centre: np.ndarray, size: tuple[int, int],
                   scale: float, augment: bool) -> tuple[np.ndarray, float, bool]:
    """2x3 affine from image pixels to the crop, the in-plane angle (radians) and whether it flips."""
    width, height = size
    angle = rng.uniform(-20.0, 20.0) if augment else 0.0
    scale *= rng.uniform(0.75, 1.25) if augment else 1.0
    flip = bool(augment and rng.random() < 0.5)
    matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, scale)
    matrix[:, 2] += np.array([width / 2, height / 2]) - centre
    if flip:
        matrix = np.array([[-1.0, 0.0, width - 1.0], [0.0, 1.0, 0.0]]) @ np.vstack([matrix, [0, 0, 1]])
    return matrix, np.radians(angle), flip


def make_example(sample: Sample, size: tuple[int, int], stride: int, rng: np.random.Generator,
                 augment: bool = True) -> tuple[np.ndarray, Stage1Targets]:
    """(H, W, 3) float RGB in [0, 1] crop and its targets."""
    image = cv2.imread(str(sample.image_path), cv2.IMREAD_COLOR)
    if image is None:
        raise MocapError(f"Cannot read the training image {sample.image_path}.")
    width, height = size
    seen = sample.joints2d[sample.visible]
    centre = seen[rng.integers(len(seen))] if augment and len(seen) else np.array(image.shape[1::-1]) / 2.0
    fit = min(width / image.shape[1], height / image.shape[0])
    matrix, angle, flip = augment_matrix(rng, np.asarray(centre, np.float64), size, fit, augment)
    crop = cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
    joints2d = sample.joints2d @ matrix[:, :2].T + matrix[:, 2]
    visible = sample.visible & (joints2d >= 0).all(-1) & (joints2d < [width, height]).all(-1)
    joints3d = sample.joints3d
    if joints3d is not None:
        c, s = np.cos(-angle), np.sin(-angle)        # image y is down: the picture turns by -angle in camera axes
        joints3d = joints3d.copy()
        joints3d[..., :2] = joints3d[..., :2] @ np.array([[c, s], [-s, c]])
        if flip:
            joints3d[..., 0] *= -1.0
    if flip:
        mirror = STAGE1_SET.mirror_indices
        joints2d, visible = joints2d[:, mirror], visible[:, mirror]
        joints3d = joints3d[:, mirror] if joints3d is not None else None
    rgb = crop[..., ::-1].astype(np.float32) / 255.0
    if augment:
        rgb = np.clip((rgb - 0.5) * rng.uniform(0.7, 1.3) + 0.5 + rng.uniform(-0.1, 0.1), 0.0, 1.0)
    targets = render_targets(joints2d, visible, (width // stride, height // stride), stride, joints3d,
                             sample.annotated)
    return rgb, targets
