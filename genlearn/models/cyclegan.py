"""The networks of CycleGAN (Zhu et al. 2017): a ResNet generator and the 70x70 PatchGAN discriminator.

* :class:`ResnetGenerator` -- after Johnson et al. 2016 (Zhu et al. 2017, Appendix 7.2): a 7x7
  convolution, two stride-2 down-samplings, ``n_blocks`` residual blocks (6 for 128x128, 9 for
  256x256), two up-samplings and a 7x7 convolution to ``tanh``; reflection padding and instance
  normalization throughout.
* :class:`PatchDiscriminator` -- the PatchGAN of Isola et al. 2017 (also pix2pix's): ``n_layers``
  stride-2 4x4 convolutions and two stride-1 ones; it returns one logit per overlapping patch, each
  seeing :func:`receptive_field` pixels (70 for ``n_layers=3``).

:meth:`CycleGANConfig.reference` is the paper's 256x256 configuration (9 blocks, 64 base filters in
both networks); its parameter counts (G 11,378,179, D 2,764,737) are those of the authors' code.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from genlearn.checks import check_images
from genlearn.models._config import SavedConfig, check_at_least


@dataclass(frozen=True)
class CycleGANConfig(SavedConfig):
    """Sizes of both generators and both discriminators of a CycleGAN.

    Args:
        channels_a, channels_b: image channels of domains A and B.
        image_size: side of the square training images (a multiple of 4: G halves it twice).
        g_width: ``ngf``, G's first layer's filters; n_blocks: residual blocks in G.
        d_width: ``ndf``, D's first layer's filters; d_layers: D's stride-2 layers (3: 70x70 patches).

    Chapter 7.
    """

    channels_a: int = 3
    channels_b: int = 3
    image_size: int = 256
    g_width: int = 64
    n_blocks: int = 9
    d_width: int = 64
    d_layers: int = 3

    def __post_init__(self) -> None:
        check_at_least(self, 1, "channels_a", "channels_b", "g_width", "d_width", "d_layers")
        check_at_least(self, 0, "n_blocks")
        if self.image_size < 8 or self.image_size % 4:
            raise ValueError(f"image_size must be a multiple of 4 and >= 8 (G halves it twice), got {self.image_size}")

    @classmethod
    def reference(cls) -> "CycleGANConfig":
        """Zhu et al. 2017 at 256x256: 9 residual blocks, 64 base filters, 70x70 PatchGAN."""
        return cls()

    @classmethod
    def tiny(cls, image_size: int = 16, channels: int = 1) -> "CycleGANConfig":
        return cls(channels_a=channels, channels_b=channels, image_size=image_size, g_width=4, n_blocks=1, d_width=4, d_layers=2)


class ResnetBlock(nn.Module):
    """``x + F(x)`` with ``F`` = reflection pad, 3x3 conv, instance norm, ReLU, reflection pad, 3x3 conv, instance norm.

    Chapter 7.
    """

    def __init__(self, channels: int):
        super().__init__()
        self.block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) -> (N, C, H, W)."""
        return x + self.block(x)


