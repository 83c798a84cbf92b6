"""Recipe ``python -m genlearn train dcgan``: DCGAN (Radford et al. 2016) on an image dataset.

Digits (8x8 at source) are trained at 16x16 with the remedies measured in chapter 2 (the R1
penalty, a learning-rate decay, DiffAugment translation, an EMA of G); other datasets use the
paper's settings, at 64x64 in the ``gpu`` profile.
"""

from __future__ import annotations

from pathlib import Path

import torch

from genlearn.models.dcgan import DCGANConfig, Discriminator, Generator
from genlearn.runtime import get_device, pick, seed_everything
from genlearn.train.gan import TrainConfig, sampling_generator, train_gan
from genlearn.train.recipe import write_history

SMALL_DATA = ("digits", "mnist-5k", "faces")


def digits_train_config() -> TrainConfig:
    """Chapter 2's recipe for the 1,437 digits (see its ablation).

    Batch 128, Adam 5e-4 for both players (beta1 0.5), lazy R1 with gamma = 1 every 4 D steps,
    constant rates for the first quarter of the run then linear decay to 0, DiffAugment translation,
    sampling from an EMA of G (0.999).
    """
    return TrainConfig(batch_size=128, lr_g=5e-4, lr_d=5e-4, diffaugment="translation", ema_decay=0.999,
                       r1_gamma=1.0, r1_every=4, lr_decay=0.75)  # fmt: skip


def image_size(data: str) -> int:
    """Training resolution: 16 for the 8x8 digits, 32 for the other small sets, else 16/32/64 by profile."""
    if data == "digits":
        return 16
    return 32 if data in SMALL_DATA else pick(smoke=16, cpu=32, gpu=64)


def model_config(data: str, channels: int) -> DCGANConfig:
    """The DCGAN size for a dataset and the active profile (one code path, sizes only)."""
    width = pick(smoke=8, cpu=32, gpu=64)
    return DCGANConfig(image_size=image_size(data), channels=channels, latent_dim=pick(smoke=16, cpu=64, gpu=100), g_width=width, d_width=width)


def train(args) -> Path:
    from genlearn.data import get_dataset

    seed_everything(args.seed)
    x, _ = get_dataset(args.data, split="train", size=image_size(args.data))  # (N, C, S, S) in [-1, 1]
    model = model_config(args.data, x.shape[1])
    train_cfg = digits_train_config() if args.data in SMALL_DATA else TrainConfig.dcgan()
    steps = args.steps if args.steps is not None else pick(smoke=20, cpu=8000, gpu=20000)
    run = Path(args.out)
    config = {"model": "dcgan", "data": args.data, "dcgan": model.to_dict(), "train": train_cfg.to_dict(), "seed": args.seed}
    history, _ = train_gan(
        Generator(model), Discriminator(model), x, config=train_cfg, steps=steps, seed=args.seed,
        device=get_device(args.device), checkpoint=run / "checkpoint.pt", run_config=config, desc="dcgan",
    )  # fmt: skip
    write_history(run, history)
    return run


def sample(payload: dict, n: int, seed: int) -> dict[str, torch.Tensor]:
    G = sampling_generator(payload, Generator(DCGANConfig.from_dict(payload["config"]["dcgan"])))
    images = torch.cat([G.sample(min(512, n - i), generator=torch.Generator().manual_seed(seed + i)) for i in range(0, n, 512)])
    return {"images": images.float().clamp(-1, 1)}
