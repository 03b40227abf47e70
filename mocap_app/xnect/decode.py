"""Stage I maps -> people: heatmap peaks, greedy PAF grouping along the joint tree, encoding read-out.

Follows Cao et al. 2017 ("Realtime Multi-Person 2D Pose Estimation using Part Affinity Fields"):

1. Peaks: cells above ``peak_threshold`` that are the maximum of their 3x3 neighbourhood, refined
   to sub-cell precision by a parabola through each axis' neighbours (offset clipped to half a cell).
2. Limb scores: the PAF of bone (joint -> parent) sampled at ``paf_samples`` points on the segment
   between two candidates, dotted with the segment's unit vector; the mean plus a penalty for
   segments longer than half the map height; a candidate pair is valid when the mean is positive and
   at least ``paf_min_fraction`` of the samples exceed ``paf_sample_threshold``.
3. Grouping: every neck peak starts a person; limbs are taken breadth-first outward from the neck
   (:data:`mocap_app.skeletons.xnect.GROUPING_ORDER`), and per limb the valid pairs are accepted
   greedily by score, each candidate at most once. Joints that no neck reaches are dropped with
   their person (XNect keeps nobody without a neck), as are people with fewer than ``min_joints``.
4. Read-out: the 3J encoding vector, bilinearly sampled at each detected joint.

Coordinates: map cell (i, j) covers input pixels [8j, 8j+8) x [8i, 8i+8); :func:`image_to_map` and
:func:`map_to_image` convert (the training targets use the same convention).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..skeletons.xnect import ANCHOR_JOINT, GROUPING_ORDER, PAF_LIMBS, STAGE1_SET

_NECK = STAGE1_SET.index(ANCHOR_JOINT)


@dataclass(frozen=True)
class DecodeConfig:
    """Thresholds of the decoder (Cao et al.'s defaults where they give them)."""

    peak_threshold: float = 0.1
    paf_samples: int = 10
    paf_sample_threshold: float = 0.05
    paf_min_fraction: float = 0.8
    min_joints: int = 3
    max_people: int = 20


@dataclass(frozen=True)
class DecodedPeople:
    """People found in one set of maps (map-cell coordinates).

    Attributes:
        joints: (P, J, 2) float64 cell coordinates, NaN where undetected.
        scores: (P, J) heatmap peak values, 0 where undetected.
        encodings: (P, J, 3J) encoding vectors read at the joints, 0 where undetected.
    """

    joints: np.ndarray
    scores: np.ndarray
    encodings: np.ndarray

    @property
    def visible(self) -> np.ndarray:
        return np.isfinite(self.joints).all(axis=-1)


def image_to_map(points: np.ndarray, stride: int) -> np.ndarray:
    """Input pixels -> map-cell coordinates (cell centres at integers)."""
    return (np.asarray(points, dtype=np.float64) + 0.5) / stride - 0.5


def map_to_image(points: np.ndarray, stride: int) -> np.ndarray:
    """Map-cell coordinates -> input pixels."""
    return (np.asarray(points, dtype=np.float64) + 0.5) * stride - 0.5


def find_peaks(heatmaps: np.ndarray, threshold: float) -> list[np.ndarray]:
    """Per channel (K, 3) ``x, y, value`` of local maxima above ``threshold``, sub-cell refined, strongest first."""
    kernel = np.ones((3, 3), np.uint8)
    peaks = []
    for channel in np.asarray(heatmaps, dtype=np.float32):
        height, width = channel.shape
        rows, cols = np.nonzero((channel >= cv2.dilate(channel, kernel)) & (channel > threshold))
        value = channel[rows, cols].astype(np.float64)
        offsets = []
        for axis_prev, axis_next in (((rows, np.maximum(cols - 1, 0)), (rows, np.minimum(cols + 1, width - 1))),
                                     ((np.maximum(rows - 1, 0), cols), (np.minimum(rows + 1, height - 1), cols))):
            before, after = channel[axis_prev].astype(np.float64), channel[axis_next].astype(np.float64)
            curvature = before - 2.0 * value + after
            with np.errstate(divide="ignore", invalid="ignore"):
                offset = np.where(curvature < -1e-9, 0.5 * (before - after) / curvature, 0.0)
            offsets.append(np.clip(offset, -0.5, 0.5))
        order = np.argsort(-value, kind="stable")
        found = np.stack([cols + offsets[0], rows + offsets[1], value], axis=1)[order]
        peaks.append(found.reshape(-1, 3))
    return peaks


def _bilinear(maps: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(C, H, W) maps sampled at (N, 2) cell coordinates -> (N, C) (clamped at the borders)."""
    _, height, width = maps.shape
    x = np.clip(points[:, 0], 0, width - 1)
    y = np.clip(points[:, 1], 0, height - 1)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    x1, y1 = np.minimum(x0 + 1, width - 1), np.minimum(y0 + 1, height - 1)
    fx, fy = (x - x0)[None], (y - y0)[None]
    top = maps[:, y0, x0] * (1 - fx) + maps[:, y0, x1] * fx
    bottom = maps[:, y1, x0] * (1 - fx) + maps[:, y1, x1] * fx
    return (top * (1 - fy) + bottom * fy).T


def limb_scores(paf: np.ndarray, starts: np.ndarray, ends: np.ndarray, config: DecodeConfig,
                map_height: int) -> np.ndarray:
    """Scores of segments ``starts[i] -> ends[j]`` (child -> parent) for every pair; -inf where invalid.

    Args:
        paf: (2, H, W) the bone's field; starts: (A, 2) child candidates; ends: (B, 2) parent candidates.
    """
    if not len(starts) or not len(ends):
        return np.full((len(starts), len(ends)), -np.inf)
    delta = ends[None, :, :2] - starts[:, None, :2]                              # (A, B, 2)
    length = np.linalg.norm(delta, axis=-1)
    unit = delta / np.maximum(length, 1e-6)[..., None]
    t = np.linspace(0.0, 1.0, config.paf_samples)
    points = starts[:, None, None, :2] + t[None, None, :, None] * delta[:, :, None]   # (A, B, S, 2)
    sampled = _bilinear(paf, points.reshape(-1, 2)).reshape(*points.shape[:3], 2)
    dots = (sampled * unit[:, :, None]).sum(-1)                                  # (A, B, S)
    score = dots.mean(-1) + np.minimum(0.0, 0.5 * map_height / np.maximum(length, 1e-6) - 1.0)
    valid = ((dots > config.paf_sample_threshold).mean(-1) >= config.paf_min_fraction) & (score > 0)
    return np.where(valid, score, -np.inf)


def group_people(heatmaps: np.ndarray, pafs: np.ndarray, encodings: np.ndarray,
                 config: DecodeConfig | None = None) -> DecodedPeople:
    """Everyone in one frame's Stage I maps (batch dimension removed: (J, H, W), (2B, H, W), (3J, H, W))."""
    config = config or DecodeConfig()
    num_joints = heatmaps.shape[0]
    peaks = find_peaks(heatmaps, config.peak_threshold)
    necks = peaks[_NECK][:config.max_people]
    count = len(necks)
    joints = np.full((count, num_joints, 2), np.nan)
    scores = np.zeros((count, num_joints))
    joints[:, _NECK], scores[:, _NECK] = necks[:, :2], necks[:, 2]
    for limb, known, new in GROUPING_ORDER:
        have = np.flatnonzero(np.isfinite(joints[:, known, 0]))
        candidates = peaks[new]
        if not len(have) or not len(candidates):
            continue
        child, _ = PAF_LIMBS[limb]
        field = pafs[2 * limb:2 * limb + 2]
        if known == child:        # the field points child -> parent: score known -> new
            table = limb_scores(field, joints[have, known], candidates, config, heatmaps.shape[1])
        else:
            table = limb_scores(field, candidates, joints[have, known], config, heatmaps.shape[1]).T
        used_people, used_peaks = set(), set()
        for flat in np.argsort(-table, axis=None, kind="stable"):
            row, col = np.unravel_index(flat, table.shape)
            if not np.isfinite(table[row, col]):
                break
            if row in used_people or col in used_peaks:
                continue
            used_people.add(row)
            used_peaks.add(col)
            joints[have[row], new], scores[have[row], new] = candidates[col, :2], candidates[col, 2]
    keep = np.isfinite(joints[..., 0]).sum(axis=1) >= config.min_joints
    joints, scores = joints[keep], scores[keep]
    visible = np.isfinite(joints).all(axis=-1)
    read = np.zeros((len(joints), num_joints, encodings.shape[0]))
    if visible.any():
        read[visible] = _bilinear(encodings, joints[visible])
    return DecodedPeople(joints=joints, scores=scores, encodings=read)
