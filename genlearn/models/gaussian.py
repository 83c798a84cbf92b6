"""The simplest generative baseline: one multivariate Gaussian over all pixels.

It captures the mean digit and pixel correlations, nothing multimodal, so its samples are
blurry blends. Any GAN or VAE in the book should beat it on every metric.
"""

from __future__ import annotations

import torch
from torch import nn

from genlearn.checks import check_images
from genlearn.models.layers import check_unconditional


class PixelGaussian(nn.Module):
    """N(mu, Sigma) over flattened images ``(C*H*W,)``, fitted in closed form by :meth:`fit`.

    Args:
        shape: image shape ``(C, H, W)``.
        eps: ridge added to the covariance diagonal (keeps it invertible with few images).

    Chapters 0, 1 and 6.
    """

    def __init__(self, shape: tuple[int, int, int], eps: float = 1e-3):
        super().__init__()
        self.shape, self.eps = tuple(shape), eps
        d = shape[0] * shape[1] * shape[2]
        self.register_buffer("mean", torch.zeros(d))
        self.register_buffer("scale_tril", torch.eye(d))

    @torch.no_grad()
    def fit(self, x: torch.Tensor) -> "PixelGaussian":
        """Maximum-likelihood mean and covariance of images ``(N, C, H, W)`` in [-1, 1]."""
        check_images(x, channels=self.shape[0], size=self.shape[1:])
        flat = x.reshape(x.shape[0], -1).double()  # (N, D)
        mean = flat.mean(0)
        cov = (flat - mean).T @ (flat - mean) / flat.shape[0] + self.eps * torch.eye(flat.shape[1], dtype=torch.float64)
        self.mean.copy_(mean.float())
        self.scale_tril.copy_(torch.linalg.cholesky(cov).float())
        return self

    @torch.no_grad()
    def sample(self, n: int, *, labels: None = None, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` images ``(n, C, H, W)``, clamped to [-1, 1]."""
        check_unconditional(self, labels)
        eps = torch.randn(n, self.mean.shape[0], generator=generator, device=self.mean.device)  # (n, D)
        x = self.mean + eps @ self.scale_tril.T
        return x.clamp(-1, 1).reshape(n, *self.shape)
