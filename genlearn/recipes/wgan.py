"""Recipes ``python -m genlearn train wgan`` and ``wgan-gp``: DCGAN's generator against a critic."""

from __future__ import annotations

from pathlib import Path

from genlearn.data import get_dataset
from genlearn.models.critic import Critic, CriticConfig
from genlearn.models.dcgan import DCGANGenerator
from genlearn.recipes import TrainRequest, UsageError, run_training
from genlearn.recipes.presets import SMALL_DATA, dcgan_config, image_size
from genlearn.runtime import get_device, seed_everything
from genlearn.train.checkpoint import run_info
from genlearn.train.wgan import WGANTrainConfig, digits_config, train_wgan

DEFAULT_DATA = "digits"  # --data when none is given


def train(req: TrainRequest) -> Path:
    if req.model not in ("wgan", "wgan-gp"):
        raise UsageError(f"the wgan recipe trains 'wgan' or 'wgan-gp', not {req.model!r}")
    x, _ = get_dataset(req.data, split="train", size=image_size(req.data, profile=req.profile))  # (N, C, S, S) in [-1, 1]
    model = dcgan_config(req.data, x.shape[1], profile=req.profile)
    critic = CriticConfig.from_dcgan(model, norm="layer")
    if req.data in SMALL_DATA:
        config = digits_config(req.model)
    else:
        config = WGANTrainConfig.wgan() if req.model == "wgan" else WGANTrainConfig.wgan_gp()
    device = get_device(req.device)

    def trainer(steps, fit):
        seed_everything(req.seed)
        return train_wgan(DCGANGenerator(model), Critic(critic), x, config=config, steps=steps, seed=req.seed, device=device, fit=fit)

    run = run_info(req.model, model.to_dict(), config.to_dict() | {"critic": critic.to_dict()}, req.data, req.seed)
    cpu_steps = 7000 if req.model == "wgan-gp" else 4500  # cut to the 5-minute budget on slower machines
    return run_training(req, trainer, run, default_steps=req.pick(smoke=10, cpu=cpu_steps, gpu=20000))
