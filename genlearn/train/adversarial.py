"""The one set-up shared by every adversarial family (GAN, DCGAN, cGAN, WGAN, WGAN-GP, CycleGAN, pix2pix,
StyleGAN): both players on the device, optimizers, learning-rate schedules, an EMA of G, the
AMP scaler, DiffAugment, the batch stream and a step counter for lazy regularizers.

A family adds only its step functions and a short trainer::

    setup = Adversarial(G, D, x, config=config, steps=steps, seed=seed, device=device)

    def step(batch):
        x_real = setup.real(batch)
        logs = d_step(setup.G, setup.D, setup.opt_d, x_real, setup.latents(len(x_real)), ...)
        logs |= g_step(setup.G, setup.D, setup.opt_g, setup.latents(len(x_real)), ...)
        setup.end_step()  # EMA, schedules, step counter
        return logs

    history = setup.fit(step, steps=steps, checkpoint=...)
    return setup.trained(history)  # Trained(model=the EMA copy or G, history)
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any, Iterator, Mapping

import torch
from torch import nn

from genlearn.train.augment import diff_augment, parse_policy
from genlearn.train.distributed import Distributed
from genlearn.train.ema import EMA
from genlearn.train.loop import FitOptions, History, Trained
from genlearn.train.precision import Precision
from genlearn.train.schedules import linear_decay
from genlearn.train.setup import Setup, StepCounter

OPTIMIZERS = ("adam", "rmsprop")


@dataclass(frozen=True)
class AdversarialTrainConfig:
    """Settings every adversarial run shares (each family's training config adds its own).

    Args:
        batch_size: real images per update.
        optimizer: "adam" or "rmsprop" (WGAN's choice with weight clipping).
        lr_g, lr_d: learning rates of G and of D / the critic; unequal rates are the two time-scale
            update rule (Heusel et al. 2017).
        beta1, beta2: Adam's betas.
        diffaugment: DiffAugment policy for every image D sees, e.g. "translation,cutout" ("" = none).
        ema_decay: decay of the EMA of G's weights used for sampling (0 = no EMA).
        lr_decay: the final fraction of the run over which both learning rates fall linearly to 0
            (0 = constant rates; 0.75 = constant for the first quarter, then linear decay).

    Chapter 2.
    """

    batch_size: int = 128
    optimizer: str = "adam"
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    diffaugment: str = ""
    ema_decay: float = 0.0
    lr_decay: float = 0.0

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if not (self.lr_g > 0 and self.lr_d > 0):
            raise ValueError(f"learning rates must be > 0, got lr_g={self.lr_g} and lr_d={self.lr_d}")
        parse_policy(self.diffaugment)
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        if not 0.0 <= self.lr_decay <= 1.0:
            raise ValueError(f"lr_decay must be a fraction of the run in [0, 1], got {self.lr_decay}")

    def make_optimizer(self, params, lr: float) -> torch.optim.Optimizer:
        if self.optimizer == "rmsprop":
            return torch.optim.RMSprop(params, lr=lr)
        return torch.optim.Adam(params, lr=lr, betas=(self.beta1, self.beta2))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]):
        return cls(**d)


AdversarialConfig = AdversarialTrainConfig  # 0.2's name; chapter 2 links it


@contextlib.contextmanager
def frozen(model: nn.Module) -> Iterator[nn.Module]:
    """Switch off ``requires_grad`` of ``model``'s parameters inside the block (restored after).

    Chapters 2 and 7.
    """
    flags = [p.requires_grad for p in model.parameters()]
    model.requires_grad_(False)
    try:
        yield model
    finally:
        for p, flag in zip(model.parameters(), flags):
            p.requires_grad_(flag)


class Adversarial(Setup):
    """Everything a G-vs-D run needs besides its step functions.

    Args:
        G, D: the generator and its opponent (discriminator or critic); moved to ``device``
            (channels-last on CUDA).
        *data: tensors with the same first dimension (images, and labels for a conditional GAN).
        config: an :class:`AdversarialTrainConfig` (or a family's subclass).
        steps: total iterations of the run (the schedules decay over them).
        seed: the batch order.
        device: where to train.
        ema: your own ``EMA(G, decay)`` to read the average during training (default: one is made
            when ``config.ema_decay > 0``).
        d_name: D's name in checkpoints ("D" or "critic").
        latent_generator: draw latents from this ``torch.Generator`` instead of the global RNG.
        batches: a ready batch stream (anything with ``__next__``, ``state_dict`` and
            ``load_state_dict``, e.g. two unpaired domains) instead of one built from ``data``.
        distributed: several processes (:mod:`genlearn.train.distributed`): ``G`` and ``D`` are the DDP
            wrappers (``G_core`` and ``D_core`` the models), each process takes its share of every global batch
            and of its latents, drawn from one generator seeded alike on every rank.

    Chapter 2.
    """

    def __init__(
        self,
        G: nn.Module,
        D: nn.Module,
        *data: torch.Tensor,
        config: AdversarialTrainConfig,
        steps: int,
        seed: int = 0,
        device: torch.device | str = "cpu",
        ema: EMA | None = None,
        d_name: str = "D",
        latent_generator: torch.Generator | None = None,
        batches: Any = None,
        state: Mapping[str, Any] = {},
        fit: FitOptions | None = None,
        precision: Precision | None = None,
        distributed: Distributed | None = None,
    ):
        if distributed is not None:  # genlearn 0.2's argument; fit=FitOptions(distributed=...) says the same
            fit = (fit or FitOptions()).but(distributed=distributed)
        self.config, self.d_name = config, d_name
        decay = partial(linear_decay, steps=fit.plan if fit is not None and fit.plan is not None else steps, fraction=config.lr_decay)
        super().__init__(
            {"G": G, d_name: D}, *data,
            optimizers={"G": partial(config.make_optimizer, lr=config.lr_g), d_name: partial(config.make_optimizer, lr=config.lr_d)},
            schedules={"G_lr": ("G", decay), f"{d_name}_lr": (d_name, decay)},
            batch_size=config.batch_size, steps=steps, seed=seed, device=device, batches=batches,
            latent_dim=getattr(getattr(G, "config", None), "latent_dim", None),  # None: G takes images (translation)
            latent_generator=latent_generator, state=state, fit=fit, precision=precision,
        )  # fmt: skip
        if ema is None and config.ema_decay > 0:
            ema = EMA(self.models["G"], config.ema_decay)
        if ema is not None:
            self.ema_of, self.ema = "G", ema.to(self.device)
        self.augment = partial(diff_augment, policy=config.diffaugment) if config.diffaugment else None

    # the two players by the names the book uses: G and D are what each player's own update runs (its DDP replica
    # with several processes), G_core and D_core the networks themselves
    G = property(lambda self: self.replica("G"))
    D = property(lambda self: self.replica(self.d_name))
    G_core = property(lambda self: self.models["G"])
    D_core = property(lambda self: self.models[self.d_name])
    opt_g = property(lambda self: self.opt["G"])
    opt_d = property(lambda self: self.opt[self.d_name])

    def fit(self, step, *, steps: int | None = None, state: Mapping[str, Any] | None = None, **changes: Any) -> History:
        """:meth:`~genlearn.train.setup.Setup.fit`; ``state`` (more objects to checkpoint) is genlearn 0.2's argument, ``changes`` override the
        run's :class:`~genlearn.train.loop.FitOptions`."""
        self.state.update(state or {})
        return super().fit(step, steps, **changes)

    def trained(self, history: History) -> Trained:
        """Both players in eval mode; the network to sample from (the EMA copy where kept, else G) and the history."""
        return super().trained(history, "G")


__all__ = ["OPTIMIZERS", "Adversarial", "AdversarialTrainConfig", "AdversarialConfig", "StepCounter", "frozen"]
