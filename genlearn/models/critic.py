"""The WGAN critic: a DCGAN discriminator that returns a score, not a probability.

A Wasserstein critic ``f`` (Arjovsky et al. 2017, https://arxiv.org/abs/1701.07875) estimates
``W(P_r, P_g) = sup_{||f||_L <= 1} E_x[f(x)] - E_x~[f(x~)]`` (Kantorovich-Rubinstein duality,
Eq. 2), so it ends in a plain linear score: no sigmoid, no log. Two departures from DCGAN's
discriminator (:mod:`genlearn.models.dcgan`), both from WGAN-GP (Gulrajani et al. 2017,
https://arxiv.org/abs/1704.00028, Sec. 4 "No critic batch normalization"):

* **no batch norm** when the gradient penalty is used: batch norm mixes the samples of a batch,
  so ``f(x_hat_i)`` would depend on the other samples and the per-sample gradient norm the
  penalty constrains would not be defined. Layer normalization (statistics of one sample, here
  ``GroupNorm(1, C)`` over ``(C, H, W)``) or no normalization keep samples independent.
* a bias on every convolution when nothing normalizes after it.

``norm="batch"`` is kept for the weight-clipped WGAN, whose paper used DCGAN's critic with batch
norm; :func:`genlearn.train.wgan.train_wgan` refuses it together with the gradient penalty.

For 2-D toy data, :class:`genlearn.models.mlp.MLPDiscriminator` is already a critic (linear output,
no normalization); chapter 5 uses it with more layers to look at gradients through depth.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from genlearn.checks import check_images
from genlearn.models._config import SavedConfig
from genlearn.models.dcgan import DCGANConfig
from genlearn.models.layers import dcgan_init

NORMS = ("layer", "none", "batch")


@dataclass(frozen=True)
class CriticConfig(SavedConfig):
    """Sizes of :class:`Critic`.

    Args:
        image_size: side ``S`` of the square images; a power of two >= 16 (as DCGAN).
        channels: image channels.
        width: channels of the first layer (doubling at each stride-2 layer, like DCGAN's ``ndf``).
        norm: "layer" (WGAN-GP's advice), "none", or "batch" (clipping only).

    Chapters 4 and 5.
    """

    image_size: int = 64
    channels: int = 3
    width: int = 64
    norm: str = "layer"

    def __post_init__(self) -> None:
        DCGANConfig(image_size=self.image_size, channels=self.channels, d_width=self.width)  # same size rules
        if self.norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {self.norm!r}")

    @property
    def n_stages(self) -> int:
        """Number of stride-2 layers, S -> 4 (log2(S) - 2)."""
        return self.image_size.bit_length() - 3

    @classmethod
    def from_dcgan(cls, config: DCGANConfig, norm: str = "layer") -> "CriticConfig":
        """The critic matching a DCGAN configuration (its ``d_width``)."""
        return cls(image_size=config.image_size, channels=config.channels, width=config.d_width, norm=norm)

    @classmethod
    def tiny(cls, image_size: int = 16, channels: int = 1, norm: str = "layer") -> "CriticConfig":
        return cls(image_size=image_size, channels=channels, width=4, norm=norm)


def _norm(kind: str, channels: int) -> list[nn.Module]:
    if kind == "layer":
        return [nn.GroupNorm(1, channels)]  # layer norm over (C, H, W) of each sample
    if kind == "batch":
        return [nn.BatchNorm2d(channels)]
    return []


class Critic(nn.Module):
    """DCGAN-shaped critic: ``images (N, channels, S, S) -> scores (N,)``, unbounded reals.

    Stride-2 4x4 convolutions with LeakyReLU(0.2) halve the side from ``S`` to 4 while the width
    doubles; the first layer is never normalized (as in DCGAN); a final 4x4 valid convolution gives
    the score. Weights are initialized as DCGAN's (N(0, 0.02)).

    Chapters 4 and 5.
    """

    def __init__(self, config: CriticConfig = CriticConfig()):
        super().__init__()
        self.config = c = config
        bias = c.norm == "none"  # a norm right after a conv makes its bias redundant
        width = c.width
        layers: list[nn.Module] = [nn.Conv2d(c.channels, width, 4, 2, 1), nn.LeakyReLU(0.2)]  # (N, width, S/2, S/2)
        for _ in range(c.n_stages - 1):
            layers += [nn.Conv2d(width, width * 2, 4, 2, 1, bias=bias)]  # (N, 2 width, h/2, w/2)
            layers += _norm(c.norm, width * 2) + [nn.LeakyReLU(0.2)]
            width *= 2
        self.features = nn.Sequential(*layers)  # (N, width, 4, 4)
        self.head = nn.Conv2d(width, 1, 4, 1, 0)  # (N, 1, 1, 1): a linear score, no sigmoid
        self.apply(dcgan_init)
        for m in self.modules():
            if isinstance(m, nn.GroupNorm):
                nn.init.ones_(m.weight), nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (N, channels, S, S) -> scores (N,)."""
        check_images(x, name="the critic's input", channels=self.config.channels, size=self.config.image_size, value_range=None)
        return self.head(self.features(x)).flatten()  # (N,)


def has_batch_norm(module: nn.Module) -> bool:
    """True when ``module`` contains batch norm (which couples the samples of a batch).

    Chapter 5.
    """
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())


__all__ = ["NORMS", "Critic", "CriticConfig", "has_batch_norm"]
