"""Class-conditional DCGAN: G(z, y) and a projection discriminator D(x, y).

* Generator (Mirza & Osindero 2014): the label is embedded (``nn.Embedding``) and concatenated with
  ``z``; the rest is the DCGAN generator with input ``latent_dim + embed_dim``.
* Discriminator (Miyato & Koyama 2018, Eq. 3): with features ``phi(x)`` (D's last 4x4 map,
  flattened), the logit is

      D(x, y) = psi(phi(x)) + embed(y) . phi(x)

  where ``psi`` is the unconditional DCGAN head (one 4x4 convolution) and the inner product
  with a learned class embedding is the *projection* term that scores "is x a real y".
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import nn

from genlearn.checks import check_images
from genlearn.models._config import SavedConfig, check_at_least
from genlearn.models.dcgan import DCGANConfig, DCGANDiscriminator, DCGANGenerator
from genlearn.models.layers import dcgan_init


@dataclass(frozen=True)
class ConditionalConfig(SavedConfig):
    """A :class:`DCGANConfig` plus the number of classes and the label-embedding size for G.

    Chapter 3.
    """

    dcgan: DCGANConfig = DCGANConfig.digits()
    num_classes: int = 10
    embed_dim: int = 16

    def __post_init__(self) -> None:
        if isinstance(self.dcgan, dict):
            object.__setattr__(self, "dcgan", DCGANConfig(**self.dcgan))
        check_at_least(self, 2, "num_classes")
        check_at_least(self, 1, "embed_dim")

    @property
    def latent_dim(self) -> int:
        return self.dcgan.latent_dim

    @classmethod
    def tiny(cls, image_size: int = 16, channels: int = 1) -> "ConditionalConfig":
        return cls(dcgan=DCGANConfig.tiny(image_size, channels), num_classes=10, embed_dim=4)

    @classmethod
    def from_dict(cls, d: dict) -> "ConditionalConfig":
        return cls(**{**d, "dcgan": DCGANConfig(**d["dcgan"])})


def cycled_labels(n: int, num_classes: int) -> torch.Tensor:
    """``(n,)`` labels ``0, 1, ..., K-1, 0, 1, ...``: every class equally often (to within one)."""
    return torch.arange(n) % num_classes


def check_labels(y: torch.Tensor, n: int, num_classes: int) -> torch.Tensor:
    """Raise a clear error unless ``y`` is an integer tensor (n,) with values in [0, num_classes).

    Chapter 3.
    """
    if not isinstance(y, torch.Tensor) or y.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8):
        raise TypeError(f"labels must be an integer tensor of shape ({n},), got {getattr(y, 'dtype', type(y).__name__)}")
    if y.shape != (n,):
        raise ValueError(f"labels must have shape ({n},) to match the batch, got {tuple(y.shape)}")
    if n and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes - 1}], got values in [{int(y.min())}, {int(y.max())}]")
    return y


class ConditionalGenerator(nn.Module):
    """``(z (N, latent_dim), y (N,)) -> images (N, channels, S, S)`` in [-1, 1].

    Chapter 3.
    """

    def __init__(self, config: ConditionalConfig = ConditionalConfig()):
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.num_classes, config.embed_dim)  # (K, E)
        self.net = DCGANGenerator(replace(config.dcgan, latent_dim=config.latent_dim + config.embed_dim))

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """z (N, latent_dim), y (N,) int -> images (N, C, S, S)."""
        if not isinstance(z, torch.Tensor) or z.dim() != 2 or z.shape[1] != self.config.latent_dim:
            got = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
            raise ValueError(f"z must have shape (N, {self.config.latent_dim}) (latent_dim={self.config.latent_dim}), got {got}")
        check_labels(y, z.shape[0], self.config.num_classes)
        h = torch.cat([z, self.embed(y).to(z.dtype)], dim=1)  # (N, latent_dim + E)
        return self.net(h)

    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(n, self.config.latent_dim, generator=generator).to(self.embed.weight.device)

    @torch.no_grad()
    def sample(self, n: int, *, labels: torch.Tensor | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` images (n, C, S, S) in [-1, 1], one per label in ``labels`` (n,).

        Without labels the classes cycle ``0, 1, ..., K-1, 0, 1, ...``, so every class is asked for
        about equally often (what the command line's ``sample`` writes next to the images).
        """
        labels = cycled_labels(n, self.config.num_classes) if labels is None else labels
        check_labels(labels, n, self.config.num_classes)
        return self(self.sample_latent(n, generator), labels.to(self.embed.weight.device))


class ProjectionDiscriminator(nn.Module):
    """``(x (N, C, S, S), y (N,)) -> logits (N,)``: DCGAN discriminator plus a projection term.

    Chapter 3.
    """

    def __init__(self, config: ConditionalConfig = ConditionalConfig()):
        super().__init__()
        self.config = config
        base = DCGANDiscriminator(config.dcgan)
        self.features, self.head = base.features, base.head
        c = config.dcgan
        feature_dim = c.d_width * 2 ** (c.n_stages - 1) * 16  # flattened (width, 4, 4)
        self.embed = nn.Embedding(config.num_classes, feature_dim)  # (K, F): V in the paper
        dcgan_init(self.embed)
        if c.spectral_norm:  # the paper normalizes V too
            nn.utils.parametrizations.spectral_norm(self.embed)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """x (N, C, S, S), y (N,) int -> logits (N,)."""
        c = self.config.dcgan
        check_images(x, name="D's input", channels=c.channels, size=c.image_size, value_range=None)
        check_labels(y, x.shape[0], self.config.num_classes)
        phi = self.features(x)  # (N, width, 4, 4)
        psi = self.head(phi).flatten()  # (N,)
        proj = (self.embed(y).to(phi.dtype) * phi.flatten(1)).sum(1)  # (N,)
        return psi + proj


__all__ = ["ConditionalConfig", "ConditionalGenerator", "ProjectionDiscriminator", "check_labels"]
