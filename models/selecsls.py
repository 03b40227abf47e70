"""SelecSLS Net: the XNect core network, as typed variant tables and one generic builder.

Paper: D. Mehta et al., "XNect: Real-time Multi-Person 3D Motion Capture with a Single RGB Camera",
SIGGRAPH 2020, https://arxiv.org/abs/1907.00837 (Ch. 7.2 of D. Mehta's PhD thesis: Tab. 7.9 is the
SelecSLS-60 table, Tab. 7.15 its 30.67M parameters). Written from the thesis text; layer names
follow the authors' MIT-licensed release (github.com/mehtadushy/SelecSLS-Pytorch, ``models/selecsls.py``)
so its published ImageNet checkpoint (``SelecSLS60_statedict.pth``) loads by key:
``stem.{0,1}``, ``features.<i>.conv<1..6>.{0,1}``, ``head.<i>.{0,1}``, ``classifier.0``.

A module (Fig. 7.5): ``d1 = 3x3(in -> k, stride s)``, ``d2 = 3x3(1x1(d1) -> k/2)``,
``d3 = 3x3(1x1(d2) -> k/2)``, then a 1x1 over ``concat(d1, d2, d3[, skip])`` -> ``n_o``; the short-range
skip is that concatenation, the long-range skip is the output of the *first* module of the level
(resolution), concatenated into every later module of the level. Every conv is conv-BN-ReLU.

Pose variant (thesis Ch. 7.2.3): "all 3x3 convolutions with more than 96 outputs use a group size
of 2, and those with more than 192 outputs use a group size of 4" (read as the number of groups);
ImageNet uses none. The core ends at stride 16 with 416 channels; the ImageNet variant adds the
four-conv head, global average pooling and a 1280 -> 1000 classifier.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
from torch import nn

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BlockSpec:
    """One SelecSLS module: input, long-range skip and output channels, width ``k``, level start, stride."""

    inp: int
    skip: int
    k: int
    out: int
    first: bool
    stride: int


@dataclass(frozen=True)
class HeadSpec:
    """One conv of the classification head: input, output channels, kernel and stride."""

    inp: int
    out: int
    kernel: int
    stride: int


@dataclass(frozen=True)
class SelecSLSVariant:
    """A whole network: stem width, module table, classification head and classifier width."""

    stem: int
    blocks: tuple[BlockSpec, ...]
    head: tuple[HeadSpec, ...]
    num_features: int


B = BlockSpec
#: name -> variant. Tab. 7.9 "(W)" widths, concatenation skip from the first module of each level.
VARIANTS: dict[str, SelecSLSVariant] = {
    "selecsls60": SelecSLSVariant(
        stem=32,
        blocks=(
            #  inp skip    k  out  first  stride
            B(32, 0, 64, 64, True, 2), B(64, 64, 64, 128, False, 1),
            B(128, 0, 128, 128, True, 2), B(128, 128, 128, 128, False, 1), B(128, 128, 128, 288, False, 1),
            B(288, 0, 288, 288, True, 2), B(288, 288, 288, 288, False, 1), B(288, 288, 288, 288, False, 1),
            B(288, 288, 288, 416, False, 1),
        ),
        #     inp   out kernel stride
        head=(HeadSpec(416, 756, 3, 2), HeadSpec(756, 1024, 3, 1), HeadSpec(1024, 1024, 3, 2),
              HeadSpec(1024, 1280, 1, 1)),
        num_features=1280,
    ),
    # A few-module network of the same design, for fast tests and overfit checks only (not in the thesis).
    "selecsls_tiny": SelecSLSVariant(
        stem=16,
        blocks=(
            B(16, 0, 32, 32, True, 2),
            B(32, 0, 48, 48, True, 2), B(48, 48, 48, 64, False, 1),
            B(64, 0, 64, 64, True, 2), B(64, 64, 64, 96, False, 1),
        ),
        head=(HeadSpec(96, 128, 3, 2), HeadSpec(128, 256, 1, 1)),
        num_features=256,
    ),
}

#: Pose-variant grouping rule: (more than this many outputs, number of groups), tightest first.
POSE_GROUPING: tuple[tuple[int, int], ...] = ((192, 4), (96, 2))


def pose_groups(out_channels: int) -> int:
    """Number of groups of a 3x3 conv with ``out_channels`` outputs in the pose variant."""
    for threshold, groups in POSE_GROUPING:
        if out_channels > threshold:
            return groups
    return 1


def conv_bn_relu(inp: int, out: int, kernel: int, stride: int = 1, groups: int = 1) -> nn.Sequential:
    """Conv (no bias, 'same' padding) + BatchNorm + ReLU, as ``Sequential`` indices 0, 1, 2."""
    return nn.Sequential(nn.Conv2d(inp, out, kernel, stride, kernel // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(out), nn.ReLU(inplace=True))


class SelecSLSBlock(nn.Module):
    """One module (see the module docstring); ``forward((x, skip)) -> (out, skip for the next module)``."""

    def __init__(self, spec: BlockSpec, grouped: bool = False) -> None:
        super().__init__()
        k = spec.k

        def groups(out: int) -> int:
            return pose_groups(out) if grouped else 1

        self.first = spec.first
        self.conv1 = conv_bn_relu(spec.inp, k, 3, spec.stride, groups(k))
        self.conv2 = conv_bn_relu(k, k, 1)
        self.conv3 = conv_bn_relu(k, k // 2, 3, groups=groups(k // 2))
        self.conv4 = conv_bn_relu(k // 2, k, 1)
        self.conv5 = conv_bn_relu(k, k // 2, 3, groups=groups(k // 2))
        self.conv6 = conv_bn_relu(2 * k + (0 if spec.first else spec.skip), spec.out, 1)

    def forward(self, inputs: tuple[torch.Tensor, torch.Tensor | None]) -> tuple[torch.Tensor, torch.Tensor]:
        x, skip = inputs
        d1 = self.conv1(x)
        d2 = self.conv3(self.conv2(d1))
        d3 = self.conv5(self.conv4(d2))
        if self.first:
            out = self.conv6(torch.cat([d1, d2, d3], 1))
            return out, out
        if skip is None:
            raise ValueError("A SelecSLS module that is not first in its level needs the level's skip input.")
        return self.conv6(torch.cat([d1, d2, d3, skip], 1)), skip


class SelecSLS(nn.Module):
    """SelecSLS Net from a variant table.

    Args:
        variant: a key of :data:`VARIANTS`.
        num_classes: classifier outputs; 0 builds the core alone (pose use: no head, no classifier).
        grouped: apply the pose variant's grouped 3x3 convolutions (:func:`pose_groups`).

    Attributes:
        out_channels: channels of :meth:`forward_features` (416 for SelecSLS-60).
        stride: its downsampling factor (16).

    Example:
        >>> net = SelecSLS("selecsls60", num_classes=1000)
        >>> net(torch.zeros(1, 3, 224, 224)).shape
        torch.Size([1, 1000])
    """

    def __init__(self, variant: str = "selecsls60", num_classes: int = 1000, grouped: bool = False) -> None:
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"Unknown SelecSLS variant {variant!r}; valid: {', '.join(sorted(VARIANTS))}.")
        spec = VARIANTS[variant]
        self.variant = variant
        self.grouped = grouped
        self.stem = conv_bn_relu(3, spec.stem, 3, 2)
        self.features = nn.Sequential(*[SelecSLSBlock(block, grouped) for block in spec.blocks])
        self.out_channels = spec.blocks[-1].out
        self.stride = 2 ** (1 + sum(block.stride == 2 for block in spec.blocks))
        self.num_classes = num_classes
        if num_classes > 0:
            self.head = nn.Sequential(*[conv_bn_relu(h.inp, h.out, h.kernel, h.stride) for h in spec.head])
            self.classifier = nn.Sequential(nn.Linear(spec.num_features, num_classes))

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) normalised RGB -> (N, out_channels, H/16, W/16) features."""
        out: tuple[torch.Tensor, torch.Tensor | None] = (self.stem(x), None)
        for block in self.features:
            out = block(out)
        return out[0]

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        """Core features -> (N, num_classes) logits."""
        if self.num_classes <= 0:
            raise ValueError("This SelecSLS was built without a classifier (num_classes=0).")
        return self.classifier(self.head(x).mean(dim=(2, 3)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.forward_features(x)
        return self.forward_head(features) if self.num_classes > 0 else features


def count_parameters(module: nn.Module) -> int:
    """Trainable parameters (BatchNorm running statistics excluded, as parameter counts usually are)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def clean_state_dict(state: dict) -> dict[str, torch.Tensor]:
    """Unwrap ``{"state_dict": ...}`` and strip a ``module.`` (DataParallel) prefix from the keys."""
    if "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    return {(key[len("module."):] if key.startswith("module.") else key): value for key, value in state.items()}


def load_official_state_dict(net: SelecSLS, state: dict) -> None:
    """Load the authors' SelecSLS-60 checkpoint into ``net`` (classification or pose, grouped or not).

    Keys are the release's; an ungrouped kernel going into a grouped conv keeps its block-diagonal
    slices (the weights each group would see), an approximation that fine-tuning recovers from. Head
    and classifier keys are skipped when ``net`` has none.

    Raises:
        ValueError: keys or shapes that do not fit (the message names the first few).
    """
    state = clean_state_dict(state)
    own = net.state_dict()
    missing = sorted(set(own) - set(state))
    if missing:
        raise ValueError(f"Checkpoint lacks {len(missing)} SelecSLS keys (e.g. {', '.join(missing[:3])}); is it "
                         "SelecSLS60_statedict.pth from the official release?")
    converted = {}
    for key, target in own.items():
        value = state[key]
        if value.shape != target.shape:
            value = _to_grouped(key, value, target)
        converted[key] = value
    net.load_state_dict(converted, strict=True)
    skipped = sorted(set(state) - set(own))
    if skipped:
        logger.info("Skipped %d checkpoint keys this network has no place for (e.g. %s)", len(skipped), skipped[0])


def _to_grouped(key: str, value: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Block-diagonal slices of an ungrouped (O, I, k, k) kernel for a grouped (O, I/g, k, k) one."""
    if value.ndim != 4 or value.shape[0] != target.shape[0] or value.shape[1] % target.shape[1]:
        raise ValueError(f"{key}: checkpoint shape {tuple(value.shape)} does not fit {tuple(target.shape)}.")
    groups = value.shape[1] // target.shape[1]
    out_per, in_per = value.shape[0] // groups, target.shape[1]
    slices = [value[g * out_per:(g + 1) * out_per, g * in_per:(g + 1) * in_per] for g in range(groups)]
    return torch.cat(slices, 0)
