"""Recipes ``python -m genlearn train wgan`` and ``wgan-gp``: DCGAN's generator against a critic."""

from __future__ import annotations

from pathlib import Path

from genlearn.data import get_dataset
from genlearn.models.critic import Critic, CriticConfig
from genlearn.models.dcgan import DCGANGenerator
from genlearn.recipes import write_history
from genlearn.recipes.presets import SMALL_DATA, dcgan_config, image_size
from genlearn.runtime import get_device, pick, seed_everything
from genlearn.train.checkpoint import run_info
from genlearn.train.wgan import WGANConfig, digits_config, train_wgan


def train(args) -> Path:
    if args.model not in ("wgan", "wgan-gp"):
        raise SystemExit(f"genlearn: the wgan recipe trains 'wgan' or 'wgan-gp', not {args.model!r}")
    seed_everything(args.seed)
    x, _ = get_dataset(args.data, split="train", size=image_size(args.data))  # (N, C, S, S) in [-1, 1]
    model = dcgan_config(args.data, x.shape[1])
    critic = CriticConfig.from_dcgan(model, norm="layer")
    if args.data in SMALL_DATA:
        config = digits_config(args.model)
    else:
        config = WGANConfig.wgan() if args.model == "wgan" else WGANConfig.wgan_gp()
    cpu_steps = 7000 if args.model == "wgan-gp" else 4500  # ~5 min each on the 2 cores of chapter 5's trials, ~2x on slower ones
    steps = args.steps if args.steps is not None else pick(smoke=10, cpu=cpu_steps, gpu=20000)
    run = Path(args.out)
    _, history = train_wgan(
        DCGANGenerator(model), Critic(critic), x, config=config, steps=steps, seed=args.seed,
        device=get_device(args.device), checkpoint=run / "checkpoint.pt", desc=args.model,
        run=run_info(args.model, model.to_dict(), config.to_dict() | {"critic": critic.to_dict()}, args.data, args.seed),
    )  # fmt: skip
    write_history(run, history)
    return run
