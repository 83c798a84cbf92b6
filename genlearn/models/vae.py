"""Variational autoencoders (Kingma & Welling 2014; Rezende et al. 2014), conditional VAEs (Sohn et al. 2015).

One :class:`VAE` with an MLP or a convolutional encoder/decoder pair, chosen by :class:`VAEConfig`:

* encoder ``q(z|x[, y]) = N(mu, diag(exp(logvar)))``, prior ``p(z) = N(0, I)``;
* decoder ``p(x|z[, y])``: factorized Bernoulli with ``sigmoid(logits)`` (default) or Gaussian with
  mean ``sigmoid(logits)`` and one learned log-variance (``likelihood="gaussian"``);
* ``num_classes > 0`` makes it conditional: a one-hot label joins the encoder's features and the
  decoder's input (Sohn et al. 2015, Sec. 4);
* beta-VAE (Higgins et al. 2017) is a weight on the KL term at training time, not a model change.

The encoder takes images in genlearn's [-1, 1]; the likelihood compares the decoder with targets
in [0, 1] (``to_unit(x)`` or ``binarize(x)``, see :mod:`genlearn.losses.elbo`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from genlearn.checks import check_images
from genlearn.models._config import SavedConfig, check_at_least
from genlearn.models.layers import check_unconditional
from genlearn.losses.elbo import bernoulli_log_likelihood, elbo, gaussian_log_likelihood, iw_log_likelihood, reparameterize

ARCHS = ("mlp", "conv")
LIKELIHOODS = ("bernoulli", "gaussian")


@dataclass(frozen=True)
class VAEConfig(SavedConfig):
    """Sizes of a :class:`VAE` (saved in checkpoints; ``VAE(VAEConfig.from_dict(d))`` rebuilds it).

    Args:
        arch: "mlp" (flattened pixels) or "conv" (strided convolutions down to 4x4).
        channels, image_size: image shape ``(channels, image_size, image_size)``; "conv" needs a
            power of two >= 4.
        latent_dim: size of ``z``.
        hidden: width of the MLP's hidden layers (and of the conv model's fully connected layer).
        depth: hidden layers per MLP network (encoder and decoder each).
        width: channels of the conv model's first layer (doubled at each downsampling).
        num_classes: 0 for a VAE, > 0 for a conditional VAE on labels ``0..num_classes-1``.
        likelihood: "bernoulli" or "gaussian" decoder.

    Chapter 6.
    """

    arch: str = "mlp"
    channels: int = 1
    image_size: int = 8
    latent_dim: int = 16
    hidden: int = 256
    depth: int = 2
    width: int = 32
    num_classes: int = 0
    likelihood: str = "bernoulli"

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise ValueError(f"arch must be one of {ARCHS}, got {self.arch!r}")
        if self.likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {self.likelihood!r}")
        check_at_least(self, 1, "channels", "image_size", "latent_dim", "hidden", "depth", "width")
        check_at_least(self, 0, "num_classes")
        if self.arch == "conv" and (self.image_size < 4 or self.image_size & (self.image_size - 1)):
            raise ValueError(f"the conv VAE needs image_size a power of two >= 4, got {self.image_size}")

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.channels, self.image_size, self.image_size)

    @classmethod
    def tiny(cls, arch: str = "mlp", num_classes: int = 0, likelihood: str = "bernoulli") -> "VAEConfig":
        """A few thousand parameters, for tests."""
        return cls(arch=arch, latent_dim=2, hidden=16, depth=1, width=4, num_classes=num_classes, likelihood=likelihood)

    @classmethod
    def mlp_digits(cls, latent_dim: int = 16, num_classes: int = 0) -> "VAEConfig":
        """The chapter's MLP VAE on 8x8 digits."""
        return cls(arch="mlp", latent_dim=latent_dim, hidden=256, depth=2, num_classes=num_classes)

    @classmethod
    def conv_digits(cls, latent_dim: int = 16, num_classes: int = 0, image_size: int = 8) -> "VAEConfig":
        """The chapter's convolutional VAE on 8x8 digits."""
        return cls(arch="conv", image_size=image_size, latent_dim=latent_dim, hidden=256, width=16, num_classes=num_classes)


class VAEOutput(NamedTuple):
    """What :meth:`VAE.forward` returns.

    Attributes:
        logits: (N, C, H, W) decoder output; the pixel mean is ``sigmoid(logits)`` in [0, 1].
        mu: (N, L) posterior means.
        logvar: (N, L) posterior log-variances.
        z: (N, L) the reparameterized sample that was decoded.

    Chapter 6.
    """

    logits: torch.Tensor
    mu: torch.Tensor
    logvar: torch.Tensor
    z: torch.Tensor


