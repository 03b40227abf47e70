"""Network output -> detections and keypoints: SSD anchors, box decoding, weighted NMS, heatmaps.

Pure numpy functions, tested alone. The SSD anchor layout and decoding follow the configuration a
model's sidecar states (``[anchors]``, ``[thresholds]``); nothing here knows a particular network.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .preprocessing import SquareRoi


@dataclass(frozen=True, slots=True)
class AnchorConfig:
    """SSD anchor generation (MediaPipe's ``SsdAnchorsCalculator`` semantics).

    Attributes:
        input_size: network input side, pixels.
        strides: feature-map stride per layer; consecutive layers with equal stride share a map.
        min_scale, max_scale: anchor scale of the first and last layer (fraction of the input).
        aspect_ratios: aspect ratios per layer.
        offset: anchor centre within its cell (0.5 = centre).
        fixed_anchor_size: anchors of width and height 1 (decoding then ignores anchor size).
        interpolated_scale_aspect_ratio: aspect ratio of the extra anchor between two scales (0: none).
    """

    input_size: int
    strides: tuple[int, ...]
    min_scale: float
    max_scale: float
    aspect_ratios: tuple[float, ...] = (1.0,)
    offset: float = 0.5
    fixed_anchor_size: bool = True
    interpolated_scale_aspect_ratio: float = 1.0

    @classmethod
    def from_sidecar(cls, anchors: dict, input_size: int) -> AnchorConfig:
        return cls(input_size=input_size, strides=tuple(int(s) for s in anchors["strides"]),
                   min_scale=float(anchors["min_scale"]), max_scale=float(anchors["max_scale"]),
                   aspect_ratios=tuple(float(a) for a in anchors["aspect_ratios"]),
                   offset=float(anchors["offset"]), fixed_anchor_size=bool(anchors["fixed_anchor_size"]),
                   interpolated_scale_aspect_ratio=float(anchors["interpolated_scale_aspect_ratio"]))


def _layer_scale(config: AnchorConfig, layer: int) -> float:
    count = len(config.strides)
    if count == 1:
        return (config.min_scale + config.max_scale) / 2.0
    return config.min_scale + (config.max_scale - config.min_scale) * layer / (count - 1)


def ssd_anchors(config: AnchorConfig) -> np.ndarray:
    """Anchors in the network's output order.

    Returns:
        (A, 4) float32 ``x_center, y_center, width, height``, normalised to the input (0..1).
    """
    rows = []
    layer = 0
    count = len(config.strides)
    while layer < count:
        sizes: list[tuple[float, float]] = []      # (width, height) per anchor of a cell
        last = layer
        while last < count and config.strides[last] == config.strides[layer]:
            scale = _layer_scale(config, last)
            for ratio in config.aspect_ratios:
                sizes.append((scale * math.sqrt(ratio), scale / math.sqrt(ratio)))
            if config.interpolated_scale_aspect_ratio > 0:
                next_scale = 1.0 if last == count - 1 else _layer_scale(config, last + 1)
                middle = math.sqrt(scale * next_scale)
                ratio = config.interpolated_scale_aspect_ratio
                sizes.append((middle * math.sqrt(ratio), middle / math.sqrt(ratio)))
            last += 1
        cells = math.ceil(config.input_size / config.strides[layer])
        ys, xs = np.meshgrid(np.arange(cells), np.arange(cells), indexing="ij")
        centres = np.stack([(xs.ravel() + config.offset) / cells, (ys.ravel() + config.offset) / cells], axis=1)
        for cx, cy in centres:                      # cell-major, anchors of a cell consecutive
            for width, height in sizes:
                rows.append((cx, cy, 1.0, 1.0) if config.fixed_anchor_size else (cx, cy, width, height))
        layer = last
    return np.asarray(rows, dtype=np.float32)


#: Logits are clipped here before the exponential (sigmoid(+-80) is 0 or 1 in float32 anyway).
_LOGIT_LIMIT = 80.0


def sigmoid(values: np.ndarray) -> np.ndarray:
    """Logistic function, float32, without overflow warnings for huge logits."""
    return 1.0 / (1.0 + np.exp(-np.clip(np.asarray(values, dtype=np.float32), -_LOGIT_LIMIT, _LOGIT_LIMIT)))


def decode_boxes(raw: np.ndarray, anchors: np.ndarray, input_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Decode SSD regressions (centre x, y, width, height, then keypoints as x, y), input pixels.

    Args:
        raw: (A, 4 + 2K) regressions, input pixels relative to each anchor's centre and size.
        anchors: (A, 4) from :func:`ssd_anchors`.
        input_size: network input side, pixels.

    Returns:
        ``(boxes, keypoints)``: (A, 4) ``x0, y0, x1, y1`` and (A, K, 2), input pixels.
    """
    centre = anchors[:, :2] * input_size
    anchor_size = anchors[:, 2:4]
    box_centre = raw[:, :2] * anchor_size + centre
    half = raw[:, 2:4] * anchor_size / 2.0
    boxes = np.concatenate([box_centre - half, box_centre + half], axis=1)
    keypoints = raw[:, 4:].reshape(len(raw), (raw.shape[1] - 4) // 2, 2) * anchor_size[:, None, :] + centre[:, None, :]
    return boxes, keypoints


def iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one (4,) box with (N, 4) boxes (``x0, y0, x1, y1``)."""
    top_left = np.maximum(box[:2], boxes[:, :2])
    bottom_right = np.minimum(box[2:], boxes[:, 2:])
    intersection = np.prod(np.clip(bottom_right - top_left, 0.0, None), axis=1)
    area = np.prod(box[2:] - box[:2])
    areas = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    union = area + areas - intersection
    return np.where(union > 0, intersection / np.maximum(union, 1e-12), 0.0)


def weighted_nms(boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray,
                 iou_threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted non-maximum suppression (BlazeFace/BlazePose style).

    Repeatedly takes the best remaining detection and every remaining one overlapping it by more
    than ``iou_threshold``; the cluster becomes one detection whose box and keypoints are the
    score-weighted mean of the cluster and whose score is the best one's. Averaging instead of
    discarding steadies the box from frame to frame.

    Args:
        boxes: (N, 4) ``x0, y0, x1, y1``; keypoints: (N, K, 2); scores: (N,) probabilities.

    Returns:
        ``(boxes, keypoints, scores)`` of the kept detections, best first.
    """
    order = np.argsort(-scores, kind="stable")
    kept_boxes, kept_keypoints, kept_scores = [], [], []
    while order.size:
        best = order[0]
        overlap = iou(boxes[best], boxes[order])
        cluster = order[overlap > iou_threshold]
        if cluster.size == 0:                      # a degenerate (zero-area) best box
            cluster = order[:1]
        weights = scores[cluster][:, None]
        total = float(weights.sum())
        kept_boxes.append((boxes[cluster] * weights).sum(axis=0) / total)
        kept_keypoints.append((keypoints[cluster] * weights[:, :, None]).sum(axis=0) / total)
        kept_scores.append(scores[best])
        order = order[~np.isin(order, cluster)]
    count = len(kept_scores)
    return (np.asarray(kept_boxes, dtype=np.float32).reshape(count, 4),
            np.asarray(kept_keypoints, dtype=np.float32).reshape(count, keypoints.shape[1], 2),
            np.asarray(kept_scores, dtype=np.float32))


def alignment_roi(center: np.ndarray, scale_point: np.ndarray, target_angle: float, scale: float) -> SquareRoi:
    """Square region from two alignment points (MediaPipe's AlignmentPointsRects + RectTransformation).

    The region is centred on ``center``, its side is ``2 * |scale_point - center| * scale``, and it
    is turned so that the direction ``center -> scale_point`` points at ``target_angle`` (radians,
    counter-clockwise from image right as seen on screen; pi/2 = up).

    Args:
        center, scale_point: (2,) image pixels.
    """
    delta = np.asarray(scale_point, dtype=np.float64) - np.asarray(center, dtype=np.float64)
    rotation = target_angle - math.atan2(-delta[1], delta[0])
    rotation = (rotation + math.pi) % (2.0 * math.pi) - math.pi
    size = 2.0 * float(np.hypot(*delta)) * scale
    return SquareRoi(center=np.asarray(center, dtype=np.float64), size=size, rotation=rotation)


def refine_from_heatmap(xy: np.ndarray, heatmap: np.ndarray, kernel: int, min_confidence: float) -> np.ndarray:
    """Replace landmarks by the sigmoid-weighted mean position of their heatmap near them.

    Follows MediaPipe's RefineLandmarksFromHeatmapCalculator, including its convention that heatmap
    cell ``c`` sits at normalised position ``c / size`` (not ``(c + 0.5) / size``), so our landmarks
    equal MediaPipe's. A landmark moves only when the window's peak confidence reaches
    ``min_confidence``; landmarks outside the heatmap stay.

    Args:
        xy: (L, 2) landmarks normalised to the crop (0..1).
        heatmap: (S, S, L) logits.
        kernel: window side, cells (odd).
        min_confidence: peak sigmoid needed to refine.

    Returns:
        (L, 2) refined normalised landmarks.
    """
    rows, cols, count = heatmap.shape
    refined = np.array(xy, dtype=np.float32, copy=True)
    half = (kernel - 1) // 2
    centre_cols = np.trunc(xy[:, 0] * cols).astype(int)          # C++ int() truncation, as MediaPipe
    centre_rows = np.trunc(xy[:, 1] * rows).astype(int)
    for index in range(count):
        col, row = centre_cols[index], centre_rows[index]
        if not (0 <= col < cols and 0 <= row < rows):
            continue
        r0, r1 = max(0, row - half), min(rows, row + half + 1)
        c0, c1 = max(0, col - half), min(cols, col + half + 1)
        confidence = sigmoid(heatmap[r0:r1, c0:c1, index])
        total = float(confidence.sum())
        if confidence.max() < min_confidence or total <= 0:
            continue
        grid_rows, grid_cols = np.mgrid[r0:r1, c0:c1]
        refined[index, 0] = float((grid_cols * confidence).sum()) / total / cols
        refined[index, 1] = float((grid_rows * confidence).sum()) / total / rows
    return refined


# --- RetinaNet-style anchors and box deltas, hard NMS, heatmap peaks (MultiPoseNet) -------------------


@dataclass(frozen=True, slots=True)
class RetinaAnchorConfig:
    """RetinaNet anchor layout: one anchor set per pyramid level.

    Attributes:
        strides: stride of each level (P3..P7: 8, 16, 32, 64, 128).
        sizes: anchor base size per level, input pixels (32 .. 512).
        ratios: height / width ratios.
        scales: size multipliers (2^0, 2^(1/3), 2^(2/3)).
    """

    strides: tuple[int, ...] = (8, 16, 32, 64, 128)
    sizes: tuple[float, ...] = (32.0, 64.0, 128.0, 256.0, 512.0)
    ratios: tuple[float, ...] = (0.5, 1.0, 2.0)
    scales: tuple[float, ...] = (1.0, 2.0 ** (1.0 / 3.0), 2.0 ** (2.0 / 3.0))

    @property
    def per_location(self) -> int:
        return len(self.ratios) * len(self.scales)

    @classmethod
    def from_sidecar(cls, anchors: dict) -> RetinaAnchorConfig:
        return cls(strides=tuple(int(s) for s in anchors["strides"]), sizes=tuple(float(s) for s in anchors["sizes"]),
                   ratios=tuple(float(r) for r in anchors["ratios"]), scales=tuple(float(s) for s in anchors["scales"]))


def level_sizes(height: int, width: int, strides: tuple[int, ...]) -> list[tuple[int, int]]:
    """Feature-map (rows, cols) per stride for an input of ``height x width``: ``ceil(size / stride)``.

    This is what a chain of stride-2, padding-1 3x3 convolutions (and ResNet's stem) produces.
    """
    return [(math.ceil(height / stride), math.ceil(width / stride)) for stride in strides]


def retina_anchors(height: int, width: int, config: RetinaAnchorConfig) -> np.ndarray:
    """All anchors of an input, in the order the detection head's outputs are flattened.

    Order: level, then row, then column, then (ratio, scale) with the scale varying fastest.

    Returns:
        (A, 4) float32 ``x0, y0, x1, y1`` input pixels; anchor centres at ``(col + 0.5) * stride``.
    """
    shapes = []
    for ratio in config.ratios:
        for scale in config.scales:
            shapes.append((1.0 / math.sqrt(ratio), math.sqrt(ratio), scale))
    rows = []
    for stride, size, (cells_y, cells_x) in zip(config.strides, config.sizes,
                                                level_sizes(height, width, config.strides), strict=True):
        half = np.array([[size * scale * w / 2.0, size * scale * h / 2.0] for w, h, scale in shapes])  # (a, 2)
        ys, xs = np.meshgrid((np.arange(cells_y) + 0.5) * stride, (np.arange(cells_x) + 0.5) * stride, indexing="ij")
        centres = np.stack([xs.ravel(), ys.ravel()], axis=1)[:, None, :]                               # (c, 1, 2)
        rows.append(np.concatenate([centres - half, centres + half], axis=2).reshape(-1, 4))
    return np.concatenate(rows).astype(np.float32)


#: Largest log size change decoded (exp(4.135) = 62.5x), so a wild regression cannot overflow.
_MAX_LOG_SCALE = math.log(1000.0 / 16.0)


def decode_deltas(deltas: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """Box regressions ``(dx, dy, dw, dh)`` relative to anchors -> boxes ``x0, y0, x1, y1``.

    ``dx, dy`` move the centre by a fraction of the anchor's width and height; ``dw, dh`` are log
    size ratios (the Faster R-CNN / RetinaNet parameterisation, unit weights).

    Args:
        deltas: (A, 4); anchors: (A, 4) ``x0, y0, x1, y1``.
    """
    size = anchors[:, 2:] - anchors[:, :2]
    centre = anchors[:, :2] + size / 2.0
    new_centre = centre + deltas[:, :2] * size
    new_half = size * np.exp(np.minimum(deltas[:, 2:], _MAX_LOG_SCALE)) / 2.0
    return np.concatenate([new_centre - new_half, new_centre + new_half], axis=1).astype(np.float32)


def encode_deltas(boxes: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """Inverse of :func:`decode_deltas`: (A, 4) target boxes -> (A, 4) regressions."""
    size = anchors[:, 2:] - anchors[:, :2]
    centre = anchors[:, :2] + size / 2.0
    box_size = np.maximum(boxes[:, 2:] - boxes[:, :2], 1e-6)
    box_centre = boxes[:, :2] + box_size / 2.0
    return np.concatenate([(box_centre - centre) / size, np.log(box_size / size)], axis=1).astype(np.float32)


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float, max_detections: int | None = None) -> np.ndarray:
    """Hard non-maximum suppression: indices of the kept boxes, best first.

    Args:
        boxes: (N, 4) ``x0, y0, x1, y1``; scores: (N,).
        iou_threshold: a box overlapping a kept one by more than this is dropped.
        max_detections: keep at most this many.
    """
    order = np.argsort(-np.asarray(scores), kind="stable")
    keep: list[int] = []
    while order.size and (max_detections is None or len(keep) < max_detections):
        best = int(order[0])
        keep.append(best)
        rest = order[1:]
        order = rest[iou(boxes[best], boxes[rest]) <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def heatmap_peaks(heatmaps: np.ndarray, threshold: float, window: int = 3) -> list[np.ndarray]:
    """Local maxima of each channel above ``threshold``, refined to sub-cell precision.

    A cell is a peak when it is the maximum of its ``window`` x ``window`` neighbourhood. Its
    position is refined by a quarter cell towards the higher neighbour on each axis (the common
    heatmap decoding trick, which halves the quantisation error).

    Args:
        heatmaps: (K, H, W) float.
        threshold: minimum peak value.

    Returns:
        K arrays of shape (P_k, 3): ``x, y, value`` in heatmap cells, strongest first.
    """
    import cv2

    kernel = np.ones((window, window), np.uint8)
    peaks = []
    for channel in np.asarray(heatmaps, dtype=np.float32):
        dilated = cv2.dilate(channel, kernel)
        rows, cols = np.nonzero((channel >= dilated) & (channel > threshold))
        values = channel[rows, cols]
        x = cols.astype(np.float64)
        y = rows.astype(np.float64)
        height, width = channel.shape
        right = channel[rows, np.minimum(cols + 1, width - 1)] - channel[rows, np.maximum(cols - 1, 0)]
        down = channel[np.minimum(rows + 1, height - 1), cols] - channel[np.maximum(rows - 1, 0), cols]
        x += 0.25 * np.sign(right)
        y += 0.25 * np.sign(down)
        order = np.argsort(-values, kind="stable")
        peaks.append(np.stack([x[order], y[order], values[order].astype(np.float64)], axis=1).reshape(-1, 3))
    return peaks
