"""The variational autoencoder's objective, one pure function each (chapter 6).

Notation (Kingma & Welling 2014): an encoder ``q(z|x) = N(mu, diag(exp(logvar)))``, a prior
``p(z) = N(0, I)`` and a decoder ``p(x|z)``. The evidence lower bound (ELBO, their Eq. 3) is

    L(x) = E_{q(z|x)}[log p(x|z)] - KL(q(z|x) || p(z))  <=  log p(x)

**Value ranges.** genlearn images live in [-1, 1]; the likelihoods here take *targets* in [0, 1]
(pixel intensities, or 0/1 for binarized images). Convert explicitly with
``genlearn.checks.to_unit(x)`` or :func:`binarize`. Everything is in nats.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F

LOG_2PI = math.log(2 * math.pi)


def _check_pair(mu: torch.Tensor, logvar: torch.Tensor) -> None:
    if not isinstance(mu, torch.Tensor) or not isinstance(logvar, torch.Tensor):
        raise TypeError("mu and logvar must be tensors of shape (N, latent_dim)")
    if mu.shape != logvar.shape:
        raise ValueError(f"mu and logvar must have the same shape, got {tuple(mu.shape)} and {tuple(logvar.shape)}")


def check_targets(target: torch.Tensor, name: str = "target") -> torch.Tensor:
    """Raise unless ``target`` is a float tensor in [0, 1] (a Bernoulli likelihood's support).

    Chapter 6.
    """
    if not isinstance(target, torch.Tensor) or not target.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor in [0, 1], got {type(target).__name__}")
    if target.numel() > 0:
        lo, hi = float(target.min()), float(target.max())
        if not (lo >= 0.0 and hi <= 1.0):  # also catches NaN
            hint = (
                "; genlearn images are in [-1, 1]: convert them with genlearn.checks.to_unit(x) "
                "(or genlearn.losses.binarize(x) for 0/1 pixels)"
                if lo >= -1.0 and hi <= 1.0
                else ""
            )
            raise ValueError(f"{name} must lie in [0, 1] for the Bernoulli likelihood, got values in [{lo:.3g}, {hi:.3g}]{hint}")
    return target


def binarize(x: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Images in [-1, 1] -> 0/1 float targets: ``1`` where ``to_unit(x) > threshold``.

    A *fixed* threshold (not stochastic binarization), so a binarized test set is the same for
    every reader. On the 8x8 digits (intensities v/16) the default 0.5 keeps pixels with v > 8.

    Chapter 6.
    """
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError(f"x must be a floating-point tensor of images in [-1, 1], got {type(x).__name__}")
    if x.numel() and (float(x.min()) < -1 - 1e-3 or float(x.max()) > 1 + 1e-3):
        raise ValueError(f"x must lie in [-1, 1] (genlearn's image range), got [{float(x.min()):.3g}, {float(x.max()):.3g}]")
    return ((x + 1) / 2 > threshold).to(x.dtype)


def reparameterize(
    mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor | None = None, generator: torch.Generator | None = None
) -> torch.Tensor:
    """The reparameterization trick (Kingma & Welling 2014, Sec. 2.4 and Eq. 10):

        z = mu + sigma * eps,   sigma = exp(logvar / 2),   eps ~ N(0, I)

    ``z`` is a deterministic, differentiable function of ``(mu, logvar)`` given the noise, so
    gradients flow through the sample.

    Args:
        mu, logvar: (N, L) encoder outputs.
        eps: noise of shape ``(..., N, L)`` (broadcast over leading sample axes); drawn if None.
        generator: seeds the noise when ``eps`` is None (drawn on CPU, moved to ``mu``'s device).

    Returns:
        z with the shape of ``eps`` (or of ``mu``).

    Chapter 6.
    """
    _check_pair(mu, logvar)
    if eps is None:
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype).to(mu.device)
    return mu + torch.exp(0.5 * logvar) * eps


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """KL(N(mu, diag(sigma^2)) || N(0, I)) in closed form (Kingma & Welling 2014, Appendix B; the
    first term of Eq. 10):

        KL = -1/2 * sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2)

    Args:
        mu, logvar: (N, L).
        reduction: "mean" (summed over latent dims, averaged over the batch: a scalar) or
            "none" (one value per example, (N,)).

    Chapter 6.
    """
    _check_pair(mu, logvar)
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(-1)  # (N,)
    if reduction == "none":
        return kl
    if reduction == "mean":
        return kl.mean()
    raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")


