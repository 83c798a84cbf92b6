"""Training VAEs: the step function and :func:`train_vae`.

One update maximizes the (beta-weighted) ELBO of a mini-batch (Kingma & Welling 2014, Eq. 10):

    loss = -mean_n [ log p(x_n|z_n) - beta * KL(q(z|x_n) || N(0, I)) ],   z_n = mu_n + sigma_n * eps_n
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import torch

from genlearn.checks import from_unit, to_unit
from genlearn.losses.elbo import binarize, kl_divergence
from genlearn.models.vae import VAE, VAEConfig
from genlearn.runtime import get_device
from genlearn.train.checkpoint import unwrap
from genlearn.train.distributed import Distributed, shard, wrap
from genlearn.train.loop import Every, InfiniteBatches, Trained, fit


def vae_step(model: VAE, opt: torch.optim.Optimizer, beta: float = 1.0):
    """A step function for :func:`genlearn.train.fit`: batches ``x`` or ``(x, y)``, x in [-1, 1].

    The likelihood's targets are ``to_unit(x)`` in [0, 1] (for binarized data pass x in {-1, 1}).
    Logs ``loss`` (the negative beta-ELBO), ``recon`` (-log p(x|z)) and ``kl``, all per image in nats.

    Chapter 6.
    """

    core = unwrap(model)  # the VAE inside a DDP wrapper (its forward is the wrapper's, to average gradients)

    def step(batch) -> dict[str, float]:
        x, y = batch if isinstance(batch, (tuple, list)) else (batch, None)
        out = model(x, y)  # VAEOutput: logits (N, C, H, W), mu, logvar, z (N, L)
        recon = -core.log_likelihood(out.logits, to_unit(x)).mean()
        kl = kl_divergence(out.mu, out.logvar)
        loss = recon + beta * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"loss": loss.item(), "recon": recon.item(), "kl": kl.item()}

    return step


def prepare(x: torch.Tensor, binarized: bool) -> torch.Tensor:
    """The images a VAE trains on, in [-1, 1]: as they are, or binarized (threshold 0.5) to {-1, 1}.

    Chapter 6.
    """
    return from_unit(binarize(x)) if binarized else x


def train_vae(
    config: VAEConfig,
    x: torch.Tensor,
    y: torch.Tensor | None = None,
    *,
    steps: int,
    batch_size: int = 128,
    lr: float = 1e-3,
    beta: float = 1.0,
    binarized: bool = False,
    seed: int = 0,
    device: torch.device | str | None = None,
    callbacks: Sequence[Every] = (),
    checkpoint: str | Path | None = None,
    run: Mapping[str, Any] | None = None,
    time_budget: float | None = None,
    desc: str = "vae",
    progress: bool = True,
    distributed: Distributed | None = None,
) -> Trained:
    """Train a :class:`VAE` (a CVAE when ``config.num_classes > 0``, which needs ``y``) with Adam.

    Args:
        config: the model.
        x: training images (N, C, H, W) in [-1, 1]; y: labels (N,) for a CVAE.
        steps, batch_size, lr: the optimization.
        beta: KL weight (1: the VAE; other values: beta-VAE, Higgins et al. 2017).
        binarized: train on 0/1 pixels (threshold 0.5), as for the likelihood table.
        seed: initialization, batch order and noise.
        checkpoint: file to save and resume from.
        run: the run's description in the checkpoint; by default the model config and the
            optimization settings (what :func:`genlearn.load` needs for ``model="vae"``).
        time_budget: stop after this many seconds (checkpointed; see :func:`genlearn.train.fit`).
        distributed: train with DDP on several processes, ``batch_size`` being the global batch; each process
            draws its own reparameterization noise (:mod:`genlearn.train.distributed`).

    Returns:
        :class:`~genlearn.train.Trained` ``(model, history)``; the model is in eval mode.

    Chapter 6.
    """
    if config.num_classes and y is None:
        raise ValueError("a conditional VAE (num_classes > 0) needs labels y")
    device = get_device(str(device) if device is not None else None)
    torch.manual_seed(seed)
    rank, world = shard(distributed) or (0, 1)
    if world > 1:
        torch.manual_seed(seed + 1000 * rank)  # one initialization (DDP copies rank 0's), noise of its own per rank
    model = VAE(config).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    data = (prepare(x, binarized),) + ((y,) if config.num_classes else ())
    batches = InfiniteBatches(*data, batch_size=min(batch_size, x.shape[0]), seed=seed, device=device, shard=shard(distributed))
    train_config = {"beta": beta, "binarized": binarized, "lr": lr, "batch_size": batch_size}
    run = {"model_config": config.to_dict(), "train_config": train_config, "seed": seed, **(run or {})}
    history = fit(
        vae_step(wrap(model, distributed), opt, beta),
        batches,
        steps=steps,
        modules={"vae": model},
        optimizers={"opt": opt},
        callbacks=callbacks,
        checkpoint=checkpoint,
        run=run,
        time_budget=time_budget,
        desc=desc,
        progress=progress,
        distributed=distributed,
    )
    return Trained(model.eval(), history)


__all__ = ["prepare", "train_vae", "vae_step"]
