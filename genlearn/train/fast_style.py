"""Feed-forward style transfer (Johnson et al. 2016): train a :class:`TransformNet` for one style.

Each step stylizes a batch of content crops and minimizes the same objective that
:func:`genlearn.train.gatys.stylize_gatys` minimizes per image (Gatys et al. 2016, Eq. 7, plus TV),
averaged over the batch, with the fixed feature network's features of the *crops* as content
targets and the Gram matrices of the *style image* as style targets. Johnson et al. call these the
feature reconstruction and style reconstruction losses; we keep Gatys's normalization so that the
losses of the three methods of chapters 9-10 are the same numbers on the same images.
Adam 1e-3 (Sec. 4.1); batch 4.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping

import torch

from genlearn.checks import check_images
from genlearn.losses.style import content_loss, gram_matrix, style_loss, total_variation_loss
from genlearn.models.transform_net import TransformNet
from genlearn.train.loop import FitOptions, Trained, fit_options
from genlearn.train.precision import Precision
from genlearn.train.setup import Setup, adam


@dataclass(frozen=True)
class FastStyleTrainConfig:
    """Johnson et al. 2016, Sec. 4.1: Adam with rate 1e-3, batches of 4 crops; the loss weights of Eq. 7.

    Chapter 10.
    """

    batch_size: int = 4
    lr: float = 1e-3
    content_weight: float = 1.0
    style_weight: float = 1e6
    tv_weight: float = 0.0

    def __post_init__(self) -> None:
        if self.batch_size < 1 or not self.lr > 0 or min(self.content_weight, self.style_weight, self.tv_weight) < 0:
            raise ValueError(f"batch_size >= 1, lr > 0 and weights >= 0 are needed, got {self}")

    def to_dict(self) -> dict:
        return asdict(self)


FastStyleConfig = FastStyleTrainConfig  # 0.2's name; chapter 10 imports it


def fast_style_step(net: TransformNet, opt: torch.optim.Optimizer, features: torch.nn.Module, x: torch.Tensor,
                    grams: Mapping[str, torch.Tensor], config: FastStyleTrainConfig) -> dict[str, float]:  # fmt: skip
    """One update of the transformation network on content crops ``x`` (N, 3, S, S).

    Chapter 10.
    """
    layers, c_layer = tuple(grams), features.content_layer
    with torch.no_grad():
        target = features.extract(x, [c_layer])[c_layer]  # the crops' own content features
    y = net(x)  # (N, 3, S, S)
    f = features.extract(y, (*layers, c_layer))
    lc = content_loss(f[c_layer], target)
    ls = style_loss({name: f[name] for name in layers}, grams, {name: 1.0 / len(layers) for name in layers})
    tv = total_variation_loss(y)
    loss = config.content_weight * lc + config.style_weight * ls + config.tv_weight * tv
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return {"content": lc.item(), "style": ls.item(), "tv": tv.item(), "loss": loss.item()}


FLOAT32 = Precision.float32("the loss reaches about 1e9 (style weight 1e6), beyond float16's range, and fast_style_step "
                            "(printed in chapter 10) has no loss scaler")


def train_fast_style(
    net: TransformNet,
    content: torch.Tensor,
    style: torch.Tensor,
    features: torch.nn.Module,
    *,
    config: FastStyleTrainConfig = FastStyleTrainConfig(),
    steps: int,
    seed: int = 0,
    device: torch.device | str = "cpu",
    fit: FitOptions | None = None,
    **options: Any,
) -> Trained:
    """Train ``net`` on content crops ``content`` (N, 3, S, S) for the style image ``style`` (1, 3, H, W).

    Returns :class:`~genlearn.train.Trained` ``(net, history)``, the network in eval mode. ``fit``: callbacks,
    checkpoint, budget, progress, distributed (:class:`~genlearn.train.loop.FitOptions`); with several processes
    ``config.batch_size`` is the global batch. Runs in float32 (:data:`FLOAT32` says why).

    Chapter 10.
    """
    check_images(content, name="the content crops", channels=3)
    check_images(style, name="the style image", channels=3)
    fit = fit_options(fit, options, desc="fast style", where="train_fast_style")
    features = features.to(device)
    with torch.no_grad():
        grams = {name: gram_matrix(f) for name, f in features.extract(style.to(device), features.style_layers).items()}  # (1, C, C)
    setup = Setup({"net": net}, content, optimizers={"net": adam(config.lr)}, optimizer_keys={"net": "opt"}, batch_size=config.batch_size,
                  steps=steps, seed=seed, device=device, fit=fit, precision=FLOAT32)  # fmt: skip
    net_train, opt = setup.replica("net"), setup.opt["net"]  # the DDP replica with several processes

    def step(x: torch.Tensor) -> dict[str, float]:  # (B, 3, S, S): one tensor, so batches come unwrapped
        return fast_style_step(net_train, opt, features, x, grams, config)

    history = setup.fit(step)
    return setup.trained(history)


__all__ = ["FLOAT32", "FastStyleTrainConfig", "FastStyleConfig", "fast_style_step", "train_fast_style"]
