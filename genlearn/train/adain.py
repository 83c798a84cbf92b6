"""Training AdaIN's decoder (Huang & Belongie 2017, Sec. 6.2): any content with any style.

Each step pairs a batch of content crops with a batch of style crops (drawn independently),
computes ``t = AdaIN(f(c), f(s))`` with the fixed encoder, decodes ``g(t)`` and minimizes
``L_c + lambda L_s`` (Eq. 11): :func:`~genlearn.losses.adain_content_loss` between ``f(g(t))`` and
``t`` (Eq. 12) and :func:`~genlearn.losses.style_statistics_loss` over the encoder's style layers
up to the AdaIN layer (Eq. 13).

Who does what: the paper (Sec. 6.2) gives Adam and batches of 8 pairs, not the learning rate. Adam 1e-4 is the
default of the authors' Torch code (xunhuang1995/AdaIN-style, ``train.lua``, with a learning-rate decay of 5e-5
that genlearn does not apply, for 160,000 iterations). lambda = 10 with mean-squared statistics is the
default of the PyTorch port naoto0804/pytorch-AdaIN. The authors' code sums the squared statistics over the
channels (``StyleINLossModule``: ``sizeAverage = false``, then divided by the batch size) and defaults to
lambda = 1e-2 (its README: 1e-1 for the released ``decoder.t7``), so its lambda and this one are not
interchangeable.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch

from genlearn.checks import check_images
from genlearn.losses.style import adain_content_loss, style_statistics_loss
from genlearn.models.adain import AdaINStyleTransfer
from genlearn.train.batches import InfiniteBatches, StyledBatches
from genlearn.train.distributed import shard
from genlearn.train.loop import FitOptions, Trained, fit_options
from genlearn.train.precision import Precision
from genlearn.train.setup import Setup, adam


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


# The decoder trains in float32 for now: adain_step (printed in chapter 10) has no autocast or loss scaler yet, so
# under float16 autocast its small style-statistics gradients would underflow unscaled.
FLOAT32 = Precision.float32("adain_step, as chapter 10 prints it, has no autocast or loss scaler yet")


def train_adain(
    model: AdaINStyleTransfer,
    content: torch.Tensor,
    style: torch.Tensor,
    *,
    config: AdaINTrainConfig = AdaINTrainConfig(),
    steps: int,
    seed: int = 0,
    device: torch.device | str = "cpu",
    fit: FitOptions | None = None,
    **options: Any,
) -> Trained:
    """Train ``model.decoder`` on content crops (N, 3, S, S) and style crops (M, 3, S, S); returns the model in eval mode.

    ``fit``: callbacks, checkpoint, budget, progress, distributed (:class:`~genlearn.train.loop.FitOptions`). With
    several processes, ``config.batch_size`` is the global batch of pairs; only the decoder learns, so only its
    gradients are averaged. Runs in float32 (:data:`FLOAT32` says why).

    Chapter 10.
    """
    check_images(content, name="the content crops", channels=3)
    check_images(style, name="the style crops", channels=3)
    fit = fit_options(fit, options, desc="AdaIN", where="train_adain")
    model = model.to(device)
    layers = style_layers_up_to(model)
    part = shard(fit.distributed)
    world = part[1] if part else 1
    contents = InfiniteBatches(content, batch_size=config.batch_size, seed=seed, device=device, shard=part)
    styles = InfiniteBatches(style, batch_size=min(config.batch_size, len(style) // world * world), seed=seed + 1, device=device, shard=part)
    setup = Setup({"decoder": model.decoder}, optimizers={"decoder": adam(config.lr)}, optimizer_keys={"decoder": "opt"},
                  batches=StyledBatches(contents, styles, config.batch_size // world), steps=steps, seed=seed, device=device,
                  fit=fit, precision=FLOAT32)  # fmt: skip
    model_train = setup.wrap(model)  # the DDP replica with several processes (the frozen encoder has no gradients to average)
    opt = setup.opt["decoder"]

    def step(batch) -> dict[str, float]:
        c, s = batch
        return adain_step(model_train, opt, c, s, layers, config.style_weight)

    history = setup.fit(step)
    return setup.trained(history, model=model)


__all__ = ["FLOAT32", "AdaINTrainConfig", "adain_step", "style_layers_up_to", "train_adain"]
