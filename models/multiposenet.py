"""MultiPoseNet: one ResNet, a keypoint FPN + subnet and a RetinaNet person detector on a second FPN.

Paper: M. Kocabas, S. Karagoz, E. Akbas, "MultiPoseNet: Fast Multi-Person Pose Estimation using
Pose Residual Network", ECCV 2018, https://arxiv.org/abs/1807.04067. Written from the paper text
(see ``shared/research/multiposenet.md``); no code copied. Choices the paper leaves open, ours:

* Keypoint FPN: 1x1 laterals on C2..C5 to 256, nearest top-down upsampling, 3x3 smoothing -> K2..K5.
* D2..D5: two 3x3 conv + ReLU (256 -> 128 -> 128) per level, weights not shared; D3..D5 upsampled
  (bilinear) to D2's size and concatenated (512), a 3x3 conv + ReLU (256), then a 1x1 conv to
  17 keypoint heatmaps + 1 person mask, no activation, stride 4.
* Intermediate supervision: a 1x1 conv (256 -> 18) on every K level (training only, not exported).
* Detection FPN: RetinaNet's P3..P7 (laterals on C3..C5, P6 = stride-2 3x3 conv on C5, P7 = ReLU +
  stride-2 3x3 conv on P6), four 3x3 conv + ReLU (256) per head, heads shared across levels, 9
  anchors per location, one class (person), classification prior 0.01.

Outputs (:meth:`MultiPoseNet.forward`): ``heatmaps`` (N, 18, H/4, W/4) and the detector's
``cls_logits`` (N, A) and ``box_deltas`` (N, A, 4), anchors flattened as
:func:`engines.postprocessing.retina_anchors` orders them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engines.postprocessing import RetinaAnchorConfig

from .resnet import ResNet

#: 17 COCO keypoint heatmaps + the person segmentation channel.
NUM_KEYPOINTS = 17
HEATMAP_CHANNELS = NUM_KEYPOINTS + 1
HEATMAP_STRIDE = 4
IMAGE_MEAN = (0.485, 0.456, 0.406)
IMAGE_STD = (0.229, 0.224, 0.225)
#: Focal-loss prior: the classification bias starts at -log((1 - p) / p) so early losses are sane.
CLASS_PRIOR = 0.01


@dataclass(frozen=True)
class MultiPoseNetVariant:
    """Backbone and widths of one MultiPoseNet."""

    backbone: str
    fpn: int = 256
    d_width: int = 128
    smooth: int = 256
    head_depth: int = 4
    anchors: RetinaAnchorConfig = RetinaAnchorConfig()


MULTIPOSENET_VARIANTS: dict[str, MultiPoseNetVariant] = {
    "r50": MultiPoseNetVariant("resnet50"),
    "r101": MultiPoseNetVariant("resnet101"),
    "r101_dil": MultiPoseNetVariant("resnet101_dil"),
    # Narrow widths and a shallow head: tests, ONNX parity and the overfit proof only.
    "tiny": MultiPoseNetVariant("resnet_tiny", fpn=32, d_width=16, smooth=32, head_depth=1),
}


class TopDownFPN(nn.Module):
    """1x1 laterals, nearest-neighbour top-down additions, 3x3 smoothing (Lin et al., FPN)."""

    def __init__(self, in_channels: tuple[int, ...], width: int) -> None:
        super().__init__()
        self.laterals = nn.ModuleList(nn.Conv2d(c, width, 1) for c in in_channels)
        self.smooth = nn.ModuleList(nn.Conv2d(width, width, 3, padding=1) for _ in in_channels)

    def forward(self, features: list[torch.Tensor]) -> list[torch.Tensor]:
        merged = [lateral(x) for lateral, x in zip(self.laterals, features, strict=True)]
        for index in range(len(merged) - 2, -1, -1):
            merged[index] = merged[index] + F.interpolate(merged[index + 1], size=merged[index].shape[-2:],
                                                          mode="nearest")
        return [smooth(x) for smooth, x in zip(self.smooth, merged, strict=True)]


def _conv_relu(inp: int, out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(inp, out, 3, padding=1), nn.ReLU(inplace=True))


class KeypointSubnet(nn.Module):
    """K2..K5 -> D2..D5 -> upsample + concat -> smoothing -> 18 heatmaps (stride 4).

    ``forward`` returns the final heatmaps and, for intermediate supervision, one 18-channel map per
    K level (strides 4, 8, 16, 32).
    """

    def __init__(self, fpn: int, d_width: int, smooth: int) -> None:
        super().__init__()
        self.d_layers = nn.ModuleList(nn.Sequential(_conv_relu(fpn, d_width), _conv_relu(d_width, d_width))
                                      for _ in range(4))
        self.intermediate = nn.ModuleList(nn.Conv2d(fpn, HEATMAP_CHANNELS, 1) for _ in range(4))
        self.smooth = _conv_relu(4 * d_width, smooth)
        self.out = nn.Conv2d(smooth, HEATMAP_CHANNELS, 1)

    def forward(self, k_levels: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        d_levels = [layer(k) for layer, k in zip(self.d_layers, k_levels, strict=True)]
        size = d_levels[0].shape[-2:]
        upsampled = [d_levels[0]] + [F.interpolate(d, size=size, mode="bilinear", align_corners=False)
                                     for d in d_levels[1:]]
        heatmaps = self.out(self.smooth(torch.cat(upsampled, dim=1)))
        return heatmaps, [head(k) for head, k in zip(self.intermediate, k_levels, strict=True)]


class RetinaHead(nn.Module):
    """Classification and box subnets shared over P3..P7 (one class: person)."""

    def __init__(self, width: int, depth: int, anchors_per_location: int) -> None:
        super().__init__()
        self.anchors = anchors_per_location
        self.cls_tower = nn.Sequential(*[_conv_relu(width, width) for _ in range(depth)])
        self.box_tower = nn.Sequential(*[_conv_relu(width, width) for _ in range(depth)])
        self.cls_out = nn.Conv2d(width, anchors_per_location, 3, padding=1)
        self.box_out = nn.Conv2d(width, 4 * anchors_per_location, 3, padding=1)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.normal_(module.weight, std=0.01)
                nn.init.zeros_(module.bias)
        nn.init.constant_(self.cls_out.bias, -math.log((1.0 - CLASS_PRIOR) / CLASS_PRIOR))

    def forward(self, levels: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        logits, deltas = [], []
        for p in levels:
            n = p.shape[0]
            # (N, A, H, W) -> (N, H, W, A) -> (N, H*W*A): row, column, anchor (retina_anchors' order).
            logits.append(self.cls_out(self.cls_tower(p)).permute(0, 2, 3, 1).reshape(n, -1))
            deltas.append(self.box_out(self.box_tower(p)).permute(0, 2, 3, 1).reshape(n, -1, 4))
        return torch.cat(logits, dim=1), torch.cat(deltas, dim=1)


class DetectionFPN(nn.Module):
    """RetinaNet's pyramid: P3..P5 from C3..C5 by :class:`TopDownFPN`, P6 and P7 by strided convs."""

    def __init__(self, in_channels: tuple[int, int, int], width: int) -> None:
        super().__init__()
        self.fpn = TopDownFPN(in_channels, width)
        self.p6 = nn.Conv2d(in_channels[-1], width, 3, stride=2, padding=1)
        self.p7 = nn.Conv2d(width, width, 3, stride=2, padding=1)

    def forward(self, c3: torch.Tensor, c4: torch.Tensor, c5: torch.Tensor) -> list[torch.Tensor]:
        p6 = self.p6(c5)
        return [*self.fpn([c3, c4, c5]), p6, self.p7(F.relu(p6))]


