"""Recipe ``python -m genlearn train cgan``: class-conditional DCGAN with a projection discriminator.

``python -m genlearn sample RUN --n 1000`` writes ``images`` and the requested ``labels``
(classes 0..K-1 in turn), so anyone can score class accuracy with the digits classifier.
"""

from __future__ import annotations

from pathlib import Path

import torch

from genlearn.models.conditional import ConditionalConfig, ConditionalGenerator, ProjectionDiscriminator
from genlearn.runtime import get_device, pick, seed_everything
from genlearn.train.dcgan import SMALL_DATA, digits_train_config, image_size, model_config
from genlearn.train.gan import TrainConfig, sampling_generator, train_gan
from genlearn.train.recipe import write_history


def train(args) -> Path:
    from genlearn.data import get_dataset

    seed_everything(args.seed)
    x, y = get_dataset(args.data, split="train", size=image_size(args.data))  # (N, C, S, S), (N,)
    model = ConditionalConfig(dcgan=model_config(args.data, x.shape[1]), num_classes=int(y.max()) + 1, embed_dim=pick(smoke=4, cpu=16, gpu=32))
    train_cfg = digits_train_config() if args.data in SMALL_DATA else TrainConfig.dcgan()
    steps = args.steps if args.steps is not None else pick(smoke=20, cpu=2000, gpu=20000)
    run = Path(args.out)
    config = {"model": "cgan", "data": args.data, "cgan": model.to_dict(), "train": train_cfg.to_dict(), "seed": args.seed}
    history, _ = train_gan(
        ConditionalGenerator(model), ProjectionDiscriminator(model), x, y=y, config=train_cfg, steps=steps,
        seed=args.seed, device=get_device(args.device), checkpoint=run / "checkpoint.pt", run_config=config, desc="cgan",
    )  # fmt: skip
    write_history(run, history)
    return run


def sample(payload: dict, n: int, seed: int) -> dict[str, torch.Tensor]:
    model = ConditionalConfig.from_dict(payload["config"]["cgan"])
    G = sampling_generator(payload, ConditionalGenerator(model))
    labels = torch.arange(n) % model.num_classes  # (n,): 0, 1, ..., K-1, 0, 1, ...
    g = torch.Generator().manual_seed(seed)
    images = torch.cat([G.sample(labels[i : i + 512], generator=g) for i in range(0, n, 512)])
    return {"images": images.float().clamp(-1, 1), "labels": labels}
