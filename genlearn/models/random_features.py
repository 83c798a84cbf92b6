"""Random multi-scale features (Ustyuzhaninov et al. 2017): the baseline that shows what ImageNet training adds.

One layer of random convolutions at several filter sizes, each followed by a ReLU and nothing
else: no training, no pooling. Ustyuzhaninov et al. (Sec. 3-4) found that Gram matrices of such a
layer already synthesize convincing textures when the filters span many scales (3 to 55 pixels),
so style transfer with them asks: what is left for ImageNet weights to contribute?

Deviations, for 2 CPU cores: filters of size k run at stride ``ceil(k / 8)`` (the paper: stride 1),
which cuts the largest filters' cost about 9x; a Gram matrix averages over positions anyway. Sizes
stop at 23 by default (the paper went to 55). Because the strided scales have different sizes, each
filter size is its own "layer" ``scale{k}`` with its own Gram matrix, and the style loss weights the
six equally. The paper's single layer, as we read it, has one Gram matrix over all scales together,
which also matches the correlations between scales; this baseline is weaker than theirs.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from genlearn.models.feature_base import IMAGENET_MEAN, IMAGENET_STD, check_extract

SCALES = (3, 5, 7, 11, 15, 23)


class RandomMultiScaleFeatures(nn.Module):
    """``extract(x, layers)`` like the ImageNet networks: layer ``scale{k}`` is (N, channels, ~H/s, ~W/s) for filter size k.

    Chapter 9.
    """

    name = "random multi-scale"

    def __init__(self, scales: tuple[int, ...] = SCALES, channels: int = 64, seed: int = 0):
        super().__init__()
        if not scales or min(scales) < 1 or channels < 1:
            raise ValueError(f"scales must be filter sizes >= 1 and channels >= 1, got {scales} and {channels}")
        g = torch.Generator().manual_seed(seed)
        self.scales = tuple(scales)
        for k in self.scales:
            w = torch.randn(channels, 3, k, k, generator=g) * math.sqrt(2.0 / (3 * k * k))  # He scale: unit-variance outputs
            self.register_buffer(f"w{k}", w)
            self.register_buffer(f"b{k}", torch.zeros(channels))
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.style_layers = tuple(f"scale{k}" for k in self.scales)
        self.content_layer = f"scale{self.scales[len(self.scales) // 2]}"

    def extract(self, x: torch.Tensor, layers: tuple[str, ...] | list[str]) -> dict[str, torch.Tensor]:
        """The ReLU outputs of the named scales for ``x`` (N, 3, H, W) in [-1, 1]."""
        check_extract(x, layers, self.style_layers, self.name, min_side=max(self.scales))
        h = ((x + 1) / 2 - self.mean) / self.std  # the same input normalization as the ImageNet networks
        out = {}
        for name in layers:
            k = int(name.removeprefix("scale"))
            out[name] = F.relu(F.conv2d(h, getattr(self, f"w{k}"), getattr(self, f"b{k}"), stride=math.ceil(k / 8)))
        return out


__all__ = ["SCALES", "RandomMultiScaleFeatures"]
