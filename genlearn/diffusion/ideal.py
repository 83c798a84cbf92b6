"""The ideal denoiser of a finite training set, Tweedie's formula, and scores known in closed form (chapter 13).

The forward process corrupts x_0 as x_t = sqrt(ab) x_0 + sqrt(1 - ab) eps (Ho et al. 2020, Eq. 4). Among all
functions of (x_t, t), the one that minimizes the x_0-regression loss E || D(x_t, t) - x_0 ||^2 is the posterior mean
E[x_0 | x_t] -- and the eps loss of Eq. 14 is minimized by the matching eps guess, (x_t - sqrt(ab) E[x_0|x_t]) /
sqrt(1 - ab). When x_0 is drawn from a *finite* training set (the empirical distribution a network is trained on),
that posterior mean is a softmax-weighted average of the training images, computed here exactly.

Tweedie's formula links the denoiser to the score of the noisy marginal p_t:

    grad_x log p_t(x) = (sqrt(ab) E[x_0 | x_t = x] - x) / (1 - ab) = -E[eps | x_t = x] / sqrt(1 - ab)

For a Gaussian or a mixture of isotropic Gaussians everything is available in closed form, which is how the tests
(and the chapter) check a denoiser against the truth.
"""

from __future__ import annotations

from typing import Callable

import torch

from genlearn.diffusion.process import x0_eps_at
from genlearn.diffusion.schedules import NoiseSchedule


def _alpha_bar(alpha_bar: torch.Tensor | float, like: torch.Tensor, *, allow_one: bool = False) -> torch.Tensor:
    """alpha_bar as a tensor that broadcasts against ``like`` (N, ...): a float, a (N,) tensor (one per row; viewed as
    (N, 1, ...)), or any tensor broadcastable to ``like``. Checked to lie in [0, 1) (or [0, 1])."""
    ab = torch.as_tensor(alpha_bar, dtype=like.dtype, device=like.device)
    hi_ok = (ab <= 1) if allow_one else (ab < 1)
    if not bool(((ab >= 0) & hi_ok).all()):
        raise ValueError(f"alpha_bar must lie in [0, {'1]' if allow_one else '1)'}, "
                         f"got {ab.min().item():g} to {ab.max().item():g}"
                         + ("" if allow_one else " (at alpha_bar = 1 there is no noise and the score is undefined)"))
    if ab.dim() == 1 and like.dim() > 1 and len(ab) == like.shape[0]:
        ab = ab.view(-1, *([1] * (like.dim() - 1)))  # (N, 1, ...)
    return ab


def _work_device(x: torch.Tensor) -> torch.device:
    return x.device if x.device.type != "mps" else torch.device("cpu")  # the distances need float64


def posterior_weights(x_t: torch.Tensor, alpha_bar: torch.Tensor | float, data: torch.Tensor) -> torch.Tensor:
    """p(x_0 = data_j | x_t) when x_0 is uniform over the training set ``data`` (M, ...), Bayes' rule with Eq. 4:

        w_j = softmax_j( -|| x_t - sqrt(ab) data_j ||^2 / (2 (1 - ab)) )

    In float64, from the expansion ||x - s d||^2 = ||x||^2 - 2 s x.d + s^2 ||d||^2 without the ||x||^2 term (the
    same for every j, so it cancels in the softmax): memory N * M, never N * M * D.

    Args:
        x_t: (N, ...) noisy images.
        alpha_bar: a float or (N,) tensor in [0, 1).
        data: (M, ...) training images, ``data.shape[1:] == x_t.shape[1:]``.

    Returns:
        (N, M) float64 weights, each row summing to 1.

    Chapter 13.
    """
    if data.dim() < 1 or x_t.shape[1:] != data.shape[1:]:
        raise ValueError(f"x_t (N, ...) and data (M, ...) must share the image shape, "
                         f"got {tuple(x_t.shape)} and {tuple(data.shape)}")
    device = _work_device(x_t)
    x = x_t.detach().to(device=device, dtype=torch.float64).flatten(1)  # (N, D)
    d = data.detach().to(device=device, dtype=torch.float64).flatten(1)  # (M, D)
    ab = _alpha_bar(alpha_bar, x).reshape(-1, 1)  # (N, 1) or (1, 1)
    s = ab.sqrt()
    logits = (s * (x @ d.T) - 0.5 * ab * d.pow(2).sum(1)) / (1 - ab)  # (N, M) = -(||x - s d||^2 - ||x||^2) / (2 (1 - ab))
    return torch.softmax(logits, dim=1)


