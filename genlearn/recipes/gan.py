"""Recipe ``python -m genlearn train gan``: the MLP GAN of chapter 1 on flattened images."""

from __future__ import annotations

from pathlib import Path

from genlearn.data import get_dataset
from genlearn.models.mlp import MLPConfig, MLPDiscriminator, MLPGenerator
from genlearn.recipes import write_history
from genlearn.runtime import get_device, pick, seed_everything
from genlearn.train.checkpoint import run_info
from genlearn.train.gan import GANConfig, train_gan


def train(args) -> Path:
    seed_everything(args.seed)
    x, _ = get_dataset(args.data, split="train")
    model = MLPConfig.images(channels=x.shape[1], size=x.shape[2])
    config = GANConfig(batch_size=64, lr_g=2e-4, lr_d=2e-4)
    steps = args.steps if args.steps is not None else pick(smoke=20, cpu=5000, gpu=20000)
    run = Path(args.out)
    _, history = train_gan(
        MLPGenerator(model), MLPDiscriminator(model), x, config=config, steps=steps, seed=args.seed,
        device=get_device(args.device), checkpoint=run / "checkpoint.pt", desc="gan",
        run=run_info("gan", model.to_dict(), config.to_dict(), args.data, args.seed),
    )  # fmt: skip
    write_history(run, history)
    return run
