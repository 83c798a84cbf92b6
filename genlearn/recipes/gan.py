"""Recipe ``python -m genlearn train gan``: the MLP GAN of chapter 1 on flattened images."""

from __future__ import annotations

from pathlib import Path

from genlearn.data import get_dataset
from genlearn.models.mlp import MLPConfig, MLPDiscriminator, MLPGenerator
from genlearn.recipes import TrainRequest, run_training
from genlearn.runtime import get_device, seed_everything
from genlearn.train.checkpoint import run_info
from genlearn.train.gan import GANTrainConfig, train_gan

DEFAULT_DATA = "digits"  # --data when none is given


def train(req: TrainRequest) -> Path:
    x, _ = get_dataset(req.data, split="train")
    model = MLPConfig.images(channels=x.shape[1], size=x.shape[2])
    config = GANTrainConfig(batch_size=64, lr_g=2e-4, lr_d=2e-4)
    device = get_device(req.device)

    def trainer(steps, fit):
        seed_everything(req.seed)
        return train_gan(MLPGenerator(model), MLPDiscriminator(model), x, config=config, steps=steps, seed=req.seed, device=device, fit=fit)

    run = run_info("gan", model.to_dict(), config.to_dict(), req.data, req.seed)
    return run_training(req, trainer, run, default_steps=req.pick(smoke=20, cpu=5000, gpu=20000))
