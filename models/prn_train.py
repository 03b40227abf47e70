"""PRN training from keypoint annotations alone: synthetic crowds from motion capture, or COCO JSON.

A training example is one person box of a scene: the input is every detected peak inside the box's
region drawn on the PRN grid (:func:`mocap_app.multiposenet.prn_io.prn_inputs`), the target is that
person's own peaks drawn with :data:`~mocap_app.multiposenet.prn_io.TARGET_SIGMA_CELLS` and each
channel normalised to sum 1. The loss is the cross-entropy between target and the per-channel
softmax, over the channels where the person has a peak inside the region (the paper uses binary
cross-entropy on the softmax; a distribution target is the same idea with a proper likelihood).

Scenes: :func:`~mocap_app.multiposenet.crowds.random_scene` with
:func:`~mocap_app.multiposenet.crowds.detector_noise` (jittered peaks, misses, false peaks, jittered
boxes). A COCO person-keypoints JSON can be mixed in: each image's annotated people become one
scene (ground-truth boxes and keypoints, with the same noise).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from mocap_app.errors import MocapError
from mocap_app.multiposenet.crowds import (
    AREA_FILL,
    CrowdConfig,
    CrowdScene,
    DetectorNoise,
    PosePool,
    detector_noise,
    random_scene,
)
from mocap_app.multiposenet.prn_io import TARGET_SIGMA_CELLS, crop_regions, prn_inputs, render, to_cells
from mocap_app.progress import Progress
from mocap_app.skeletons import COCO17

from .prn import PRN_VARIANTS, PoseResidualNetwork

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrnTrainConfig:
    """Training knobs (defaults: the shipped weights)."""

    variant: str = "prn_compact"
    steps: int = 1400
    batch: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.0
    seed: int = 0
    coco_fraction: float = 0.5


def coco_scenes(path: str | Path) -> list[CrowdScene]:
    """Scenes from a COCO person-keypoints JSON: per image, its non-crowd people with >= 2 keypoints."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        sizes = {image["id"]: (int(image["width"]), int(image["height"])) for image in data["images"]}
        people: dict[int, list[dict]] = {}
        for ann in data["annotations"]:
            if not ann.get("iscrowd", 0) and ann.get("num_keypoints", 0) >= 2 and ann["image_id"] in sizes:
                people.setdefault(ann["image_id"], []).append(ann)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise MocapError(f"{path} is not a COCO person-keypoints file ({exc}).") from exc
    scenes = []
    for image_id, anns in people.items():
        width, height = sizes[image_id]
        keypoints = np.array([ann["keypoints"] for ann in anns], dtype=np.float64).reshape(-1, COCO17.num_joints, 3)
        keypoints[..., 2] = np.where(keypoints[..., 2] > 0, 2.0, 0.0)
        boxes = np.array([ann["bbox"] for ann in anns], dtype=np.float64)
        boxes[:, 2:] += boxes[:, :2]
        areas = np.array([ann.get("area") or AREA_FILL * ann["bbox"][2] * ann["bbox"][3] for ann in anns])
        scenes.append(CrowdScene(width, height, keypoints, boxes, areas))
    return scenes


def scene_examples(rng: np.random.Generator, scene: CrowdScene, noise: DetectorNoise,
                   grid: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(P, 17, rows, cols) inputs, (P, 17, rows*cols) normalised targets, (P, 17) channel mask."""
    peaks, owners, boxes = detector_noise(rng, scene, noise)
    inputs = prn_inputs(peaks, boxes, grid)
    regions = crop_regions(boxes)
    xy = np.concatenate([p[:, :2] for p in peaks])
    owner = np.concatenate(owners).astype(np.int64)
    channel = np.repeat(np.arange(len(peaks)), [len(p) for p in peaks])
    cells = to_cells(xy, regions, grid)
    own = owner[None, :] == np.arange(len(boxes))[:, None]                  # (P, M): the box's own peaks
    cells = np.where(own[..., None], cells, -1.0)                          # others' peaks: outside the grid
    targets = render(cells, channel, np.ones(len(xy)), len(peaks), grid, TARGET_SIGMA_CELLS)
    targets = targets.reshape(len(boxes), len(peaks), -1)
    total = targets.sum(axis=2)
    mask = total > 1e-3
    targets = np.where(mask[..., None], targets / np.maximum(total[..., None], 1e-9), 0.0)
    return inputs, targets.astype(np.float32), mask


def batches(pool: PosePool, coco: list[CrowdScene], config: PrnTrainConfig,
            noise: DetectorNoise | None = None) -> Iterator[tuple[torch.Tensor, ...]]:
    """Endless batches of (inputs, targets, mask) from synthetic (and COCO) scenes."""
    noise = noise or DetectorNoise()
    spec = PRN_VARIANTS[config.variant]
    grid = (spec.height, spec.width)
    rng = np.random.default_rng(config.seed)
    crowd = CrowdConfig()
    while True:
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        count = 0
        while count < config.batch:
            if coco and rng.random() < config.coco_fraction:
                scene = coco[rng.integers(len(coco))]
            else:
                scene = random_scene(rng, pool, crowd)
            if not len(scene.boxes):
                continue
            parts.append(scene_examples(rng, scene, noise, grid))
            count += len(parts[-1][0])
        inputs, targets, mask = (np.concatenate(items)[:config.batch] for items in zip(*parts, strict=True))
        yield torch.from_numpy(inputs), torch.from_numpy(targets), torch.from_numpy(mask)


def prn_loss(model: PoseResidualNetwork, inputs: torch.Tensor, targets: torch.Tensor,
             mask: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy between target distributions and per-channel softmax, masked channels."""
    log_probs = torch.log_softmax(model.logits(inputs), dim=-1)
    per_channel = -(targets * log_probs).sum(dim=-1)
    return (per_channel * mask).sum() / mask.sum().clamp(min=1)


def train_prn(pool: PosePool, config: PrnTrainConfig, coco: list[CrowdScene] | None = None) -> PoseResidualNetwork:
    """Train a PRN (fixed seeds; progress and ETA on stderr); returns it in eval mode."""
    torch.manual_seed(config.seed)
    model = PoseResidualNetwork(config.variant)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: 0.5 * (1.0 + math.cos(math.pi * min(step / config.steps, 1.0))))
    stream = batches(pool, coco or [], config)
    model.train()
    started = time.perf_counter()
    running = None
    with Progress(total=config.steps, label="PRN training", unit="step") as bar:
        for step in range(config.steps):
            inputs, targets, mask = next(stream)
            loss = prn_loss(model, inputs, targets, mask)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            value = loss.item()
            running = value if running is None else 0.98 * running + 0.02 * value
            if (step + 1) % max(config.steps // 20, 1) == 0:
                logger.info("step %d/%d loss %.4f (%.0f s)", step + 1, config.steps, running,
                            time.perf_counter() - started)
            bar.update()
    return model.eval()
