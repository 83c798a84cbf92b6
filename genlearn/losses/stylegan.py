"""StyleGAN2's path length regularizer (Karras et al. 2020, Sec. 3.2, Eq. 4).

    E_{w, y ~ N(0, I)} ( ||J_w^T y||_2 - a )^2

``J_w`` is the Jacobian of the synthesis network at ``w``; ``y`` is random image-space noise, scaled by
1 / sqrt(H W) so the length does not depend on the resolution (the authors' code). ``a`` is the moving
average of the lengths seen so far, so the regularizer asks that a fixed-size step in W changes the
image by the same amount everywhere, not by any particular amount. ``J_w^T y`` is one
vector-Jacobian product: the gradient of ``sum(g(w) * y)`` with respect to ``w``. As in the authors' code, it
is taken with respect to the L per-layer copies of ``w``, and the length is the root mean square of the L
per-layer norms rather than the norm of their sum (see :func:`path_lengths`).
"""

from __future__ import annotations

import math

import torch


def path_lengths(images: torch.Tensor, ws: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    """Path lengths (N,) as the authors' code computes them, for images (N, C, H, W) made from styles ws (N, L, w_dim).

    The images must be computed from ``ws`` with the graph kept.

    ``g = d sum(images * y) / d ws`` has one slice ``g_l`` (w_dim) per style input. The length is
    ``sqrt(mean_l ||g_l||^2)``, the root mean square of the per-layer norms (``grad.square().sum(2).mean(1).sqrt()``
    in the authors' code). That is not the literal ``||J_w^T y||_2`` of Eq. 4 for one ``w`` shared by all L layers,
    which would sum the slices first, ``||sum_l g_l||``; genlearn follows the reference here, not the equation.
    ``y`` defaults to N(0, I) / sqrt(H W).

    Chapter 11.
    """
    if not ws.requires_grad:
        raise ValueError("path_lengths needs ws with requires_grad=True, and images computed from them")
    if y is None:
        y = torch.randn_like(images) / math.sqrt(images.shape[2] * images.shape[3])
    (grad,) = torch.autograd.grad((images * y).sum(), ws, create_graph=True)  # (N, L, w_dim): J_w^T y per sample
    return grad.pow(2).sum(dim=2).mean(dim=1).sqrt()  # (N,)


def path_length_penalty(images: torch.Tensor, ws: torch.Tensor, mean_length: torch.Tensor, decay: float = 0.01,
                        y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """Eq. 4 as the authors' code computes it: ``mean_n (length_n - a)^2`` (lengths of :func:`path_lengths`), and the new ``a``.

    Args:
        images, ws: as for :func:`path_lengths`.
        mean_length: ``a``, the running average of the lengths (a 0-dim tensor; 0 before the first call).
        decay: ``a <- a + decay (mean length - a)`` (0.01 in the authors' code).
        y: the image-space noise (default: N(0, I) / sqrt(H W)).

    Returns:
        ``(penalty, new_a)``: the unweighted penalty (multiply by ``w_pl``, 2 in StyleGAN2) and the new average.

    Chapter 11.
    """
    if not 0.0 < decay <= 1.0:
        raise ValueError(f"decay must be in (0, 1], got {decay}")
    lengths = path_lengths(images, ws, y)  # (N,)
    new_mean = mean_length.detach() + decay * (lengths.detach().mean() - mean_length.detach())
    return (lengths - new_mean).pow(2).mean(), new_mean


__all__ = ["path_length_penalty", "path_lengths"]