class MultiPoseNet(nn.Module):
    """Backbone + keypoint branch + person detection branch.

    Args:
        variant: a key of :data:`MULTIPOSENET_VARIANTS`.

    Example:
        >>> net = MultiPoseNet("tiny").eval()
        >>> out = net(torch.zeros(1, 3, 128, 128))
        >>> tuple(out["heatmaps"].shape), tuple(out["box_deltas"].shape)
        ((1, 18, 32, 32), (1, 3069, 4))
    """

    def __init__(self, variant: str = "r50") -> None:
        super().__init__()
        if variant not in MULTIPOSENET_VARIANTS:
            raise ValueError(f"Unknown MultiPoseNet variant {variant!r}; valid: {', '.join(MULTIPOSENET_VARIANTS)}.")
        spec = MULTIPOSENET_VARIANTS[variant]
        self.variant = variant
        self.spec = spec
        self.backbone = ResNet(spec.backbone)
        channels = self.backbone.channels
        self.keypoint_fpn = TopDownFPN(channels, spec.fpn)
        self.keypoint_subnet = KeypointSubnet(spec.fpn, spec.d_width, spec.smooth)
        self.detection_fpn = DetectionFPN(channels[1:], spec.fpn)
        self.detection_head = RetinaHead(spec.fpn, spec.head_depth, spec.anchors.per_location)

    def keypoints(self, features: dict[str, torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Final (N, 18, H/4, W/4) heatmaps and the four intermediate K-level maps."""
        return self.keypoint_subnet(self.keypoint_fpn([features[f"c{i}"] for i in range(2, 6)]))

    def detections(self, features: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, A) person logits and (N, A, 4) box deltas."""
        return self.detection_head(self.detection_fpn(features["c3"], features["c4"], features["c5"]))

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.backbone(image)
        heatmaps, _ = self.keypoints(features)
        logits, deltas = self.detections(features)
        return {"heatmaps": heatmaps, "cls_logits": logits, "box_deltas": deltas}
