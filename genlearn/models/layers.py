"""Building blocks shared by several model families: initialization, spectral norm, parameter counts.

A block moves here once two models use it: :func:`dcgan_init` (DCGAN, the conditional GAN, the critic),
:func:`apply_spectral_norm` (DCGAN's discriminator, which the conditional GAN's builds on) and
:func:`check_unconditional` (the MLP GAN, DCGAN, StyleGAN, the VAE and the Gaussian baseline).
:func:`count_parameters` serves the chapters and the tests. The image-to-image networks use none of them.
"""

from __future__ import annotations

from torch import nn


def dcgan_init(module: nn.Module) -> None:
    """Radford et al. 2016, Sec. 4: conv weights ~ N(0, 0.02); batch norm weight ~ N(1, 0.02), bias 0.

    Use as ``model.apply(dcgan_init)``.

    Chapter 2.
    """
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
    elif isinstance(module, nn.Embedding):
        nn.init.normal_(module.weight, 0.0, 0.02)


def apply_spectral_norm(module: nn.Module) -> nn.Module:
    """Spectral-normalize every conv/linear weight in ``module`` (Miyato et al. 2018, Eq. 8: W / sigma(W)).

    Chapter 2.
    """
    for child in list(module.modules()):
        if isinstance(child, (nn.Conv2d, nn.Linear)):
            nn.utils.parametrizations.spectral_norm(child)
    return module


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters.

    Chapters 2, 3, 5, 7, 8, 10 and 11.
    """
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def check_unconditional(model: nn.Module, labels) -> None:
    """``sample(n, labels=...)`` on an unconditional model: say so instead of ignoring the labels.

    Chapter 3.
    """
    if labels is not None:
        raise ValueError(f"{type(model).__name__} is unconditional: call sample(n) without labels")


__all__ = ["apply_spectral_norm", "check_unconditional", "count_parameters", "dcgan_init"]
