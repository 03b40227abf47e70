"""ResNet-50/101 feature extractor (bottleneck blocks), written here so nothing depends on torchvision.

Paper: K. He, X. Zhang, S. Ren, J. Sun, "Deep Residual Learning for Image Recognition", CVPR 2016,
https://arxiv.org/abs/1512.03385. Written from the paper's Table 1 (the "v1.5" placement of the
stride in the 3x3 convolution, as most public releases do). MultiPoseNet takes the last block of
each stage, C2..C5 at strides 4, 8, 16, 32 (or 4, 8, 16, 16 with the dilated last stage of its
"R101_dil" variant: the paper does not say which stages are dilated; we dilate C5 only).

Input: (N, 3, H, W) normalised RGB. Output: a dict ``{"c2": ..., "c5": ...}`` with 256, 512, 1024
and 2048 channels (times ``width / 64`` for the narrow test variants).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class ResNetVariant:
    """Depth (blocks per stage), base width and whether the last stage is dilated instead of strided."""

    blocks: tuple[int, int, int, int]
    width: int = 64
    dilate_c5: bool = False


RESNET_VARIANTS: dict[str, ResNetVariant] = {
    "resnet50": ResNetVariant((3, 4, 6, 3)),
    "resnet101": ResNetVariant((3, 4, 23, 3)),
    "resnet101_dil": ResNetVariant((3, 4, 23, 3), dilate_c5=True),
    # One block per stage at an eighth of the width: tests, ONNX parity and the overfit proof only.
    "resnet_tiny": ResNetVariant((1, 1, 1, 1), width=8),
}
EXPANSION = 4
#: Classes of the ImageNet classification head (only built with ``classes``; used to check the size).
IMAGENET_CLASSES = 1000


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (strided or dilated), 1x1 expand, plus the identity or a projected shortcut."""

    def __init__(self, inp: int, width: int, stride: int = 1, dilation: int = 1) -> None:
        super().__init__()
        out = width * EXPANSION
        self.conv1 = nn.Conv2d(inp, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        nn.init.zeros_(self.bn3.weight)            # each block starts as the identity: stabler early training
        self.relu = nn.ReLU(inplace=True)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or inp != out:
            self.shortcut = nn.Sequential(nn.Conv2d(inp, out, 1, stride=stride, bias=False), nn.BatchNorm2d(out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + self.shortcut(x))


class ResNet(nn.Module):
    """Bottleneck ResNet returning the stage outputs C2..C5.

    Args:
        variant: a key of :data:`RESNET_VARIANTS`.
        classes: also build the global-pool + fully connected classifier (``classify``) with this
            many classes; ``None`` for the feature extractor alone.

    Example:
        >>> features = ResNet("resnet_tiny")(torch.zeros(1, 3, 64, 64))
        >>> [tuple(features[k].shape) for k in ("c2", "c5")]
        [(1, 32, 16, 16), (1, 256, 2, 2)]
    """

    def __init__(self, variant: str = "resnet50", classes: int | None = None) -> None:
        super().__init__()
        if variant not in RESNET_VARIANTS:
            raise ValueError(f"Unknown ResNet variant {variant!r}; valid: {', '.join(RESNET_VARIANTS)}.")
        spec = RESNET_VARIANTS[variant]
        self.variant = variant
        self.stem = nn.Sequential(nn.Conv2d(3, spec.width, 7, stride=2, padding=3, bias=False),
                                  nn.BatchNorm2d(spec.width), nn.ReLU(inplace=True),
                                  nn.MaxPool2d(3, stride=2, padding=1))
        stages = []
        inp = spec.width
        for index, count in enumerate(spec.blocks):
            width = spec.width * 2 ** index
            dilated = spec.dilate_c5 and index == 3
            stride = 1 if index == 0 or dilated else 2
            blocks = []
            for block in range(count):
                blocks.append(Bottleneck(inp, width, stride if block == 0 else 1, 2 if dilated else 1))
                inp = width * EXPANSION
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.ModuleList(stages)
        #: Channels of C2..C5.
        self.channels = tuple(spec.width * 2 ** index * EXPANSION for index in range(4))
        self.strides = (4, 8, 16, 16 if spec.dilate_c5 else 32)
        self.fc = nn.Linear(inp, classes) if classes else None
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.stem(image)
        features = {}
        for index, stage in enumerate(self.stages):
            x = stage(x)
            features[f"c{index + 2}"] = x
        return features

    def classify(self, image: torch.Tensor) -> torch.Tensor:
        """(N, classes) logits (ImageNet-style head; only when built with ``classes``)."""
        if self.fc is None:
            raise ValueError("This ResNet was built without a classifier; pass classes=1000.")
        return self.fc(self.forward(image)["c5"].mean(dim=(2, 3)))
