"""XNect Stage I (SelecSLS core + 2D and 3D branches) and Stage II (per-person fully connected net).

Paper: D. Mehta et al., "XNect: Real-time Multi-Person 3D Motion Capture with a Single RGB Camera",
SIGGRAPH 2020, https://arxiv.org/abs/1907.00837 (thesis Ch. 6.3). Written from the thesis text; the
branch widths are only in a figure the text lacks, so they follow the widths a third-party reading of
that figure gives (1x1 416->256, 4x4 stride-2 grouped transposed conv ->192, then 3x3 convs), as a
starting point and not a verified copy.

Stage I: (N, 3, H, W) normalised RGB -> at stride 8: ``heatmaps`` (N, J, H/8, W/8), ``pafs``
(N, 2B, H/8, W/8) (x then y per bone, bone order of :func:`mocap_app.skeletons.xnect.paf_limbs`),
``encodings`` (N, 3J, H/8, W/8) (triplet j = joint j minus its parent, metres, camera axes). The 3D
branch also reads the 2D branch's upsampled features, as in the thesis.

Stage II: (P, J*(3+3J)) per-person input -> (P, 21*3) root-relative ``vnect21`` joints, metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from mocap_app.skeletons.xnect import PAF_LIMBS, STAGE1_SET, STAGE2_SET, stage2_input_size

from .selecsls import SelecSLS, conv_bn_relu

#: ImageNet normalisation of the RGB input in [0, 1] (the SelecSLS release was trained with it).
IMAGE_MEAN = (0.485, 0.456, 0.406)
IMAGE_STD = (0.229, 0.224, 0.225)
OUTPUT_STRIDE = 8


@dataclass(frozen=True)
class StageIHead:
    """Widths of the two branches: reduce (1x1), upsample (4x4 transposed, grouped), then 3x3 convs."""

    reduce: int
    upsample: int
    upsample_groups: int
    branch2d: tuple[int, ...]
    branch3d_pre: int
    branch3d: tuple[int, ...]


@dataclass(frozen=True)
class StageIVariant:
    """A Stage I network: its SelecSLS core (grouped for pose) and its branch widths."""

    backbone: str
    grouped: bool
    head: StageIHead


STAGE1_VARIANTS: dict[str, StageIVariant] = {
    "xnect": StageIVariant("selecsls60", True, StageIHead(256, 192, 4, (128, 96), 160, (160, 128))),
    # Same design at a fraction of the width: tests and the overfit proof only.
    "xnect_tiny": StageIVariant("selecsls_tiny", False, StageIHead(64, 48, 4, (48, 32), 32, (48, 32))),
}


class StageI(nn.Module):
    """Fully convolutional Stage I.

    Args:
        variant: a key of :data:`STAGE1_VARIANTS`.

    Example:
        >>> net = StageI("xnect_tiny").eval()
        >>> {k: tuple(v.shape) for k, v in net(torch.zeros(1, 3, 64, 96)).items()}["heatmaps"]
        (1, 17, 8, 12)
    """

    def __init__(self, variant: str = "xnect") -> None:
        super().__init__()
        if variant not in STAGE1_VARIANTS:
            raise ValueError(f"Unknown Stage I variant {variant!r}; valid: {', '.join(sorted(STAGE1_VARIANTS))}.")
        spec = STAGE1_VARIANTS[variant]
        head = spec.head
        self.variant = variant
        self.num_joints = STAGE1_SET.num_joints
        self.num_limbs = len(PAF_LIMBS)
        self.backbone = SelecSLS(spec.backbone, num_classes=0, grouped=spec.grouped)
        core = self.backbone.out_channels

        def upsample() -> nn.Sequential:
            return nn.Sequential(
                conv_bn_relu(core, head.reduce, 1),
                nn.ConvTranspose2d(head.reduce, head.upsample, 4, 2, 1, groups=head.upsample_groups, bias=False),
                nn.BatchNorm2d(head.upsample), nn.ReLU(inplace=True))

        self.up2d = upsample()
        self.branch2d = _conv_stack(head.upsample, head.branch2d)
        self.out2d = nn.Conv2d(head.branch2d[-1], self.num_joints + 2 * self.num_limbs, 1)
        self.up3d = nn.Sequential(upsample(), conv_bn_relu(head.upsample, head.branch3d_pre, 3))
        self.branch3d = _conv_stack(head.branch3d_pre + head.upsample, head.branch3d)
        self.out3d = nn.Conv2d(head.branch3d[-1], 3 * self.num_joints, 1)

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.backbone.forward_features(image)
        up2d = self.up2d(features)
        maps2d = self.out2d(self.branch2d(up2d))
        encodings = self.out3d(self.branch3d(torch.cat([self.up3d(features), up2d], 1)))
        return {"heatmaps": maps2d[:, :self.num_joints], "pafs": maps2d[:, self.num_joints:], "encodings": encodings}


def _conv_stack(inp: int, widths: tuple[int, ...]) -> nn.Sequential:
    layers = []
    for width in widths:
        layers.append(conv_bn_relu(inp, width, 3))
        inp = width
    return nn.Sequential(*layers)


#: Stage II hidden widths: five fully connected layers in all (four hidden + output).
STAGE2_HIDDEN = (768, 768, 768, 768)
STAGE2_DROPOUT = 0.1


class StageII(nn.Module):
    """Per-person lifting network (thesis: "a 5-layer fully-connected network", smooth-L1 trained).

    Input per person: for each Stage I joint, (u, v) relative to the neck divided by the person's 2D
    size, the confidence, and the 3J encoding read at that joint; zeros for undetected joints. The
    2D-only lifter (``input_size`` = J * 3) reads the first three of those per joint.
    Output: ``vnect21`` joints relative to the pelvis, metres, camera axes, flattened (63,).

    Example:
        >>> StageII()(torch.zeros(10, 918)).shape
        torch.Size([10, 63])
    """

    def __init__(self, hidden: tuple[int, ...] = STAGE2_HIDDEN, dropout: float = STAGE2_DROPOUT,
                 input_size: int | None = None) -> None:
        super().__init__()
        #: Input row length: the full Stage I readout by default; the 2D-only lifter feeds ``J * 3``.
        self.input_size = stage2_input_size() if input_size is None else input_size
        self.output_joints = STAGE2_SET.num_joints
        layers: list[nn.Module] = []
        width = self.input_size
        for size in hidden:
            layers += [nn.Linear(width, size), nn.BatchNorm1d(size), nn.ReLU(inplace=True), nn.Dropout(dropout)]
            width = size
        layers.append(nn.Linear(width, 3 * self.output_joints))
        self.net = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.net(features)
