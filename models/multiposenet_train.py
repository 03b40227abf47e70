"""MultiPoseNet image-network training on COCO-format person keypoints, in the paper's two stages.

1. ``keypoints``: backbone + keypoint FPN + subnet. Targets at stride 4: a Gaussian
   (:data:`HEATMAP_SIGMA_CELLS`, peak 1) per labelled keypoint, max over people, and the person mask
   (the annotation's polygons, or an ellipse in its box when it has none). Loss: the masked L2 of
   the paper, ``W * (H_t - H_p)^2``, on the final maps and on each K level's intermediate maps
   (targets area-averaged to that level), where ``W = 0`` inside crowd regions and the boxes of
   people without keypoint annotations.
2. ``detector``: backbone frozen (weights and batch-norm statistics), detection FPN + RetinaNet head
   trained with focal + smooth-L1 losses (:mod:`.detection_losses`).

Images are letterboxed to the training size (no crops; horizontal flips with left/right swapped).
Checkpoints are safetensors in the output folder; each stage ends with an ONNX export
(:func:`.multiposenet_export.export_multiposenet`) that the ``multiposenet`` backend loads.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from engines.postprocessing import retina_anchors
from engines.preprocessing import letterbox_rect
from mocap_app.errors import MocapError
from mocap_app.multiposenet.decode import pixels_to_cells
from mocap_app.progress import Progress
from mocap_app.skeletons import COCO17

from .detection_losses import assign_anchors, box_loss, focal_loss
from .multiposenet import HEATMAP_CHANNELS, HEATMAP_STRIDE, IMAGE_MEAN, IMAGE_STD, NUM_KEYPOINTS, MultiPoseNet
from .multiposenet_export import export_multiposenet

logger = logging.getLogger(__name__)

HEATMAP_SIGMA_CELLS = 1.5
FLIP_PROBABILITY = 0.5


@dataclass(frozen=True)
class NetTrainConfig:
    """One training stage."""

    variant: str = "r50"
    stage: str = "keypoints"
    size: tuple[int, int] = (384, 576)
    steps: int = 20000
    batch: int = 8
    lr: float = 1e-4
    seed: int = 0


@dataclass(frozen=True)
class Sample:
    """One training image: (3, H, W) input, (18, h, w) heatmap targets, (1, h, w) weights, (P, 4) boxes."""

    image: np.ndarray
    heatmaps: np.ndarray
    weights: np.ndarray
    boxes: np.ndarray


class CocoKeypoints:
    """A COCO person-keypoints JSON and its image folder, read lazily per image."""

    def __init__(self, annotations: str | Path, images: str | Path) -> None:
        try:
            data = json.loads(Path(annotations).read_text(encoding="utf-8"))
            self.images = {image["id"]: image for image in data["images"]}
            self.people: dict[int, list[dict]] = {image_id: [] for image_id in self.images}
            for ann in data["annotations"]:
                if ann.get("category_id", 1) == 1 and ann["image_id"] in self.people:
                    self.people[ann["image_id"]].append(ann)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise MocapError(f"{annotations} is not a COCO person-keypoints file ({exc}).") from exc
        self.folder = Path(images)
        self.ids = sorted(image_id for image_id, anns in self.people.items() if anns)
        if not self.ids:
            raise MocapError(f"{annotations} has no images with people.")

    def __len__(self) -> int:
        return len(self.ids)

    def sample(self, index: int, size: tuple[int, int], flip: bool = False) -> Sample:
        record = self.images[self.ids[index]]
        image = cv2.imread(str(self.folder / record["file_name"]), cv2.IMREAD_COLOR)
        if image is None:
            raise MocapError(f"Cannot read image {self.folder / record['file_name']}.")
        height, width = size
        boxed, matrix = letterbox_rect(image, height, width)
        if flip:
            boxed = boxed[:, ::-1]
            matrix = np.array([[-1.0, 0.0, width - 1.0], [0.0, 1.0, 0.0]]) @ np.vstack([matrix, [0.0, 0.0, 1.0]])
        heatmaps, weights, boxes = targets(self.people[self.ids[index]], matrix, size, flip)
        rgb = cv2.cvtColor(np.ascontiguousarray(boxed), cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
        tensor = ((rgb - np.array(IMAGE_MEAN, np.float32)) / np.array(IMAGE_STD, np.float32)).transpose(2, 0, 1)
        return Sample(tensor.astype(np.float32), heatmaps, weights, boxes)


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return np.asarray(points, dtype=np.float64) @ matrix[:, :2].T + matrix[:, 2]


def targets(people: list[dict], matrix: np.ndarray, size: tuple[int, int],
            flip: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Heatmap targets (18, h, w), loss weights (1, h, w) and person boxes (P, 4) in input pixels."""
    rows, cols = size[0] // HEATMAP_STRIDE, size[1] // HEATMAP_STRIDE
    heatmaps = np.zeros((HEATMAP_CHANNELS, rows, cols), np.float32)
    weights = np.ones((1, rows, cols), np.float32)
    cell_matrix = np.vstack([matrix, [0.0, 0.0, 1.0]])[:2] / HEATMAP_STRIDE
    cell_matrix[:, 2] -= (HEATMAP_STRIDE - 1) / (2.0 * HEATMAP_STRIDE)     # pixel centres -> cell centres
    ys, xs = np.mgrid[0:rows, 0:cols]
    order = COCO17.mirror_indices if flip else np.arange(NUM_KEYPOINTS)
    boxes = []
    for ann in people:
        x, y, w, h = ann["bbox"]
        corners = _apply(matrix, [[x, y], [x + w, y + h]])
        box = np.concatenate([corners.min(axis=0), corners.max(axis=0)])
        cell_box = np.round(pixels_to_cells(box, HEATMAP_STRIDE)).astype(int)
        c0, r0 = np.maximum(cell_box[:2], 0)
        c1, r1 = np.minimum(cell_box[2:] + 1, [cols, rows])
        keypoints = np.asarray(ann.get("keypoints", [0] * 51), np.float64).reshape(NUM_KEYPOINTS, 3)
        if ann.get("iscrowd", 0) or keypoints[:, 2].max() <= 0:
            weights[0, r0:r1, c0:c1] = 0.0                 # people the annotators left out: ignored
            if ann.get("iscrowd", 0):
                continue
        boxes.append(box)
        polygons = ann.get("segmentation")
        mask = np.zeros((rows, cols), np.uint8)
        if isinstance(polygons, list) and polygons:
            for polygon in polygons:
                cells = _apply(cell_matrix, np.asarray(polygon, np.float64).reshape(-1, 2))
                cv2.fillPoly(mask, [np.round(cells).astype(np.int32)], 1)
        elif c1 > c0 and r1 > r0:
            cv2.ellipse(mask, ((float(c0 + c1 - 1) / 2, float(r0 + r1 - 1) / 2), (float(c1 - c0), float(r1 - r0)), 0),
                        1, -1)
        heatmaps[-1] = np.maximum(heatmaps[-1], mask)
        cells = _apply(cell_matrix, keypoints[:, :2])
        for k in range(NUM_KEYPOINTS):
            if keypoints[k, 2] > 0:
                blob = np.exp(-((xs - cells[k, 0]) ** 2 + (ys - cells[k, 1]) ** 2) / (2 * HEATMAP_SIGMA_CELLS ** 2))
                channel = int(order[k])
                heatmaps[channel] = np.maximum(heatmaps[channel], blob)
    return heatmaps, weights, np.asarray(boxes, np.float32).reshape(-1, 4)


