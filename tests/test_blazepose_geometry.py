"""The pure pre/post-processing helpers of the BlazePose engines: anchors, decoding, NMS, ROIs, crops."""

from __future__ import annotations

import math

import numpy as np

from engines.postprocessing import (
    AnchorConfig,
    alignment_roi,
    decode_boxes,
    iou,
    refine_from_heatmap,
    ssd_anchors,
    weighted_nms,
)
from engines.preprocessing import SquareRoi, crop, letterbox, normalise, roi_to_input_matrix, to_image

BLAZEPOSE_ANCHORS = AnchorConfig(input_size=224, strides=(8, 16, 32, 32, 32), min_scale=0.1484375, max_scale=0.75)


def test_anchor_layout_matches_the_detector_output():
    anchors = ssd_anchors(BLAZEPOSE_ANCHORS)
    assert anchors.shape == (2254, 4)                      # 28*28*2 + 14*14*2 + 7*7*6
    np.testing.assert_allclose(anchors[0], [0.5 / 28, 0.5 / 28, 1, 1])
    np.testing.assert_allclose(anchors[1], anchors[0])     # two anchors per stride-8 cell
    np.testing.assert_allclose(anchors[2, :2], [1.5 / 28, 0.5 / 28])
    np.testing.assert_allclose(anchors[1568, :2], [0.5 / 14, 0.5 / 14])
    np.testing.assert_allclose(anchors[-1, :2], [6.5 / 7, 6.5 / 7])


def test_decode_adds_anchor_centres_in_input_pixels():
    anchors = np.array([[0.5, 0.25, 1.0, 1.0]], dtype=np.float32)
    raw = np.array([[10, -4, 20, 30, 1, 2, 3, 4, 5, 6, 7, 8]], dtype=np.float32)
    boxes, keypoints = decode_boxes(raw, anchors, 224)
    np.testing.assert_allclose(boxes[0], [122 - 10, 52 - 15, 122 + 10, 52 + 15])
    np.testing.assert_allclose(keypoints[0, 0], [113, 58])
    np.testing.assert_allclose(keypoints[0, 3], [119, 64])


def test_weighted_nms_averages_a_cluster_and_keeps_separate_people():
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]], dtype=np.float32)
    keypoints = boxes[:, None, :2].copy()
    scores = np.array([0.9, 0.6, 0.8], dtype=np.float32)
    kept_boxes, kept_keypoints, kept_scores = weighted_nms(boxes, keypoints, scores, iou_threshold=0.3)
    assert kept_scores.tolist() == [np.float32(0.9), np.float32(0.8)]
    np.testing.assert_allclose(kept_boxes[0], [0.4, 0, 10.4, 10], atol=1e-6)    # score-weighted mean
    np.testing.assert_allclose(kept_keypoints[1, 0], [50, 50])
    assert weighted_nms(boxes[:0], keypoints[:0], scores[:0], 0.3)[0].shape == (0, 4)


def test_iou():
    assert iou(np.array([0, 0, 2, 2.0]), np.array([[1, 0, 3, 2.0]]))[0] == 2 / 6


def test_alignment_roi_upright_and_rotated():
    upright = alignment_roi(np.array([100.0, 200.0]), np.array([100.0, 120.0]), math.pi / 2, 1.25)
    assert abs(upright.rotation) < 1e-9
    assert upright.size == 2 * 80 * 1.25
    leaning = alignment_roi(np.array([100.0, 200.0]), np.array([180.0, 200.0]), math.pi / 2, 1.0)
    assert math.isclose(leaning.rotation, math.pi / 2)     # body axis pointing right: crop turned 90 degrees


def test_crop_matrix_maps_roi_corners_to_input_corners():
    roi = SquareRoi(center=np.array([300.0, 200.0]), size=120.0, rotation=0.4)
    matrix = roi_to_input_matrix(roi, 256)
    input_corners = np.array([[0, 0], [256, 0], [256, 256], [0, 256]], dtype=np.float64)
    np.testing.assert_allclose(to_image(input_corners, matrix), roi.corners(), atol=1e-9)


def test_crop_samples_the_rotated_region():
    image = np.zeros((400, 400, 3), np.uint8)
    image[100:120, 200:220] = 255                          # a white square at (210, 110)
    roi = SquareRoi(center=np.array([210.0, 110.0]), size=40.0, rotation=math.pi / 2)
    patch, _ = crop(image, roi, 64, border="replicate")
    assert patch[32, 32].min() == 255 and patch[2, 2].max() == 0


def test_letterbox_pads_the_short_side_and_maps_back():
    image = np.full((480, 640, 3), 200, np.uint8)
    boxed, matrix = letterbox(image, 224)
    assert boxed.shape == (224, 224, 3)
    assert boxed[5, 112].max() == 0 and boxed[112, 112].min() == 200    # padding above, image in the middle
    np.testing.assert_allclose(to_image(np.array([[112.0, 112.0]]), matrix), [[320.0, 240.0]])
    values = normalise(boxed, -1.0, 1.0)
    assert values.dtype == np.float32 and values.min() == -1.0


def test_heatmap_refinement_moves_only_confident_landmarks():
    heatmap = np.full((64, 64, 2), -10.0, np.float32)
    heatmap[20, 30, 0] = 10.0                              # a sharp confident peak for landmark 0
    xy = np.array([[31 / 64, 21 / 64], [0.5, 0.5]], np.float32)
    refined = refine_from_heatmap(xy, heatmap, kernel=7, min_confidence=0.5)
    np.testing.assert_allclose(refined[0], [30 / 64, 20 / 64], atol=1e-3)
    np.testing.assert_array_equal(refined[1], xy[1])      # no confident heat: unchanged
    outside = refine_from_heatmap(np.array([[1.5, 0.2], [0.5, 0.5]], np.float32), heatmap, 7, 0.5)
    assert outside[0, 0] == np.float32(1.5)
