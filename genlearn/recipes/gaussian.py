"""Recipe ``python -m genlearn train gaussian``: the pixel-Gaussian baseline (closed form, no steps)."""

from __future__ import annotations


from pathlib import Path

from genlearn.data import get_dataset
from genlearn.models.gaussian import PixelGaussian
from genlearn.recipes import TrainRequest
from genlearn.train.checkpoint import run_info, save_checkpoint


DEFAULT_DATA = "digits"  # --data when none is given
DISTRIBUTED = False  # a closed-form fit: nothing to share between processes


def train(req: TrainRequest) -> Path:
    x, _ = get_dataset(req.data, split="train")
    model = PixelGaussian(tuple(x.shape[1:])).fit(x)
    run = Path(req.out)
    save_checkpoint(
        run / "checkpoint.pt",
        modules={"gaussian": model},
        run=run_info("gaussian", {"shape": list(x.shape[1:])}, {"n_train": x.shape[0]}, req.data, req.seed),
    )
    return run
