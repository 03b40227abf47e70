"""Synthetic crowds: several motion-capture people per scene, seen by a random virtual camera.

PRN needs no images, only where everyone's keypoints are and each person's box, so training and
evaluation scenes come from motion capture: random frames of random takes (``vnect21`` joints, see
:func:`mocap_app.evaluation.synthetic_observations.load_motion`), turned into ``coco17`` with the face
approximation of :mod:`mocap_app.skeletons.face`, each person turned to a random heading and put
on the floor near the others (so boxes overlap, as in crowds), then projected through a camera
at a random distance and height looking at the group.

Per person: ``keypoints`` (17, 3) ``x, y, v`` (v = 2 labelled, 0 not: outside the image or randomly
unlabelled, as COCO leaves some joints out), a COCO-like ``box`` (keypoint box grown to cover the
head top and feet) and ``area`` (box area x :data:`AREA_FILL`, standing in for COCO's mask area).
:func:`detector_noise` turns ground truth into what a keypoint subnet and detector give.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import MocapError
from ..evaluation.synthetic_observations import load_motion, look_at_view
from ..progress import Progress
from ..skeletons import COCO17, VNECT21
from ..skeletons.face import coco17_from_vnect21

logger = logging.getLogger(__name__)

#: Frame rate motion is sampled at for the pose pool (consecutive poses differ enough at 10 fps).
POOL_FPS = 10.0
#: Box growth around the keypoint box, fractions of its width / height: sides, top (head top), bottom.
BOX_GROW_SIDE, BOX_GROW_TOP, BOX_GROW_BOTTOM = 0.10, 0.15, 0.05
#: A person's mask area as a fraction of its box (what COCO's OKS normalises by).
AREA_FILL = 0.55
#: COCO's per-keypoint OKS sigmas (cocoeval), in COCO-17 order; also scale the simulated noise.
OKS_SIGMAS = np.array([.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89]) / 10.0


@dataclass(frozen=True)
class CrowdConfig:
    """How scenes are drawn.

    Attributes:
        min_people, max_people: people per scene.
        spread_m: people stand within this radius of the group centre, metres.
        min_gap_m: smallest distance between two people's pelvises, metres.
        distance_m, camera_height_m: camera distance from the group and height, ranges, metres.
        width, height: image size, pixels.
        unlabelled_rate: chance a joint is left unlabelled (v = 0).
    """

    min_people: int = 2
    max_people: int = 6
    spread_m: float = 1.3
    min_gap_m: float = 0.35
    distance_m: tuple[float, float] = (3.0, 8.0)
    camera_height_m: tuple[float, float] = (0.8, 2.4)
    width: int = 640
    height: int = 480
    unlabelled_rate: float = 0.03


@dataclass(frozen=True)
class CrowdScene:
    """One scene's ground truth.

    Attributes:
        keypoints: (P, 17, 3) ``x, y, v`` pixels (v: 2 labelled, 0 not).
        boxes: (P, 4) ``x0, y0, x1, y1`` pixels, clipped to the image.
        areas: (P,) pixels^2.
    """

    width: int
    height: int
    keypoints: np.ndarray
    boxes: np.ndarray
    areas: np.ndarray


class PosePool:
    """Every ``coco17`` pose (world metres, y up, pelvis at x = z = 0) of a folder of BVH takes."""

    def __init__(self, poses: np.ndarray) -> None:
        if len(poses) == 0:
            raise MocapError("The pose pool is empty; give a folder with BVH takes (e.g. shared/data/mocap/train).")
        self.poses = poses

    @classmethod
    def from_folder(cls, folder: str | Path, max_files: int | None = None) -> PosePool:
        """Load every ``*.bvh`` below ``folder`` (unknown namings are skipped with a warning)."""
        paths = sorted(Path(folder).rglob("*.bvh"))[:max_files]
        if not paths:
            raise MocapError(f"No .bvh files under {folder}; point --mocap at a folder of BVH takes.")
        poses = []
        with Progress(total=len(paths), label="loading motion", unit="file") as bar:
            for path in paths:
                try:
                    vnect = load_motion(path, fps=POOL_FPS)
                except (ValueError, KeyError, MocapError) as exc:
                    logger.warning("skipping %s: %s", path, exc)
                    continue
                finally:
                    bar.update()
                coco = coco17_from_vnect21(vnect)
                complete = np.isfinite(coco).all(axis=(1, 2))
                coco, pelvis = coco[complete], vnect[complete, VNECT21.index("pelvis")]
                coco[..., 0] -= pelvis[:, None, 0]
                coco[..., 2] -= pelvis[:, None, 2]
                poses.append(coco)
        return cls(np.concatenate(poses) if poses else np.zeros((0, COCO17.num_joints, 3)))


def _places(rng: np.random.Generator, count: int, config: CrowdConfig) -> np.ndarray:
    """(count, 2) floor positions x, z within ``spread_m`` and at least ``min_gap_m`` apart."""
    places: list[np.ndarray] = []
    for _ in range(50 * count):
        if len(places) == count:
            break
        radius = config.spread_m * np.sqrt(rng.random())
        angle = rng.uniform(0.0, 2.0 * np.pi)
        point = np.array([radius * np.cos(angle), radius * np.sin(angle)])
        if all(np.linalg.norm(point - other) >= config.min_gap_m for other in places):
            places.append(point)
    return np.asarray(places).reshape(-1, 2)


def person_box(pixels: np.ndarray, width: int, height: int) -> np.ndarray:
    """COCO-like (4,) box from (17, 2) keypoint pixels: the keypoint box grown, clipped to the image."""
    low, high = pixels.min(axis=0), pixels.max(axis=0)
    size = high - low
    box = np.array([low[0] - BOX_GROW_SIDE * size[0], low[1] - BOX_GROW_TOP * size[1],
                    high[0] + BOX_GROW_SIDE * size[0], high[1] + BOX_GROW_BOTTOM * size[1]])
    return np.clip(box, 0.0, [width - 1, height - 1, width - 1, height - 1])


def random_scene(rng: np.random.Generator, pool: PosePool, config: CrowdConfig | None = None) -> CrowdScene:
    """One scene; people entirely outside the picture are left out (a scene may hold fewer)."""
    config = config or CrowdConfig()
    count = int(rng.integers(config.min_people, config.max_people + 1))
    places = _places(rng, count, config)
    people = []
    for place in places:
        pose = pool.poses[rng.integers(len(pool.poses))]
        yaw = rng.uniform(0.0, 2.0 * np.pi)
        cos, sin = np.cos(yaw), np.sin(yaw)
        turned = pose.copy()
        turned[:, 0] = cos * pose[:, 0] + sin * pose[:, 2] + place[0]
        turned[:, 2] = -sin * pose[:, 0] + cos * pose[:, 2] + place[1]
        people.append(turned)
    view = look_at_view(np.zeros(3), distance=rng.uniform(*config.distance_m),
                        height=rng.uniform(*config.camera_height_m), width=config.width, image_height=config.height)
    keypoints, boxes = [], []
    for world in people:
        pixels = view.project(world)
        inside = ((pixels >= 0) & (pixels < [config.width, config.height])).all(axis=1)
        labelled = inside & (rng.random(COCO17.num_joints) >= config.unlabelled_rate)
        if labelled.sum() < 2:
            continue
        keypoints.append(np.concatenate([pixels, np.where(labelled, 2.0, 0.0)[:, None]], axis=1))
        boxes.append(person_box(pixels, config.width, config.height))
    keypoints_array = np.asarray(keypoints, dtype=np.float64).reshape(-1, COCO17.num_joints, 3)
    boxes_array = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    areas = AREA_FILL * np.prod(boxes_array[:, 2:] - boxes_array[:, :2], axis=1)
    return CrowdScene(config.width, config.height, keypoints_array, boxes_array, areas)


@dataclass(frozen=True)
class DetectorNoise:
    """What a keypoint subnet and a person detector get wrong, relative to ground truth.

    Attributes:
        oks_scale: per-joint pixel jitter = this x COCO sigma x person scale (sqrt(area)).
        miss_rate: chance a labelled joint is not detected.
        false_peaks: mean number of spurious peaks per scene and keypoint type.
        box_jitter: box edges move by up to this fraction of the box size.
    """

    oks_scale: float = 1.0
    miss_rate: float = 0.05
    false_peaks: float = 0.3
    box_jitter: float = 0.08


def detector_noise(rng: np.random.Generator, scene: CrowdScene,
                   noise: DetectorNoise) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Noisy peaks and boxes of a scene.

    Returns:
        ``(peaks, owners, boxes)``: 17 arrays (M_k, 3) ``x, y, score`` of detected peaks per
        keypoint type; 17 arrays (M_k,) with the index of the person each peak belongs to (-1 for a
        false peak); and (P, 4) jittered boxes.
    """
    scale = np.sqrt(scene.areas)
    peaks, owners = [], []
    for k in range(COCO17.num_joints):
        present = (scene.keypoints[:, k, 2] > 0) & (rng.random(len(scene.keypoints)) >= noise.miss_rate)
        who = np.nonzero(present)[0]
        xy = scene.keypoints[who, k, :2] + rng.normal(0.0, 1.0, (len(who), 2)) * (
            noise.oks_scale * OKS_SIGMAS[k] * scale[who])[:, None]
        extra = rng.poisson(noise.false_peaks)
        false_xy = rng.uniform([0, 0], [scene.width, scene.height], (extra, 2))
        xy = np.concatenate([xy, false_xy])
        score = np.concatenate([rng.uniform(0.5, 1.0, len(who)), rng.uniform(0.1, 0.6, extra)])
        peaks.append(np.concatenate([xy, score[:, None]], axis=1))
        owners.append(np.concatenate([who, -np.ones(extra, dtype=np.int64)]))
    size = scene.boxes[:, 2:] - scene.boxes[:, :2]
    jitter = rng.uniform(-noise.box_jitter, noise.box_jitter, scene.boxes.shape) * np.tile(size, 2)
    boxes = np.clip(scene.boxes + jitter, 0.0, [scene.width - 1, scene.height - 1] * 2)
    return peaks, owners, boxes
