"""SelecSLS-60: the thesis' parameter count, the pose variant's stride-16 416-channel core, checkpoint keys."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from models.selecsls import SelecSLS, count_parameters, load_official_state_dict, pose_groups  # noqa: E402


def test_imagenet_variant_has_the_thesis_parameter_count() -> None:
    net = SelecSLS("selecsls60", num_classes=1000)
    assert round(count_parameters(net) / 1e6, 2) == 30.67           # thesis Tab. 7.15


def test_pose_variant_core_is_416_channels_at_stride_16_with_grouped_convs() -> None:
    net = SelecSLS("selecsls60", num_classes=0, grouped=True).eval()
    with torch.no_grad():
        features = net(torch.zeros(1, 3, 320, 512))
    assert features.shape == (1, 416, 20, 32)
    assert (pose_groups(64), pose_groups(128), pose_groups(144), pose_groups(288)) == (1, 2, 2, 4)
    assert net.features[5].conv1[0].groups == 4 and net.features[5].conv3[0].groups == 2
    assert count_parameters(net) < count_parameters(SelecSLS("selecsls60", num_classes=0))


def test_official_key_names_load_and_ungrouped_weights_fill_the_pose_variant() -> None:
    reference = SelecSLS("selecsls60", num_classes=1000)
    state = {"module." + key: value for key, value in reference.state_dict().items()}   # DataParallel-style save
    assert "features.8.conv6.0.weight" in reference.state_dict() and "classifier.0.weight" in reference.state_dict()
    fresh = SelecSLS("selecsls60", num_classes=1000)
    load_official_state_dict(fresh, state)
    assert torch.equal(fresh.features[3].conv2[0].weight, reference.features[3].conv2[0].weight)
    pose = SelecSLS("selecsls60", num_classes=0, grouped=True)
    load_official_state_dict(pose, state)
    grouped = pose.features[5].conv1[0].weight                    # (288, 72, 3, 3), 4 groups
    assert torch.equal(grouped[72:144], reference.features[5].conv1[0].weight[72:144, 72:144])
    with pytest.raises(ValueError, match="lacks"):
        load_official_state_dict(fresh, {"stem.0.weight": state["module.stem.0.weight"]})
