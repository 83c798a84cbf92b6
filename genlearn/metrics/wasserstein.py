"""Reading the Wasserstein distance off a critic: chapter 5's measurement procedure.

A WGAN critic ``f`` gives ``E[f(x)] - E[f(x~)]`` (:func:`wasserstein_estimate`), which by Kantorovich-Rubinstein
duality (Arjovsky et al. 2017, Eq. 2) is ``W(P_r, P_g)`` only for the optimal 1-Lipschitz ``f``. The critic of a
training run lags behind its optimum, so :func:`refine_critic` first trains a copy of it further against the frozen
generator (WGAN-GP's objective, Gulrajani et al. 2017), outside training. Chapter 5 reads the estimate this way at
every evaluation, on held-out digits. The training steps themselves are :mod:`genlearn.train.wgan`.
"""

from __future__ import annotations

import copy
from typing import Callable

import torch
from torch import nn

from genlearn.losses import critic_loss_wasserstein, gradient_penalty
from genlearn.models.critic import has_batch_norm


@torch.no_grad()
def wasserstein_estimate(critic: nn.Module, x_real: torch.Tensor, x_fake: torch.Tensor, batch_size: int = 256) -> float:
    """The critic's estimate ``E[f(x)] - E[f(x~)]`` of ``W(P_r, P_g)`` on two fixed sets (-L_C, no penalty).

    By Kantorovich-Rubinstein duality this is a lower bound on ``W`` for a 1-Lipschitz ``f`` and
    equals ``W`` for the optimal one; how close it gets depends on how well ``f`` is trained. A
    penalized critic is only near 1-Lipschitz (its gradient norms settle a little above 1), so its
    reading can overshoot ``W``: when ``P_g`` is a translate of ``P_r`` the penalized optimum has
    slope ``1 + W / (2 lambda)`` and reads ``W (1 + W / (2 lambda))``, 2.5% over for ``W = 0.5``.

    Chapter 5.
    """
    scores = [torch.cat([critic(t[i : i + batch_size]).float().flatten() for i in range(0, len(t), batch_size)]) for t in (x_real, x_fake)]
    return (scores[0].mean() - scores[1].mean()).item()


def refine_critic(
    critic: nn.Module,
    x_real: torch.Tensor,
    sample_fake: Callable[[int, torch.Generator], torch.Tensor],
    *,
    steps: int = 100,
    gp_lambda: float = 10.0,
    lr: float = 1e-4,
    batch_size: int = 128,
    seed: int = 0,
) -> nn.Module:
    """A copy of ``critic`` trained ``steps`` more updates against a frozen generator; ``critic`` is untouched.

    The training critic's ``-L_C`` is the supremum of Eq. 2 only if the critic is near its optimum.
    With few critic updates per generator update it lags behind, and its estimate stops tracking
    the samples' quality (chapter 5). Refining a copy (WGAN-GP's objective: Adam with betas (0, 0.9),
    the penalty on every update) before reading the estimate brings it nearer the supremum, at the
    cost of ``steps`` updates per reading, spent outside training.

    Args:
        critic: the trained critic (must not contain batch norm: the penalty is used).
        x_real: real samples (N, ...) drawn from with replacement.
        sample_fake: ``sample_fake(n, generator) -> (n, ...)`` samples of the frozen generator.
        steps, gp_lambda, lr, batch_size: the refinement's updates and settings.
        seed: seeds the batches, latents and interpolates: a reading is repeatable.

    Returns:
        The refined copy, in eval mode.

    Chapter 5.
    """
    if has_batch_norm(critic):
        raise ValueError("refine_critic uses the gradient penalty, which needs a critic without batch norm (see train_wgan)")
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    refined = copy.deepcopy(critic).train()
    opt = torch.optim.Adam(refined.parameters(), lr=lr, betas=(0.0, 0.9))
    gen = torch.Generator(device=x_real.device).manual_seed(seed)
    for _ in range(steps):
        x_r = x_real[torch.randint(0, len(x_real), (batch_size,), generator=gen, device=x_real.device)]  # (B, ...)
        with torch.no_grad():
            x_f = sample_fake(batch_size, gen)  # (B, ...)
        eps = torch.rand(batch_size, generator=gen, device=x_real.device)  # (B,) interpolation weights
        loss = critic_loss_wasserstein(refined(x_r), refined(x_f)) + gradient_penalty(refined, x_r, x_f, gp_lambda, eps=eps)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return refined.eval()


__all__ = ["refine_critic", "wasserstein_estimate"]