def ideal_denoiser(
    x_t: torch.Tensor, t: torch.Tensor | float, data: torch.Tensor, schedule: NoiseSchedule, *, chunk_size: int = 256
) -> torch.Tensor:
    """The ideal denoiser E[x_0 | x_t] of the empirical distribution: x_0 uniform over the training set ``data``.

        x0_hat(x_t) = sum_j w_j data_j,   w_j = softmax_j( -|| x_t - sqrt(ab_t) data_j ||^2 / (2 (1 - ab_t)) )

    It is the exact minimizer of the training loss (Ho et al. 2020, Eq. 14, through the x_0 <-> eps relation of
    Eq. 4) over *all* functions of (x_t, t) -- the posterior mean over the empirical distribution -- and so it can only
    output convex blends of training images: at low noise the weights collapse onto the nearest training image,
    and a sampler driven by it reproduces the training set (memorization). A trained network generalizes because it
    does *not* reach this optimum. Karras et al. 2022 write the same formula with sigma = sqrt((1 - ab) / ab). See
    :func:`posterior_weights` for the weights themselves.

    Args:
        x_t: (N, ...) noisy images.
        t: step indices, a float or (N,) tensor; fractional ones interpolate the schedule (``alpha_bar_at``).
        data: (M, ...) training images, ``data.shape[1:] == x_t.shape[1:]`` (e.g. 1,800 digits of 1x16x16).
        schedule: the noise schedule.
        chunk_size: rows of ``x_t`` per chunk (memory ~ chunk_size * M float64s).

    Returns:
        x0_hat (N, ...) in ``x_t``'s dtype and device.

    Chapter 13.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    n = x_t.shape[0]
    t = torch.as_tensor(t, dtype=torch.float64)
    ab = schedule.alpha_bar_at(t.expand(n) if t.dim() == 0 else t)  # (N,) float64
    if ab.shape != (n,):
        raise ValueError(f"t must be a float or have shape ({n},), got {tuple(t.shape)}")
    d = data.detach().to(device=_work_device(x_t), dtype=torch.float64).flatten(1)  # (M, D)
    out = []
    for start in range(0, n, chunk_size):
        w = posterior_weights(x_t[start:start + chunk_size], ab[start:start + chunk_size], data)  # (n_c, M)
        out.append(w @ d)  # (n_c, D)
    x0_hat = torch.cat(out) if out else d.new_zeros((0, d.shape[1]))
    return x0_hat.to(device=x_t.device, dtype=x_t.dtype).view(x_t.shape)


def ideal_denoise_fn(
    data: torch.Tensor, schedule: NoiseSchedule, *, chunk_size: int = 256
) -> Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """The ideal denoiser of ``data`` (M, ...) as a ``denoise(x_t, t) -> (x0_hat, eps_hat)`` callable for the samplers
    and :func:`genlearn.diffusion.variational_bound`; eps_hat = (x_t - sqrt(ab) x0_hat) / sqrt(1 - ab) (Ho et al.
    2020, Eq. 4 inverted).

    Args:
        data: (M, ...) training images.
        schedule: the noise schedule.
        chunk_size: passed to :func:`ideal_denoiser`.

    Chapter 13.
    """

    def denoise(x_t: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t = torch.as_tensor(t, dtype=torch.float64)
        t = t.expand(x_t.shape[0]) if t.dim() == 0 else t  # (N,)
        x0_hat = ideal_denoiser(x_t, t, data, schedule, chunk_size=chunk_size)  # (N, ...)
        return x0_eps_at(schedule, x_t, t, x0_hat, "x0")

    return denoise


def tweedie_score(x_t: torch.Tensor, x0_hat: torch.Tensor, alpha_bar: torch.Tensor | float) -> torch.Tensor:
    """Tweedie's formula for x_t = sqrt(ab) x_0 + sqrt(1 - ab) eps: the score of the noisy marginal from the
    posterior mean,

        grad log p_t(x_t) = (sqrt(ab) E[x_0 | x_t] - x_t) / (1 - ab)

    Args:
        x_t: (N, ...) noisy points.
        x0_hat: (N, ...) E[x_0 | x_t] (a denoiser's output).
        alpha_bar: a float, a (N,) tensor (one per row), or a tensor broadcastable to ``x_t``; in [0, 1).

    Returns:
        The score, (N, ...).

    Chapter 13.
    """
    if x_t.shape != x0_hat.shape:
        raise ValueError(f"x_t and x0_hat must have the same shape, got {tuple(x_t.shape)} and {tuple(x0_hat.shape)}")
    ab = _alpha_bar(alpha_bar, x_t)
    return (ab.sqrt() * x0_hat - x_t) / (1 - ab)


def score_from_eps(eps_hat: torch.Tensor, alpha_bar: torch.Tensor | float) -> torch.Tensor:
    """The score from a noise prediction, -eps_hat / sqrt(1 - ab): Tweedie's formula with Eq. 4 of Ho et al. 2020
    (their Sec. 3.2 notes that predicting eps is denoising score matching).

    Args:
        eps_hat: (N, ...) predicted noise E[eps | x_t].
        alpha_bar: a float, a (N,) tensor (one per row), or a tensor broadcastable to ``eps_hat``; in [0, 1).

    Returns:
        The score, (N, ...).

    Chapter 13.
    """
    return -eps_hat / (1 - _alpha_bar(alpha_bar, eps_hat)).sqrt()


def gaussian_posterior_mean(
    x_t: torch.Tensor, alpha_bar: torch.Tensor | float, mean: torch.Tensor | float, var: float
) -> torch.Tensor:
    """E[x_0 | x_t] for Gaussian data x_0 ~ N(mean, var I) under Eq. 4 (Ho et al. 2020) -- the ideal denoiser of
    infinitely many Gaussian samples:

        E[x_0 | x_t] = mean + sqrt(ab) var / (ab var + 1 - ab) * (x_t - sqrt(ab) mean)

    Args:
        x_t: (N, ...) noisy points.
        alpha_bar: a float, a (N,) tensor (one per row), or a tensor broadcastable to ``x_t``; in [0, 1].
        mean: the data mean, a float or a tensor broadcastable to ``x_t`` (e.g. (D,) for (N, D) points).
        var: the data variance per dimension (a float >= 0).

    Returns:
        (N, ...).

    Chapter 13.
    """
    if not float(var) >= 0:
        raise ValueError(f"var must be >= 0, got {var!r}")
    ab = _alpha_bar(alpha_bar, x_t, allow_one=True)
    mean = torch.as_tensor(mean, dtype=x_t.dtype, device=x_t.device)
    total = ab * var + 1 - ab  # the variance of x_t
    if not bool((total > 0).all()):
        raise ValueError("x_t has zero variance (alpha_bar = 1 and var = 0): E[x_0 | x_t] is undefined")
    return mean + ab.sqrt() * var / total * (x_t - ab.sqrt() * mean)


def _mixture_args(means: torch.Tensor, std: float, weights: torch.Tensor | None) -> torch.Tensor:
    """Checks the mixture's parameters; returns the (K,) log-weights in ``means``' dtype."""
    if means.dim() != 2:
        raise ValueError(f"means must have shape (K, D), got {tuple(means.shape)}")
    if not float(std) >= 0:
        raise ValueError(f"std must be >= 0, got {std!r}")
    k = means.shape[0]
    if weights is None:
        return torch.full((k,), -torch.log(torch.tensor(float(k))).item(), dtype=means.dtype, device=means.device)
    weights = torch.as_tensor(weights, dtype=means.dtype, device=means.device)
    if weights.shape != (k,) or bool((weights < 0).any()) or abs(float(weights.sum()) - 1) > 1e-6:
        raise ValueError(f"weights must be ({k},) non-negative and sum to 1, got shape {tuple(weights.shape)}, "
                         f"sum {float(weights.sum()):.6g}")
    return weights.log()


def mixture_score(
    x: torch.Tensor, alpha_bar: torch.Tensor | float, means: torch.Tensor, std: float, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """The exact score of a noised mixture of isotropic Gaussians. If x_0 ~ sum_k w_k N(mu_k, std^2 I), Eq. 4 of Ho et
    al. 2020 gives

        p_t(x) = sum_k w_k N(x; sqrt(ab) mu_k, v I),   v = ab std^2 + 1 - ab
        grad log p_t(x) = sum_k r_k(x) (sqrt(ab) mu_k - x) / v,   r_k = softmax_k( log w_k - ||x - sqrt(ab) mu_k||^2 / (2 v) )

    with the responsibilities r_k from a log-sum-exp (softmax), stable far from every component.

    Args:
        x: (N, D) points.
        alpha_bar: a float or (N,) tensor in [0, 1] (1: the clean mixture's score, if std > 0).
        means: (K, D) component means mu_k.
        std: the components' standard deviation (a float >= 0).
        weights: (K,) mixture weights summing to 1; None for equal weights.

    Returns:
        (N, D) scores.

    Chapter 13.
    """
    if x.dim() != 2 or x.shape[1] != means.shape[-1]:
        raise ValueError(f"x must have shape (N, D) with D = means.shape[1], got {tuple(x.shape)} and means {tuple(means.shape)}")
    log_w = _mixture_args(means, std, weights).to(x.dtype)  # (K,)
    ab = _alpha_bar(alpha_bar, x, allow_one=True).reshape(-1, 1)  # (N, 1) or (1, 1)
    v = ab * float(std) ** 2 + 1 - ab  # (N, 1)
    if not bool((v > 0).all()):
        raise ValueError("the noised mixture is degenerate (alpha_bar = 1 and std = 0): it has no score")
    centers = ab.sqrt().unsqueeze(-1) * means.to(x.dtype)  # (N or 1, K, D)
    diff = centers - x.unsqueeze(1)  # (N, K, D)
    r = torch.softmax(log_w - diff.pow(2).sum(-1) / (2 * v), dim=1)  # (N, K)
    return (r.unsqueeze(-1) * diff).sum(1) / v  # (N, D)


def mixture_sample(
    n: int, means: torch.Tensor, std: float, weights: torch.Tensor | None = None, generator: torch.Generator | None = None
) -> torch.Tensor:
    """n draws from the mixture sum_k w_k N(mu_k, std^2 I): the toy data whose noised score :func:`mixture_score` knows.

    Args:
        n: number of samples.
        means: (K, D) component means.
        std: the components' standard deviation.
        weights: (K,) mixture weights summing to 1; None for equal weights.
        generator: seeds the draws (on CPU; the result is moved to ``means``' device).

    Returns:
        (n, D) samples in ``means``' dtype.

    Chapter 13.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    probs = _mixture_args(means, std, weights).exp().cpu().double()  # (K,)
    k = torch.multinomial(probs, n, replacement=True, generator=generator) if n else torch.zeros(0, dtype=torch.long)
    noise = torch.randn((n, means.shape[1]), generator=generator, dtype=means.dtype)  # (n, D)
    return means[k.to(means.device)] + float(std) * noise.to(means.device)


__all__ = [
    "gaussian_posterior_mean",
    "ideal_denoise_fn",
    "ideal_denoiser",
    "mixture_sample",
    "mixture_score",
    "posterior_weights",
    "score_from_eps",
    "tweedie_score",
]
