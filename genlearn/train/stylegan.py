"""Training StyleGAN2 (Karras et al. 2020) on the shared adversarial set-up, with its three regularizers.

Each iteration:

1. the discriminator update, GAN's :func:`~genlearn.train.gan.d_step`, on reals against *style-mixed*
   fakes, with lazy R1 every ``r1_every`` steps (StyleGAN2, Sec. 3.1: the same average pull at a fraction
   of the cost);
2. the generator update, :func:`stylegan_g_step`, on fresh style-mixed fakes: with probability ``mixing_prob``
   the batch's styles switch from ``w1 = f(z1)`` to ``w2 = f(z2)`` at a random layer, so that no layer can
   rely on its neighbours sharing a style (StyleGAN, Sec. 3.1, "mixing regularization");
3. every ``pl_every`` steps, a second, lazy generator update for the path length (:func:`path_length_step`,
   StyleGAN2 Eq. 4) on a smaller batch (``pl_batch_shrink``), weighted ``pl_every * pl_weight``.

Losses are the non-saturating logistic ones of both papers (``d_loss="bce"``, ``g_loss="nonsaturating"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import nn

from genlearn.losses import G_LOSSES, path_length_penalty
from genlearn.models.stylegan import StyleGANGenerator
from genlearn.train.precision import backward_and_step
from genlearn.train.adversarial import Adversarial, frozen
from genlearn.train.gan import GANTrainConfig, d_step
from genlearn.train.loop import FitOptions, Trained, fit_options


@dataclass(frozen=True)
class StyleGANTrainConfig(GANTrainConfig):
    """:class:`~genlearn.train.gan.GANTrainConfig` plus StyleGAN's regularizers.

    Args:
        mixing_prob: probability that a batch is style-mixed (0.9 in StyleGAN2; 0 switches it off).
        pl_weight: weight of the path length penalty (2 in StyleGAN2; 0 switches it off).
        pl_every: apply it every this many steps, ``pl_every`` times heavier (lazy regularization; 4 in StyleGAN2).
        pl_decay: the decay of its moving target ``a`` (0.01).
        pl_batch_shrink: the penalty's batch is ``batch_size // pl_batch_shrink`` (2 in StyleGAN2).

    Chapter 11.
    """

    mixing_prob: float = 0.9
    pl_weight: float = 2.0
    pl_every: int = 4
    pl_decay: float = 0.01
    pl_batch_shrink: int = 2

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.mixing_prob <= 1.0:
            raise ValueError(f"mixing_prob must be in [0, 1], got {self.mixing_prob}")
        if self.pl_weight < 0 or self.pl_every < 1 or self.pl_batch_shrink < 1 or not 0 < self.pl_decay <= 1:
            raise ValueError(f"need pl_weight >= 0, pl_every >= 1, pl_batch_shrink >= 1 and pl_decay in (0, 1], got {self}")

    @classmethod
    def stylegan2(cls) -> "StyleGANTrainConfig":
        """StyleGAN2's settings (config F): batch 32, Adam 0.002 with betas (0, 0.99), R1 gamma 10 every 16 steps, EMA."""
        return cls(batch_size=32, lr_g=2e-3, lr_d=2e-3, beta1=0.0, beta2=0.99, r1_gamma=10.0, r1_every=16, ema_decay=0.999)

    @classmethod
    def digits(cls) -> "StyleGANTrainConfig":
        """The book's small-data version for a few minutes on a CPU: StyleGAN2's optimizer (Adam 0.002, betas 0 and
        0.99), an EMA of G, chapter 2's learning-rate decay over the last 3/4 and batch 32, with none of the
        regularizers: no R1, no DiffAugment, no path length penalty and no mixing regularization.

        At a CPU's budget each of them costs steps and none paid for them. Searched on 2026-12-03 with 100 s per
        run on the digits at 16x16 (one seed each, digits FD at N = 360, the mean of 5 draws; the DCGAN recipe
        scored 10.87 in the same time): 0.2's recipe without R1 and DiffAugment 34.84 (761 steps); that and no
        path length penalty 20.20 (1,045 steps); with a mapping depth of 1 instead of 4 28.68, width 16 24.51,
        batch 16 21.68. Chapter 11 then measured over three seeds at 100 s: this recipe 22.91 +/- 2.23 (the DCGAN
        10.69 +/- 0.37), with R1 and DiffAugment added back 35.47 +/- 3.22, with the path length penalty added
        back 21.84 +/- 1.36 (no measurable difference: the one-seed gap above was noise, and the penalty stays off
        because it gains nothing here). Earlier 4-minute trials: mixing at 0.9 gave 32.8 against 23.5 without it, and batch 32 beat
        batch 64 (23.5 against 30.3). :meth:`stylegan2` keeps the papers' regularized settings."""
        return cls(batch_size=32, lr_g=2e-3, lr_d=2e-3, beta1=0.0, beta2=0.99, r1_gamma=0.0, r1_every=16, ema_decay=0.999,
                   lr_decay=0.75, mixing_prob=0.0, pl_weight=0.0)  # fmt: skip


class PathLengthMean(nn.Module):
    """The moving target ``a`` of the path length penalty, as a buffer, so a resumed run keeps it.

    Chapter 11.
    """

    def __init__(self):
        super().__init__()
        self.register_buffer("value", torch.zeros(()))


