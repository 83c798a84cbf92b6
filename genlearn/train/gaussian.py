"""Recipe ``python -m genlearn train gaussian``: the pixel-Gaussian baseline (closed form, no steps)."""

from __future__ import annotations

from pathlib import Path

import torch

from genlearn.models.gaussian import PixelGaussian
from genlearn.train.checkpoint import save_checkpoint


def train(args) -> Path:
    from genlearn.data import get_dataset

    x, _ = get_dataset(args.data, split="train")
    model = PixelGaussian(tuple(x.shape[1:])).fit(x)
    run = Path(args.out)
    save_checkpoint(
        run / "checkpoint.pt",
        modules={"gaussian": model},
        config={"model": "gaussian", "shape": list(x.shape[1:]), "data": args.data, "n_train": x.shape[0]},
    )
    return run


def sample(payload: dict, n: int, seed: int) -> dict[str, torch.Tensor]:
    model = PixelGaussian(tuple(payload["config"]["shape"]))
    model.load_state_dict(payload["modules"]["gaussian"])
    return {"images": model.sample(n, generator=torch.Generator().manual_seed(seed))}
