"""Regularizers of the discriminator / critic: gradient penalties, one pure function each.

* :func:`r1_penalty` -- zero-centred penalty on real data (Mescheder et al. 2018).
* :func:`gradient_penalty` -- WGAN-GP's penalty on interpolates (Gulrajani et al. 2017).

Both need a double backward, so both run in float32 with autocast off.
"""

from __future__ import annotations

import torch


def r1_penalty(discriminator, x_real: torch.Tensor, gamma: float = 10.0) -> torch.Tensor:
    """R1 regularizer (Mescheder et al. 2018, Sec. 4.1, Eq. 9): a zero-centred gradient penalty on *real* data.

        R1 = gamma / 2 * E_{x ~ p_data}[ ||grad_x D(x)||^2 ]     (D: the logit)

    Added to D's loss, it stops D from growing steep slopes around the training images -- the
    oscillation that keeps unregularized GANs from converging, which Mescheder et al. prove for
    their Dirac-GAN and show on image data. Unlike the WGAN-GP penalty (:func:`gradient_penalty`:
    interpolates, target norm 1) it acts on reals only and pulls the norm toward 0. Like it, it
    needs a double backward, so it runs in float32 with autocast off. With batch norm in D (as in
    DCGAN) each image's gradient also flows through the batch statistics; the penalty still
    flattens D around the data, which is all it is for, so genlearn allows it there.

    Args:
        discriminator: a module or callable mapping images (N, ...) to logits (N,) or (N, 1); pass
            ``lambda x: D(augment(x))`` to penalize through a differentiable augmentation.
        x_real: real images (N, ...) (detached here).
        gamma: the weight; for lazy regularization every ``k`` steps pass ``k * gamma``.

    Returns:
        The scalar ``R1`` (already multiplied by ``gamma / 2``).

    Chapters 1 and 2.
    """
    if not isinstance(x_real, torch.Tensor) or x_real.dim() < 2 or x_real.shape[0] == 0:
        got = tuple(x_real.shape) if isinstance(x_real, torch.Tensor) else type(x_real).__name__
        raise ValueError(f"x_real must be a tensor (N, ...) with at least one sample, got {got}")
    if gamma < 0:
        raise ValueError(f"gamma must be >= 0, got {gamma}")
    with torch.autocast(device_type=x_real.device.type, enabled=False):  # float32 double backward
        x = x_real.detach().to(torch.promote_types(x_real.dtype, torch.float32)).requires_grad_(True)  # (N, ...), >= float32
        logits = discriminator(x)  # (N,)
        (grad,) = torch.autograd.grad(logits.sum(), x, create_graph=True)  # (N, ...), differentiable
        return gamma / 2 * grad.flatten(1).pow(2).sum(dim=1).mean()


def gradient_penalty(
    critic: torch.nn.Module,
    x_real: torch.Tensor,
    x_fake: torch.Tensor,
    lam: float = 10.0,
    eps: torch.Tensor | None = None,
) -> torch.Tensor:
    """WGAN-GP gradient penalty (Gulrajani et al. 2017, Eq. 3, third term), on random interpolates.

        x_hat = eps * x + (1 - eps) * x_tilde,   eps ~ U[0, 1] per sample
        GP    = lam * E_{x_hat}[(||grad_{x_hat} f(x_hat)||_2 - 1)^2]

    The norm is taken per sample over all non-batch dimensions. The penalty is on the
    *interpolates* ``x_hat`` (where the optimal critic has unit gradient norm, Prop. 1), not on
    the real samples. ``create_graph=True`` keeps the gradient differentiable, so ``GP.backward()``
    reaches the critic's weights through a double backward. That is why this runs in float32
    with autocast switched off (a half-precision double backward loses the penalty's small
    gradients), and why ``torch.compile`` cannot be used on the critic step: compiled graphs do
    not support double backward (the generator step may be compiled).

    Args:
        critic: a module (or any callable) mapping images (N, ...) to scores (N,) or (N, 1).
        x_real: real samples (N, ...); x_fake: generated samples, same shape (detached here).
        lam: the penalty weight lambda (the paper's 10).
        eps: (N,) interpolation weights; None draws ``eps ~ U[0, 1]`` (pass them to test).

    Returns:
        The scalar ``GP`` (already multiplied by ``lam``).

    Chapter 5.
    """
    if not isinstance(x_real, torch.Tensor) or not isinstance(x_fake, torch.Tensor) or x_real.shape != x_fake.shape:
        got = [tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__ for t in (x_real, x_fake)]
        raise ValueError(f"x_real and x_fake must be tensors of the same shape (N, ...), got {got[0]} and {got[1]}")
    if x_real.dim() < 2 or x_real.shape[0] == 0:
        raise ValueError(f"x_real must have a batch dimension and at least one sample, got shape {tuple(x_real.shape)}")
    if lam < 0:
        raise ValueError(f"lam must be >= 0, got {lam}")
    n = x_real.shape[0]
    with torch.autocast(device_type=x_real.device.type, enabled=False):  # float32 double backward
        x_real, x_fake = x_real.detach().float(), x_fake.detach().float()
        if eps is None:
            eps = torch.rand(n, device=x_real.device)
        if eps.shape != (n,):
            raise ValueError(f"eps must have shape ({n},) (one weight per sample), got {tuple(eps.shape)}")
        eps = eps.to(x_real).view(n, *([1] * (x_real.dim() - 1)))  # (N, 1, ..., 1)
        x_hat = (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)  # (N, ...)
        scores = critic(x_hat).float()  # (N,)
        (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)  # (N, ...), differentiable
        norms = grad.flatten(1).norm(2, dim=1)  # (N,) per-sample norms over all non-batch dims
        return lam * ((norms - 1.0) ** 2).mean()


__all__ = ["gradient_penalty", "r1_penalty"]