def keypoint_loss(net: MultiPoseNet, features: dict, heatmaps: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Masked L2 on the final maps plus each intermediate K-level map (targets area-averaged)."""
    final, intermediate = net.keypoints(features)
    loss = (weights * (final - heatmaps) ** 2).mean()
    for level in intermediate:
        size = level.shape[-2:]
        level_target = F.adaptive_avg_pool2d(heatmaps, size)
        loss = loss + (F.adaptive_avg_pool2d(weights, size) * (level - level_target) ** 2).mean()
    return loss


def detection_loss(net: MultiPoseNet, features: dict, boxes: list[np.ndarray], anchors: np.ndarray) -> torch.Tensor:
    logits, deltas = net.detections(features)
    assigned = [assign_anchors(anchors, b) for b in boxes]
    labels = torch.from_numpy(np.stack([a[0] for a in assigned]))
    target_deltas = torch.from_numpy(np.stack([a[1] for a in assigned]))
    return focal_loss(logits, labels) + box_loss(deltas, target_deltas, labels)


def _save(net: MultiPoseNet, path: Path) -> None:
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))


def _load(net: MultiPoseNet, path: Path) -> None:
    from safetensors.torch import load_file

    net.load_state_dict(load_file(str(path)))


def train_network(annotations: Path, images: Path, out: Path, config: NetTrainConfig,
                  command: str = "") -> tuple[Path, list[float]]:
    """Run one stage; returns the exported ONNX path and the loss of every step.

    The ``detector`` stage starts from the ``keypoints`` stage's checkpoint in ``out`` (required).
    """
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    data = CocoKeypoints(annotations, images)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint = out / f"multiposenet_{config.variant}.safetensors"
    net = MultiPoseNet(config.variant)
    if config.stage == "detector":
        if not checkpoint.is_file():
            raise MocapError(f"No keypoint-stage checkpoint at {checkpoint}: run --stage keypoints first.")
        _load(net, checkpoint)
        net.backbone.requires_grad_(False)
        params = [*net.detection_fpn.parameters(), *net.detection_head.parameters()]
    elif checkpoint.is_file():
        logger.info("continuing from %s", checkpoint)
        _load(net, checkpoint)
        params = [*net.backbone.parameters(), *net.keypoint_fpn.parameters(), *net.keypoint_subnet.parameters()]
    else:
        params = [*net.backbone.parameters(), *net.keypoint_fpn.parameters(), *net.keypoint_subnet.parameters()]
    optimiser = torch.optim.Adam(params, lr=config.lr)
    anchors = retina_anchors(*config.size, net.spec.anchors)
    losses: list[float] = []
    with Progress(total=config.steps, label=f"MultiPoseNet {config.stage}", unit="step") as bar:
        for _ in range(config.steps):
            net.train()
            if config.stage == "detector":
                net.backbone.eval()                       # frozen: batch-norm statistics stay too
            picks = rng.integers(len(data), size=config.batch)
            samples = [data.sample(int(i), config.size, bool(rng.random() < FLIP_PROBABILITY)) for i in picks]
            image = torch.from_numpy(np.stack([s.image for s in samples]))
            if config.stage == "detector":
                with torch.no_grad():
                    features = net.backbone(image)
                loss = detection_loss(net, features, [s.boxes for s in samples], anchors)
            else:
                features = net.backbone(image)
                loss = keypoint_loss(net, features, torch.from_numpy(np.stack([s.heatmaps for s in samples])),
                                     torch.from_numpy(np.stack([s.weights for s in samples])))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
            bar.update()
    _save(net, checkpoint)
    trained = f"{config.stage} stage, {config.steps} steps on {annotations}" + (f" ({command})" if command else "")
    return export_multiposenet(net, out, config.size, trained=trained), losses
