"""RetinaNet training pieces: anchor-to-box assignment, sigmoid focal loss, smooth-L1 box loss.

Paper: T.-Y. Lin, P. Goyal, R. Girshick, K. He, P. Dollar, "Focal Loss for Dense Object Detection",
ICCV 2017, https://arxiv.org/abs/1708.02002. MultiPoseNet uses it unchanged for one class (person):
focal loss gamma 2, alpha 0.25; smooth L1 on the box deltas; anchors with IoU >= 0.5 to a person are
positive, < 0.4 negative, in between ignored (each person's best anchor is always positive).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from engines.postprocessing import encode_deltas

FOCAL_GAMMA, FOCAL_ALPHA = 2.0, 0.25
POSITIVE_IOU, NEGATIVE_IOU = 0.5, 0.4
#: Smooth-L1 transition point (keras-retinanet's sigma 3 -> beta 1/9).
SMOOTH_L1_BETA = 1.0 / 9.0


def iou_matrix(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """(A, B) IoU of ``x0, y0, x1, y1`` boxes."""
    top_left = np.maximum(boxes_a[:, None, :2], boxes_b[None, :, :2])
    bottom_right = np.minimum(boxes_a[:, None, 2:], boxes_b[None, :, 2:])
    inter = np.prod(np.clip(bottom_right - top_left, 0.0, None), axis=2)
    area_a = np.prod(boxes_a[:, 2:] - boxes_a[:, :2], axis=1)
    area_b = np.prod(boxes_b[:, 2:] - boxes_b[:, :2], axis=1)
    return inter / np.maximum(area_a[:, None] + area_b[None] - inter, 1e-9)


def assign_anchors(anchors: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Classification labels and regression targets of every anchor for one image.

    Returns:
        ``(labels, deltas)``: (A,) float32 1 positive, 0 negative, -1 ignored; (A, 4) float32 deltas
        to the matched box (meaningful where positive).
    """
    labels = np.zeros(len(anchors), np.float32)
    deltas = np.zeros((len(anchors), 4), np.float32)
    if not len(boxes):
        return labels, deltas
    overlap = iou_matrix(anchors, boxes)
    best_box = overlap.argmax(axis=1)
    best_iou = overlap.max(axis=1)
    labels[(best_iou >= NEGATIVE_IOU) & (best_iou < POSITIVE_IOU)] = -1.0
    labels[best_iou >= POSITIVE_IOU] = 1.0
    forced = overlap.argmax(axis=0)                       # every person keeps its best anchor
    labels[forced] = 1.0
    best_box[forced] = np.arange(len(boxes))
    positive = labels > 0
    deltas[positive] = encode_deltas(boxes[best_box[positive]], anchors[positive])
    return labels, deltas


def focal_loss(logits: torch.Tensor, labels: torch.Tensor, gamma: float = FOCAL_GAMMA,
               alpha: float = FOCAL_ALPHA) -> torch.Tensor:
    """Sigmoid focal loss summed over non-ignored anchors, divided by the number of positives (>= 1).

    ``FL(p_t) = -alpha_t (1 - p_t)^gamma log(p_t)``, with ``alpha_t = alpha`` for positives and
    ``1 - alpha`` for negatives. ``labels``: 1, 0, or -1 (ignored); same shape as ``logits``.
    """
    valid = labels >= 0
    targets = labels.clamp(min=0)
    probs = torch.sigmoid(logits)
    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    p_t = probs * targets + (1 - probs) * (1 - targets)
    alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
    loss = alpha_t * (1 - p_t) ** gamma * ce
    return (loss * valid).sum() / (labels > 0).sum().clamp(min=1)


def box_loss(deltas: torch.Tensor, targets: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Smooth-L1 on positive anchors' deltas, summed, divided by the number of positives (>= 1)."""
    positive = labels > 0
    loss = F.smooth_l1_loss(deltas[positive], targets[positive], beta=SMOOTH_L1_BETA, reduction="sum")
    return loss / positive.sum().clamp(min=1)
