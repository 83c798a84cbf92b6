"""Recipe ``python -m genlearn train stylegan``: StyleGAN2 (Karras et al. 2020) on an image dataset.

Digits are trained at chapter 2's 16x16, so the digits Fréchet distance compares StyleGAN2 with the
DCGAN at the same resolution and budget (5 minutes in the ``cpu`` profile); the 5,000 MNIST digits and
the faces at 32x32; other datasets and folders at 32 (``cpu``) or 64 (``gpu``). The ``cpu``
profile trains with :meth:`StyleGANTrainConfig.digits` (an EMA, no regularizers: at a few minutes on a CPU they cost
more steps than they give, chapter 11 measures it); the ``gpu`` profile's long runs add lazy R1 (gamma 0.01),
DiffAugment translation and the path length penalty back, as in genlearn 0.2 (not measured here: no GPU was lent).
``python -m genlearn sample RUN --truncation 0.7`` samples with the truncation trick.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from genlearn.data import get_dataset
from genlearn.models.stylegan import StyleGANConfig, StyleGANDiscriminator, StyleGANGenerator
from genlearn.recipes import TrainRequest, run_training
from genlearn.recipes.presets import image_size
from genlearn.runtime import get_device, pick, seed_everything
from genlearn.train.checkpoint import run_info
from genlearn.train.stylegan import StyleGANTrainConfig, train_stylegan

DEFAULT_DATA = "digits"  # --data when none is given


def model_config(data: str, channels: int, *, profile: str | None = None) -> StyleGANConfig:
    """The StyleGAN2 size for a dataset and the active profile (sizes only)."""
    width = pick(profile=profile, smoke=8, cpu=32, gpu=256)
    w_dim = pick(profile=profile, smoke=8, cpu=64, gpu=256)
    return StyleGANConfig(image_size=image_size(data, profile=profile), channels=channels, latent_dim=w_dim, w_dim=w_dim,
                          mapping_layers=pick(profile=profile, smoke=2, cpu=4, gpu=8), width=width)  # fmt: skip


def train(req: TrainRequest) -> Path:
    x, _ = get_dataset(req.data, split="train", size=image_size(req.data, profile=req.profile))  # (N, C, S, S) in [-1, 1]
    model = model_config(req.data, x.shape[1], profile=req.profile)
    long_run = req.pick(smoke=False, cpu=False, gpu=True)  # hours on a GPU: the regularizers have a long run to protect
    config = replace(StyleGANTrainConfig.digits(), batch_size=req.pick(smoke=8, cpu=32, gpu=32), r1_gamma=0.01 if long_run else 0.0,
                     diffaugment="translation" if long_run else "", pl_weight=2.0 if long_run else 0.0)  # fmt: skip
    device = get_device(req.device)

    def trainer(steps, fit):
        seed_everything(req.seed)
        return train_stylegan(StyleGANGenerator(model), StyleGANDiscriminator(model), x, config=config, steps=steps, seed=req.seed,
                              device=device, fit=fit)  # fmt: skip

    run = run_info("stylegan", model.to_dict(), config.to_dict(), req.data, req.seed)
    return run_training(req, trainer, run, default_steps=req.pick(smoke=4, cpu=8000, gpu=100_000))
