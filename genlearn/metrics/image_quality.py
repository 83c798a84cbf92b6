"""Full-reference image metrics for paired translation (chapter 8): PSNR, SSIM and a sharpness ratio.

All take batches ``(N, C, H, W)`` with values in [-1, 1] (genlearn's image range, so the data
range is 2) and return one float per image, ``(N,)``; average them yourself, or pass them to a
table with their spread.

* :func:`psnr` -- peak signal-to-noise ratio, ``10 log10(R^2 / MSE)`` in dB (higher is closer).
* :func:`ssim` -- structural similarity (Wang et al. 2004, Eq. 13) with an 11x11 Gaussian window of
  sigma 1.5, K1 = 0.01, K2 = 0.03, averaged over every pixel and channel with the image
  reflect-padded at the borders: torchmetrics' convention, so the two agree. (Wang et al.'s MATLAB
  code averages only the windows that fit inside the image; on small crops that differs by ~0.01.)
* :func:`sharpness_ratio` -- high-frequency energy of an output relative to its target's: the mean
  squared response to a 3x3 Laplacian. 1 means as much fine detail as the target, below 1 blurrier
  (the failure of an L1-only model), above 1 noisier or over-sharpened.
* :func:`detail_ratio` -- the share of the target's Laplacian that an output reproduces: blur lowers
  it, detail that is not the target's (noise, a leftover mark) does not raise it.
* :func:`colourfulness` -- Hasler and Suesstrunk's (2003) colourfulness of an RGB image, no
  reference needed: 0 for gray, about 30-60 for ordinary photos. A colourization that averages
  plausible colours (L1 alone) scores below its targets.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

DATA_RANGE = 2.0  # images in [-1, 1]


def _check_pair(x: torch.Tensor, y: torch.Tensor, what: str) -> None:
    if x.ndim != 4 or x.shape != y.shape:
        raise ValueError(f"{what} compares two batches of the same shape (N, C, H, W), got {tuple(x.shape)} and {tuple(y.shape)}")


def psnr(x: torch.Tensor, target: torch.Tensor, data_range: float = DATA_RANGE) -> torch.Tensor:
    """Per-image PSNR in dB: ``10 log10(data_range^2 / mean((x - target)^2))``; inf for identical images.

    Chapters 8 and 9.
    """
    _check_pair(x, target, "psnr")
    mse = (x.double() - target.double()).pow(2).flatten(1).mean(1)  # (N,)
    return (10 * torch.log10(data_range**2 / mse)).float()


def _gaussian_window(size: int, sigma: float, channels: int, dtype) -> torch.Tensor:
    r = torch.arange(size, dtype=dtype) - (size - 1) / 2
    g = torch.exp(-(r**2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).expand(channels, 1, size, size).contiguous()  # (C, 1, k, k), one per channel


def ssim(x: torch.Tensor, target: torch.Tensor, data_range: float = DATA_RANGE, window: int = 11, sigma: float = 1.5,
         k1: float = 0.01, k2: float = 0.03) -> torch.Tensor:  # fmt: skip
    """Per-image SSIM (Wang et al. 2004): the mean over windows of

        ((2 mu_x mu_y + C1)(2 sigma_xy + C2)) / ((mu_x^2 + mu_y^2 + C1)(sigma_x^2 + sigma_y^2 + C2)),

    with ``C1 = (k1 R)^2``, ``C2 = (k2 R)^2`` and local statistics under a Gaussian window, at every
    pixel of the reflect-padded image (as torchmetrics computes it).

    Chapter 8.
    """
    _check_pair(x, target, "ssim")
    if min(x.shape[-2:]) < window:
        raise ValueError(f"ssim needs images of at least {window}x{window} pixels (its window), got {tuple(x.shape[-2:])}")
    pad = window // 2
    a = F.pad(x.double(), (pad, pad, pad, pad), mode="reflect")  # (N, C, H + 2 pad, W + 2 pad)
    b = F.pad(target.double(), (pad, pad, pad, pad), mode="reflect")
    c = a.shape[1]
    w = _gaussian_window(window, sigma, c, a.dtype)
    blur = lambda t: F.conv2d(t, w, groups=c)  # noqa: E731  (N, C, H, W): one window per pixel
    mu_a, mu_b = blur(a), blur(b)
    var_a, var_b = (blur(a * a) - mu_a**2).clamp_min(0), (blur(b * b) - mu_b**2).clamp_min(0)  # >= 0 up to rounding
    cov = blur(a * b) - mu_a * mu_b
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return s.flatten(1).mean(1).float()  # (N,)


_LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])


def laplacian(x: torch.Tensor) -> torch.Tensor:
    """The 3x3 Laplacian of each channel at the valid positions, in float64: (N, C, H, W) -> (N, C, H - 2, W - 2).

    Chapter 8.
    """
    if x.ndim != 4:
        raise ValueError(f"expected a batch (N, C, H, W), got shape {tuple(x.shape)}")
    c = x.shape[1]
    return F.conv2d(x.double(), _LAPLACIAN.to(x.device, torch.float64).expand(c, 1, 3, 3), groups=c)


def detail_ratio(x: torch.Tensor, target: torch.Tensor, over: str = "image") -> torch.Tensor:
    """The share of the target's fine detail that ``x`` reproduces: ``sum L(x) L(y) / sum L(y)^2`` with
    ``L`` the 3x3 Laplacian, the projection of x's detail onto the target's.

    1 for the target itself, below 1 for a blurred copy; detail that is not the target's (noise,
    a leftover watermark) is uncorrelated with it and adds nothing, unlike in :func:`sharpness_ratio`.

    Args:
        over: "image" for one ratio per image, (N,); "set" for one ratio of the sums over the batch, ().

    Chapter 8.
    """
    _check_pair(x, target, "detail_ratio")
    if over not in ("image", "set"):
        raise ValueError(f"over must be 'image' or 'set', got {over!r}")
    lx, ly = laplacian(x), laplacian(target)  # (N, C, H - 2, W - 2)
    if over == "set":
        return ((lx * ly).sum() / ly.pow(2).sum().clamp_min(1e-12)).float()
    return ((lx * ly).flatten(1).sum(1) / ly.pow(2).flatten(1).sum(1).clamp_min(1e-12)).float()


def high_frequency_energy(x: torch.Tensor) -> torch.Tensor:
    """Mean squared 3x3 Laplacian response per image (valid positions, all channels): (N, C, H, W) -> (N,).

    Chapters 8 and 9.
    """
    return laplacian(x).pow(2).flatten(1).mean(1).float()


def sharpness_ratio(x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image high-frequency energy of ``x`` over that of ``target``: < 1 blurrier, 1 alike, > 1 noisier.

    Chapter 8.
    """
    _check_pair(x, target, "sharpness_ratio")
    return high_frequency_energy(x) / high_frequency_energy(target).clamp_min(1e-12)


def colourfulness(x: torch.Tensor) -> torch.Tensor:
    """Hasler & Suesstrunk (2003), Eq. 3, on 0-255 RGB: ``sqrt(sd_rg^2 + sd_yb^2) + 0.3 sqrt(mu_rg^2 + mu_yb^2)``
    with ``rg = R - G`` and ``yb = (R + G) / 2 - B`` over each image's pixels: (N, 3, H, W) -> (N,).

    Chapter 8.
    """
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"colourfulness needs RGB batches (N, 3, H, W), got shape {tuple(x.shape)}")
    r, g, b = ((x.double() + 1) * 127.5).unbind(1)  # (N, H, W) each, in [0, 255]
    rg, yb = (r - g).flatten(1), (0.5 * (r + g) - b).flatten(1)  # (N, H * W)
    spread = (rg.var(1, correction=0) + yb.var(1, correction=0)).sqrt()
    return (spread + 0.3 * (rg.mean(1).pow(2) + yb.mean(1).pow(2)).sqrt()).float()


__all__ = ["DATA_RANGE", "colourfulness", "detail_ratio", "high_frequency_energy", "laplacian", "psnr", "sharpness_ratio", "ssim"]
