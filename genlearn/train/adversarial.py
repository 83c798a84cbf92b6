"""The one set-up shared by every adversarial family (GAN, DCGAN, cGAN, WGAN, WGAN-GP; later CycleGAN,
pix2pix, StyleGAN): both players on the device, optimizers, learning-rate schedules, an EMA of G, the
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
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import torch
from torch import nn

from genlearn.runtime import channels_last_enabled, grad_scaler, to_channels_last
from genlearn.train.augment import diff_augment, parse_policy
from genlearn.train.distributed import Distributed, shard, wrap
from genlearn.train.ema import EMA
from genlearn.train.loop import Every, History, InfiniteBatches, Trained, fit
from genlearn.train.schedules import linear_decay

OPTIMIZERS = ("adam", "rmsprop")


@dataclass(frozen=True)
class AdversarialConfig:
    """Settings every adversarial run shares (each family's config adds its own).

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


class StepCounter(nn.Module):
    """Completed training iterations, as a buffer: saved with the modules, so a resumed run keeps the
    rhythm of lazy regularizers (R1 or the gradient penalty every k-th update).

    Chapter 2.
    """

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("count", torch.zeros((), dtype=torch.long))

    def __int__(self) -> int:
        return int(self.count)

    def increment(self) -> None:
        self.count += 1


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


class _GeneratorState:
    """A ``torch.Generator`` with the ``state_dict`` interface, so that a checkpoint carries its position."""

    def __init__(self, generator: torch.Generator):
        self.generator = generator

    def state_dict(self) -> dict:
        return {"state": self.generator.get_state()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.generator.set_state(state["state"])


class Adversarial:
    """Everything a G-vs-D run needs besides its step functions.

    Args:
        G, D: the generator and its opponent (discriminator or critic); moved to ``device``
            (channels-last on CUDA).
        *data: tensors with the same first dimension (images, and labels for a conditional GAN).
        config: an :class:`AdversarialConfig` (or a family's subclass).
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
        config: AdversarialConfig,
        steps: int,
        seed: int = 0,
        device: torch.device | str = "cpu",
        ema: EMA | None = None,
        d_name: str = "D",
        latent_generator: torch.Generator | None = None,
        batches: Any = None,
        distributed: Distributed | None = None,
    ):
        self.config, self.device, self.d_name = config, torch.device(device), d_name
        self.distributed = distributed if distributed is not None and distributed.active else None
        self.G_core = to_channels_last(G.to(self.device), self.device)  # the models; self.G and self.D are their DDP replicas with several processes
        self.D_core = to_channels_last(D.to(self.device), self.device)
        self.G, self.D = wrap(self.G_core, self.distributed), wrap(self.D_core, self.distributed)
        self.opt_g = config.make_optimizer(self.G.parameters(), config.lr_g)
        self.opt_d = config.make_optimizer(self.D.parameters(), config.lr_d)
        self.schedules = {name: linear_decay(opt, steps, config.lr_decay) for name, opt in (("G_lr", self.opt_g), (f"{d_name}_lr", self.opt_d))}
        if ema is None and config.ema_decay > 0:
            ema = EMA(self.G_core, config.ema_decay)
        self.ema = ema.to(self.device) if ema is not None else None
        self.scaler = grad_scaler(self.device)
        self.augment = partial(diff_augment, policy=config.diffaugment) if config.diffaugment else None
        part = shard(distributed)
        if batches is None:
            batches = InfiniteBatches(*data, batch_size=min(config.batch_size, data[0].shape[0]), seed=seed, device=self.device, shard=part)
        if distributed is not None and latent_generator is None:  # the same global latents on every rank (and on one, to compare)
            latent_generator = torch.Generator().manual_seed(seed)
        self.batches = batches
        self.counter = StepCounter()
        self.latent_generator = latent_generator
        self.latent_dim = getattr(getattr(G, "config", None), "latent_dim", None)  # None: G takes images (translation)
        self.shard = part or (0, 1)

    @property
    def done(self) -> int:
        """Iterations completed so far (restored on resume)."""
        return int(self.counter)

    def latents(self, n: int) -> torch.Tensor:
        """``z ~ N(0, I)``, (n, latent_dim) on the device."""
        if self.latent_dim is None:
            raise ValueError("this generator has no latent_dim (it translates images); its step takes real images instead")
        if self.latent_generator is not None:
            rank, world = self.shard  # this process's rows of the global batch's latents
            return torch.randn(n * world, self.latent_dim, generator=self.latent_generator)[rank::world].to(self.device)
        return torch.randn(n, self.latent_dim, device=self.device)

    def real(self, batch: torch.Tensor) -> torch.Tensor:
        """A batch of real images in the players' memory format (channels-last on CUDA)."""
        if self.device.type == "cuda" and batch.dim() == 4 and channels_last_enabled():
            return batch.contiguous(memory_format=torch.channels_last)
        return batch

    def end_step(self) -> None:
        """After both players' updates: move the EMA, step the schedules, count the iteration."""
        if self.ema is not None:
            self.ema.update(self.G_core)
        for schedule in self.schedules.values():
            schedule.step()
        self.counter.increment()

    def fit(
        self,
        step,
        *,
        steps: int,
        callbacks: Sequence[Every] = (),
        checkpoint: str | Path | None = None,
        checkpoint_every: int = 500,
        run: Mapping[str, Any] | None = None,
        time_budget: float | None = None,
        desc: str = "GAN",
        progress: bool = True,
        state: Mapping[str, Any] | None = None,
    ) -> History:
        """:func:`genlearn.train.fit` with this set-up's modules, optimizers and schedules checkpointed
        (``state``: more objects with ``state_dict``/``load_state_dict`` to save, e.g. image pools)."""
        modules = {"G": self.G_core, self.d_name: self.D_core, "steps": self.counter} | ({"G_ema": self.ema} if self.ema is not None else {})
        optimizers = {"G": self.opt_g, self.d_name: self.opt_d} | self.schedules | dict(state or {})
        if self.latent_generator is not None:  # a resumed run draws the latents that come next, not the first ones again
            optimizers["latent_generator"] = _GeneratorState(self.latent_generator)
        return fit(step, self.batches, steps=steps, modules=modules, optimizers=optimizers, callbacks=callbacks,
                   checkpoint=checkpoint, checkpoint_every=checkpoint_every, run=run, time_budget=time_budget,
                   desc=desc, progress=progress, distributed=self.distributed)  # fmt: skip

    def trained(self, history: History) -> Trained:
        """Both players in eval mode; the network to sample from (the EMA copy where kept) and the history."""
        self.G_core.eval(), self.D_core.eval()
        return Trained(self.ema.model if self.ema is not None else self.G_core, history)


__all__ = ["OPTIMIZERS", "Adversarial", "AdversarialConfig", "StepCounter", "frozen"]
