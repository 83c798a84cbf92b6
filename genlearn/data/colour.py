"""Colour preservation for style transfer: give the style image the content's colours first (Gatys et al. 2016b).

"Preserving color in neural artistic style transfer" (Gatys, Bethge, Hertzmann, Shechtman 2016,
Sec. 2.1) maps the style image's RGB values linearly, ``x' = A x + b``, so that their mean and
covariance equal the content image's; style transfer with that style image then paints the
content's colours. AdaIN uses the same step for its colour control (Huang & Belongie 2017, Sec. 7.3).
"""

from __future__ import annotations

import torch

from genlearn.checks import check_images


def pixel_stats(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean (3,) and covariance (3, 3) of an image's (3, H, W) RGB values, each pixel a sample, in float64.

    Chapter 9 (colour preservation).
    """
    pixels = x.reshape(3, -1).double()  # (3, H W)
    mu = pixels.mean(dim=1)
    d = pixels - mu[:, None]
    return mu, d @ d.T / pixels.shape[1]


def _sym_power(s: torch.Tensor, power: float) -> torch.Tensor:
    """``s^power`` of a symmetric positive definite 3x3 covariance (eigenvalues floored at 1e-10: a grey image has rank 1)."""
    vals, vecs = torch.linalg.eigh(s)
    return vecs @ torch.diag(vals.clamp_min(1e-10) ** power) @ vecs.T


def match_colour(source: torch.Tensor, target: torch.Tensor, clamp: bool = True) -> torch.Tensor:
    """``source``'s pixels mapped by ``A x + b`` to the mean and covariance of ``target``'s; both (3, H, W) in [-1, 1].

    ``A = Sigma_t^(1/2) Sigma_s^(-1/2)`` (symmetric square roots, the paper's "image analogies" choice;
    any A with ``A Sigma_s A^T = Sigma_t`` matches the statistics) and ``b = mu_t - A mu_s``.
    The result is clamped to [-1, 1] unless ``clamp=False``.

    Chapters 9 and 10.
    """
    for name, x in (("the image to recolour", source), ("the image whose colours to take", target)):
        if x.ndim != 3:
            raise ValueError(f"match_colour takes single images (3, H, W); {name} has shape {tuple(x.shape)}")
        check_images(x[None], name=name, channels=3)
    mu_s, cov_s = pixel_stats(source)
    mu_t, cov_t = pixel_stats(target)
    a = _sym_power(cov_t, 0.5) @ _sym_power(cov_s, -0.5)  # (3, 3)
    y = (a @ (source.reshape(3, -1).double() - mu_s[:, None]) + mu_t[:, None]).reshape(source.shape).to(source.dtype)
    return y.clamp(-1, 1) if clamp else y


__all__ = ["match_colour", "pixel_stats"]
