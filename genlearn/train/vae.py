"""Training VAEs: the step function, :func:`train_vae`, and the recipes ``python -m genlearn train vae|cvae``.

One update maximizes the (beta-weighted) ELBO of a mini-batch (Kingma & Welling 2014, Eq. 10):

    loss = -mean_n [ log p(x_n|z_n) - beta * KL(q(z|x_n) || N(0, I)) ],   z_n = mu_n + sigma_n * eps_n
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import torch

from genlearn.checks import from_unit, to_unit
from genlearn.elbo import binarize, kl_divergence
from genlearn.models.vae import VAE, VAEConfig
from genlearn.runtime import get_device, pick
from genlearn.train.checkpoint import save_checkpoint
from genlearn.train.loop import Every, History, InfiniteBatches, fit
from genlearn.train.recipe import write_history


def vae_step(model: VAE, opt: torch.optim.Optimizer, beta: float = 1.0):
    """A step function for :func:`genlearn.train.fit`: batches ``x`` or ``(x, y)``, x in [-1, 1].

    The likelihood's targets are ``to_unit(x)`` in [0, 1] (for binarized data pass x in {-1, 1}).
    Logs ``loss`` (the negative beta-ELBO), ``recon`` (-log p(x|z)) and ``kl``, all per image in nats.
    """

    def step(batch) -> dict[str, float]:
        x, y = batch if isinstance(batch, (tuple, list)) else (batch, None)
        out = model(x, y)  # VAEOutput: logits (N, C, H, W), mu, logvar, z (N, L)
        recon = -model.log_likelihood(out.logits, to_unit(x)).mean()
        kl = kl_divergence(out.mu, out.logvar)
        loss = recon + beta * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"loss": loss.item(), "recon": recon.item(), "kl": kl.item()}

    return step


def prepare(x: torch.Tensor, binarized: bool) -> torch.Tensor:
    """The images a VAE trains on, in [-1, 1]: as they are, or binarized (threshold 0.5) to {-1, 1}."""
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
    extra_config: dict | None = None,
    desc: str = "vae",
    progress: bool = True,
) -> tuple[VAE, History]:
    """Train a :class:`VAE` (a CVAE when ``config.num_classes > 0``, which needs ``y``) with Adam.

    Args:
        config: the model.
        x: training images (N, C, H, W) in [-1, 1]; y: labels (N,) for a CVAE.
        steps, batch_size, lr: the optimization.
        beta: KL weight (1: the VAE; other values: beta-VAE, Higgins et al. 2017).
        binarized: train on 0/1 pixels (threshold 0.5), as for the likelihood table.
        seed: initialization, batch order and noise.
        checkpoint: file to save and resume from (the config is stored with the weights).

    Returns:
        ``(model, history)``; the model is in eval mode.
    """
    if config.num_classes and y is None:
        raise ValueError("a conditional VAE (num_classes > 0) needs labels y")
    device = get_device(str(device) if device is not None else None)
    torch.manual_seed(seed)
    model = VAE(config).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    data = (prepare(x, binarized),) + ((y,) if config.num_classes else ())
    batches = InfiniteBatches(*data, batch_size=min(batch_size, x.shape[0]), seed=seed, device=device)
    run_config = {"vae": config.to_dict(), "beta": beta, "binarized": binarized, "lr": lr, "batch_size": batch_size, "seed": seed}
    history = fit(
        vae_step(model, opt, beta),
        batches,
        steps=steps,
        modules={"vae": model},
        optimizers={"opt": opt},
        callbacks=callbacks,
        checkpoint=checkpoint,
        config={**run_config, **(extra_config or {})},
        desc=desc,
        progress=progress,
    )
    return model.eval(), history


# -- recipes: python -m genlearn train vae|cvae ---------------------------------------------------


def _recipe_config(name: str, data: str, channels: int, native: int) -> VAEConfig:
    size = max(4, 2 ** math.ceil(math.log2(native)))  # the conv VAE halves down to 4x4
    num_classes = 10 if name == "cvae" else 0
    return pick(
        smoke=VAEConfig(arch="conv", channels=channels, image_size=size, latent_dim=4, hidden=32, width=4, num_classes=num_classes),
        cpu=VAEConfig(arch="conv", channels=channels, image_size=size, latent_dim=16, hidden=256, width=16, num_classes=num_classes),
        gpu=VAEConfig(arch="conv", channels=channels, image_size=size, latent_dim=32, hidden=512, width=64, num_classes=num_classes),
    )


def train(args) -> Path:
    """``python -m genlearn train vae|cvae``: a conv VAE (or CVAE) on ``args.data``'s train split.

    Trains on the images as they are (targets ``to_unit(x)`` in [0, 1], Bernoulli decoder), at the
    data's native size rounded up to a power of two. Writes RUN/checkpoint.pt and RUN/history.json.
    """
    from genlearn.data import get_dataset
    from genlearn.data.registry import NATIVE_SIZE

    name = args.model
    if name not in ("vae", "cvae"):
        raise SystemExit(f"genlearn: genlearn.train.vae trains 'vae' or 'cvae', got {name!r}")
    x, y = get_dataset(args.data, split="train")
    config = _recipe_config(name, args.data, x.shape[1], NATIVE_SIZE.get(args.data, x.shape[-1]))
    if config.image_size != x.shape[-1]:
        x, y = get_dataset(args.data, split="train", size=config.image_size)
    if name == "cvae" and int(y.max()) >= config.num_classes:
        raise SystemExit(f"genlearn: cvae supports up to {config.num_classes} classes; {args.data!r} has labels up to {int(y.max())}")
    steps = args.steps if args.steps is not None else pick(smoke=20, cpu=3000, gpu=20000)
    run = Path(args.out)
    _, history = train_vae(
        config, x, y if config.num_classes else None,
        steps=steps, batch_size=pick(smoke=32, cpu=128, gpu=128), seed=args.seed, device=args.device,
        checkpoint=run / "checkpoint.pt", extra_config={"model": name, "data": args.data}, desc=name,
    )
    write_history(run, history)
    return run


def load_vae(payload: dict) -> VAE:
    """Rebuild the VAE of a checkpoint payload (its config is stored next to the weights), in eval mode."""
    model = VAE(VAEConfig.from_dict(payload["config"]["vae"]))
    model.load_state_dict(payload["modules"]["vae"])
    return model.eval()


def sample(payload: dict, n: int, seed: int) -> dict[str, torch.Tensor]:
    """``python -m genlearn sample RUN``: decoded means of ``z ~ N(0, I)``; a CVAE cycles labels 0, 1, ..., 9."""
    model = load_vae(payload)
    g = torch.Generator().manual_seed(seed)
    if not model.config.num_classes:
        return {"images": model.sample(n, generator=g)}
    labels = torch.arange(n) % model.config.num_classes
    return {"images": model.sample(n, labels, generator=g), "labels": labels}
