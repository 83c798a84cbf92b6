"""Reconstruction losses of image-to-image translation (CycleGAN, pix2pix): L1 distances, one pure function each."""

from __future__ import annotations

from typing import Callable

import torch


def _check_pair(a: torch.Tensor, b: torch.Tensor, what: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{what} needs two images batches of the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")


def cycle_consistency_loss(x: torch.Tensor, x_rec: torch.Tensor, lam: float = 10.0) -> torch.Tensor:
    """One direction of CycleGAN's cycle loss (Zhu et al. 2017, Eq. 2), times its weight (Eq. 3's lambda).

        L_cyc = lam * E_x[ || F(G(x)) - x ||_1 ]      (x_rec = F(G(x)), the round trip A -> B -> A)

    The mean absolute difference per pixel. The full loss adds the other direction,
    ``cycle_consistency_loss(y, G(F(y)))``; the paper's lambda is 10.

    Args:
        x: images (N, C, H, W); x_rec: their round-trip reconstructions, same shape.
        lam: the weight lambda.

    Chapter 7.
    """
    _check_pair(x, x_rec, "the cycle loss")
    return lam * (x_rec - x).abs().mean()


def identity_loss(G: Callable[[torch.Tensor], torch.Tensor], y: torch.Tensor, weight: float = 5.0) -> torch.Tensor:
    """CycleGAN's identity loss (Zhu et al. 2017, Sec. 5.2, after Taigman et al. 2017), times its weight.

        L_idt = weight * E_y[ || G(y) - y ||_1 ]      (G: A -> B, y: an image of B, the TARGET domain)

    A generator given an image that is already in its target domain should leave it unchanged. The
    input is the *target* domain's image: ``identity_loss(G_AB, b)`` compares ``G_AB(b)`` with ``b``
    (not ``G_AB(a)`` with ``a``, and not the cycle's ``F(G(x))``). The authors' code uses
    ``weight = 0.5 * lambda = 5``; it needs ``G``'s input and output channels to match.

    Args:
        G: the generator into ``y``'s domain.
        y: images of G's target domain (N, C, H, W).
        weight: the loss weight.

    Chapter 7.
    """
    out = G(y)
    _check_pair(y, out, "the identity loss (G's input and output channels must match)")
    return weight * (out - y).abs().mean()


def l1_reconstruction_loss(y_fake: torch.Tensor, y: torch.Tensor, lam: float = 100.0) -> torch.Tensor:
    """``lam * E[|y - G(x)|_1]`` (Eq. 3 times Eq. 4's lambda, 100 in the paper), the mean absolute error per pixel.

    Alone, L1 is minimized by the per-pixel *median* of the outputs compatible with ``x``: where
    several outputs are plausible, it predicts their blurry middle. The adversarial term penalizes
    that blur (chapter 8 measures it).

    Chapter 8.
    """
    _check_pair(y_fake, y, "the L1 loss")
    return lam * (y_fake - y).abs().mean()


__all__ = ["cycle_consistency_loss", "identity_loss", "l1_reconstruction_loss"]
