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


# RGB -> YIQ (NTSC): Y is luma, (I, Q) the chroma plane, where a rotation turns hues and a scaling changes saturation
_YIQ = ((0.299, 0.587, 0.114), (0.596, -0.274, -0.322), (0.211, -0.523, 0.312))


def colour_variants(images: torch.Tensor, seed: int = 0, grey_tint: float = 0.5) -> torch.Tensor:
    """A random recolouring of each of ``images`` (N, 3, H, W) in [-1, 1], for training on styles of any colour.

    Each image gets its hue turned by a random angle (a rotation of YIQ's chroma plane), its saturation scaled by
    0.5-2.5, its RGB channels permuted at random, and a tenth of the images are inverted. A grey image has no
    hue to turn, so with probability ``grey_tint`` a grey one is first given a random tint (its luma coloured by a
    random RGB gain). Returns (N, 3, H, W) clamped to [-1, 1]; ``seed`` fixes every draw.

    Chapter 10 (AdaIN's training styles).
    """
    check_images(images, name="the images to recolour", channels=3)
    g = torch.Generator().manual_seed(seed)
    n = len(images)
    x = (images.float() + 1) / 2  # (N, 3, H, W) in [0, 1]
    grey = (x - x.mean(1, keepdim=True)).abs().amax((1, 2, 3)) < 0.02  # (N,) images without colour
    gain = 0.4 + 1.2 * torch.rand(n, 3, 1, 1, generator=g)  # (N, 3, 1, 1) a random tint
    tint = (torch.rand(n, generator=g) < grey_tint) & grey
    x = torch.where(tint[:, None, None, None], (x * gain).clamp(0, 1), x)
    to_yiq = torch.tensor(_YIQ)  # (3, 3)
    yiq = torch.einsum("ij,njhw->nihw", to_yiq, x)  # (N, 3, H, W)
    angle = 2 * torch.pi * torch.rand(n, generator=g)  # (N,)
    sat = 0.5 + 2.0 * torch.rand(n, generator=g)  # (N,)
    c, s = torch.cos(angle) * sat, torch.sin(angle) * sat
    i, q = yiq[:, 1], yiq[:, 2]
    yiq = torch.stack([yiq[:, 0], c[:, None, None] * i - s[:, None, None] * q, s[:, None, None] * i + c[:, None, None] * q], 1)
    x = torch.einsum("ij,njhw->nihw", torch.linalg.inv(to_yiq), yiq).clamp(0, 1)  # back to RGB
    perm = torch.stack([torch.randperm(3, generator=g) for _ in range(n)])  # (N, 3)
    x = torch.gather(x, 1, perm[:, :, None, None].expand_as(x))
    inverted = torch.rand(n, generator=g) < 0.1
    x = torch.where(inverted[:, None, None, None], 1 - x, x)
    return x * 2 - 1


__all__ = ["colour_variants", "match_colour", "pixel_stats"]