def styles_for(G: StyleGANGenerator, z: torch.Tensor, z2: torch.Tensor | None, crossover: int | None) -> torch.Tensor:
    """``ws`` (N, num_ws, w_dim) for latents ``z``; mixed with ``f(z2)`` from layer ``crossover`` on when given.

    Chapter 11.
    """
    ws = G.broadcast(G.mapping(z))
    if crossover is not None and z2 is not None:
        ws = G.mix(ws, G.broadcast(G.mapping(z2)), crossover)
    return ws


def draw_crossover(G: StyleGANGenerator, mixing_prob: float, generator: torch.Generator | None = None) -> int | None:
    """A random crossover layer in [1, num_ws) with probability ``mixing_prob``, else None (no mixing).

    Chapter 11.
    """
    if mixing_prob <= 0 or torch.rand((), generator=generator).item() >= mixing_prob:
        return None
    return int(torch.randint(1, G.config.num_ws, (), generator=generator))


def stylegan_g_step(G: StyleGANGenerator, D: nn.Module, opt_g: torch.optim.Optimizer, z: torch.Tensor, z2: torch.Tensor,
                    crossover: int | None, *, augment: Callable | None = None, scaler=None) -> dict[str, float]:  # fmt: skip
    """One generator update on style-mixed fakes; D is frozen. Returns ``g_loss``.

    Chapter 11.
    """
    augment = augment or (lambda x: x)
    with frozen(D):
        x_fake = G.synthesis(styles_for(G, z, z2, crossover))  # (N, C, S, S)
        loss_g = G_LOSSES["nonsaturating"](D(augment(x_fake)).float())
        backward_and_step(loss_g, opt_g, scaler)
    return {"g_loss": loss_g.item()}


def path_length_step(G: StyleGANGenerator, opt_g: torch.optim.Optimizer, z: torch.Tensor, mean: PathLengthMean, weight: float,
                     decay: float = 0.01) -> dict[str, float]:  # fmt: skip
    """A lazy path length update (StyleGAN2 Eq. 4, weighted ``weight``); moves the target ``a`` in ``mean``.

    Chapter 11.
    """
    ws = G.broadcast(G.mapping(z))  # (N, num_ws, w_dim), in the graph of the mapping network
    images = G.synthesis(ws)
    penalty, new_mean = path_length_penalty(images, ws, mean.value, decay)
    opt_g.zero_grad(set_to_none=True)
    (weight * penalty).backward()
    opt_g.step()
    mean.value.copy_(new_mean)
    return {"pl": penalty.item(), "pl_mean": new_mean.item()}


def train_stylegan(
    G: StyleGANGenerator,
    D: nn.Module,
    x: torch.Tensor,
    *,
    config: StyleGANTrainConfig = StyleGANTrainConfig.digits(),
    steps: int,
    seed: int = 0,
    device: torch.device | str = "cpu",
    fit: FitOptions | None = None,
    **options: Any,
) -> Trained:
    """Train ``G`` and ``D`` on images ``x`` (N, C, S, S) in [-1, 1]; returns the network to sample from and the history.

    ``distributed``: train with DDP on several processes, ``config.batch_size`` being the global batch
    (:mod:`genlearn.train.distributed`); the crossover layer is drawn alike on every rank.

    Chapter 11.
    """
    fit = fit_options(fit, options, desc="StyleGAN2", where="train_stylegan")
    pl_mean = PathLengthMean().to(device)  # checkpointed with the set-up
    setup = Adversarial(G, D, x, config=config, steps=steps, seed=seed, device=device, state={"pl_mean": pl_mean}, fit=fit)
    G, G_train = setup.G_core, setup.G  # G_train: G's DDP replica with several processes, used only in G's own updates

    def step(batch: torch.Tensor) -> dict[str, float]:
        x_real = setup.real(batch)
        n = x_real.shape[0]
        z, z2 = setup.latents(n), setup.latents(n)
        cut = draw_crossover(G, config.mixing_prob, setup.latent_generator)  # the global RNG (one process) is restored on resume
        lazy_r1 = setup.done % config.r1_every == 0
        logs = d_step(lambda zz: G.synthesis(styles_for(G, zz, z2, cut)), setup.D, setup.opt_d, x_real, z, augment=setup.augment,
                      r1_gamma=config.r1_gamma * config.r1_every if lazy_r1 else 0.0, scaler=setup.scaler)  # fmt: skip
        logs |= stylegan_g_step(G_train, setup.D_core, setup.opt_g, setup.latents(n), z2, cut, augment=setup.augment, scaler=setup.scaler)
        if config.pl_weight > 0 and setup.done % config.pl_every == 0:
            z_pl = setup.latents(max(1, n // config.pl_batch_shrink))
            logs |= path_length_step(G_train, setup.opt_g, z_pl, pl_mean, config.pl_weight * config.pl_every, config.pl_decay)
        setup.end_step()
        return logs

    history = setup.fit(step)
    return setup.trained(history)


__all__ = ["PathLengthMean", "StyleGANTrainConfig", "draw_crossover", "path_length_step", "stylegan_g_step", "styles_for", "train_stylegan"]
