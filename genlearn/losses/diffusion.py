"""Denoising diffusion's objectives, one pure function each (chapter 13).

Ho, Jain & Abbeel (2020) train with the simplified loss of their Eq. 14 and report likelihoods with the variational
bound of their Eq. 5, whose terms are KL divergences between Gaussians (Eqs. 5-7) and a discretized Gaussian
decoder for the last step (Sec. 3.3). :mod:`genlearn.diffusion.likelihood` assembles the bound from these pieces.

**Value ranges.** Images are in genlearn's [-1, 1]; the decoder treats them as ``levels`` evenly spaced grey
values (256 for 8-bit images, 17 for the book's 8x8 digits). Everything is in nats.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.special import log_ndtr


def simple_loss(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L_simple of Ho et al. 2020, Eq. 14: the noise-prediction error, averaged over every element:

        L_simple = E_{t, x_0, eps} || eps - eps_theta(sqrt(ab_t) x_0 + sqrt(1 - ab_t) eps, t) ||^2

    The mean runs over pixels and the batch (as in the official code), so the value does not grow with the image
    size. The same function serves the x0 and v parameterizations: pass their targets from
    :func:`genlearn.diffusion.training_target`.

    Args:
        prediction: (N, C, H, W) the network's output (any shape).
        target: the regression target, same shape as ``prediction`` (eps for Eq. 14).

    Returns:
        A scalar.

    Chapter 13.
    """
    if prediction.shape != target.shape:
        raise ValueError(
            f"prediction and target must have the same shape, got {tuple(prediction.shape)} and {tuple(target.shape)}"
            " (no broadcasting: a (N, 1, H, W) vs (N, C, H, W) mismatch would silently change the loss)"
        )
    return F.mse_loss(prediction, target, reduction="mean")


def normal_kl(
    mean1: torch.Tensor | float, logvar1: torch.Tensor | float, mean2: torch.Tensor | float, logvar2: torch.Tensor | float
) -> torch.Tensor:
    """KL(N(mean1, exp(logvar1)) || N(mean2, exp(logvar2))) for each element, in nats (the terms of Ho et al. 2020,
    Eq. 5, are sums of these over pixels):

        KL = 1/2 * ( logvar2 - logvar1 + exp(logvar1 - logvar2) + (mean1 - mean2)^2 exp(-logvar2) - 1 )

    Args:
        mean1, logvar1: the first Gaussian's mean and log-variance (tensors or floats).
        mean2, logvar2: the second Gaussian's; all four broadcast against each other (at least one a tensor).

    Returns:
        The elementwise KL, with the broadcast shape.

    Chapter 13.
    """
    like = next((v for v in (mean1, logvar1, mean2, logvar2) if isinstance(v, torch.Tensor)), None)
    if like is None:
        raise TypeError("normal_kl needs at least one tensor argument")
    mean1, logvar1, mean2, logvar2 = (torch.as_tensor(v, dtype=like.dtype, device=like.device)
                                      for v in (mean1, logvar1, mean2, logvar2))
    return 0.5 * (logvar2 - logvar1 + torch.exp(logvar1 - logvar2) + (mean1 - mean2).pow(2) * torch.exp(-logvar2) - 1)


def _log_prob_between(lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
    """log(Phi(hi) - Phi(lo)) for lo < hi (standardized), from log CDFs: never Phi(hi) - Phi(lo) of two numbers near 1."""
    # Phi(hi) - Phi(lo) = Phi(-lo) - Phi(-hi): use the side where the bin's centre has the smaller tail
    flip = (lo + hi) > 0
    a, b = torch.where(flip, -hi, lo), torch.where(flip, -lo, hi)  # a < b, and b's tail is the heavier one
    log_b, log_a = log_ndtr(b), log_ndtr(a)
    # log(Phi(b) - Phi(a)) = log Phi(b) + log(1 - exp(log Phi(a) - log Phi(b))); the clamp keeps the log finite where the
    # bin is far narrower than the Gaussian (the official code clamps the CDF difference at 1e-12 likewise)
    return log_b + torch.log((-torch.expm1(log_a - log_b)).clamp(min=1e-12))


def discretized_gaussian_log_likelihood(
    x: torch.Tensor, mean: torch.Tensor, log_scale: torch.Tensor | float, levels: int = 256
) -> torch.Tensor:
    """log p(x) for each element of data with ``levels`` grey values, under a Gaussian discretized to their bins (the
    decoder p(x_0 | x_1) of Ho et al. 2020, Sec. 3.3, Eq. 13):

        p(x) = Phi((x + h - mean) / s) - Phi((x - h - mean) / s),    h = 1 / (levels - 1) (half a bin),  s = exp(log_scale)

    where the bottom bin (x = -1) extends to -inf and the top bin (x = 1) to +inf, so the probabilities of the
    ``levels`` values sum to 1. Computed from log CDFs (``torch.special.log_ndtr``), stable far in the tails.
    Ho et al.'s code uses 256 levels; the book's 8x8 digits have 17 (intensities 0..16).

    Args:
        x: data in [-1, 1] on the grid of ``levels`` evenly spaced values (any shape).
        mean: the decoder's mean, broadcastable against ``x``.
        log_scale: log standard deviation (a float or a tensor broadcastable against ``x``).
        levels: number of grey values (>= 2); the bin width is 2 / (levels - 1).

    Returns:
        The elementwise log-probability in nats (<= 0), with the broadcast shape of ``x``, ``mean`` and ``log_scale``.

    Chapter 13.
    """
    if isinstance(levels, bool) or not isinstance(levels, int) or levels < 2:
        raise ValueError(f"levels must be an int >= 2 (the number of grey values, 256 for 8-bit images), got {levels!r}")
    if x.numel() and (float(x.min()) < -1 - 1e-6 or float(x.max()) > 1 + 1e-6):
        raise ValueError(f"x must lie in [-1, 1] (genlearn's image range), got [{float(x.min()):.3g}, {float(x.max()):.3g}]")
    log_scale = torch.as_tensor(log_scale, dtype=mean.dtype, device=mean.device)
    half_bin = 1.0 / (levels - 1)
    inv_s = torch.exp(-log_scale)
    centered = x - mean
    hi = inv_s * (centered + half_bin)  # standardized top of the bin
    lo = inv_s * (centered - half_bin)  # standardized bottom of the bin
    log_cdf_hi = log_ndtr(hi)  # bottom bin: P(X < x + h)
    log_sf_lo = log_ndtr(-lo)  # top bin: P(X > x - h)
    log_mid = _log_prob_between(lo, hi)
    return torch.where(x < -1 + half_bin, log_cdf_hi, torch.where(x > 1 - half_bin, log_sf_lo, log_mid))


__all__ = ["discretized_gaussian_log_likelihood", "normal_kl", "simple_loss"]
