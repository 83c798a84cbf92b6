"""Training a diffusion model: Ho, Jain & Abbeel (2020) Algorithm 1 as a step function, and :func:`train_ddpm`.

    repeat:  x_0 ~ q(x_0),  t ~ Uniform({1, ..., T}),  eps ~ N(0, I)
             take a gradient step on  || eps - eps_theta( sqrt(ab_t) x_0 + sqrt(1 - ab_t) eps, t ) ||^2      (Eq. 14)

With the x_0 or v parameterization the regression target changes, nothing else. The run keeps an EMA of the weights
(Ho et al. Appendix B: decay 0.9999) and samples from it, warms the learning rate up and clips the gradient norm to 1.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping

import torch
from torch import nn

from genlearn.diffusion.process import q_sample, training_target
from genlearn.diffusion.schedules import NoiseSchedule
from genlearn.losses.diffusion import simple_loss
from genlearn.models.ddpm import DDPM
from genlearn.runtime import get_device
from genlearn.train.checkpoint import unwrap
from genlearn.train.distributed import shard
from genlearn.train.ema import EMA
from genlearn.train.loop import FitOptions, Trained, fit_options
from genlearn.train.precision import autocast, backward_and_step
from genlearn.train.schedules import linear_warmup
from genlearn.train.setup import Setup, adam


def ddpm_step(model: nn.Module, opt: torch.optim.Optimizer, *, scaler: torch.amp.GradScaler | None = None, max_grad_norm: float | None = 1.0,
              schedule: NoiseSchedule | None = None, parameterization: str | None = None):  # fmt: skip
    """A step function for :func:`genlearn.train.fit`: Algorithm 1 on a batch ``x`` or ``(x, y)``, x in [-1, 1].

    Args:
        model: a :class:`~genlearn.models.ddpm.DDPM` (or its DDP replica), or any network ``model(x_t, t, y)`` when
            ``schedule`` and ``parameterization`` are given (chapter 13's 2-D :class:`ToyDenoiser`).
        opt: its optimizer.
        scaler: the set-up's GradScaler (float16 autocast on CUDA).
        max_grad_norm: clip the gradient's global norm to this (Ho et al.'s code: 1.0); None: no clipping.

    Logs ``loss`` (the mean squared error of Eq. 14) and ``grad_norm`` (before clipping).

    Chapter 13.
    """
    core = unwrap(model)
    schedule = schedule if schedule is not None else core.schedule
    parameterization = parameterization if parameterization is not None else core.config.parameterization

    def step(batch) -> dict[str, float]:
        x0, y = batch if isinstance(batch, (tuple, list)) else (batch, None)
        t = torch.randint(0, schedule.T, (x0.shape[0],), device=x0.device)  # (N,) 0-based: the paper's t - 1
        eps = torch.randn_like(x0)  # (N, C, H, W)
        x_t = q_sample(schedule, x0, t, eps)  # Eq. 4
        target = training_target(schedule, x0, eps, t, parameterization)
        with autocast(x0.device):
            out = model(x_t, t.float(), y)
        loss = simple_loss(out.float(), target)
        norm = backward_and_step(loss, opt, scaler, max_grad_norm)  # a tensor: read after the update is queued
        return {"loss": loss.item()} | ({"grad_norm": norm.item()} if norm is not None else {})

    return step


@dataclass(frozen=True)
class DDPMTrainConfig:
    """How a diffusion model is trained: Adam's ``lr`` warmed up linearly over ``warmup`` steps, ``batch_size`` images
    per step, the gradient clipped to ``max_grad_norm`` and the EMA's ``ema_decay`` (Ho et al. 2020, Appendix B:
    2e-4, 5,000, 128, 1.0, 0.9999).

    Chapter 13.
    """

    batch_size: int = 128
    lr: float = 2e-4
    warmup: int = 5000
    max_grad_norm: float | None = 1.0
    ema_decay: float = 0.9999

    def __post_init__(self) -> None:
        if self.batch_size < 1 or not self.lr > 0 or self.warmup < 0 or not 0 <= self.ema_decay < 1:
            raise ValueError(f"batch_size >= 1, lr > 0, warmup >= 0 and ema_decay in [0, 1) are needed, got {self}")
        if self.max_grad_norm is not None and not self.max_grad_norm > 0:
            raise ValueError(f"max_grad_norm must be > 0 or None, got {self.max_grad_norm}")

    @classmethod
    def digits(cls) -> "DDPMTrainConfig":
        """Chapter 13's settings for minutes on a CPU: a larger step (1e-3) after 200 warmup steps, batches of 128
        (on 2 cores a step of 128 costs about 1.6 steps of 64: a small U-Net's step is mostly overhead), and an EMA of
        0.999 (about the last 1,000 steps: a run of a few thousand steps cannot average over 10,000)."""
        return cls(batch_size=128, lr=1e-3, warmup=200, max_grad_norm=1.0, ema_decay=0.999)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "DDPMTrainConfig":
        return cls(**d)


def train_ddpm(model: DDPM, x: torch.Tensor, y: torch.Tensor | None = None, *, config: DDPMTrainConfig | None = None, steps: int,
               seed: int = 0, device: torch.device | str | None = None, fit: FitOptions | None = None) -> Trained:  # fmt: skip
    """Train a :class:`~genlearn.models.ddpm.DDPM` (class-conditional when its U-Net has ``num_classes``, which needs
    ``y``) with Adam, warmup, clipping and an EMA of the weights.

    Args:
        model: the model (seed the global RNG before building it for a repeatable initialization).
        x: training images (N, C, H, W) in [-1, 1]; y: labels (N,) for a conditional model.
        config: the optimization (:class:`DDPMTrainConfig`).
        steps: updates of the run.
        seed: the batch order, and the noise and timesteps (the global RNG is seeded with it here).
        device: where to train (default: the best available).
        fit: callbacks, checkpoint, budget, progress, distributed, precision
            (:class:`~genlearn.train.loop.FitOptions`); ``fit.run`` defaults to the model and train configs.

    Returns:
        :class:`~genlearn.train.Trained` ``(model, history)``: the EMA copy, in eval mode. The raw weights stay in
        the checkpoint (``ddpm``) beside the average (``ddpm_ema``).

    Chapter 13.
    """
    config = config or DDPMTrainConfig()
    fit = fit_options(fit, {}, desc="ddpm", where="train_ddpm")
    if model.num_classes and y is None:
        raise ValueError("a class-conditional DDPM (num_classes > 0) needs labels y")
    if x.dim() != 4 or x.shape[1:] != (model.config.unet.in_channels, model.config.unet.image_size, model.config.unet.image_size):
        u = model.config.unet
        raise ValueError(f"x must be (N, {u.in_channels}, {u.image_size}, {u.image_size}) images in [-1, 1], got {tuple(x.shape)}")
    device = get_device(str(device) if device is not None else None)
    rank, _ = shard(fit.distributed) or (0, 1)
    torch.manual_seed(seed + 1000 * rank)  # the timesteps and noise: a stream of its own per process
    data = (x,) + ((y,) if model.num_classes else ())
    run = {"model": "ddpm", "model_config": model.config.to_dict(), "train_config": config.to_dict(), "seed": seed, **(fit.run or {})}
    setup = Setup({"ddpm": model}, *data, optimizers={"ddpm": adam(config.lr)},
                  schedules={"ddpm_lr": ("ddpm", lambda opt: linear_warmup(opt, config.warmup))},
                  batch_size=config.batch_size, steps=steps, seed=seed, device=device,
                  ema=("ddpm", EMA(model, config.ema_decay)), fit=fit.but(run=run))  # fmt: skip
    update = ddpm_step(setup.replica("ddpm"), setup.opt["ddpm"], scaler=setup.scaler, max_grad_norm=config.max_grad_norm)

    def step(batch) -> dict[str, float]:
        logs = update(batch)
        setup.end_step()  # the EMA, the warmup and the step counter
        return logs

    return setup.trained(setup.fit(step))


__all__ = ["DDPMTrainConfig", "ddpm_step", "train_ddpm"]
