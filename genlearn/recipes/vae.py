"""Recipes ``python -m genlearn train vae|cvae``: a conv VAE (or CVAE) on a dataset's train split."""

from __future__ import annotations

import math
from pathlib import Path

from genlearn.data import get_dataset
from genlearn.data.registry import NATIVE_SIZE
from genlearn.models.vae import VAE, VAEConfig
from genlearn.recipes import TrainRequest, UsageError, run_training
from genlearn.runtime import pick, seed_everything
from genlearn.train.checkpoint import run_info
from genlearn.train.vae import VAETrainConfig, train_vae

DEFAULT_DATA = "digits"  # --data when none is given


def vae_config(name: str, channels: int, native: int, *, profile: str | None = None) -> VAEConfig:
    """The profile's conv VAE at the data's native size rounded up to a power of two (it halves down to 4x4)."""
    size = max(4, 2 ** math.ceil(math.log2(native)))
    num_classes = 10 if name == "cvae" else 0
    return pick(profile=profile, 
        smoke=VAEConfig(arch="conv", channels=channels, image_size=size, latent_dim=4, hidden=32, width=4, num_classes=num_classes),
        cpu=VAEConfig(arch="conv", channels=channels, image_size=size, latent_dim=16, hidden=256, width=16, num_classes=num_classes),
        gpu=VAEConfig(arch="conv", channels=channels, image_size=size, latent_dim=32, hidden=512, width=64, num_classes=num_classes),
    )


def train(req: TrainRequest) -> Path:
    """Trains on the images as they are (targets ``to_unit(x)`` in [0, 1], Bernoulli decoder)."""
    name = req.model
    if name not in ("vae", "cvae"):
        raise UsageError(f"the vae recipe trains 'vae' or 'cvae', got {name!r}")
    x, y = get_dataset(req.data, split="train")
    config = vae_config(name, x.shape[1], NATIVE_SIZE.get(req.data, x.shape[-1]), profile=req.profile)
    if config.image_size != x.shape[-1]:
        x, y = get_dataset(req.data, split="train", size=config.image_size)
    if name == "cvae" and int(y.max()) >= config.num_classes:
        raise UsageError(f"cvae supports up to {config.num_classes} classes; {req.data!r} has labels up to {int(y.max())}")
    train_config = VAETrainConfig(batch_size=req.pick(smoke=32, cpu=128, gpu=128))

    def trainer(steps, fit):
        seed_everything(req.seed)
        return train_vae(VAE(config), x, y if config.num_classes else None, config=train_config, steps=steps, seed=req.seed,
                         device=req.device, fit=fit)  # fmt: skip

    run = run_info(name, config.to_dict(), train_config.to_dict(), req.data, req.seed)
    return run_training(req, trainer, run, default_steps=req.pick(smoke=20, cpu=3000, gpu=20000))
