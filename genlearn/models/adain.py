"""Arbitrary style transfer with adaptive instance normalization (Huang & Belongie 2017, chapter 10).

A fixed encoder ``f`` (the feature network up to one layer: VGG-19's relu4_1 in the paper,
EfficientNet-Lite0's block4 offline), :func:`genlearn.losses.adain` on its features, and a trained
decoder ``g`` back to pixels (Sec. 6.1):

    t = AdaIN(f(c), f(s)),      T(c, s, alpha) = g((1 - alpha) f(c) + alpha t)      (Sec. 7.1, Eq. 14)

The decoder mirrors the encoder: 3x3 convolutions with reflection padding and ReLU, nearest
upsampling, no normalization layers (Sec. 6.1: "we use no normalization layers in the decoder").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from genlearn.checks import check_images
from genlearn.losses.style import adain

ENCODER_LAYERS = {"VGG-19": ("relu4_1", 512, 3), "EfficientNet-Lite0": ("block4", 40, 3)}  # layer, channels, halvings


@dataclass(frozen=True)
class AdaINDecoderConfig:
    """Decoder sizes: ``in_channels`` of the encoder layer, ``upsamplings`` back to full size, ``width`` at full size."""

    in_channels: int = 512
    upsamplings: int = 3
    width: int = 64

    def __post_init__(self) -> None:
        if min(self.in_channels, self.width) < 1 or self.upsamplings < 0:
            raise ValueError(f"in_channels and width must be >= 1 and upsamplings >= 0, got {self}")

    @classmethod
    def for_network(cls, name: str, width: int = 64) -> "AdaINDecoderConfig":
        """The decoder for a feature network's encoder layer (:data:`ENCODER_LAYERS`)."""
        if name not in ENCODER_LAYERS:
            raise ValueError(f"no AdaIN encoder layer for {name!r}; known: {', '.join(ENCODER_LAYERS)}")
        _, channels, halvings = ENCODER_LAYERS[name]
        return cls(in_channels=channels, upsamplings=halvings, width=width)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "AdaINDecoderConfig":
        return cls(**d)


def _conv(cin: int, cout: int, relu: bool = True) -> list[nn.Module]:
    return [nn.ReflectionPad2d(1), nn.Conv2d(cin, cout, 3)] + ([nn.ReLU(inplace=True)] if relu else [])


class AdaINDecoder(nn.Module):
    """``(N, in_channels, H / 2^u, W / 2^u) -> (N, 3, H, W)``: per level a 3x3 convolution, then nearest x2 upsampling."""

    def __init__(self, config: AdaINDecoderConfig = AdaINDecoderConfig()):
        super().__init__()
        self.config = c = config
        widths = [c.width * 2 ** (c.upsamplings - i) for i in range(c.upsamplings + 1)]  # e.g. 512 256 128 64 for width 64
        layers: list[nn.Module] = _conv(c.in_channels, widths[0])
        for i in range(c.upsamplings):
            layers += [nn.Upsample(scale_factor=2, mode="nearest"), *_conv(widths[i], widths[i + 1])]
        layers += _conv(widths[-1], 3, relu=False)
        self.net = nn.Sequential(*layers)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """Features t (N, in_channels, h, w) -> an image (N, 3, h * 2^u, w * 2^u), unbounded (clamp to show it)."""
        return self.net(t)


class AdaINStyleTransfer(nn.Module):
    """Encoder (fixed), AdaIN and decoder together: ``stylize(content, style, alpha)`` for any style image."""

    def __init__(self, encoder: nn.Module, decoder: AdaINDecoder):
        super().__init__()
        if encoder.name not in ENCODER_LAYERS:
            raise ValueError(f"no AdaIN encoder layer for {encoder.name!r}; known: {', '.join(ENCODER_LAYERS)}")
        self.encoder, self.decoder = encoder.eval().requires_grad_(False), decoder
        self.layer = ENCODER_LAYERS[encoder.name][0]

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder.extract(x, [self.layer])[self.layer]

    def forward(self, content: torch.Tensor, style: torch.Tensor, alpha: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """The stylized image g((1 - alpha) f(c) + alpha t) and the target features t."""
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha (the content-style trade-off) must be in [0, 1], got {alpha}")
        check_images(content, name="the content image", channels=3)
        check_images(style, name="the style image", channels=3)
        fc = self.encode(content)  # (N, C, h, w)
        t = adain(fc, self.encode(style))
        t = (1 - alpha) * fc + alpha * t  # Eq. 14: alpha = 0 reconstructs the content, 1 is full style
        y = self.decoder(t)
        return y[..., : content.shape[-2], : content.shape[-1]], t

    @torch.no_grad()
    def stylize(self, content: torch.Tensor, style: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
        """(N, 3, H, W) content in the style of ``style`` (1 or N, 3, H', W'), in [-1, 1]; H and W multiples of 2^u."""
        return self(content, style, alpha)[0].clamp(-1, 1)


__all__ = ["ENCODER_LAYERS", "AdaINDecoder", "AdaINDecoderConfig", "AdaINStyleTransfer"]
