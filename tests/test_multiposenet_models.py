"""MultiPoseNet networks: ResNet size, FPN/subnet shapes, RetinaNet anchors and losses, NMS, PRN."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from engines.postprocessing import (
    RetinaAnchorConfig,
    decode_deltas,
    encode_deltas,
    heatmap_peaks,
    level_sizes,
    nms,
    retina_anchors,
)
from models.detection_losses import assign_anchors, box_loss, focal_loss
from models.multiposenet import HEATMAP_CHANNELS, MultiPoseNet
from models.prn import PRN_VARIANTS, PoseResidualNetwork
from models.resnet import ResNet


def test_resnet50_classifier_has_the_published_parameter_count():
    count = sum(p.numel() for p in ResNet("resnet50", classes=1000).parameters())
    assert count == pytest.approx(25.557e6, rel=1e-3)


def test_resnet101_features_and_strides():
    net = ResNet("resnet101").eval()
    with torch.no_grad():
        features = net(torch.zeros(1, 3, 64, 96))
    assert [tuple(features[f"c{i}"].shape[1:]) for i in range(2, 6)] == [
        (256, 16, 24), (512, 8, 12), (1024, 4, 6), (2048, 2, 3)]


def test_multiposenet_r50_output_shapes_match_the_anchor_layout():
    net = MultiPoseNet("r50").eval()
    height, width = 128, 192
    with torch.no_grad():
        out = net(torch.zeros(1, 3, height, width))
        features = net.backbone(torch.zeros(1, 3, height, width))
        final, intermediate = net.keypoints(features)
    anchors = retina_anchors(height, width, RetinaAnchorConfig())
    assert out["heatmaps"].shape == (1, HEATMAP_CHANNELS, height // 4, width // 4)
    assert [tuple(m.shape[-2:]) for m in intermediate] == [(32, 48), (16, 24), (8, 12), (4, 6)]
    assert out["cls_logits"].shape == (1, len(anchors))
    assert out["box_deltas"].shape == (1, len(anchors), 4)
    # The classification prior: every anchor starts at probability 0.01.
    assert torch.sigmoid(out["cls_logits"]).mean().item() == pytest.approx(0.01, rel=0.2)


def test_retinanet_anchor_count_and_sizes_at_the_benchmark_input():
    config = RetinaAnchorConfig()
    anchors = retina_anchors(384, 576, config)
    cells = sum(r * c for r, c in level_sizes(384, 576, config.strides))
    assert cells == 48 * 72 + 24 * 36 + 12 * 18 + 6 * 9 + 3 * 5
    assert len(anchors) == 9 * cells == 41445
    first = anchors[:9]                                     # P3, cell (0, 0): 32 px x 3 ratios x 3 scales
    areas = np.prod(first[:, 2:] - first[:, :2], axis=1)
    assert areas[:3] == pytest.approx(32.0 ** 2 * np.array([1.0, 2 ** (2 / 3), 2 ** (4 / 3)]), rel=1e-5)
    assert np.allclose((first[:, :2] + first[:, 2:]) / 2, 4.0)


def test_box_deltas_round_trip():
    rng = np.random.default_rng(0)
    anchors = retina_anchors(128, 128, RetinaAnchorConfig())[:50]
    boxes = anchors + rng.normal(0, 5, anchors.shape).astype(np.float32)
    boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 2)
    assert np.allclose(decode_deltas(encode_deltas(boxes, anchors), anchors), boxes, atol=1e-3)


def test_focal_loss_matches_the_formula_on_a_toy_example():
    logits = torch.tensor([[2.0, -1.0, 0.5, 3.0]])
    labels = torch.tensor([[1.0, 0.0, -1.0, 0.0]])             # positive, negative, ignored, hard negative
    p = torch.sigmoid(logits)[0]
    expected = (-0.25 * (1 - p[0]) ** 2 * torch.log(p[0]) - 0.75 * p[1] ** 2 * torch.log(1 - p[1])
                - 0.75 * p[3] ** 2 * torch.log(1 - p[3])) / 1.0
    assert focal_loss(logits, labels).item() == pytest.approx(expected.item(), rel=1e-5)
    # gamma = 0, alpha = 0.5: half the plain binary cross-entropy.
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits[:, [0, 1, 3]], labels[:, [0, 1, 3]],
                                                               reduction="sum")
    assert focal_loss(logits, labels, gamma=0.0, alpha=0.5).item() == pytest.approx(0.5 * bce.item(), rel=1e-5)


def test_anchor_assignment_and_box_loss():
    anchors = retina_anchors(128, 128, RetinaAnchorConfig())
    box = np.array([[30.0, 20.0, 62.0, 84.0]], np.float32)
    labels, deltas = assign_anchors(anchors, box)
    assert labels.max() == 1 and (labels == -1).any() and (labels == 0).sum() > 0.9 * len(labels)
    positive = labels > 0
    assert np.allclose(decode_deltas(deltas[positive], anchors[positive]), box, atol=1e-3)
    zero = box_loss(torch.from_numpy(deltas), torch.from_numpy(deltas), torch.from_numpy(labels))
    assert zero.item() == 0.0


def test_nms_keeps_the_best_of_overlapping_boxes():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 9]], np.float32)
    scores = np.array([0.9, 0.95, 0.5, 0.3])
    assert nms(boxes, scores, 0.3).tolist() == [1, 2]
    assert nms(boxes, scores, 0.3, max_detections=1).tolist() == [1]


def test_heatmap_peaks_finds_each_local_maximum():
    maps = np.zeros((2, 20, 30), np.float32)
    maps[0, 5, 7] = 0.9
    maps[0, 15, 20] = 0.5
    maps[0, 15, 21] = 0.3                                     # shoulder of the second peak: refines right
    found = heatmap_peaks(maps, threshold=0.1)
    assert len(found[1]) == 0
    assert np.allclose(found[0], [[7, 5, 0.9], [20.25, 15, 0.5]])


def test_prn_forward_is_a_softmax_per_channel():
    prn = PoseResidualNetwork("prn_tiny").eval()
    with torch.no_grad():
        out = prn(torch.rand(3, 17, 14, 9))
    assert out.shape == (3, 17, 14, 9)
    assert torch.allclose(out.sum(dim=(2, 3)), torch.ones(3, 17), atol=1e-5)


def test_prn_variant_sizes():
    paper, compact = PRN_VARIANTS["prn_paper"], PRN_VARIANTS["prn_compact"]
    assert paper.input_size == 56 * 36 * 17
    assert 2 * paper.input_size * paper.hidden == pytest.approx(70.2e6, rel=0.01)
    params = sum(p.numel() for p in PoseResidualNetwork("prn_compact").parameters())
    assert params == 2 * compact.input_size * compact.hidden + compact.hidden + compact.input_size
    assert 4 * params < 20e6                                  # the shipped float32 file stays below 20 MB
    assert math.isclose(paper.height / paper.width, 1.56, rel_tol=0.01)
