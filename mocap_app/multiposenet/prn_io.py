"""The Pose Residual Network's input crops, and keypoint-to-person assignment from its output.

**Input.** For each person box, the region (the box grown by :data:`CROP_MARGIN` on every side)
is divided into a ``rows x cols`` grid and every detected keypoint peak inside it is drawn there as
a Gaussian of :data:`INPUT_SIGMA_CELLS` cells, height = the peak's score, one channel per keypoint
type (the maximum where Gaussians overlap). The paper crops the keypoint subnet's heatmaps; drawing
the peaks instead makes the crop independent of the heatmap resolution, identical in training
(from motion capture, no images) and at run time (from the subnet's peaks), and lets the output be
read back per peak.

**Assignment (decoding).** PRN returns, per box and keypoint type, a probability map over the
grid. Each candidate peak inside a box's region is scored ``s = (sum of the map over the 3x3 cells
around the peak) x peak score``. Then, per keypoint type, all (box, peak) pairs are taken greedily
from the highest ``s`` down: a pair is accepted when the box has no keypoint of that type yet, the
peak is not yet used by another box, and ``s >= min_score``. So one peak goes to at most one
person, and each person gets its most likely peak among those left.

Baselines: :func:`assign_max` (per box and type the strongest peak inside it, peaks may be shared:
the paper's "Max") and :func:`assign_nearest` (each peak goes to the box whose centre is nearest,
relative to box size; per box and type the strongest of its peaks).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: Growth of a person box on every side before cropping, fraction of its width / height.
CROP_MARGIN = 0.1
#: Gaussian sigma of an input peak and of a training target, crop-grid cells.
INPUT_SIGMA_CELLS = 1.0
TARGET_SIGMA_CELLS = 1.0
#: Smallest accepted assignment score (window probability x peak score).
MIN_ASSIGN_SCORE = 0.05

PrnFunction = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Assignment:
    """Keypoints given to each box.

    Attributes:
        keypoints: (P, K, 2) float64 pixels, NaN where the box got no peak of that type.
        scores: (P, K) float64 assignment scores, 0 where unassigned.
        peak_index: (P, K) int64 index into that type's peak array, -1 where unassigned.
    """

    keypoints: np.ndarray
    scores: np.ndarray
    peak_index: np.ndarray

    def instance_scores(self, box_scores: np.ndarray | None = None) -> np.ndarray:
        """(P,) person scores: mean keypoint score over all K types (x box score when given)."""
        mean = self.scores.mean(axis=1)
        return mean if box_scores is None else mean * np.asarray(box_scores, dtype=np.float64)


def crop_regions(boxes: np.ndarray, margin: float = CROP_MARGIN) -> np.ndarray:
    """(P, 4) boxes ``x0, y0, x1, y1`` -> (P, 4) crop regions, grown by ``margin`` of their size."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    size = np.maximum(boxes[:, 2:] - boxes[:, :2], 1.0)
    return np.concatenate([boxes[:, :2] - margin * size, boxes[:, 2:] + margin * size], axis=1)


