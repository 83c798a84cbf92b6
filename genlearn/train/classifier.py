"""Training the digits classifier whose features define the book's digits Fréchet distance.

The book's metric uses one fixed set of weights, trained once by :func:`train_digits_classifier`
and shipped inside the package (:mod:`genlearn.metrics.digits` loads them, as FID loads fixed
Inception weights). ``python -m genlearn train classifier`` retrains them and prints how to ship them.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import torch
import torch.nn.functional as F

from genlearn.models.classifier import ClassifierConfig, DigitsClassifier, random_shift
from genlearn.train.loop import FitOptions, Trained, fit_options
from genlearn.train.precision import autocast, backward_and_step
from genlearn.train.distributed import shard
from genlearn.train.setup import GeneratorState, Setup, adam

TRAIN_STEPS = 500
BATCH_SIZE = 64


def train_digits_classifier(
    steps: int = TRAIN_STEPS,
    *,
    config: ClassifierConfig = ClassifierConfig(),
    seed: int = 0,
    data: tuple[torch.Tensor, torch.Tensor] | None = None,
    device: torch.device | str = "cpu",
    fit: FitOptions | None = None,
    **options: Any,
) -> Trained:
    """Train :class:`DigitsClassifier` on the digits train split with small random shifts.

    Deterministic for a seed and a thread count on CPU (the shipped weights came from one such run).
    ``data=(x, y)`` trains on other labelled digits instead, e.g. every domain of the translation
    chapters (:func:`genlearn.data.digit_domains`). Returns :class:`~genlearn.train.Trained`
    ``(model, history)``; the model is in eval mode. ``fit``: progress, callbacks, distributed
    (:class:`~genlearn.train.loop.FitOptions`); with several processes the batch of 64 is the global batch and each
    process draws its own shifts.

    Chapter 0.
    """
    from genlearn.data import load_digits

    fit = fit_options(fit, options, desc="digits classifier", where="train_digits_classifier")
    torch.manual_seed(seed)
    x, y = load_digits("train", size=config.image_size) if data is None else data  # (N, 1, S, S), (N,)
    one_cycle = partial(torch.optim.lr_scheduler.OneCycleLR, max_lr=3e-3, total_steps=max(steps, 1))
    g = torch.Generator().manual_seed(seed + 1000 * (shard(fit.distributed) or (0, 1))[0])  # the shifts: this process's own
    setup = Setup({"classifier": DigitsClassifier(config)}, x, y, optimizers={"classifier": adam(2e-3)},
                  schedules={"classifier_lr": ("classifier", one_cycle)}, batch_size=BATCH_SIZE, steps=steps, seed=seed,
                  device=device, state={"shifts": GeneratorState(g)}, fit=fit)  # fmt: skip
    net, opt = setup.replica("classifier"), setup.opt["classifier"]  # net: the DDP replica with several processes

    def step(batch):
        xb, yb = batch
        xb = random_shift(xb, 2, generator=g)
        with autocast(xb.device):
            logits = net(xb).float()  # (B, 10)
        loss = F.cross_entropy(logits, yb)
        backward_and_step(loss, opt, setup.scaler)
        setup.end_step()  # the one-cycle schedule and the step counter
        return {"loss": loss.item(), "acc": (logits.argmax(1) == yb).float().mean().item()}

    return setup.trained(setup.fit(step))


__all__ = ["BATCH_SIZE", "TRAIN_STEPS", "train_digits_classifier"]
