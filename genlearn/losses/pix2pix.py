"""The adversarial part of pix2pix's objective (Isola et al. 2017): a conditional GAN on patch logits.

Its L1 term is :func:`genlearn.losses.reconstruction.l1_reconstruction_loss`, beside CycleGAN's.

    G* = arg min_G max_D  L_cGAN(G, D) + lambda * L_L1(G)                                  (Eq. 4)
    L_cGAN(G, D) = E_{x,y}[log D(x, y)] + E_{x,z}[log(1 - D(x, G(x, z)))]                  (Eq. 1)
    L_L1(G) = E_{x,y,z}[ || y - G(x, z) ||_1 ]                                              (Eq. 3)

The discriminator's logits are a PatchGAN map ``(N, 1, H', W')``; every patch is one binary
decision and the losses average them. As in the paper (Sec. 3.3), G maximizes ``log D(x, G(x, z))``
(the non-saturating form) and D's objective is halved, which slows D relative to G.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _check_patch_logits(name: str, logits: torch.Tensor) -> None:
    if not isinstance(logits, torch.Tensor) or not logits.is_floating_point() or logits.dim() != 4 or logits.shape[1] != 1:
        raise ValueError(f"{name} must be a float PatchGAN map of shape (N, 1, H', W'), got {getattr(logits, 'shape', type(logits))}")


def d_loss_patch_bce(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """pix2pix's discriminator loss, to minimize: ``1/2 (-E[log D(x, y)] - E[log(1 - D(x, G(x)))])`` over patches.

    Args:
        real_logits: ``D(x, y)`` on real pairs, (N, 1, H', W').
        fake_logits: ``D(x, G(x))`` on generated pairs, (N, 1, H', W').

    Chapter 8.
    """
    _check_patch_logits("real_logits", real_logits)
    _check_patch_logits("fake_logits", fake_logits)
    real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))  # () mean over patches
    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return 0.5 * (real + fake)


def g_loss_patch_bce(fake_logits: torch.Tensor) -> torch.Tensor:
    """pix2pix's adversarial generator loss (non-saturating), to minimize: ``-E[log D(x, G(x))]`` over patches.

    Chapter 8.
    """
    _check_patch_logits("fake_logits", fake_logits)
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


__all__ = ["d_loss_patch_bce", "g_loss_patch_bce"]
