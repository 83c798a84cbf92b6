"""Perceptual path length (Karras et al. 2019, StyleGAN Sec. 4.1, Eq. 3): how much the image changes per small step in W.

    l_W = E_{z1, z2, t ~ U(0, 1)} [ d( g(lerp(f(z1), f(z2); t)), g(lerp(f(z1), f(z2); t + eps)) ) / eps^2 ]

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


@torch.no_grad()
def perceptual_path_length(
    G: StyleGANGenerator,
    features: Callable[[torch.Tensor], torch.Tensor],
    n: int = 1000,
    eps: float = 1e-4,
    generator: torch.Generator | None = None,
    batch_size: int = 250,
) -> torch.Tensor:
    """Per-pair path lengths (n,) in W (Eq. 3) with distance ``||features(a) - features(b)||^2``; their mean is l_W.

    The reference metric code (not the paper, which gives only the number of samples) discards the top and
    bottom 1% of the values before averaging; the caller may do the same (``torch.quantile``).

    Chapter 11.
    """
    if n < 1 or not eps > 0:
        raise ValueError(f"need n >= 1 pairs and eps > 0, got n={n} and eps={eps}")
    out = []
    for start in range(0, n, batch_size):
        m = min(batch_size, n - start)
        w1, w2 = G.mapping_net(G.sample_latent(m, generator)), G.mapping_net(G.sample_latent(m, generator))  # (m, w_dim) each
        t = torch.rand(m, 1, generator=generator).to(w1.device)
        pair = torch.cat([torch.lerp(w1, w2, t), torch.lerp(w1, w2, t + eps)])  # (2m, w_dim)
        images = G.synthesis(G.broadcast(pair), noise="none")  # (2m, C, S, S)
        f = features(images)
        out.append((f[:m] - f[m:]).pow(2).sum(dim=1) / eps**2)
    return torch.cat(out)


__all__ = ["perceptual_path_length"]
