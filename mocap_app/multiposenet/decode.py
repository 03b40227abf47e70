"""MultiPoseNet outputs -> people: person boxes, keypoint peaks, PRN assignment, COCO-17 observations.

1. Boxes: sigmoid of the person logits; anchors above ``person_score`` are decoded
   (:func:`engines.postprocessing.decode_deltas`), hard NMS at ``nms_iou`` (the paper's 0.3),
   at most ``max_people`` kept.
2. Peaks: 3x3 local maxima of each keypoint heatmap above ``peak``
   (:func:`engines.postprocessing.heatmap_peaks`), in heatmap cells.
3. Both go to input pixels, then to image pixels through the letterbox matrix.
4. PRN assignment (:func:`mocap_app.multiposenet.prn_io.assign_prn`: window score x peak score,
   greedy one-peak-one-person matching per keypoint type).

Heatmap convention (the training targets use the same): cell (i, j) covers input pixels
[4j, 4j + 4) x [4i, 4i + 4), so its centre is input pixel ``4j + 1.5`` (pixel centres at integers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engines.postprocessing import decode_deltas, heatmap_peaks, nms, sigmoid
from engines.preprocessing import to_image

from ..skeletons import COCO17
from ..types import Observation
from .prn_io import MIN_ASSIGN_SCORE, PrnFunction, assign_prn


def cells_to_pixels(cells: np.ndarray, stride: int) -> np.ndarray:
    """Heatmap cell coordinates -> input pixels (cell centre ``c`` -> ``stride * c + (stride - 1) / 2``)."""
    return np.asarray(cells, dtype=np.float64) * stride + (stride - 1) / 2.0


def pixels_to_cells(pixels: np.ndarray, stride: int) -> np.ndarray:
    """Inverse of :func:`cells_to_pixels`."""
    return (np.asarray(pixels, dtype=np.float64) - (stride - 1) / 2.0) / stride


@dataclass(frozen=True)
class DecodeThresholds:
    """Decoder knobs (defaults from the network's sidecar ``[thresholds]``)."""

    person_score: float = 0.4
    nms_iou: float = 0.3
    max_people: int = 20
    peak: float = 0.1
    min_assign_score: float = MIN_ASSIGN_SCORE

    @classmethod
    def from_sidecar(cls, thresholds: dict, **overrides: float) -> DecodeThresholds:
        known = ("person_score", "nms_iou", "max_people", "peak")
        values = {key: thresholds[key] for key in known if key in thresholds}
        values.update({key: value for key, value in overrides.items() if value is not None})
        values["max_people"] = int(values.get("max_people", cls.max_people))
        return cls(**values)


def person_boxes(cls_logits: np.ndarray, box_deltas: np.ndarray, anchors: np.ndarray,
                 thresholds: DecodeThresholds) -> tuple[np.ndarray, np.ndarray]:
    """(P, 4) boxes in input pixels and (P,) scores, best first."""
    scores = sigmoid(np.asarray(cls_logits).reshape(-1))
    keep = np.nonzero(scores >= thresholds.person_score)[0]
    boxes = decode_deltas(np.asarray(box_deltas).reshape(-1, 4)[keep], anchors[keep])
    kept = nms(boxes, scores[keep], thresholds.nms_iou, thresholds.max_people)
    return boxes[kept], scores[keep][kept]


def decode_people(heatmaps: np.ndarray, boxes: np.ndarray, matrix: np.ndarray, stride: int,
                  prn: PrnFunction, grid: tuple[int, int],
                  thresholds: DecodeThresholds = DecodeThresholds()) -> list[Observation]:
    """One observation per person box, in image pixels.

    Args:
        heatmaps: (>= 17, h, w) keypoint heatmaps (the mask channel after them is ignored).
        boxes: (P, 4) person boxes, input pixels.
        matrix: (2, 3) image -> input affine of the letterbox.
        stride: heatmap stride, input pixels.
        prn: the PRN (crops -> per-channel probabilities); grid: its (rows, cols).
    """
    peaks = []
    for channel in heatmap_peaks(np.asarray(heatmaps)[:COCO17.num_joints], thresholds.peak):
        xy = to_image(cells_to_pixels(channel[:, :2], stride), matrix) if len(channel) else channel[:, :2]
        peaks.append(np.concatenate([xy, np.clip(channel[:, 2:3], 0.0, 1.0)], axis=1))
    corners = to_image(np.asarray(boxes, dtype=np.float64).reshape(-1, 2, 2), matrix).reshape(-1, 4)
    assignment = assign_prn(peaks, corners, prn, grid, thresholds.min_assign_score)
    people = []
    for person in range(len(corners)):
        confidence = np.clip(assignment.scores[person], 0.0, 1.0).astype(np.float32)
        people.append(Observation(joint_set=COCO17.name, joints2d=assignment.keypoints[person].astype(np.float32),
                                  confidence=confidence, bbox=corners[person].astype(np.float32)))
    return people
