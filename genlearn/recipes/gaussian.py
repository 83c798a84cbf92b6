"""Recipe ``python -m genlearn train gaussian``: the pixel-Gaussian baseline (closed form, no steps)."""

from __future__ import annotations

from pathlib import Path

from genlearn.data import get_dataset
from genlearn.models.gaussian import PixelGaussian
from genlearn.train.checkpoint import run_info, save_checkpoint


def train(args) -> Path:
    x, _ = get_dataset(args.data, split="train")
    model = PixelGaussian(tuple(x.shape[1:])).fit(x)
    run = Path(args.out)
    save_checkpoint(
        run / "checkpoint.pt",
        modules={"gaussian": model},
        run=run_info("gaussian", {"shape": list(x.shape[1:])}, {"n_train": x.shape[0]}, args.data, args.seed),
    )
    return run
