"""Recipe ``python -m genlearn train dcgan``: DCGAN (Radford et al. 2016) on an image dataset.

Digits (8x8 at source) are trained at 16x16 with the remedies measured in chapter 2 (the R1
penalty, a learning-rate decay, DiffAugment translation, an EMA of G: :meth:`GANTrainConfig.digits`);
other datasets, and folders of your own images, use the paper's settings (64x64 in the ``gpu`` profile).
"""

from __future__ import annotations

from pathlib import Path

from genlearn.data import get_dataset
from genlearn.models.dcgan import DCGANDiscriminator, DCGANGenerator
from genlearn.recipes import TrainRequest, run_training
from genlearn.recipes.presets import SMALL_DATA, dcgan_config, image_size
from genlearn.runtime import get_device, seed_everything
from genlearn.train.checkpoint import run_info
from genlearn.train.gan import GANTrainConfig, train_gan

DEFAULT_DATA = "digits"  # --data when none is given


def train(req: TrainRequest) -> Path:
    x, _ = get_dataset(req.data, split="train", size=image_size(req.data, profile=req.profile))  # (N, C, S, S) in [-1, 1]
    model = dcgan_config(req.data, x.shape[1], profile=req.profile)
    config = GANTrainConfig.digits() if req.data in SMALL_DATA else GANTrainConfig.dcgan()
    device = get_device(req.device)

    def trainer(steps, fit):
        seed_everything(req.seed)
        G, D = DCGANGenerator(model), DCGANDiscriminator(model)
        return train_gan(G, D, x, config=config, steps=steps, seed=req.seed, device=device, fit=fit)

    run = run_info("dcgan", model.to_dict(), config.to_dict(), req.data, req.seed)
    return run_training(req, trainer, run, default_steps=req.pick(smoke=20, cpu=8000, gpu=20000))
