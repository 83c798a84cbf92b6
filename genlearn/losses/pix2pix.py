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


def mark_mask_loss(gate_logits: torch.Tensor, x: torch.Tensor, y: torch.Tensor, threshold: float = 0.02,
                   negative_weight: float = 1.0) -> torch.Tensor:  # fmt: skip
    """A blend U-Net's gate supervised by where the pair differs (genlearn's, not the paper's): to minimize::

        t = 1[max_c |x - y| > threshold],   w = t + negative_weight (1 - t)
        L_mask = mean(w * BCE(sigmoid(g), t)) / ((1 + negative_weight) / 2)

    over pixels and channels, ``g`` the logits of the gate (the weight ``m`` in the blend ``(1 - m) x + m c``, or the
    gate of the unblend head, :class:`~genlearn.models.pix2pix.Pix2PixConfig`). L1 alone lets a remover of faint marks
    settle on a shut gate everywhere (doing nothing costs little where marks are faint); this term says which pixels
    a mark touched, so the gate opens on marks and stays shut on clean pixels. ``negative_weight > 1``
    makes a gate opened on a clean pixel cost more than a faint mark missed (the division keeps 1 the plain BCE).

    Args:
        gate_logits: the head's gate logits, (N, C, S, S).
        x, y: the marked input and its clean target, (N, C, S, S) in [-1, 1].
        threshold: the change in [-1, 1] units that counts as marked (0.02: about 2.5 grey levels of 255).
        negative_weight: the weight of the unmarked pixels' terms (the marked ones weigh 1).

    Chapter 8.
    """
    if gate_logits.shape != x.shape or x.shape != y.shape:
        raise ValueError(f"gate_logits, x and y need one shape (N, C, S, S), got {tuple(gate_logits.shape)}, {tuple(x.shape)}, {tuple(y.shape)}")
    if not negative_weight > 0:
        raise ValueError(f"negative_weight must be > 0, got {negative_weight}")
    marked = ((x - y).abs().amax(dim=1, keepdim=True) > threshold).to(gate_logits.dtype)  # (N, 1, S, S): 1 where a mark changed the pixel
    marked = marked.expand_as(gate_logits)
    weight = marked + negative_weight * (1 - marked)  # (N, C, S, S)
    return F.binary_cross_entropy_with_logits(gate_logits, marked, weight=weight) / ((1 + negative_weight) / 2)


__all__ = ["d_loss_patch_bce", "g_loss_patch_bce", "mark_mask_loss"]