def bernoulli_log_likelihood(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """log p(x|z) of a factorized Bernoulli decoder, summed over pixels (Kingma & Welling 2014, App. C.1):

        log p(x|z) = sum_i x_i log p_i + (1 - x_i) log(1 - p_i),   p_i = sigmoid(logits_i)

    computed from logits (``-binary_cross_entropy_with_logits``), which never evaluates log(0).

    Args:
        logits: (..., N, C, H, W) decoder logits (leading sample axes allowed).
        target: (N, C, H, W) in [0, 1] -- *not* genlearn's [-1, 1]: pass ``to_unit(x)`` or ``binarize(x)``.

    Returns:
        (..., N) log-likelihood per image, in nats.

    Chapter 6.
    """
    check_targets(target)
    target = target.expand_as(logits)
    ll = -F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    return ll.flatten(-3).sum(-1)


def gaussian_log_likelihood(mean: torch.Tensor, target: torch.Tensor, logvar: torch.Tensor | float) -> torch.Tensor:
    """log p(x|z) of a Gaussian decoder N(mean, exp(logvar) I), summed over pixels (Kingma & Welling 2014, App. C.2):

        log p(x|z) = -1/2 * sum_i [ log(2 pi) + logvar_i + (x_i - mean_i)^2 / exp(logvar_i) ]

    A density, not a probability: its values are not comparable with Bernoulli log-likelihoods.

    Args:
        mean: (..., N, C, H, W) decoder means.
        target: (N, C, H, W) targets (any real values; genlearn's decoders use [0, 1]).
        logvar: log-variance, a float or a tensor broadcastable to ``mean`` (e.g. one learned scalar).

    Returns:
        (..., N) log-density per image, in nats.

    Chapter 6.
    """
    if not isinstance(target, torch.Tensor) or not target.is_floating_point():
        raise TypeError(f"target must be a floating-point tensor, got {type(target).__name__}")
    logvar = torch.as_tensor(logvar, dtype=mean.dtype, device=mean.device)
    ll = -0.5 * (LOG_2PI + logvar + (target - mean).pow(2) * torch.exp(-logvar))
    return ll.expand_as(mean).flatten(-3).sum(-1)


def log_normal(z: torch.Tensor, mu: torch.Tensor | float = 0.0, logvar: torch.Tensor | float = 0.0) -> torch.Tensor:
    """log N(z; mu, diag(exp(logvar))), summed over the last axis: (..., L) -> (...).

    Chapter 6.
    """
    mu = torch.as_tensor(mu, dtype=z.dtype, device=z.device)
    logvar = torch.as_tensor(logvar, dtype=z.dtype, device=z.device)
    return -0.5 * (LOG_2PI + logvar + (z - mu).pow(2) * torch.exp(-logvar)).sum(-1)


def elbo(log_px_z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    """The per-example evidence lower bound with the analytic KL (Kingma & Welling 2014, Eq. 3 and 10):

        L(x) = log p(x|z) - beta * KL(q(z|x) || N(0, I)),   z = mu + sigma * eps

    with a single sample ``z``. ``beta = 1`` is the ELBO; ``beta != 1`` is the beta-VAE objective
    (Higgins et al. 2017, Eq. 4) -- no longer a bound on log p(x) unless beta = 1.
    The training loss is ``-elbo(...).mean()``.

    Args:
        log_px_z: (N,) reconstruction log-likelihood, e.g. :func:`bernoulli_log_likelihood`.
        mu, logvar: (N, L) encoder outputs.
        beta: weight of the KL term.

    Returns:
        (N,) in nats.

    Chapter 6.
    """
    if log_px_z.shape != mu.shape[:1]:
        raise ValueError(f"log_px_z must have shape ({mu.shape[0]},) (one value per example), got {tuple(log_px_z.shape)}")
    return log_px_z - beta * kl_divergence(mu, logvar, reduction="none")


@torch.no_grad()
def iw_log_likelihood(
    encode: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]],
    log_px_z: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    k: int,
    *,
    chunk_size: int = 100,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The importance-weighted bound L_k on log p(x) (Burda et al. 2016, Eq. 8), per example:

        L_k(x) = log (1/k) sum_{i=1}^k w_i,   w_i = p(x|z_i) p(z_i) / q(z_i|x),   z_i ~ q(z|x)

    computed as ``logsumexp_i(log w_i) - log k`` (no ``exp`` of a large negative number).
    ``E[L_1] = ELBO <= E[L_k] <= E[L_{k+1}] -> log p(x)`` as k grows (Burda et al., Theorem 1).
    The k samples are drawn in chunks of ``chunk_size`` (``eps`` of shape (chunk, N, L) per chunk,
    in order), so k = 1000 fits in memory.

    Args:
        encode: ``x -> (mu, logvar)``, each (N, L).
        log_px_z: ``z (S, N, L) -> log p(x|z) (S, N)`` for the same ``x`` (closes over the targets).
        x: the encoder's input (N, ...).
        k: number of importance samples (>= 1).
        chunk_size: samples per chunk (memory ~ chunk_size * N * decoder size).
        generator: seeds the samples.

    Returns:
        (N,) estimates of log p(x) in nats (lower bounds in expectation).

    Chapter 6.
    """
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    mu, logvar = encode(x)  # (N, L) each
    log_w = []
    for start in range(0, k, chunk_size):
        s = min(chunk_size, k - start)
        eps = torch.randn((s, *mu.shape), generator=generator, dtype=mu.dtype).to(mu.device)  # (s, N, L)
        z = reparameterize(mu, logvar, eps=eps)  # (s, N, L)
        log_w.append(log_px_z(z) + log_normal(z) - log_normal(z, mu, logvar))  # (s, N)
    log_w = torch.cat(log_w)  # (k, N)
    return torch.logsumexp(log_w, dim=0) - math.log(k)


__all__ = [
    "LOG_2PI",
    "bernoulli_log_likelihood",
    "binarize",
    "check_targets",
    "elbo",
    "gaussian_log_likelihood",
    "iw_log_likelihood",
    "kl_divergence",
    "log_normal",
    "reparameterize",
]