def to_cells(xy: np.ndarray, regions: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """(M, 2) pixels -> (P, M, 2) positions in each region's grid, cells (cell c spans [c, c + 1))."""
    rows, cols = grid
    size = regions[:, None, 2:] - regions[:, None, :2]
    return (np.asarray(xy, dtype=np.float64)[None] - regions[:, None, :2]) / size * np.array([cols, rows])


def _flatten(peaks: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """17 arrays (M_k, 3) -> (M, 2) positions, (M,) scores, (M,) keypoint type."""
    sizes = [len(p) for p in peaks]
    stacked = np.concatenate([np.asarray(p, dtype=np.float64).reshape(-1, 3) for p in peaks])
    return stacked[:, :2], stacked[:, 2], np.repeat(np.arange(len(peaks)), sizes)


def render(cells: np.ndarray, channel: np.ndarray, values: np.ndarray, num_channels: int, grid: tuple[int, int],
           sigma: float) -> np.ndarray:
    """Gaussians at (P, M, 2) cell positions -> (P, C, rows, cols) float32, the max where they overlap.

    Points outside a region's grid are not drawn in it.
    """
    rows, cols = grid
    count = cells.shape[0]
    out = np.zeros((count, num_channels, rows * cols), np.float32)
    inside = ((cells >= 0) & (cells < np.array([cols, rows]))).all(axis=2)
    box_index, point_index = np.nonzero(inside)
    if box_index.size:
        centres_x = np.arange(cols) + 0.5
        centres_y = np.arange(rows) + 0.5
        px = cells[box_index, point_index, 0][:, None]
        py = cells[box_index, point_index, 1][:, None]
        gx = np.exp(-((centres_x[None] - px) ** 2) / (2.0 * sigma ** 2))        # (N, cols)
        gy = np.exp(-((centres_y[None] - py) ** 2) / (2.0 * sigma ** 2))        # (N, rows)
        blobs = (gy[:, :, None] * gx[:, None, :]).reshape(len(px), -1) * values[point_index, None]
        np.maximum.at(out, (box_index, channel[point_index]), blobs.astype(np.float32))
    return out.reshape(count, num_channels, rows, cols)


def prn_inputs(peaks: list[np.ndarray], boxes: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """PRN input for every box: (P, K, rows, cols) float32 (see the module docstring)."""
    xy, score, channel = _flatten(peaks)
    cells = to_cells(xy, crop_regions(boxes), grid)
    return render(cells, channel, score, len(peaks), grid, INPUT_SIGMA_CELLS)


def _window_sum(probs: np.ndarray) -> np.ndarray:
    """3x3 neighbourhood sums of (P, K, rows, cols) maps (zero outside)."""
    padded = np.pad(probs, ((0, 0), (0, 0), (1, 1), (1, 1)))
    rows, cols = probs.shape[-2:]
    return sum(padded[..., dy:dy + rows, dx:dx + cols] for dy in range(3) for dx in range(3))


def _empty(boxes: int, types: int) -> Assignment:
    return Assignment(np.full((boxes, types, 2), np.nan), np.zeros((boxes, types)),
                      np.full((boxes, types), -1, dtype=np.int64))


def assign_prn(peaks: list[np.ndarray], boxes: np.ndarray, prn: PrnFunction, grid: tuple[int, int],
               min_score: float = MIN_ASSIGN_SCORE) -> Assignment:
    """PRN scoring + greedy matching (module docstring).

    Args:
        peaks: K arrays (M_k, 3) ``x, y, score`` pixels.
        boxes: (P, 4) person boxes, pixels.
        prn: (P, K, rows, cols) crops -> (P, K, rows, cols) per-channel probabilities.
        grid: (rows, cols) of the PRN.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    result = _empty(len(boxes), len(peaks))
    if not len(boxes):
        return result
    windows = _window_sum(np.asarray(prn(prn_inputs(peaks, boxes, grid)), dtype=np.float64))
    regions = crop_regions(boxes)
    rows, cols = grid
    for k, candidates in enumerate(peaks):
        if not len(candidates):
            continue
        cells = to_cells(candidates[:, :2], regions, grid)                  # (P, M, 2)
        inside = ((cells >= 0) & (cells < np.array([cols, rows]))).all(axis=2)
        cx = np.clip(cells[..., 0].astype(np.int64), 0, cols - 1)
        cy = np.clip(cells[..., 1].astype(np.int64), 0, rows - 1)
        score = windows[np.arange(len(boxes))[:, None], k, cy, cx] * candidates[None, :, 2]
        score = np.where(inside, score, -1.0)
        box_taken = np.zeros(len(boxes), bool)
        peak_taken = np.zeros(len(candidates), bool)
        for flat in np.argsort(-score, axis=None, kind="stable"):
            b, m = divmod(int(flat), len(candidates))
            if score[b, m] < min_score:
                break
            if box_taken[b] or peak_taken[m]:
                continue
            box_taken[b] = peak_taken[m] = True
            result.keypoints[b, k] = candidates[m, :2]
            result.scores[b, k] = score[b, m]
            result.peak_index[b, k] = m
    return result


def _pick(peaks: list[np.ndarray], boxes: np.ndarray, allowed: Callable[[int, np.ndarray], np.ndarray]) -> Assignment:
    """Per box and type, the strongest peak among ``allowed(k, inside)`` ((P, M) bool) candidates."""
    result = _empty(len(boxes), len(peaks))
    regions = crop_regions(boxes)
    for k, candidates in enumerate(peaks):
        if not len(candidates):
            continue
        xy = candidates[:, :2]
        inside = ((xy[None] >= regions[:, None, :2]) & (xy[None] < regions[:, None, 2:])).all(axis=2)
        mask = allowed(k, inside)
        score = np.where(mask, candidates[None, :, 2], -np.inf)
        best = score.argmax(axis=1)
        for b in np.nonzero(np.isfinite(score.max(axis=1)))[0]:
            result.keypoints[b, k] = xy[best[b]]
            result.scores[b, k] = candidates[best[b], 2]
            result.peak_index[b, k] = best[b]
    return result


def assign_max(peaks: list[np.ndarray], boxes: np.ndarray) -> Assignment:
    """Baseline "Max": per box and type, the strongest peak inside its region (peaks may be shared)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return _pick(peaks, boxes, lambda k, inside: inside)


def assign_nearest(peaks: list[np.ndarray], boxes: np.ndarray) -> Assignment:
    """Baseline "nearest box": a peak belongs to the box whose centre is nearest (in box sizes)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2.0
    sizes = np.maximum(boxes[:, 2:] - boxes[:, :2], 1.0)

    def allowed(k: int, inside: np.ndarray) -> np.ndarray:
        xy = peaks[k][:, :2]
        distance = np.linalg.norm((xy[None] - centres[:, None]) / sizes[:, None], axis=2)   # (P, M)
        distance = np.where(inside, distance, np.inf)
        owner = distance.argmin(axis=0)
        return inside & (owner[None] == np.arange(len(boxes))[:, None])

    return _pick(peaks, boxes, allowed)