def _mlp(d_in: int, hidden: int, depth: int, d_out: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for _ in range(depth):
        layers += [nn.Linear(d_in, hidden), nn.ReLU()]  # (N, hidden)
        d_in = hidden
    layers.append(nn.Linear(d_in, d_out))  # (N, d_out)
    return nn.Sequential(*layers)


class ConvEncoder(nn.Module):
    """``x (N, C, S, S) -> features (N, 2**n * width * 16)``: a 3x3 stem, then stride-2 4x4 convs down to 4x4.

    Chapter 6.
    """

    def __init__(self, config: VAEConfig):
        super().__init__()
        w, n_down = config.width, int(math.log2(config.image_size // 4))
        layers: list[nn.Module] = [nn.Conv2d(config.channels, w, 3, 1, 1), nn.ReLU()]  # (N, w, S, S)
        for _ in range(n_down):
            layers += [nn.Conv2d(w, 2 * w, 4, 2, 1), nn.ReLU()]  # (N, 2w, S/2, S/2)
            w *= 2
        layers += [nn.Conv2d(w, w, 3, 1, 1), nn.ReLU(), nn.Flatten()]  # (N, w * 4 * 4)
        self.net = nn.Sequential(*layers)
        self.out_features = w * 16

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class ConvDecoder(nn.Module):
    """``h (N, d_in) -> logits (N, C, S, S)``: a linear map to 4x4, then stride-2 transposed convs up to S.

    Chapter 6.
    """

    def __init__(self, config: VAEConfig, d_in: int):
        super().__init__()
        n_up = int(math.log2(config.image_size // 4))
        w = config.width * 2**n_up
        self.top = nn.Sequential(nn.Linear(d_in, config.hidden), nn.ReLU(), nn.Linear(config.hidden, w * 16), nn.ReLU())
        layers: list[nn.Module] = [nn.Unflatten(1, (w, 4, 4)), nn.Conv2d(w, w, 3, 1, 1), nn.ReLU()]  # (N, w, 4, 4)
        for _ in range(n_up):
            layers += [nn.ConvTranspose2d(w, w // 2, 4, 2, 1), nn.ReLU()]  # (N, w/2, 2s, 2s)
            w //= 2
        layers.append(nn.Conv2d(w, config.channels, 3, 1, 1))  # (N, C, S, S) logits
        self.net = nn.Sequential(*layers)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.net(self.top(h))


class VAE(nn.Module):
    """A (conditional) variational autoencoder; see the module docstring.

    Args:
        config: sizes, architecture, decoder likelihood, number of classes (0: unconditional).

    Chapter 6.
    """

    def __init__(self, config: VAEConfig = VAEConfig()):
        super().__init__()
        self.config = c = config
        d, n_cls, L = math.prod(c.image_shape), c.num_classes, c.latent_dim
        if c.arch == "mlp":
            self.features = nn.Flatten()  # (N, D)
            self.encoder_head = _mlp(d + n_cls, c.hidden, c.depth, 2 * L)  # (N, 2L)
            self.decoder = nn.Sequential(_mlp(L + n_cls, c.hidden, c.depth, d), nn.Unflatten(1, c.image_shape))
        else:
            self.features = ConvEncoder(c)
            self.encoder_head = nn.Sequential(
                nn.Linear(self.features.out_features + n_cls, c.hidden), nn.ReLU(), nn.Linear(c.hidden, 2 * L)
            )  # (N, 2L)
            self.decoder = ConvDecoder(c, L + n_cls)
        if c.likelihood == "gaussian":
            # one learned log-variance shared by all pixels (the "optimal sigma" decoder)
            self.decoder_logvar = nn.Parameter(torch.tensor(math.log(0.1**2)))

    # -- labels ---------------------------------------------------------------------------------
    def _one_hot(self, y: torch.Tensor | None, n: int) -> torch.Tensor | None:
        k = self.config.num_classes
        if k == 0:
            if y is not None:
                raise ValueError("this VAE is unconditional (num_classes=0); call it without labels")
            return None
        if y is None:
            raise ValueError(f"this conditional VAE needs labels y of shape ({n},) with values in 0..{k - 1}")
        if not isinstance(y, torch.Tensor) or y.dtype not in (torch.int64, torch.int32) or y.shape != (n,):
            got = f"{y.dtype} {tuple(y.shape)}" if isinstance(y, torch.Tensor) else type(y).__name__
            raise ValueError(f"y must be an integer tensor of shape ({n},), got {got}")
        if n and (int(y.min()) < 0 or int(y.max()) >= k):
            raise ValueError(f"labels must lie in 0..{k - 1}, got values in {int(y.min())}..{int(y.max())}")
        return F.one_hot(y.long(), k).to(next(self.parameters()).dtype)

    # -- the two networks -----------------------------------------------------------------------
    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """x (N, C, H, W) in [-1, 1] (+ labels y (N,) for a CVAE) -> (mu, logvar), each (N, L)."""
        c = self.config
        check_images(x, name="x", channels=c.channels, size=c.image_size)
        h = self.features(x)  # (N, F)
        y1 = self._one_hot(y, x.shape[0])
        if y1 is not None:
            h = torch.cat([h, y1], 1)  # (N, F + K)
        mu, logvar = self.encoder_head(h).chunk(2, dim=1)  # (N, L) each
        return mu, logvar

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """z (..., N, L) (+ labels y (N,)) -> logits (..., N, C, H, W); leading sample axes are kept."""
        L = self.config.latent_dim
        if not isinstance(z, torch.Tensor) or z.dim() < 2 or z.shape[-1] != L:
            got = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
            raise ValueError(f"z must have shape (..., N, {L}) (latent_dim={L}), got {got}")
        lead, n = z.shape[:-2], z.shape[-2]
        h = z.reshape(-1, L)  # (S*N, L)
        y1 = self._one_hot(y, n)
        if y1 is not None:
            h = torch.cat([h, y1.repeat(math.prod(lead), 1)], 1)  # (S*N, L + K)
        return self.decoder(h).reshape(*lead, n, *self.config.image_shape)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None, generator: torch.Generator | None = None) -> VAEOutput:
        """x (N, C, H, W) in [-1, 1] -> :class:`VAEOutput` (logits (N, C, H, W), mu, logvar, z (N, L))."""
        mu, logvar = self.encode(x, y)
        z = reparameterize(mu, logvar, generator=generator)  # (N, L)
        return VAEOutput(self.decode(z, y), mu, logvar, z)

    # -- likelihoods ----------------------------------------------------------------------------
    def log_likelihood(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """log p(x|z) per image, (..., N), for targets (N, C, H, W) in [0, 1] (``to_unit(x)``, not x)."""
        if self.config.likelihood == "bernoulli":
            return bernoulli_log_likelihood(logits, target)
        return gaussian_log_likelihood(torch.sigmoid(logits), target, self.decoder_logvar.clamp(min=-12.0))

    def elbo(
        self, x: torch.Tensor, target: torch.Tensor, y: torch.Tensor | None = None, beta: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Single-sample ELBO per example (N,) in nats (:func:`genlearn.losses.elbo`)."""
        out = self(x, y, generator=generator)
        return elbo(self.log_likelihood(out.logits, target), out.mu, out.logvar, beta)

    def iw_log_likelihood(
        self, x: torch.Tensor, target: torch.Tensor, k: int, y: torch.Tensor | None = None, *,
        chunk_size: int = 100, generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """The importance-weighted bound L_k per example (N,) (:func:`genlearn.losses.iw_log_likelihood`)."""
        return iw_log_likelihood(
            lambda inp: self.encode(inp, y),
            lambda z: self.log_likelihood(self.decode(z, y), target),
            x, k, chunk_size=chunk_size, generator=generator,
        )

    # -- generation -----------------------------------------------------------------------------
    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``z ~ N(0, I)`` of shape (n, L) on this model's device (drawn on CPU when seeded)."""
        return torch.randn(n, self.config.latent_dim, generator=generator).to(next(self.parameters()).device)

    @torch.no_grad()
    def decode_images(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """z (N, L) -> the decoder's mean images ``2 * sigmoid(logits) - 1``, (N, C, H, W) in [-1, 1]."""
        return torch.sigmoid(self.decode(z, y)) * 2 - 1

    @torch.no_grad()
    def sample(self, n: int, *, labels: torch.Tensor | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` images (n, C, H, W) in [-1, 1]: ``z ~ N(0, I)``, decoded to the pixel means of p(x|z).

        A CVAE decodes one image per label in ``labels`` (n,); without labels its classes cycle
        ``0, 1, ..., K-1, 0, ...``. An unconditional VAE refuses labels.

        Mean images (not pixels drawn from the Bernoulli) are what VAE papers show; they are smooth,
        which is part of why VAE samples look blurrier than a GAN's.
        """
        if not self.config.num_classes:
            check_unconditional(self, labels)
        elif labels is None:
            labels = torch.arange(n) % self.config.num_classes
        return self.decode_images(self.sample_latent(n, generator), labels)


class FactorizedBernoulli(nn.Module):
    """The simplest likelihood baseline: independent pixels, ``p_i = (count_i + alpha) / (N + 2 alpha)``.

    Args:
        shape: image shape ``(C, H, W)``.
        alpha: add-alpha (Laplace) smoothing, so no test pixel gets probability 0.

    Chapter 6.
    """

    def __init__(self, shape: tuple[int, int, int], alpha: float = 1.0):
        super().__init__()
        self.shape, self.alpha = tuple(shape), alpha
        self.register_buffer("probs", torch.full(self.shape, 0.5))

    @torch.no_grad()
    def fit(self, target: torch.Tensor) -> "FactorizedBernoulli":
        """Fit on targets (N, C, H, W) in [0, 1] (e.g. ``binarize(x_train)``)."""
        from genlearn.losses.elbo import check_targets

        check_targets(target)
        self.probs.copy_((target.sum(0) + self.alpha) / (target.shape[0] + 2 * self.alpha))
        return self

    def log_likelihood(self, target: torch.Tensor) -> torch.Tensor:
        """log p(x) per image (N,) in nats."""
        logits = torch.logit(self.probs).expand_as(target)
        return bernoulli_log_likelihood(logits, target)


__all__ = ["ConvDecoder", "ConvEncoder", "FactorizedBernoulli", "VAE", "VAEConfig", "VAEOutput"]
