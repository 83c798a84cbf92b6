"""Training VAEs: the step function and :func:`train_vae`.

One update maximizes the (beta-weighted) ELBO of a mini-batch (Kingma & Welling 2014, Eq. 10):

    loss = -mean_n [ log p(x_n|z_n) - beta * KL(q(z|x_n) || N(0, I)) ],   z_n = mu_n + sigma_n * eps_n
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Mapping

import torch

from genlearn.checks import from_unit, to_unit
from genlearn.losses.elbo import binarize, kl_divergence
from genlearn.models.vae import VAE, VAEConfig
from genlearn.runtime import get_device
from genlearn.train.checkpoint import unwrap
from genlearn.train.distributed import shard
from genlearn.train.loop import FitOptions, Trained, fit_options
from genlearn.train.precision import autocast, backward_and_step
from genlearn.train.setup import Setup, adam


def vae_step(model: VAE, opt: torch.optim.Optimizer, beta: float = 1.0, scaler: torch.amp.GradScaler | None = None):
    """A step function for :func:`genlearn.train.fit`: batches ``x`` or ``(x, y)``, x in [-1, 1].

    The likelihood's targets are ``to_unit(x)`` in [0, 1] (for binarized data pass x in {-1, 1}).
    Logs ``loss`` (the negative beta-ELBO), ``recon`` (-log p(x|z)) and ``kl``, all per image in nats.
    The forward pass runs under autocast on CUDA, the losses in float32.

    Chapter 6.
    """

    core = unwrap(model)  # the VAE inside a DDP wrapper (its forward is the wrapper's, to average gradients)

    def step(batch) -> dict[str, float]:
        x, y = batch if isinstance(batch, (tuple, list)) else (batch, None)
        with autocast(x.device):
            out = model(x, y)  # VAEOutput: logits (N, C, H, W), mu, logvar, z (N, L)
        recon = -core.log_likelihood(out.logits.float(), to_unit(x)).mean()
        kl = kl_divergence(out.mu.float(), out.logvar.float())
        loss = recon + beta * kl
        backward_and_step(loss, opt, scaler)
        return {"loss": loss.item(), "recon": recon.item(), "kl": kl.item()}

    return step


def prepare(x: torch.Tensor, binarized: bool) -> torch.Tensor:
    """The images a VAE trains on, in [-1, 1]: as they are, or binarized (threshold 0.5) to {-1, 1}.

    Chapter 6.
    """
    return from_unit(binarize(x)) if binarized else x


@dataclass(frozen=True)
class VAETrainConfig:
    """How a VAE is trained: Adam's ``lr``, ``batch_size`` images per step, the KL weight ``beta`` (1: the VAE of
    Kingma & Welling 2014; other values: the beta-VAE of Higgins et al. 2017) and ``binarized`` (train on 0/1 pixels,
    threshold 0.5, as for the likelihood table).

    Chapters 0 and 6.
    """

    batch_size: int = 128
    lr: float = 1e-3
    beta: float = 1.0
    binarized: bool = False

    def __post_init__(self) -> None:
        if self.batch_size < 1 or not self.lr > 0 or self.beta < 0:
            raise ValueError(f"batch_size >= 1, lr > 0 and beta >= 0 are needed, got {self}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "VAETrainConfig":
        return cls(**d)


def train_vae(
    vae: VAE | VAEConfig,
    x: torch.Tensor,
    y: torch.Tensor | None = None,
    *,
    config: VAETrainConfig | None = None,
    steps: int,
    seed: int = 0,
    device: torch.device | str | None = None,
    fit: FitOptions | None = None,
    **options: Any,
) -> Trained:
    """Train a :class:`VAE` (a CVAE when its ``num_classes > 0``, which needs ``y``) with Adam.

    Args:
        vae: the model; or its :class:`VAEConfig`, and the model is built here after ``torch.manual_seed(seed)``
            (genlearn 0.2's call).
        x: training images (N, C, H, W) in [-1, 1]; y: labels (N,) for a CVAE.
        config: the optimization (:class:`VAETrainConfig`); genlearn 0.2's ``batch_size=``, ``lr=``, ``beta=`` and
            ``binarized=`` keywords are read into it.
        steps: updates of the run.
        seed: batch order (and, with a config instead of a model, initialization and noise).
        device: where to train (default: the best available).
        fit: callbacks, checkpoint, budget, progress, distributed, precision
            (:class:`~genlearn.train.loop.FitOptions`); ``fit.run`` defaults to the model and train configs (what
            :func:`genlearn.load` needs for ``model="vae"``). With several processes, ``config.batch_size`` is the
            global batch and each process draws its own reparameterization noise.

    Returns:
        :class:`~genlearn.train.Trained` ``(model, history)``; the model is in eval mode.

    Chapter 6.
    """
    legacy = {k: options.pop(k) for k in ("batch_size", "lr", "beta", "binarized") if k in options}
    config = replace(config or VAETrainConfig(), **legacy)
    fit = fit_options(fit, options, desc="vae", where="train_vae")
    model_config = vae.config if isinstance(vae, VAE) else vae
    if model_config.num_classes and y is None:
        raise ValueError("a conditional VAE (num_classes > 0) needs labels y")
    device = get_device(str(device) if device is not None else None)
    rank, world = shard(fit.distributed) or (0, 1)
    if not isinstance(vae, VAE):
        torch.manual_seed(seed)
        if world > 1:
            torch.manual_seed(seed + 1000 * rank)  # one initialization (DDP copies rank 0's), noise of its own per rank
        vae = VAE(vae)
    elif world > 1:
        torch.manual_seed(seed + 1000 * rank)  # noise of its own per rank
    data = (prepare(x, config.binarized),) + ((y,) if model_config.num_classes else ())
    run = {"model_config": model_config.to_dict(), "train_config": config.to_dict(), "seed": seed, **(fit.run or {})}
    setup = Setup({"vae": vae}, *data, optimizers={"vae": adam(config.lr)}, optimizer_keys={"vae": "opt"}, batch_size=config.batch_size,
                  steps=steps, seed=seed, device=device, fit=fit.but(run=run))  # fmt: skip
    history = setup.fit(vae_step(setup.replica("vae"), setup.opt["vae"], config.beta, scaler=setup.scaler))
    return setup.trained(history)


__all__ = ["VAETrainConfig", "prepare", "train_vae", "vae_step"]
