"""Recipes ``python -m genlearn train wgan`` and ``wgan-gp``: DCGAN's generator against a critic."""

from __future__ import annotations

from pathlib import Path

from genlearn.data import get_dataset
from genlearn.models.critic import Critic, CriticConfig
from genlearn.models.dcgan import DCGANGenerator
from genlearn.recipes import UsageError, run_training
from genlearn.recipes.presets import SMALL_DATA, dcgan_config, image_size
from genlearn.runtime import get_device, pick, seed_everything
from genlearn.train.checkpoint import run_info
from genlearn.train.wgan import WGANTrainConfig, digits_config, train_wgan


def train(args) -> Path:
    if args.model not in ("wgan", "wgan-gp"):
        raise UsageError(f"the wgan recipe trains 'wgan' or 'wgan-gp', not {args.model!r}")
    x, _ = get_dataset(args.data, split="train", size=image_size(args.data))  # (N, C, S, S) in [-1, 1]
    model = dcgan_config(args.data, x.shape[1])
    critic = CriticConfig.from_dcgan(model, norm="layer")
    if args.data in SMALL_DATA:
        config = digits_config(args.model)
    else:
        config = WGANTrainConfig.wgan() if args.model == "wgan" else WGANTrainConfig.wgan_gp()
    device = get_device(args.device)

    def trainer(steps, fit):
        seed_everything(args.seed)
        return train_wgan(DCGANGenerator(model), Critic(critic), x, config=config, steps=steps, seed=args.seed, device=device, fit=fit)

    run = run_info(args.model, model.to_dict(), config.to_dict() | {"critic": critic.to_dict()}, args.data, args.seed)
    cpu_steps = 7000 if args.model == "wgan-gp" else 4500  # cut to the 5-minute budget on slower machines
    return run_training(args, trainer, run, default_steps=pick(smoke=10, cpu=cpu_steps, gpu=20000))
