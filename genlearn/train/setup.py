"""The one training set-up every trainer builds on: named players, their optimizers and schedules, EMA, precision,
the batch stream, latents, the step counter, checkpointed extra state and the DDP views.

A family adds only its step functions and a short trainer. A one-player trainer (the VAE)::

    setup = Setup({"vae": vae}, x, optimizers={"vae": adam(1e-3)}, batch_size=128, steps=steps, seed=seed,
                  device=device, fit=fit)
    step = vae_step(setup.replica("vae"), setup.opt["vae"], beta, scaler=setup.scaler)
    return setup.trained(setup.fit(step), "vae")

Two players are :class:`genlearn.train.adversarial.Adversarial`, a thin subclass with the names ``G`` and ``D``.

What the set-up decides once, when it is built: the device, the precision (``fit.precision`` resolved for the
device: autocast and channels-last on CUDA only), and with several processes the DDP replicas. What it keeps for
the checkpoint: every player's weights, optimizer and schedule, the EMA, the step counter, the latent generator's
position and any ``state`` a trainer adds (image pools, a moving path-length target).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

import torch
from torch import nn

from genlearn.train.batches import InfiniteBatches
from genlearn.train.distributed import shard, wrap
from genlearn.train.ema import EMA
from genlearn.train.loop import FitOptions, History, Trained, fit
from genlearn.train.precision import Precision, grad_scaler, to_channels_last, using

OptimizerFactory = Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]
ScheduleFactory = Callable[[torch.optim.Optimizer], Any]


def adam(lr: float, betas: tuple[float, float] = (0.9, 0.999)) -> OptimizerFactory:
    """An optimizer factory for :class:`Setup`: ``Adam(params, lr, betas)``.

    Chapter 0.
    """
    return lambda params: torch.optim.Adam(params, lr=lr, betas=betas)


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


class GeneratorState:
    """A ``torch.Generator`` with the ``state_dict`` interface, so that a checkpoint carries its position.

    Chapter 0.
    """

    def __init__(self, generator: torch.Generator):
        self.generator = generator

    def state_dict(self) -> dict:
        return {"state": self.generator.get_state()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.generator.set_state(state["state"])


class Setup:
    """Everything a run needs besides its step functions.

    Args:
        players: name -> network, in the order their weights are saved; each is moved to ``device`` (channels-last
            where the precision says so) and, with several processes, gets a DDP replica (:meth:`replica`).
        *data: tensors with the same first dimension (images, and labels or targets) for the default batch stream.
        optimizers: player name -> optimizer factory (e.g. :func:`adam`); players without one are not trained
            (a fixed feature network). The optimizer is checkpointed under the player's name, or under
            ``optimizer_keys[name]`` (the single-player trainers of genlearn 0.2 saved theirs as ``"opt"``).
        schedules: checkpoint name -> (player name, schedule factory), e.g. ``{"G_lr": ("G", decay)}``.
        batch_size: rows per batch of the default stream (at most the data's size).
        steps: total iterations of the run (schedules decay over them).
        seed: the batch order (and the latents' generator with several processes).
        device: where to train.
        ema: ``(player name, EMA)`` whose average is updated after every step and sampled from.
        batches: a ready batch stream (``__next__``, ``state_dict``, ``load_state_dict``) instead of one built from
            ``data``.
        latent_dim: the size of ``z`` that :meth:`latents` draws (None: the run draws none).
        latent_generator: draw latents from this ``torch.Generator`` instead of the global RNG.
        state: more objects with ``state_dict``/``load_state_dict`` to checkpoint (image pools, moving targets).
        fit: the run's :class:`~genlearn.train.loop.FitOptions` (its ``distributed`` and ``precision`` are used here).
        precision: overrides ``fit.precision`` (a trainer that must run in float32 passes
            ``Precision.float32(reason)``).

    Chapter 0.
    """

    def __init__(
        self,
        players: Mapping[str, nn.Module],
        *data: torch.Tensor,
        optimizers: Mapping[str, OptimizerFactory] = {},
        optimizer_keys: Mapping[str, str] = {},
        schedules: Mapping[str, tuple[str, ScheduleFactory]] = {},
        batch_size: int | None = None,
        steps: int,
        seed: int = 0,
        device: torch.device | str = "cpu",
        ema: tuple[str, EMA] | None = None,
        batches: Any = None,
        latent_dim: int | None = None,
        latent_generator: torch.Generator | None = None,
        state: Mapping[str, Any] = {},
        fit: FitOptions | None = None,
        precision: Precision | None = None,
    ):
        self.options = fit or FitOptions()
        self.device = torch.device(device)
        self.precision = (precision or self.options.precision).on(self.device)  # decided once, here
        self.distributed = self.options.distributed if self.options.distributed is not None and self.options.distributed.active else None
        self.steps = steps
        self.models = {name: to_channels_last(m.to(self.device), self.device, self.precision) for name, m in players.items()}
        self._replicas = {name: wrap(m, self.distributed) for name, m in self.models.items()}
        self.opt = {name: make(self._replicas[name].parameters()) for name, make in optimizers.items()}
        self.optimizer_keys = {name: optimizer_keys.get(name, name) for name in self.opt}
        self.schedules = {key: make(self.opt[name]) for key, (name, make) in schedules.items()}
        self.ema_of, self.ema = (ema[0], ema[1].to(self.device)) if ema is not None else (None, None)
        self.scaler = grad_scaler(self.device, self.precision)
        self.shard = shard(self.distributed) or (0, 1)
        if batches is None and data:
            size = min(batch_size or data[0].shape[0], data[0].shape[0])
            batches = InfiniteBatches(*data, batch_size=size, seed=seed, device=self.device, shard=shard(self.distributed))
        if self.options.distributed is not None and latent_generator is None:  # the same global latents on every rank (and on one, to compare)
            latent_generator = torch.Generator().manual_seed(seed)
        self.batches = batches
        self.latent_dim, self.latent_generator = latent_dim, latent_generator
        self.counter = StepCounter()
        self.state = dict(state)

    # --- the players ---------------------------------------------------------------------------------------------
    def replica(self, name: str) -> nn.Module:
        """The player to run *in its own update*: its DDP replica with several processes (so the backward averages
        its gradients), the network itself in one process. Everywhere else use ``setup.models[name]``.

        Chapter 0.
        """
        return self._replicas[name]

    def wrap(self, module: nn.Module) -> nn.Module:
        """A DDP replica of a network that *holds* a player (AdaIN's encoder-decoder around its decoder)."""
        return wrap(module, self.distributed)

    @property
    def done(self) -> int:
        """Iterations completed so far (restored on resume)."""
        return int(self.counter)

    def latents(self, n: int) -> torch.Tensor:
        """``z ~ N(0, I)``, (n, latent_dim) on the device; with several processes, this process's rows of the global batch's."""
        if self.latent_dim is None:
            raise ValueError("this set-up has no latent_dim (its networks take images); its step takes real images instead")
        if self.latent_generator is not None:
            rank, world = self.shard
            return torch.randn(n * world, self.latent_dim, generator=self.latent_generator)[rank::world].to(self.device)
        return torch.randn(n, self.latent_dim, device=self.device)

    def real(self, batch: torch.Tensor) -> torch.Tensor:
        """A batch of real images in the players' memory format (channels-last where the precision says so)."""
        if self.precision.channels_last and batch.dim() == 4:
            return batch.contiguous(memory_format=torch.channels_last)
        return batch

    # --- the run -------------------------------------------------------------------------------------------------
    def end_step(self) -> None:
        """After the step's updates: move the EMA, step the schedules, count the iteration."""
        if self.ema is not None:
            self.ema.update(self.models[self.ema_of])
        for schedule in self.schedules.values():
            schedule.step()
        self.counter.increment()

    def checkpointed(self) -> tuple[dict[str, nn.Module], dict[str, Any]]:
        """What :func:`genlearn.train.fit` saves and restores: ``(modules, states)``."""
        modules = dict(self.models) | {"steps": self.counter} | ({f"{self.ema_of}_ema": self.ema} if self.ema is not None else {})
        states = {self.optimizer_keys[n]: o for n, o in self.opt.items()} | self.schedules | self.state
        if self.latent_generator is not None:  # a resumed run draws the latents that come next, not the first ones again
            states["latent_generator"] = GeneratorState(self.latent_generator)
        return modules, states

    def fit(self, step: Callable[[Any], Mapping[str, float]], steps: int | None = None, **changes: Any) -> History:
        """:func:`genlearn.train.fit` of ``step`` over this set-up's batches, with its precision active and everything
        it holds checkpointed: until the set-up's ``steps`` (or ``steps``, e.g. the first part of a run whose schedules
        span more); ``changes`` override the run's :class:`FitOptions`."""
        modules, states = self.checkpointed()
        options = self.options.but(**changes) if changes else self.options
        with using(self.precision):
            return fit(step, self.batches, steps=self.steps if steps is None else steps, modules=modules, states=states, options=options)

    def trained(self, history: History, name: str | None = None, model: nn.Module | None = None) -> Trained:
        """Every player in eval mode; the network to sample from (the EMA copy where kept, else ``model`` or the
        player ``name``, by default the first) and the history."""
        for m in self.models.values():
            m.eval()
        if self.ema is not None:
            return Trained(self.ema.model, history)
        return Trained((model if model is not None else self.models[name or next(iter(self.models))]).eval(), history)


__all__ = ["GeneratorState", "Setup", "StepCounter", "adam"]
