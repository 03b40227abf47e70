"""Stage I/II output shapes, and ONNX Runtime against torch within 1e-4 for both exported stages."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engines.engine import load_engine  # noqa: E402
from models.xnect import StageI, StageII  # noqa: E402
from models.xnect_export import export_stage1, export_stage2  # noqa: E402


def _randomise_batchnorm(net: torch.nn.Module) -> None:
    """Non-trivial running statistics, so the parity check covers the folded BatchNorms."""
    generator = torch.Generator().manual_seed(0)
    for module in net.modules():
        if isinstance(module, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            module.running_mean.copy_(0.1 * torch.randn(module.num_features, generator=generator))
            module.running_var.copy_(0.5 + torch.rand(module.num_features, generator=generator))


def test_stage1_shapes_at_stride_8_for_the_full_network() -> None:
    net = StageI("xnect").eval()
    with torch.no_grad():
        out = net(torch.zeros(1, 3, 128, 192))
    assert out["heatmaps"].shape == (1, 17, 16, 24)
    assert out["pafs"].shape == (1, 32, 16, 24)
    assert out["encodings"].shape == (1, 51, 16, 24)


@pytest.mark.parametrize("variant", ["xnect", "xnect_tiny"])
def test_stage1_onnx_matches_torch(tmp_path, variant: str) -> None:
    torch.manual_seed(0)
    net = StageI(variant).eval()
    _randomise_batchnorm(net)
    path = export_stage1(net, tmp_path / "stage1.onnx", size=(128, 96))
    engine = load_engine(path)
    image = np.random.default_rng(0).normal(size=(1, 3, 96, 128)).astype(np.float32)
    ours = engine.run({"image": image})
    with torch.no_grad():
        reference = net(torch.from_numpy(image))
    for key in ("heatmaps", "pafs", "encodings"):
        assert ours[key].shape == tuple(reference[key].shape)
        np.testing.assert_allclose(ours[key], reference[key].numpy(), atol=1e-4, rtol=0)
    other = engine.run({"image": np.zeros((1, 3, 64, 160), np.float32)})     # dynamic input size
    assert other["heatmaps"].shape == (1, 17, 8, 20)


def test_stage2_shapes_and_onnx_parity_for_1_and_10_people(tmp_path) -> None:
    torch.manual_seed(0)
    net = StageII().eval()
    _randomise_batchnorm(net)
    engine = load_engine(export_stage2(net, tmp_path / "stage2.onnx", {"note": "test"}))
    assert engine.sidecar["training"]["note"] == "test"
    for people in (1, 10):
        features = np.random.default_rng(people).normal(size=(people, 918)).astype(np.float32)
        ours = engine.run({"features": features})["joints3d"]
        with torch.no_grad():
            reference = net(torch.from_numpy(features)).numpy()
        assert ours.shape == (people, 63)
        np.testing.assert_allclose(ours, reference, atol=1e-4, rtol=0)
