"""A denoiser of 2-D points: the smallest network that learns a score field one can draw and check.

Chapter 13 trains it with the same step as the image model (:func:`genlearn.train.ddpm.ddpm_step`) on chapter 1's ring
of Gaussians, whose noisy score is known in closed form (:func:`genlearn.diffusion.ideal.mixture_score`).
"""

from __future__ import annotations

import torch
from torch import nn

from genlearn.models.diffusion_unet import timestep_embedding


class ToyDenoiser(nn.Module):
    """``forward(x_t (N, D), t (N,), y=None) -> eps guess (N, D)``: an MLP on [x_t, the sinusoidal embedding of t].

    Args:
        dim: the points' dimension D.
        hidden: units per hidden layer.
        layers: hidden layers (SiLU between them).
        time_dim: size of t's sinusoidal embedding (even).

    Chapter 13.
    """

    def __init__(self, dim: int = 2, hidden: int = 128, layers: int = 3, time_dim: int = 32):
        super().__init__()
        if dim < 1 or hidden < 1 or layers < 1 or time_dim < 2 or time_dim % 2:
            raise ValueError(f"dim, hidden, layers >= 1 and an even time_dim >= 2 are needed, got {dim}, {hidden}, {layers}, {time_dim}")
        self.dim, self.time_dim = dim, time_dim
        blocks: list[nn.Module] = []
        width = dim + time_dim
        for _ in range(layers):
            blocks += [nn.Linear(width, hidden), nn.SiLU()]
            width = hidden
        self.net = nn.Sequential(*blocks, nn.Linear(hidden, dim))

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if y is not None:
            raise ValueError("ToyDenoiser is unconditional; pass y=None")
        if x_t.dim() != 2 or x_t.shape[1] != self.dim or t.shape != (x_t.shape[0],):
            raise ValueError(f"x_t must be (N, {self.dim}) and t (N,), got {tuple(x_t.shape)} and {tuple(t.shape)}")
        return self.net(torch.cat([x_t, timestep_embedding(t.float(), self.time_dim)], dim=1))  # (N, D)


__all__ = ["ToyDenoiser"]
