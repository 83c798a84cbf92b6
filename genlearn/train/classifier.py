"""Training the digits classifier whose features define the book's digits Fréchet distance.

The book's metric uses one fixed set of weights, trained once by :func:`train_digits_classifier`
and shipped inside the package (:mod:`genlearn.metrics.digits` loads them, as FID loads fixed
Inception weights). ``python -m genlearn train classifier`` retrains them and prints how to ship them.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

from genlearn.models.classifier import ClassifierConfig, DigitsClassifier, random_shift
from genlearn.train.distributed import Distributed, shard, wrap
from genlearn.train.loop import Every, InfiniteBatches, Trained, fit

TRAIN_STEPS = 500
BATCH_SIZE = 64


def train_digits_classifier(
    steps: int = TRAIN_STEPS,
    *,
    config: ClassifierConfig = ClassifierConfig(),
    seed: int = 0,
    progress: bool = True,
    callbacks: Sequence[Every] = (),
    data: tuple[torch.Tensor, torch.Tensor] | None = None,
    desc: str = "digits classifier",
    distributed: Distributed | None = None,
) -> Trained:
    """Train :class:`DigitsClassifier` on the digits train split with small random shifts.

    Deterministic for a seed and a thread count on CPU (the shipped weights came from one such run).
    ``data=(x, y)`` trains on other labelled digits instead, e.g. every domain of the translation
    chapters (:func:`genlearn.data.digit_domains`). Returns :class:`~genlearn.train.Trained`
    ``(model, history)``; the model is in eval mode. ``distributed``: train with DDP on several processes, the
    batch of 64 being the global batch (:mod:`genlearn.train.distributed`); each process draws its own shifts.

    Chapter 0.
    """
    from genlearn.data import load_digits

    torch.manual_seed(seed)
    x, y = load_digits("train", size=config.image_size) if data is None else data  # (N, 1, S, S), (N,)
    model = DigitsClassifier(config)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=max(steps, 1))
    rank, _ = shard(distributed) or (0, 1)
    g = torch.Generator().manual_seed(seed + 1000 * rank)
    model_train = wrap(model, distributed)  # the DDP replica with several processes

    def step(batch):
        xb, yb = batch
        xb = random_shift(xb, 2, generator=g)
        logits = model_train(xb)
        loss = F.cross_entropy(logits, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        return {"loss": loss.item(), "acc": (logits.argmax(1) == yb).float().mean().item()}

    history = fit(
        step,
        InfiniteBatches(x, y, batch_size=BATCH_SIZE, seed=seed, shard=shard(distributed)),
        steps=steps,
        modules={"classifier": model},
        optimizers={"opt": opt},
        callbacks=callbacks,
        desc=desc,
        progress=progress,
        distributed=distributed,
    )
    return Trained(model.eval(), history)


__all__ = ["BATCH_SIZE", "TRAIN_STEPS", "train_digits_classifier"]
