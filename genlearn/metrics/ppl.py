"""Perceptual path length (Karras et al. 2019, StyleGAN Sec. 4.1, Eq. 3): how much the image changes per small step in a latent space.

In W (Eq. 3, the style-based generator's space), along straight lines, because W is not normalized:

    l_W = E_{z1, z2, t ~ U(0, 1)} [ d( g(lerp(f(z1), f(z2); t)), g(lerp(f(z1), f(z2); t + eps)) ) / eps^2 ]

In Z (Eq. 2), along great circles, which the paper calls the most appropriate interpolation in the normalized
input latent space:

    l_Z = E_{z1, z2, t ~ U(0, 1)} [ d( G(slerp(z1, z2; t)), G(slerp(z1, z2; t + eps)) ) / eps^2 ],   G = g o f

StyleGAN's Table 3 sets the two side by side (traditional generators measured in Z, style-based ones in W).
``d`` is a perceptual distance. The paper uses LPIPS on VGG features; genlearn takes any feature function
and uses the squared Euclidean distance between features, so on the digits it is the book's own classifier
(:func:`genlearn.metrics.digits.digits_features`). genlearn sets the noise inputs to zero for both images of a
pair. The reference metric code (stylegan2-ada-pytorch, ``metrics/perceptual_path_length.py``) instead draws new
random noise for each batch and uses the same noise for both images of a pair; the two agree when the noise
strengths are near 0. Like every sampled score, report it with its spread over draws.
"""

from __future__ import annotations

from typing import Callable

import torch

from genlearn.models.stylegan import StyleGANGenerator

SPACES = ("w", "z")


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between the directions of ``a`` and ``b`` (N, D) at ``t`` (N, 1): unit vectors (N, D).

    The reference metric code's ``slerp`` (stylegan2-ada-pytorch): both ends are normalized, and the result moves
    along the great circle from ``a`` (t = 0) to ``b`` (t = 1) at the constant angular speed ``acos(a . b)``. The
    cosine is clamped to [-1, 1] so rounding cannot make ``acos`` NaN.

    Chapter 11.
    """
    if a.shape != b.shape or a.ndim != 2 or t.shape != (a.shape[0], 1):
        raise ValueError(f"slerp needs a and b (N, D) and t (N, 1), got {tuple(a.shape)}, {tuple(b.shape)} and {tuple(t.shape)}")
    a = a / a.norm(dim=-1, keepdim=True)
    b = b / b.norm(dim=-1, keepdim=True)
    d = (a * b).sum(dim=-1, keepdim=True)  # (N, 1): cos of the angle between them
    p = t * torch.acos(d.clamp(-1.0, 1.0))  # (N, 1): the angle travelled
    c = b - d * a  # b's component orthogonal to a
    c = c / c.norm(dim=-1, keepdim=True)
    out = a * torch.cos(p) + c * torch.sin(p)
    return out / out.norm(dim=-1, keepdim=True)


@torch.no_grad()
def perceptual_path_length(
    G: StyleGANGenerator,
    features: Callable[[torch.Tensor], torch.Tensor],
    n: int = 1000,
    eps: float = 1e-4,
    generator: torch.Generator | None = None,
    batch_size: int = 250,
    space: str = "w",
) -> torch.Tensor:
    """Per-pair path lengths (n,) with distance ``||features(a) - features(b)||^2``; their mean is l_W or l_Z.

    ``space="w"``: lerp between ``f(z1)`` and ``f(z2)`` (StyleGAN Eq. 3). ``space="z"``: slerp between ``z1`` and
    ``z2`` (Eq. 2), then the mapping network. Either space draws ``z1``, ``z2`` and ``t`` alike from ``generator``, so
    one seed measures both spaces on the same pairs. The reference metric code (not the paper, which gives only
    the number of samples) discards the top and bottom 1% of the values before averaging; the caller may do the
    same (``torch.quantile``).

    Chapter 11.
    """
    if n < 1 or not eps > 0:
        raise ValueError(f"need n >= 1 pairs and eps > 0, got n={n} and eps={eps}")
    if space not in SPACES:
        raise ValueError(f"space must be one of {SPACES} (interpolate in W with lerp, or in Z with slerp), got {space!r}")
    out = []
    for start in range(0, n, batch_size):
        m = min(batch_size, n - start)
        z1, z2 = G.sample_latent(m, generator), G.sample_latent(m, generator)  # (m, latent_dim) each
        t = torch.rand(m, 1, generator=generator).to(z1.device)
        if space == "w":
            w1, w2 = G.mapping_net(z1), G.mapping_net(z2)  # (m, w_dim) each
            pair = torch.cat([torch.lerp(w1, w2, t), torch.lerp(w1, w2, t + eps)])  # (2m, w_dim)
        else:
            pair = G.mapping_net(torch.cat([slerp(z1, z2, t), slerp(z1, z2, t + eps)]))  # (2m, w_dim)
        images = G.synthesis(G.broadcast(pair), noise="none")  # (2m, C, S, S)
        f = features(images)
        out.append((f[:m] - f[m:]).pow(2).sum(dim=1) / eps**2)
    return torch.cat(out)


__all__ = ["SPACES", "perceptual_path_length", "slerp"]
