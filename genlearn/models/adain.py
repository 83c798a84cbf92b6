"""Arbitrary style transfer with adaptive instance normalization (Huang & Belongie 2017, chapter 10).

A fixed encoder ``f`` (the feature network up to one layer: VGG-19's relu4_1 in the paper,
EfficientNet-Lite0's block2 offline), :func:`genlearn.losses.adain` on its features, and a trained
decoder ``g`` back to pixels (Sec. 6.1):

    t = AdaIN(f(c), f(s)),      T(c, s, alpha) = g((1 - alpha) f(c) + alpha t)      (Sec. 7.3, Eq. 14)
    T(c, s_1..s_K, w) = g(sum_k w_k AdaIN(f(c), f(s_k)))   (Sec. 7.3, Eq. 15: interpolating styles)

The decoder mirrors the encoder: 3x3 convolutions with reflection padding and ReLU, nearest
upsampling, no normalization layers (Sec. 6.1: "we use no normalization layers in the decoder").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from genlearn.checks import check_images
from genlearn.losses.style import adain
from genlearn.models._config import SavedConfig

# layer, channels, halvings. EfficientNet-Lite0 has only 40 channels at 1/8 of the side (VGG-19's relu4_1: 512), too
# few values to decode an image from: in a 5-minute trial here a block4 decoder's images were unrecognizable where a
# block2 one (24 channels at 1/4, half as many values as pixels) kept the content and took the style.
ENCODER_LAYERS = {"VGG-19": ("relu4_1", 512, 3), "EfficientNet-Lite0": ("block2", 24, 2)}
NETWORK_NAMES = {"VGG-19": "vgg19", "EfficientNet-Lite0": "efficientnet-lite0"}  # encoder.name -> load_feature_network's name


@dataclass(frozen=True)
class AdaINDecoderConfig(SavedConfig):
    """Decoder sizes: ``in_channels`` of the encoder layer, ``upsamplings`` back to full size, ``width`` at full size.

    Chapter 10.
    """

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


def _conv(cin: int, cout: int, relu: bool = True) -> list[nn.Module]:
    return [nn.ReflectionPad2d(1), nn.Conv2d(cin, cout, 3)] + ([nn.ReLU(inplace=True)] if relu else [])


class AdaINDecoder(nn.Module):
    """``(N, in_channels, H / 2^u, W / 2^u) -> (N, 3, H, W)``: per level a 3x3 convolution, then nearest x2 upsampling.

    Chapter 10.
    """

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
    """Encoder (fixed), AdaIN and decoder together: ``stylize(content, style, alpha)`` for any style image.

    Chapter 10.
    """

    def __init__(self, encoder: nn.Module, decoder: AdaINDecoder):
        super().__init__()
        if encoder.name not in ENCODER_LAYERS:
            raise ValueError(f"no AdaIN encoder layer for {encoder.name!r}; known: {', '.join(ENCODER_LAYERS)}")
        self.encoder, self.decoder = encoder.eval().requires_grad_(False), decoder
        self.layer = ENCODER_LAYERS[encoder.name][0]

    @property
    def config(self) -> "AdaINConfig":
        """What rebuilds this model with :func:`build_adain` (the encoder's weights are not saved: they are fixed)."""
        return AdaINConfig(network=self.encoder.name, width=self.decoder.config.width)

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
        """(N, 3, H, W) content of any size in the style of ``style`` (1 or N, 3, H', W'), in [-1, 1]."""
        return self.mix(content, [style], [1.0], alpha)

    @torch.no_grad()
    def mix(self, content: torch.Tensor, styles: Sequence[torch.Tensor], weights: Sequence[float], alpha: float = 1.0) -> torch.Tensor:
        """Eq. 15: ``g(sum_k w_k AdaIN(f(c), f(s_k)))`` for style images ``s_k`` (1, 3, H_k, W_k) of any sizes and
        weights ``w_k`` >= 0 summing to 1, then Eq. 14's ``alpha``; (N, 3, H, W) in [-1, 1], any H and W."""
        if len(styles) != len(weights) or not styles or min(weights) < 0 or abs(sum(weights) - 1) > 1e-6:
            raise ValueError(f"mix needs one weight >= 0 per style image, summing to 1; got {len(styles)} styles and weights {list(weights)}")
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha (the content-style trade-off) must be in [0, 1], got {alpha}")
        check_images(content, name="the content image", channels=3)
        h, w = content.shape[-2:]
        m = 2**self.decoder.config.upsamplings
        pad = (0, -w % m, 0, -h % m)  # the encoder halves the image u times: pad to a multiple of 2^u, crop back
        x = F.pad(content, pad, mode="reflect" if min(h, w) > m else "replicate")
        fc = self.encode(x)  # (N, C, h / 2^u, w / 2^u)
        t = sum(wk * adain(fc, self.encode(check_images(s, name="a style image", channels=3))) for s, wk in zip(styles, weights))
        y = self.decoder((1 - alpha) * fc + alpha * t)
        return y[..., :h, :w].clamp(-1, 1)


@dataclass(frozen=True)
class AdaINConfig(SavedConfig):
    """What a saved AdaIN run needs to rebuild: the encoder's feature network (its ``name``) and the decoder's width.

    Chapter 10.
    """

    network: str = "EfficientNet-Lite0"
    width: int = 64

    def __post_init__(self) -> None:
        if self.network not in ENCODER_LAYERS:
            raise ValueError(f"no AdaIN encoder layer for {self.network!r}; known: {', '.join(ENCODER_LAYERS)}")

    def decoder_config(self) -> AdaINDecoderConfig:
        return AdaINDecoderConfig.for_network(self.network, self.width)


def build_adain(config: AdaINConfig = AdaINConfig(), weights=None) -> AdaINStyleTransfer:
    """The encoder (its ImageNet weights from ``weights`` or their default place, see
    :func:`~genlearn.models.features.load_feature_network`) and a freshly initialized decoder.

    Chapter 10.
    """
    from genlearn.models.features import load_feature_network

    encoder = load_feature_network(NETWORK_NAMES[config.network], weights, verbose=False)
    return AdaINStyleTransfer(encoder, AdaINDecoder(config.decoder_config()))


__all__ = ["ENCODER_LAYERS", "NETWORK_NAMES", "AdaINConfig", "AdaINDecoder", "AdaINDecoderConfig", "AdaINStyleTransfer", "build_adain"]
