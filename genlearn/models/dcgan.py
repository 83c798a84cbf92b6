"""DCGAN generator and discriminator (Radford et al. 2016), layer for layer, for any power-of-two size >= 16.

The paper's architecture guidelines (Sec. 3), each visible below:

* no pooling: strided convolutions in D, fractionally-strided (transposed) convolutions in G;
* batch normalization in both networks, except G's output layer and D's input layer;
* no fully connected hidden layers (z enters as a 1x1 "image"; D ends in one 4x4 convolution);
* ReLU in G with ``tanh`` output; LeakyReLU(0.2) in D;
* weights from N(0, 0.02) (Sec. 4); batch-norm scales from N(1, 0.02), shifts 0 (as in PyTorch's example).

:meth:`DCGANConfig.reference` is the 64x64 RGB network of pytorch/examples (``nz=100, ngf=ndf=64``):
G has 3,576,704 parameters, D 2,765,568. It is a half-width variant of the paper's Fig. 1 network,
which starts from a 4x4x1024 map (``ngf=128``) and draws 5x5 kernels; the example uses 4x4 kernels. D returns *logits*: the
example's final ``Sigmoid`` moves into the loss (``binary_cross_entropy_with_logits``).

Optional, off in the reference: spectral normalization of D's convolutions (Miyato et al. 2018),
which then replaces D's batch norm, as in the SN-GAN paper's discriminators.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
from torch import nn

from genlearn.checks import check_images
from genlearn.models._config import SavedConfig, check_at_least
from genlearn.models.layers import apply_spectral_norm, check_unconditional, count_parameters, dcgan_init
from genlearn.models.mlp import check_latent


@dataclass(frozen=True)
class DCGANConfig(SavedConfig):
    """Sizes of :class:`DCGANGenerator` and :class:`DCGANDiscriminator`.

    Args:
        image_size: side ``S`` of the square images; a power of two >= 16.
        channels: image channels ``nc`` (1 grey, 3 RGB).
        latent_dim: size of ``z ~ N(0, I)`` (``nz``).
        g_width: G's width ``ngf`` (channels of the layer before the output).
        d_width: D's width ``ndf`` (channels of its first layer).
        spectral_norm: spectral-normalize D's convolutions and drop D's batch norm.

    Chapters 2, 3, 4, 5, 6 and 11.
    """

    image_size: int = 64
    channels: int = 3
    latent_dim: int = 100
    g_width: int = 64
    d_width: int = 64
    spectral_norm: bool = False

    def __post_init__(self) -> None:
        s = self.image_size
        if not isinstance(s, int) or s < 16 or s & (s - 1):
            raise ValueError(
                f"DCGAN image_size must be a power of two >= 16 (16, 32, 64, 128, ...), got {s!r}: "
                "G doubles a 4x4 map and D halves the image down to 4x4; resize the data to a power of two"
            )
        check_at_least(self, 1, "channels", "latent_dim", "g_width", "d_width")

    @property
    def n_stages(self) -> int:
        """Number of stride-2 layers: 4 -> S in G, S -> 4 in D (log2(S) - 2)."""
        return self.image_size.bit_length() - 3

    @classmethod
    def reference(cls) -> "DCGANConfig":
        """pytorch/examples' 64x64 RGB configuration (nz=100, ngf=ndf=64): half the width of the paper's Fig. 1."""
        return cls()

    @classmethod
    def digits(cls, width: int = 32, latent_dim: int = 64) -> "DCGANConfig":
        """Grey 16x16 digits (the book's resolution for the 8x8 digits), narrower for CPU training."""
        return cls(image_size=16, channels=1, latent_dim=latent_dim, g_width=width, d_width=width)

    @classmethod
    def tiny(cls, image_size: int = 16, channels: int = 1) -> "DCGANConfig":
        return cls(image_size=image_size, channels=channels, latent_dim=8, g_width=4, d_width=4)


class DCGANGenerator(nn.Module):
    """DCGAN generator: ``z (N, latent_dim) -> images (N, channels, S, S)`` in [-1, 1].

    A 1x1 "image" of ``latent_dim`` channels is projected to 4x4 by a transposed convolution, then
    each stage doubles the side and halves the width, down to ``g_width`` at ``S/2``; the last
    transposed convolution gives ``channels`` maps at ``S`` and ``tanh``. For 64x64 this is exactly
    pytorch/examples' ``Generator`` (widths 8/4/2/1 x ngf).

    Chapters 2, 4, 5, 6 and 11.
    """

    def __init__(self, config: DCGANConfig = DCGANConfig()):
        super().__init__()
        self.config = c = config
        width = c.g_width * 2 ** (c.n_stages - 1)  # channels of the 4x4 map
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(c.latent_dim, width, 4, 1, 0, bias=False),  # (N, width, 4, 4)
            nn.BatchNorm2d(width),
            nn.ReLU(True),
        ]
        for _ in range(c.n_stages - 1):
            layers += [
                nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False),  # (N, width/2, 2h, 2w)
                nn.BatchNorm2d(width // 2),
                nn.ReLU(True),
            ]
            width //= 2
        layers += [nn.ConvTranspose2d(width, c.channels, 4, 2, 1, bias=False), nn.Tanh()]  # (N, channels, S, S)
        self.main = nn.Sequential(*layers)
        self.apply(dcgan_init)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z (N, latent_dim) -> images (N, channels, S, S) in [-1, 1]."""
        check_latent(z, self.config.latent_dim)
        return self.main(z[:, :, None, None])  # (N, latent_dim, 1, 1) -> (N, C, S, S)

    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``z ~ N(0, I)`` (n, latent_dim) on this model's device (drawn on CPU, so seeds agree across devices)."""
        return torch.randn(n, self.config.latent_dim, generator=generator).to(next(self.parameters()).device)

    @torch.no_grad()
    def sample(self, n: int, *, labels: None = None, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` images (n, channels, S, S) in [-1, 1] from ``z ~ N(0, I)``, without gradients."""
        check_unconditional(self, labels)
        return self(self.sample_latent(n, generator))


class DCGANDiscriminator(nn.Module):
    """DCGAN discriminator: ``images (N, channels, S, S) -> logits (N,)``.

    Stride-2 4x4 convolutions halve the side from ``S`` to 4 while the width doubles from
    ``d_width``; the first has no batch norm; a final 4x4 valid convolution gives one logit.
    For 64x64 this is pytorch/examples' ``Discriminator`` without the final ``Sigmoid``.

    Chapters 2, 3, 5, 6 and 11.
    """

    def __init__(self, config: DCGANConfig = DCGANConfig()):
        super().__init__()
        self.config = c = config
        self.features = discriminator_body(c)  # (N, width, 4, 4)
        width = c.d_width * 2 ** (c.n_stages - 1)
        self.head = nn.Conv2d(width, 1, 4, 1, 0, bias=False)  # (N, 1, 1, 1)
        self.head.apply(dcgan_init)
        if c.spectral_norm:
            apply_spectral_norm(self.head)

    def check(self, x: torch.Tensor) -> None:
        s = self.config.image_size
        check_images(x, name="D's input", channels=self.config.channels, size=s, value_range=None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (N, channels, S, S) -> logits (N,)."""
        self.check(x)
        return self.head(self.features(x)).flatten()  # (N,)


def discriminator_body(c: DCGANConfig) -> nn.Sequential:
    """D's convolutions from ``(N, channels, S, S)`` to the ``(N, d_width * 2**(stages-1), 4, 4)`` features.

    Chapter 2.
    """
    width = c.d_width
    layers: list[nn.Module] = [nn.Conv2d(c.channels, width, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]  # (N, ndf, S/2, S/2)
    for _ in range(c.n_stages - 1):
        layers.append(nn.Conv2d(width, width * 2, 4, 2, 1, bias=False))  # (N, 2 width, h/2, w/2)
        if not c.spectral_norm:
            layers.append(nn.BatchNorm2d(width * 2))
        layers.append(nn.LeakyReLU(0.2, True))
        width *= 2
    body = nn.Sequential(*layers)
    body.apply(dcgan_init)
    return apply_spectral_norm(body) if c.spectral_norm else body


_FIRST_EDITION = {"Generator": DCGANGenerator, "Discriminator": DCGANDiscriminator}


def __getattr__(name: str):
    if name in _FIRST_EDITION:  # the first edition's names, plain aliases through 0.2: they warn in 0.3
        new = _FIRST_EDITION[name]
        warnings.warn(f"genlearn.models.dcgan.{name} is deprecated: use {new.__name__}", DeprecationWarning, stacklevel=2)
        return new
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [  # count_parameters: chapter 3 imports it from here (it lives in genlearn.models.layers)
    "DCGANConfig", "DCGANDiscriminator", "DCGANGenerator", "apply_spectral_norm", "count_parameters", "dcgan_init",
    "discriminator_body",
]
