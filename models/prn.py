"""Pose Residual Network (PRN): assigns the keypoints inside a person box to that person.

Paper: M. Kocabas, S. Karagoz, E. Akbas, "MultiPoseNet" (ECCV 2018, https://arxiv.org/abs/1807.04067),
Section 3.4. Input: the keypoint heatmaps cropped to one person box and resized to a fixed grid,
(N, 17, H, W). One hidden fully connected layer with dropout, a residual connection
``y_k = phi_k(X) + x_k`` and a softmax over each channel's H*W cells. Output: (N, 17, H, W), each
channel a probability map of where *this* person's keypoint is.

Size deviation (documented in the README): the paper's PRN (56 x 36 x 17 -> 1024 -> 56 x 36 x 17)
has ~70M parameters (280 MB float32), far above what this repository ships. The shipped variant
``prn_compact`` halves the crop (28 x 18, same aspect) and uses 256 hidden units: 4.4M parameters,
17.6 MB float32, and four times fewer multiply-adds per step, which is what a CPU training budget of
~10 minutes affords. ``prn_paper`` keeps the paper's sizes for whoever trains it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .multiposenet import NUM_KEYPOINTS


@dataclass(frozen=True)
class PRNVariant:
    """Crop grid (rows x cols, the paper's height/width 1.56 ratio), hidden units, dropout."""

    height: int
    width: int
    hidden: int
    dropout: float = 0.5
    residual: bool = True

    @property
    def input_size(self) -> int:
        return NUM_KEYPOINTS * self.height * self.width


PRN_VARIANTS: dict[str, PRNVariant] = {
    "prn_paper": PRNVariant(56, 36, 1024),
    "prn_compact": PRNVariant(28, 18, 256),
    "prn_tiny": PRNVariant(14, 9, 32),
}
DEFAULT_PRN = "prn_compact"


class PoseResidualNetwork(nn.Module):
    """The PRN of the paper, sized by a :data:`PRN_VARIANTS` entry.

    Example:
        >>> PoseResidualNetwork("prn_tiny")(torch.rand(2, 17, 14, 9)).shape
        torch.Size([2, 17, 14, 9])
    """

    def __init__(self, variant: str = DEFAULT_PRN) -> None:
        super().__init__()
        if variant not in PRN_VARIANTS:
            raise ValueError(f"Unknown PRN variant {variant!r}; valid: {', '.join(PRN_VARIANTS)}.")
        self.variant = variant
        self.spec = PRN_VARIANTS[variant]
        size = self.spec.input_size
        self.hidden = nn.Linear(size, self.spec.hidden)
        self.dropout = nn.Dropout(self.spec.dropout)
        self.out = nn.Linear(self.spec.hidden, size)

    def logits(self, crops: torch.Tensor) -> torch.Tensor:
        """(N, 17, H, W) -> (N, 17, H*W) pre-softmax scores (``phi(X) + X``)."""
        n = crops.shape[0]
        flat = crops.reshape(n, -1)
        y = torch.relu(self.out(self.dropout(torch.relu(self.hidden(flat)))))
        if self.spec.residual:
            y = y + flat
        return y.reshape(n, NUM_KEYPOINTS, -1)

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.logits(crops), dim=-1).reshape(crops.shape)
