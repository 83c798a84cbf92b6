"""A small CNN that classifies digits (resized to 16×16); its penultimate features define the digits Fréchet distance."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from genlearn.checks import check_images
from genlearn.models._config import SavedConfig


@dataclass(frozen=True)
class ClassifierConfig(SavedConfig):
    """Sizes of :class:`DigitsClassifier`: ``width`` of its first conv block, ``feature_dim`` of its embedding.

    Chapter 0.
    """

    in_channels: int = 1
    num_classes: int = 10
    width: int = 16
    feature_dim: int = 64
    image_size: int = 16  # inputs of any size are resized to this (digits are 8x8 at source)

    @classmethod
    def tiny(cls) -> "ClassifierConfig":
        return cls(width=4, feature_dim=8)


class DigitsClassifier(nn.Module):
    """Three conv blocks and two linear layers; ``features`` gives the ``feature_dim`` embedding.

    Args:
        config: sizes; inputs ``(N, in_channels, H, W)`` in [-1, 1] are resized to ``image_size``.

    Chapter 0.
    """

    def __init__(self, config: ClassifierConfig = ClassifierConfig()):
        super().__init__()
        self.config = config
        w = config.width

        def block(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2))

        self.body = nn.Sequential(
            block(config.in_channels, w),  # (N, w, S/2, S/2)
            block(w, 2 * w),  # (N, 2w, S/4, S/4)
            block(2 * w, 4 * w),  # (N, 4w, S/8, S/8)
            nn.AdaptiveAvgPool2d(2),  # (N, 4w, 2, 2)
            nn.Flatten(),  # (N, 16w)
            nn.Dropout(0.2),
            nn.Linear(16 * w, config.feature_dim),
            nn.ReLU(),  # (N, feature_dim)
        )
        self.head = nn.Linear(config.feature_dim, config.num_classes)

    def resize(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, channels=self.config.in_channels)
        s = self.config.image_size
        if x.shape[-2:] != (s, s):
            x = F.interpolate(x, size=(s, s), mode="bilinear", antialias=True, align_corners=False)
        return x

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) in [-1, 1] -> (N, feature_dim)."""
        return self.body(self.resize(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) in [-1, 1] -> logits (N, num_classes)."""
        return self.head(self.features(x))


def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Translate each image by up to ``max_shift`` pixels (zero padding with the background value -1).

    Chapter 0.
    """
    n, _, h, w = x.shape
    padded = F.pad(x, [max_shift] * 4, value=-1.0)
    shifts = torch.randint(0, 2 * max_shift + 1, (n, 2), generator=generator)
    return torch.stack([padded[i, :, dy : dy + h, dx : dx + w] for i, (dy, dx) in enumerate(shifts.tolist())])
