"""Toy 2-D Gaussian mixtures for watching mode collapse, and a mode-coverage score.

The two standard setups (VEEGAN, Srivastava et al. 2017, https://arxiv.org/abs/1705.07761; PacGAN,
Lin et al. 2018, https://arxiv.org/abs/1712.04086):

* ``"ring"``: 8 Gaussians evenly spaced on a circle of radius 2, std 0.02.
* ``"grid"``: 25 Gaussians at ``{-4, -2, 0, 2, 4}^2``, std 0.05.

Modes are equally likely.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ._common import check_choice

MIXTURES = ("ring", "grid")


def mixture_modes(name: str) -> tuple[torch.Tensor, float]:
    """Centers and standard deviation of a toy mixture.

    Args:
        name: "ring" or "grid".

    Returns:
        centers: float32 ``(K, 2)`` (K = 8 for ring, 25 for grid).
        std: the per-coordinate standard deviation of every mode.

    Chapter 1 (and the tour in Chapter 0).
    """
    check_choice(name, MIXTURES, "mixture")
    if name == "ring":
        angles = torch.arange(8, dtype=torch.float64) * (2 * math.pi / 8)
        centers = 2.0 * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)  # (8, 2)
        return centers.float(), 0.02
    ticks = torch.tensor([-4.0, -2.0, 0.0, 2.0, 4.0])
    centers = torch.cartesian_prod(ticks, ticks)  # (25, 2)
    return centers, 0.05


def toy_mixture(name: str, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample a toy mixture: ``x = centers[mode] + std * eps`` with ``mode ~ Uniform{0..K-1}``, ``eps ~ N(0, I)``.

    Args:
        name: "ring" or "grid".
        n: number of samples.
        seed: seed of a ``torch.Generator``; the same seed gives the same samples.

    Returns:
        x: float32 ``(n, 2)``.
        mode: int64 ``(n,)`` index of the mode each sample came from.

    Chapters 1 and 5 (and the tour in Chapter 0).
    """
    centers, std = mixture_modes(name)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    g = torch.Generator().manual_seed(seed)
    mode = torch.randint(len(centers), (int(n),), generator=g)  # (n,)
    x = centers[mode] + std * torch.randn(int(n), 2, generator=g)  # (n, 2)
    return x, mode


def mode_coverage(
    x: torch.Tensor | np.ndarray,
    name: str,
    n_sigma: float = 3.0,
    min_share: float = 0.2,
) -> dict:
    """How many modes a set of 2-D samples covers, and how many samples are high quality.

    Rule (PacGAN's, Lin et al. 2018, Sec. 5): a sample is *high quality* if it lies within
    ``n_sigma * std`` (Euclidean distance) of its nearest center. A mode is *covered* if it received
    at least ``max(1, ceil(min_share * n / K))`` high-quality samples, i.e. by default a fifth of the
    ``n / K`` a perfect sampler would put there (20 of 2,500 samples for the 25-mode grid, as in
    PacGAN). A generator that drops a mode, or leaves only a few stragglers there, does not cover it.

    Args:
        x: ``(n, 2)`` samples, e.g. a generator's output.
        name: "ring" or "grid".
        n_sigma: quality radius in standard deviations.
        min_share: fraction of the expected per-mode count a mode needs to count as covered.

    Returns:
        dict with ``modes_covered`` (int, out of K), ``high_quality`` (float, fraction of samples in
        [0, 1]), ``per_mode_counts`` (list of K ints: high-quality samples per mode), ``n_modes`` (K)
        and ``min_count`` (the threshold used).

    Chapter 1.
    """
    centers, std = mixture_modes(name)
    x = torch.as_tensor(x).detach().to(device="cpu", dtype=torch.float32)
    if x.dim() != 2 or x.shape[1] != 2 or len(x) == 0:
        raise ValueError(f"x must be a non-empty (n, 2) array of 2-D samples, got shape {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError("x contains NaN or inf; the generator probably diverged")
    if n_sigma <= 0 or not 0 <= min_share <= 1:
        raise ValueError(f"need n_sigma > 0 and 0 <= min_share <= 1, got {n_sigma} and {min_share}")
    dist = torch.cdist(x, centers)  # (n, K)
    nearest_dist, nearest = dist.min(dim=1)  # (n,), (n,)
    good = nearest_dist <= n_sigma * std
    counts = torch.bincount(nearest[good], minlength=len(centers))  # (K,)
    min_count = max(1, math.ceil(min_share * len(x) / len(centers)))
    return {
        "modes_covered": int((counts >= min_count).sum()),
        "high_quality": float(good.float().mean()),
        "per_mode_counts": counts.tolist(),
        "n_modes": len(centers),
        "min_count": min_count,
    }
