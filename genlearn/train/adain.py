"""Training AdaIN's decoder (Huang & Belongie 2017, Sec. 6.2): any content with any style.

Each step pairs a batch of content crops with a batch of style crops (drawn independently),
computes ``t = AdaIN(f(c), f(s))`` with the fixed encoder, decodes ``g(t)`` and minimizes
``L_c + lambda L_s`` (Eq. 11): :func:`~genlearn.losses.adain_content_loss` between ``f(g(t))`` and
``t`` (Eq. 12) and :func:`~genlearn.losses.style_statistics_loss` over the encoder's style layers
up to the AdaIN layer (Eq. 13). Adam 1e-4, batch 8 and lambda 10 follow the authors' code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch

from genlearn.checks import check_images
from genlearn.losses.style import adain_content_loss, style_statistics_loss
from genlearn.models.adain import AdaINStyleTransfer
from genlearn.train.distributed import Distributed, shard, wrap
from genlearn.train.loop import Every, InfiniteBatches, Trained, fit


@dataclass(frozen=True)
class AdaINTrainConfig:
    """batch_size pairs per step, Adam's ``lr``, and ``style_weight`` (lambda of Eq. 11).

    Chapter 10.
    """

    batch_size: int = 8
    lr: float = 1e-4
    style_weight: float = 10.0

    def __post_init__(self) -> None:
        if self.batch_size < 1 or not self.lr > 0 or self.style_weight < 0:
            raise ValueError(f"batch_size >= 1, lr > 0 and style_weight >= 0 are needed, got {self}")

    def to_dict(self) -> dict:
        return asdict(self)


def style_layers_up_to(model: AdaINStyleTransfer) -> tuple[str, ...]:
    """The encoder's style layers up to and including the AdaIN layer (VGG-19: relu1_1 ... relu4_1).

    Chapter 10.
    """
    names = tuple(model.encoder.style_layers)  # ordered from the input up; the AdaIN layer is one of them
    return names[: names.index(model.layer) + 1] if model.layer in names else names


def adain_step(model: AdaINStyleTransfer, opt: torch.optim.Optimizer, c: torch.Tensor, s: torch.Tensor, layers: tuple[str, ...],
               style_weight: float) -> dict[str, float]:  # fmt: skip
    """One decoder update on content crops ``c`` and style crops ``s`` (N, 3, S, S) each.

    Chapter 10.
    """
    y, t = model(c, s)  # g(t) (N, 3, S, S) and t (N, C, h, w)
    f = model.encoder.extract(y, (*layers, model.layer))
    with torch.no_grad():
        fs = model.encoder.extract(s, layers)
    lc = adain_content_loss(f[model.layer], t.detach())  # t is a fixed target: only g learns
    ls = style_statistics_loss({n: f[n] for n in layers}, fs)
    loss = lc + style_weight * ls
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return {"content": lc.item(), "style": ls.item(), "loss": loss.item()}


def train_adain(
    model: AdaINStyleTransfer,
    content: torch.Tensor,
    style: torch.Tensor,
    *,
    config: AdaINTrainConfig = AdaINTrainConfig(),
    steps: int,
    seed: int = 0,
    device: torch.device | str = "cpu",
    callbacks: Sequence[Every] = (),
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 500,
    run: Mapping[str, Any] | None = None,
    time_budget: float | None = None,
    desc: str = "AdaIN",
    progress: bool = True,
    distributed: Distributed | None = None,
) -> Trained:
    """Train ``model.decoder`` on content crops (N, 3, S, S) and style crops (M, 3, S, S); returns the model in eval mode.

    ``distributed``: train with DDP on several processes, ``config.batch_size`` being the global batch of pairs
    (:mod:`genlearn.train.distributed`); only the decoder learns, so only its gradients are averaged.

    Chapter 10.
    """
    check_images(content, name="the content crops", channels=3)
    check_images(style, name="the style crops", channels=3)
    model = model.to(device)
    model.decoder.train()
    layers = style_layers_up_to(model)
    opt = torch.optim.Adam(model.decoder.parameters(), lr=config.lr)
    part = shard(distributed)
    world = part[1] if part else 1
    contents = InfiniteBatches(content, batch_size=config.batch_size, seed=seed, device=device, shard=part)
    styles = InfiniteBatches(style, batch_size=min(config.batch_size, len(style) // world * world), seed=seed + 1, device=device, shard=part)
    pairs = _Pairs(contents, styles, config.batch_size // world)
    model_train = wrap(model, distributed)  # the DDP replica with several processes (the frozen encoder has no gradients to average)

    def step(batch) -> dict[str, float]:
        c, s = batch
        return adain_step(model_train, opt, c, s, layers, config.style_weight)

    history = fit(step, pairs, steps=steps, modules={"decoder": model.decoder}, optimizers={"opt": opt}, callbacks=callbacks,
                  checkpoint=checkpoint, checkpoint_every=checkpoint_every, run=run, time_budget=time_budget, desc=desc,
                  progress=progress, distributed=distributed)  # fmt: skip
    return Trained(model.eval(), history)


class _Pairs:
    """Content batches zipped with independently shuffled style batches (repeated to the content batch size); resumable."""

    def __init__(self, contents: InfiniteBatches, styles: InfiniteBatches, batch_size: int):
        self.contents, self.styles, self.batch_size = contents, styles, batch_size

    def __iter__(self) -> "_Pairs":
        return self

    def __next__(self) -> tuple[torch.Tensor, torch.Tensor]:
        c, s = next(self.contents), next(self.styles)
        reps = -(-self.batch_size // len(s))
        return c, s.repeat(reps, 1, 1, 1)[: len(c)]

    def state_dict(self) -> dict:
        return {"contents": self.contents.state_dict(), "styles": self.styles.state_dict()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.contents.load_state_dict(state["contents"])
        self.styles.load_state_dict(state["styles"])


__all__ = ["AdaINTrainConfig", "adain_step", "style_layers_up_to", "train_adain"]
