"""The MultiPoseNet training loops are real: both stages overfit four tiny images.

Keypoint stage: the masked L2 falls well below what predicting all zeros scores (a net that only
learned "background" would sit there). Detector stage (backbone frozen): focal + box loss falls by
more than half. Marked ``slow`` (about a minute on two busy cores); run with ``pytest -m slow``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from multiposenet_support import write_stick_dataset
from torch.nn.functional import adaptive_avg_pool2d as pool

from models.multiposenet_train import CocoKeypoints, NetTrainConfig, train_network

SIZE = (96, 128)


@pytest.mark.slow
def test_both_stages_overfit_a_few_images(tmp_path):
    torch.set_num_threads(2)
    annotations = write_stick_dataset(tmp_path, count=4, size=SIZE)
    data = CocoKeypoints(annotations, tmp_path / "images")
    samples = [data.sample(i, SIZE) for i in range(4)]
    heatmaps = torch.from_numpy(np.stack([s.heatmaps for s in samples]))
    weights = torch.from_numpy(np.stack([s.weights for s in samples]))
    zero_loss = sum(float((pool(weights, size) * pool(heatmaps, size) ** 2).mean())    # final + K2..K5 maps
                    for size in ((24, 32), (24, 32), (12, 16), (6, 8), (3, 4)))
    config = NetTrainConfig(variant="tiny", stage="keypoints", size=SIZE, steps=60, batch=4, lr=3e-3)
    _, losses = train_network(annotations, tmp_path / "images", tmp_path / "out", config)
    assert np.mean(losses[-5:]) < 0.6 * zero_loss < losses[0]
    config = NetTrainConfig(variant="tiny", stage="detector", size=SIZE, steps=40, batch=4, lr=3e-3)
    onnx_path, losses = train_network(annotations, tmp_path / "images", tmp_path / "out", config)
    assert np.mean(losses[-5:]) < 0.5 * losses[0]
    assert onnx_path.is_file() and (tmp_path / "out" / "multiposenet_tiny.safetensors").is_file()
