"""Fully connected generator and discriminator: the original GAN (Goodfellow et al. 2014, Sec. 5).

Used on 2-D toy mixtures (chapter 1) and, flattened, on small images (``python -m genlearn train gan``).
Data of any shape ``data_shape`` is flattened to ``D = prod(data_shape)`` numbers.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from genlearn.models._config import SavedConfig, check_at_least
from genlearn.models.layers import check_unconditional


@dataclass(frozen=True)
class MLPConfig(SavedConfig):
    """Sizes of :class:`MLPGenerator` and :class:`MLPDiscriminator`.

    Args:
        data_shape: shape of one sample, e.g. ``(2,)`` for toy points or ``(1, 8, 8)`` for digits.
        latent_dim: size of ``z ~ N(0, I)``.
        hidden: width of every hidden layer.
        depth: number of hidden layers in each network.
        tanh_output: end G in ``tanh`` (images in [-1, 1]); False for unbounded toy data.

    Chapters 1, 4 and 5.
    """

    data_shape: tuple[int, ...] = (2,)
    latent_dim: int = 16
    hidden: int = 128
    depth: int = 3
    tanh_output: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_shape", tuple(int(s) for s in self.data_shape))
        if not self.data_shape or min(self.data_shape) < 1:
            raise ValueError(f"data_shape must be a non-empty tuple of positive sizes, got {self.data_shape}")
        check_at_least(self, 1, "latent_dim", "hidden", "depth")

    @property
    def data_dim(self) -> int:
        return math.prod(self.data_shape)

    @classmethod
    def tiny(cls, data_shape: tuple[int, ...] = (2,)) -> "MLPConfig":
        return cls(data_shape=data_shape, latent_dim=4, hidden=16, depth=2)

    @classmethod
    def images(cls, channels: int = 1, size: int = 8) -> "MLPConfig":
        """A preset for flattened images in [-1, 1]."""
        return cls(data_shape=(channels, size, size), latent_dim=64, hidden=256, depth=3, tanh_output=True)

    def to_dict(self) -> dict:
        return {**asdict(self), "data_shape": list(self.data_shape)}

    @classmethod
    def from_dict(cls, d: dict) -> "MLPConfig":
        return cls(**{**d, "data_shape": tuple(d["data_shape"])})


def check_latent(z: torch.Tensor, latent_dim: int) -> torch.Tensor:
    """Raise a clear error unless ``z`` is a float tensor of shape (N, latent_dim).

    Chapter 1.
    """
    if not isinstance(z, torch.Tensor) or not z.is_floating_point():
        raise TypeError(f"z must be a floating-point tensor of shape (N, {latent_dim}), got {type(z).__name__}")
    if z.dim() != 2 or z.shape[1] != latent_dim:
        raise ValueError(f"z must have shape (N, {latent_dim}) (latent_dim={latent_dim}), got {tuple(z.shape)}")
    return z


class MLPGenerator(nn.Module):
    """``z (N, latent_dim) -> x (N, *data_shape)``: ``depth`` Linear+ReLU layers, then a linear output.

    Args:
        config: sizes; ``tanh_output`` bounds samples to [-1, 1].

    Chapter 1.
    """

    def __init__(self, config: MLPConfig = MLPConfig()):
        super().__init__()
        self.config = config
        layers, d = [], config.latent_dim
        for _ in range(config.depth):
            layers += [nn.Linear(d, config.hidden), nn.ReLU()]  # (N, hidden)
            d = config.hidden
        layers.append(nn.Linear(d, config.data_dim))  # (N, D)
        if config.tanh_output:
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """``z (N, latent_dim) -> samples (N, *data_shape)``."""
        check_latent(z, self.config.latent_dim)
        return self.net(z).reshape(z.shape[0], *self.config.data_shape)

    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``z ~ N(0, I)`` of shape (n, latent_dim) on this model's device (drawn on CPU when seeded)."""
        device = next(self.parameters()).device
        return torch.randn(n, self.config.latent_dim, generator=generator).to(device)

    @torch.no_grad()
    def sample(self, n: int, *, labels: None = None, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` samples ``(n, *data_shape)``, without gradients."""
        check_unconditional(self, labels)
        return self(self.sample_latent(n, generator))


class MLPDiscriminator(nn.Module):
    """``x (N, *data_shape) -> logits (N,)``: ``depth`` Linear+LeakyReLU(0.2) layers, then a linear logit.

    Returns *logits*; ``sigmoid(logit)`` is the probability that ``x`` is real.

    Chapters 1, 4 and 5.
    """

    def __init__(self, config: MLPConfig = MLPConfig()):
        super().__init__()
        self.config = config
        layers, d = [], config.data_dim
        for _ in range(config.depth):
            layers += [nn.Linear(d, config.hidden), nn.LeakyReLU(0.2)]  # (N, hidden)
            d = config.hidden
        layers.append(nn.Linear(d, 1))  # (N, 1)
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x (N, *data_shape) -> logits (N,)``."""
        shape = self.config.data_shape
        if not isinstance(x, torch.Tensor) or tuple(x.shape[1:]) != shape:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"x must have shape (N, {', '.join(map(str, shape))}), got {got}")
        return self.net(x.reshape(x.shape[0], -1)).squeeze(1)  # (N,)


__all__ = ["MLPConfig", "MLPDiscriminator", "MLPGenerator", "check_latent"]
