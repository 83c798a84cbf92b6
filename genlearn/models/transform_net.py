"""The image transformation network of Johnson et al. 2016 (feed-forward style transfer, chapter 10).

``TransformNet``: a 9x9 convolution, two stride-2 3x3 convolutions, residual blocks, two
upsample-then-convolve layers and a 9x9 convolution to RGB, with reflection padding and instance
normalization. Two changes from the paper's supplementary architecture, both standard since:
instance instead of batch normalization (Ulyanov et al. 2016, "Instance Normalization: The
Missing Ingredient for Fast Stylization"), and nearest-neighbour upsampling followed by a
convolution instead of fractionally strided convolutions, which avoids checkerboard artefacts
(Odena et al. 2016, "Deconvolution and Checkerboard Artifacts"). ``TransformNetConfig.reference()``
has 1,679,235 parameters, as pytorch/examples' ``TransformerNet``; it ends in tanh, so outputs are
images in [-1, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from genlearn.checks import check_images
from genlearn.models._config import SavedConfig


@dataclass(frozen=True)
class TransformNetConfig(SavedConfig):
    """Sizes of a :class:`TransformNet`: ``width`` filters at full resolution (32), ``n_blocks`` residual blocks (5).

    Chapter 10.
    """

    width: int = 32
    n_blocks: int = 5

    def __post_init__(self) -> None:
        if self.width < 1 or self.n_blocks < 0:
            raise ValueError(f"width must be >= 1 and n_blocks >= 0, got {self.width}, {self.n_blocks}")

    @classmethod
    def reference(cls) -> "TransformNetConfig":
        return cls()

    @classmethod
    def tiny(cls) -> "TransformNetConfig":
        return cls(width=4, n_blocks=1)


def conv_norm(cin: int, cout: int, k: int, stride: int = 1, relu: bool = True, upsample: bool = False) -> nn.Sequential:
    """[nearest x2] -> reflection pad -> k x k convolution -> instance norm (affine) [-> ReLU].

    Chapter 10.
    """
    layers: list[nn.Module] = [nn.Upsample(scale_factor=2, mode="nearest")] if upsample else []
    layers += [nn.ReflectionPad2d(k // 2), nn.Conv2d(cin, cout, k, stride), nn.InstanceNorm2d(cout, affine=True)]
    return nn.Sequential(*layers, nn.ReLU(inplace=True)) if relu else nn.Sequential(*layers)


class ResidualBlock(nn.Module):
    """``x + norm(conv(relu(norm(conv(x)))))`` at constant shape (Johnson et al., supplementary Fig. 1).

    Chapter 10.
    """

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(conv_norm(channels, channels, 3), conv_norm(channels, channels, 3, relu=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class TransformNet(nn.Module):
    """``(N, 3, H, W) -> (N, 3, H, W)`` in [-1, 1]; H and W multiples of 4 give exactly the input's size.

    Chapter 10.
    """

    def __init__(self, config: TransformNetConfig = TransformNetConfig()):
        super().__init__()
        self.config = c = config
        w = c.width
        self.down = nn.Sequential(conv_norm(3, w, 9), conv_norm(w, 2 * w, 3, 2), conv_norm(2 * w, 4 * w, 3, 2))  # (N, 4w, H/4, W/4)
        self.blocks = nn.Sequential(*(ResidualBlock(4 * w) for _ in range(c.n_blocks)))
        self.up = nn.Sequential(conv_norm(4 * w, 2 * w, 3, upsample=True), conv_norm(2 * w, w, 3, upsample=True))  # (N, w, H, W)
        self.out = nn.Sequential(nn.ReflectionPad2d(4), nn.Conv2d(w, 3, 9))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, name="the transformation network's input", channels=3, value_range=None)
        h, w = x.shape[-2:]
        if min(h, w) < 8:  # the reflection pads need more pixels than they add, down to 1/4 of the side
            raise ValueError(f"the transformation network needs images of at least 8 pixels a side, got {(h, w)}")
        pad_h, pad_w = -h % 4, -w % 4  # two stride-2 layers: pad to a multiple of 4, crop back
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h), mode="reflect")
        y = torch.tanh(self.out(self.up(self.blocks(self.down(x)))))
        return y[..., :h, :w]

    @torch.no_grad()
    def stylize(self, x: torch.Tensor) -> torch.Tensor:
        """The trained style applied to content images (N, 3, H, W) in [-1, 1], any size."""
        return self(x)


__all__ = ["ResidualBlock", "TransformNet", "TransformNetConfig", "conv_norm"]