class ResnetGenerator(nn.Module):
    """``(N, in_channels, S, S) -> (N, out_channels, S, S)`` in [-1, 1] (Zhu et al. 2017, Appendix 7.2).

    Args:
        in_channels, out_channels: channels of the source and the target domain.
        width: ``ngf``; the down-samplings double it twice (64 -> 128 -> 256).
        n_blocks: residual blocks at 1/4 resolution.

    Chapter 7.
    """

    def __init__(self, in_channels: int, out_channels: int, width: int = 64, n_blocks: int = 9):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        w = width
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, w, 7), nn.InstanceNorm2d(w), nn.ReLU(True)]  # (N, w, S, S)
        for k in (1, 2):  # c7s1-64, d128, d256
            layers += [nn.Conv2d(w * k, w * 2 * k, 3, stride=2, padding=1), nn.InstanceNorm2d(w * 2 * k), nn.ReLU(True)]  # side / 2
        layers += [ResnetBlock(4 * w) for _ in range(n_blocks)]  # (N, 4w, S/4, S/4)
        for k in (4, 2):  # u128, u64
            layers += [nn.ConvTranspose2d(w * k, w * k // 2, 3, stride=2, padding=1, output_padding=1), nn.InstanceNorm2d(w * k // 2), nn.ReLU(True)]  # side * 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(w, out_channels, 7), nn.Tanh()]  # (N, out_channels, S, S)
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (N, in_channels, S, S) in [-1, 1], S a multiple of 4 -> (N, out_channels, S, S) in [-1, 1]."""
        check_images(x, name="the generator's input", channels=self.in_channels, value_range=None)
        if x.shape[-1] % 4 or x.shape[-2] % 4:
            raise ValueError(f"the generator halves its input twice: height and width must be multiples of 4, got {tuple(x.shape[-2:])}")
        return self.model(x)


class PatchDiscriminator(nn.Module):
    """PatchGAN: ``(N, in_channels, H, W) -> logits (N, 1, H', W')``, one per overlapping patch.

    ``n_layers`` stride-2 4x4 convolutions (widths ``ndf * min(2^i, 8)``, instance norm after all
    but the first, LeakyReLU 0.2), then a stride-1 4x4 convolution with instance norm and one to a
    single channel (Isola et al. 2017, Sec. 3.2.2 and Appendix 6.1.2). No sigmoid: the losses take logits.

    ``n_layers=0`` is the paper's 1x1 "PixelGAN" (Sec. 4.4, Appendix 6.1.2: C64-C128 with 1x1 filters; the
    authors' ``PixelDiscriminator``): three 1x1 convolutions, one logit per pixel, the same side as the input.
    It judges colour statistics only, never a texture; pix2pix's chapter measures it against wider patches.

    Chapter 7.
    """

    def __init__(self, in_channels: int, width: int = 64, n_layers: int = 3):
        super().__init__()
        if n_layers < 0:
            raise ValueError(f"n_layers must be >= 0 (0: a 1x1 PixelGAN), got {n_layers}")
        self.in_channels = in_channels
        if n_layers == 0:  # PixelGAN: every pixel judged alone (receptive field 1)
            self.model = nn.Sequential(
                nn.Conv2d(in_channels, width, 1), nn.LeakyReLU(0.2, True),
                nn.Conv2d(width, 2 * width, 1), nn.InstanceNorm2d(2 * width), nn.LeakyReLU(0.2, True),
                nn.Conv2d(2 * width, 1, 1),  # (N, 1, H, W)
            )  # fmt: skip
            return
        layers: list[nn.Module] = [nn.Conv2d(in_channels, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]  # side / 2
        prev = width
        for i in range(1, n_layers + 1):
            cur = width * min(2**i, 8)
            stride = 2 if i < n_layers else 1  # the last of these keeps the side (C512 with stride 1 in the paper)
            layers += [nn.Conv2d(prev, cur, 4, stride=stride, padding=1), nn.InstanceNorm2d(cur), nn.LeakyReLU(0.2, True)]
            prev = cur
        layers.append(nn.Conv2d(prev, 1, 4, stride=1, padding=1))  # (N, 1, H', W')
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (N, in_channels, H, W) -> patch logits (N, 1, H', W')."""
        check_images(x, name="the discriminator's input", channels=self.in_channels, value_range=None)
        return self.model(x)


class CycleGAN(nn.Module):
    """The two mappings of a CycleGAN, ``G_AB: A -> B`` and ``G_BA: B -> A`` (the paper's G and F).

    ``translate(x, "AtoB")`` is the translation protocol every image-to-image model of genlearn
    answers: images of the source domain in, images of the target domain out, same batch size.

    Chapter 7.
    """

    def __init__(self, config: CycleGANConfig = CycleGANConfig()):
        super().__init__()
        self.config = c = config
        self.G_AB = ResnetGenerator(c.channels_a, c.channels_b, c.g_width, c.n_blocks)
        self.G_BA = ResnetGenerator(c.channels_b, c.channels_a, c.g_width, c.n_blocks)

    def forward(self, x: torch.Tensor, direction: str = "AtoB") -> torch.Tensor:
        """x (N, C_src, S, S) -> (N, C_dst, S, S); direction "AtoB" or "BtoA"."""
        if direction not in ("AtoB", "BtoA"):
            raise ValueError(f"direction must be 'AtoB' or 'BtoA', got {direction!r}")
        return self.G_AB(x) if direction == "AtoB" else self.G_BA(x)

    @torch.no_grad()
    def translate(self, x: torch.Tensor, direction: str = "AtoB") -> torch.Tensor:
        """Translate without gradients (eval mode is the caller's choice; instance norm has no running stats)."""
        return self(x, direction)

    directions = ("AtoB", "BtoA")  # the translation protocol: what translate() accepts

    @property
    def fixed_size(self) -> int:
        """The side every input must have (the training size: inputs are cropped and resized to it)."""
        return self.config.image_size

    def source_channels(self, direction: str) -> int:
        """The channels ``translate(x, direction)`` expects of ``x``."""
        return self.config.channels_a if direction == "AtoB" else self.config.channels_b


class CycleGANDiscriminators(nn.Module):
    """``D_A`` judges images of A (real vs ``G_BA``'s), ``D_B`` images of B (real vs ``G_AB``'s).

    Chapter 7.
    """

    def __init__(self, config: CycleGANConfig = CycleGANConfig()):
        super().__init__()
        self.config = c = config
        self.D_A = PatchDiscriminator(c.channels_a, c.d_width, c.d_layers)
        self.D_B = PatchDiscriminator(c.channels_b, c.d_width, c.d_layers)


def receptive_field(module: nn.Module) -> int:
    """Side of the input patch that one output unit of a chain of convolutions sees.

    Walks the ``Conv2d`` layers in order: ``r <- r + (k - 1) * j`` and ``j <- j * s``, with ``j``
    the product of the strides so far (dilation 1). 70 for the reference PatchGAN, 1 / 16 / 34 / 142
    for 0 (the 1x1 PixelGAN) / 1 / 2 / 4 stride-2 layers.

    Chapters 7 and 8.
    """
    r, jump = 1, 1
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d):
            k, s = layer.kernel_size[0], layer.stride[0]
            r, jump = r + (k - 1) * jump, jump * s
    return r


__all__ = ["CycleGAN", "CycleGANConfig", "CycleGANDiscriminators", "PatchDiscriminator", "ResnetBlock", "ResnetGenerator", "receptive_field"]
