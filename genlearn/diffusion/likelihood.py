"""The variational bound of a diffusion model, in bits per dimension (chapter 13).

Ho, Jain & Abbeel (2020, Eq. 5) bound the negative log-likelihood of an image x_0 by

    L = L_T + sum_{t > 1} L_{t-1} + L_0,
    L_T     = KL(q(x_T | x_0) || p(x_T)),                         p(x_T) = N(0, I)
    L_{t-1} = KL(q(x_{t-1} | x_t, x_0) || p_theta(x_{t-1} | x_t)),   x_t ~ q(x_t | x_0)
    L_0     = -log p_theta(x_0 | x_1)                                 (the discretized decoder of Sec. 3.3)

Step indices are 0-based (index i is the paper's t = i + 1; see :mod:`genlearn.diffusion.schedules`), so L_0 sits
at index 0 and L_{t-1} at index i = t - 1 >= 1. Dividing nats by D ln 2 gives bits per dimension, the unit of
likelihood tables (Ho et al. report 3.70-3.75 bits/dim on CIFAR-10).
"""

from __future__ import annotations

import math
from typing import Callable, Iterable

import torch

from genlearn.diffusion.process import q_posterior, q_sample
from genlearn.diffusion.schedules import NoiseSchedule
from genlearn.losses.diffusion import discretized_gaussian_log_likelihood, normal_kl

Denoise = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def bits_per_dim(nats: torch.Tensor | float, dims: int) -> torch.Tensor | float:
    """Nats per image -> bits per dimension: ``nats / (dims * ln 2)``.

    Args:
        nats: a negative log-likelihood (or one term of the bound) per image, in nats; a tensor or a float.
        dims: the number of dimensions D of one image (C * H * W), >= 1.

    Chapter 13.
    """
    if isinstance(dims, bool) or not isinstance(dims, int) or dims < 1:
        raise ValueError(f"dims must be a positive int (C * H * W of one image), got {dims!r}")
    return nats / (dims * math.log(2))


def _steps(t: int, n: int, like: torch.Tensor) -> torch.Tensor:
    """The samplers' step argument: index ``t`` as a float64 (n,) tensor, on ``like``'s device (MPS has no float64)."""
    device = like.device if like.device.type != "mps" else torch.device("cpu")
    return torch.full((n,), float(t), dtype=torch.float64, device=device)


def _check_steps(timesteps: Iterable[int] | None, T: int) -> list[int]:
    if timesteps is None:
        return list(range(1, T))
    steps = [int(i) for i in timesteps]
    if not steps or len(set(steps)) != len(steps) or not all(1 <= i <= T - 1 for i in steps):
        raise ValueError(f"timesteps must be distinct step indices in [1, {T - 1}] (the KL terms; the decoder at index 0 and "
                         f"the prior are always evaluated), got {steps}")
    return sorted(steps)


