"""Recipe ``python -m genlearn train stylegan``: StyleGAN2 (Karras et al. 2020) on an image dataset.

Digits are trained at chapter 2's 16x16, so the digits Fréchet distance compares StyleGAN2 with the
DCGAN at the same resolution and budget (5 minutes in the ``cpu`` profile); the 5,000 MNIST digits and
the faces at 32x32; other datasets and folders at 32 (``cpu``) or 64 (``gpu``). The small-data
settings (:meth:`StyleGANTrainConfig.digits`: R1, DiffAugment, an EMA) are used for every dataset.
``python -m genlearn sample RUN --truncation 0.7`` samples with the truncation trick.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from genlearn.data import get_dataset
from genlearn.models.stylegan import StyleGANConfig, StyleGANDiscriminator, StyleGANGenerator
from genlearn.recipes import run_training
from genlearn.recipes.presets import image_size
from genlearn.runtime import get_device, pick, seed_everything
from genlearn.train.checkpoint import run_info
from genlearn.train.stylegan import StyleGANTrainConfig, train_stylegan


def model_config(data: str, channels: int) -> StyleGANConfig:
    """The StyleGAN2 size for a dataset and the active profile (sizes only)."""
    width = pick(smoke=8, cpu=32, gpu=256)
    w_dim = pick(smoke=8, cpu=64, gpu=256)
    return StyleGANConfig(image_size=image_size(data), channels=channels, latent_dim=w_dim, w_dim=w_dim,
                          mapping_layers=pick(smoke=2, cpu=4, gpu=8), width=width)  # fmt: skip


def train(args) -> Path:
    x, _ = get_dataset(args.data, split="train", size=image_size(args.data))  # (N, C, S, S) in [-1, 1]
    model = model_config(args.data, x.shape[1])
    config = replace(StyleGANTrainConfig.digits(), batch_size=pick(smoke=8, cpu=32, gpu=32))  # step 0 runs R1 and the PL step too
    device = get_device(args.device)

    def trainer(steps, fit):
        seed_everything(args.seed)
        return train_stylegan(StyleGANGenerator(model), StyleGANDiscriminator(model), x, config=config, steps=steps, seed=args.seed,
                              device=device, fit=fit)  # fmt: skip

    run = run_info("stylegan", model.to_dict(), config.to_dict(), args.data, args.seed)
    return run_training(args, trainer, run, default_steps=pick(smoke=4, cpu=8000, gpu=100_000))
