"""Recipe ``python -m genlearn train dcgan``: DCGAN (Radford et al. 2016) on an image dataset.

Digits (8x8 at source) are trained at 16x16 with the remedies measured in chapter 2 (the R1
penalty, a learning-rate decay, DiffAugment translation, an EMA of G: :meth:`GANConfig.digits`);
other datasets use the paper's settings, at 64x64 in the ``gpu`` profile.
"""

from __future__ import annotations

from pathlib import Path

from genlearn.data import get_dataset
from genlearn.models.dcgan import DCGANDiscriminator, DCGANGenerator
from genlearn.recipes import write_history
from genlearn.recipes.presets import SMALL_DATA, dcgan_config, image_size
from genlearn.runtime import get_device, pick, seed_everything
from genlearn.train.checkpoint import run_info
from genlearn.train.gan import GANConfig, train_gan


def train(args) -> Path:
    seed_everything(args.seed)
    x, _ = get_dataset(args.data, split="train", size=image_size(args.data))  # (N, C, S, S) in [-1, 1]
    model = dcgan_config(args.data, x.shape[1])
    config = GANConfig.digits() if args.data in SMALL_DATA else GANConfig.dcgan()
    steps = args.steps if args.steps is not None else pick(smoke=20, cpu=8000, gpu=20000)
    run = Path(args.out)
    _, history = train_gan(
        DCGANGenerator(model), DCGANDiscriminator(model), x, config=config, steps=steps, seed=args.seed,
        device=get_device(args.device), checkpoint=run / "checkpoint.pt", desc="dcgan",
        run=run_info("dcgan", model.to_dict(), config.to_dict(), args.data, args.seed),
    )  # fmt: skip
    write_history(run, history)
    return run