@torch.no_grad()
def variational_bound(
    denoise: Denoise,
    schedule: NoiseSchedule,
    x0: torch.Tensor,
    *,
    levels: int = 256,
    generator: torch.Generator | None = None,
    timesteps: Iterable[int] | None = None,
) -> dict[str, torch.Tensor]:
    """Ho et al. 2020's bound L on -log p(x_0) (Eq. 5), each term in closed form, per image, in bits per dimension.

    For every step index i >= 1 (the paper's t = i + 1) one x_t = q_sample(x_0, fresh noise) is drawn (Eq. 4) and

        L_{t-1} = KL( N(mu_tilde(x_t, x_0), beta_tilde_t I) || N(mu_tilde(x_t, x0_hat), beta_t I) )   (Eqs. 5-7)

    where ``x0_hat`` is the model's guess at (x_t, t): the model's mean is the posterior mean with x0_hat in place of
    x_0 (not clipped to [-1, 1]: clipping is a sampling heuristic, not part of the model whose likelihood is
    bounded), and its variance is Ho et al.'s fixed sigma_t^2 = beta_t (Sec. 3.2; their other choice, beta_tilde_t,
    gives a smaller bound). The decoder term is L_0 = -log p(x_0 | x_1) with the discretized Gaussian
    (Sec. 3.3) of mean x0_hat at index 0 (the posterior mean at t = 1 is x0_hat itself) and variance beta_1;
    the prior term is L_T = KL(N(sqrt(ab_T) x_0, (1 - ab_T) I) || N(0, I)). Each KL is exact given x_t; the only
    randomness is the one x_t per step, so the total is an unbiased estimate of the bound.

    With ``timesteps`` (a subset of the indices 1..T-1) only those KL terms are evaluated and the sum over t > 1 is
    estimated as (T - 1) times their mean -- an unbiased estimate if the subset is drawn uniformly, cheaper by
    T / len(timesteps) calls of ``denoise``.

    Args:
        denoise: ``(x_t (N, ...), t (N,) float64 step indices) -> (x0_hat, eps_hat)``, the samplers' protocol
            (e.g. :func:`genlearn.diffusion.ideal_denoise_fn`); only x0_hat is used.
        schedule: the noise schedule the model was trained with.
        x0: (N, C, H, W) images in [-1, 1] on the grid of ``levels`` grey values.
        levels: grey values of the data (256 for 8-bit images, 17 for the 8x8 digits).
        generator: seeds the noise (drawn on CPU, one (N, ...) draw per evaluated step in increasing order).
        timesteps: KL terms to evaluate (indices in [1, T - 1]); None evaluates all T - 1 of them (exact bound).

    Returns:
        A dict of float tensors per image, in bits/dim: ``"bpd"`` (N,) the total L, ``"prior"`` (N,) L_T,
        ``"decoder"`` (N,) L_0, and ``"terms"`` (N, T), column i the term at step index i (column 0 = L_0,
        column i >= 1 = L_{t-1}; NaN where ``timesteps`` skipped it). ``bpd = prior + terms.sum(1)`` for the full
        bound.

    Chapter 13.
    """
    if not isinstance(x0, torch.Tensor) or not x0.is_floating_point() or x0.dim() < 2:
        raise TypeError(f"x0 must be a floating-point (N, ...) tensor of images in [-1, 1], got {type(x0).__name__}")
    if x0.numel() and (float(x0.min()) < -1 - 1e-6 or float(x0.max()) > 1 + 1e-6):
        raise ValueError(f"x0 must lie in [-1, 1] (genlearn's image range; the decoder is defined on it), got "
                         f"[{float(x0.min()):.3g}, {float(x0.max()):.3g}]; convert [0, 1] images with 2 * x - 1")
    if isinstance(levels, bool) or not isinstance(levels, int) or levels < 2:
        raise ValueError(f"levels must be an int >= 2 (the number of grey values), got {levels!r}")
    T, n, dims = schedule.T, x0.shape[0], x0[0].numel()
    steps = _check_steps(timesteps, T)

    def guess(x_t: torch.Tensor, i: int) -> torch.Tensor:
        x0_hat = denoise(x_t, _steps(i, n, x0))[0]
        if x0_hat.shape != x0.shape:
            raise ValueError(f"denoise must return x0_hat of shape {tuple(x0.shape)}, got {tuple(x0_hat.shape)}")
        return x0_hat.to(x0.dtype)

    def noised(i: int) -> tuple[torch.Tensor, torch.Tensor]:
        noise = torch.randn(x0.shape, generator=generator, dtype=x0.dtype).to(x0.device)  # (N, ...)
        t = torch.full((n,), i, dtype=torch.long, device=x0.device)
        return q_sample(schedule, x0, t, noise), t

    terms = torch.full((n, T), float("nan"), dtype=x0.dtype, device=x0.device)  # (N, T) nats

    # L_0 = -log p(x_0 | x_1): the discretized Gaussian with mean x0_hat and variance beta_1
    x1, _ = noised(0)
    log_scale = 0.5 * math.log(float(schedule.betas[0]))
    terms[:, 0] = -discretized_gaussian_log_likelihood(x0, guess(x1, 0), log_scale, levels).flatten(1).sum(1)

    # L_{t-1} = KL(q(x_{t-1} | x_t, x_0) || p(x_{t-1} | x_t)), both Gaussian
    for i in steps:
        x_t, t = noised(i)
        mean_q, var_q = q_posterior(schedule, x0, x_t, t)  # (N, ...), (N, 1, ...)
        mean_p, _ = q_posterior(schedule, guess(x_t, i), x_t, t)
        log_var_p = math.log(float(schedule.betas[i]))  # sigma_t^2 = beta_t
        terms[:, i] = normal_kl(mean_q, var_q.log(), mean_p, log_var_p).flatten(1).sum(1)

    # L_T = KL(q(x_T | x_0) || N(0, I)): no parameters, small for a good schedule
    ab_T = float(schedule.alpha_bar[-1])
    prior = normal_kl(math.sqrt(ab_T) * x0, math.log(1 - ab_T), 0.0, 0.0).flatten(1).sum(1)  # (N,)

    kl = terms[:, steps].sum(1) * ((T - 1) / len(steps))  # (N,) exact sum when all steps are evaluated
    total = prior + terms[:, 0] + kl
    to_bpd = dims * math.log(2)
    return {"bpd": total / to_bpd, "prior": prior / to_bpd, "decoder": terms[:, 0] / to_bpd, "terms": terms / to_bpd}


__all__ = ["bits_per_dim", "variational_bound"]
