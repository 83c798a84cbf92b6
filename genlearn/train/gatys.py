"""Style transfer by optimization (Gatys et al. 2016): the pixels of one image are the parameters.

``stylize_gatys(content, style, network)`` starts from the content image and minimizes (Eq. 7)

    alpha * L_content(x, content) + beta * L_style(x, style) + gamma * TV(x)

over ``x`` with L-BFGS (the paper's choice) or Adam, for a fixed number of steps, a time budget, or until
the loss stops falling (``min_progress``), with a progress bar; the losses are :mod:`genlearn.losses.style`'s. Features come from any fixed
network with ``extract(x, layers)`` (:func:`genlearn.models.features.load_feature_network`);
``transform`` (e.g. :func:`~genlearn.models.features.softmax_smoothing`) is applied to the style
features before their Gram matrices, and with ``transform_content=True`` also to the content layer's
features before the content loss. Wang et al. 2021 (SWAG) transform both; the default transforms the
style features only, the variant chapter 9 ran.
"""

from __future__ import annotations

import time
from typing import Callable, NamedTuple

import torch
from tqdm.auto import tqdm

from genlearn.checks import check_images
from genlearn.losses.style import content_loss, gram_matrix, style_loss, total_variation_loss
from genlearn.train.loop import History

OPTIMIZERS = ("lbfgs", "adam")


class Stylized(NamedTuple):
    """What :func:`stylize_gatys` returns: the optimized image and the per-step history of its losses.

    Chapter 9.
    """

    image: torch.Tensor  # (1, 3, H, W) in [-1, 1]
    history: History  # per step: content, style, tv, loss (the weighted total)


def stylize_gatys(
    content: torch.Tensor,
    style: torch.Tensor,
    network: torch.nn.Module,
    *,
    steps: int = 100,
    optimizer: str = "lbfgs",
    content_weight: float = 1.0,
    style_weight: float = 1e6,  # measured with EfficientNet-Lite0 at 256 pixels: style loss 44x down in 100 L-BFGS steps
    tv_weight: float = 0.0,
    style_layers: tuple[str, ...] | None = None,
    content_layer: str | None = None,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    transform_content: bool = False,
    lr: float = 0.02,
    init: str | torch.Tensor = "content",
    seed: int = 0,
    time_budget: float | None = None,
    min_progress: float | None = None,
    window: int = 100,
    progress: bool = True,
) -> Stylized:
    """Optimize the pixels of ``content`` (1, 3, H, W) towards the style of ``style`` (1, 3, H', W'), both in [-1, 1].

    Args:
        network: fixed features with ``extract``, ``style_layers`` and ``content_layer``.
        steps: optimizer steps (one function evaluation each); time_budget: stop earlier after this many seconds.
        min_progress, window: stop earlier once the loss has stopped falling: when the lowest loss of the last
            ``window`` steps is less than ``min_progress`` times the first step's loss below the lowest before them
            (e.g. 1e-3: less than 0.1% of the starting loss gained in ``window`` steps). ``steps`` stays the cap.
        optimizer: "lbfgs" (Gatys et al.) or "adam" (with ``lr``).
        content_weight, style_weight, tv_weight: alpha, beta and the TV weight (Eq. 7 plus TV).
        style_layers, content_layer: default the network's (VGG-19: relu1_1 ... relu5_1 and relu4_2).
        transform: applied to each style layer's features before the Gram matrix (generated and style alike).
        transform_content: also apply ``transform`` to the content layer's features (generated and content alike)
            before the content loss, as Wang et al. 2021 do in both of their losses (SWAG). Off by default: the
            content loss then compares raw features, a deviation from SWAG that chapter 9 states.
        init: "content" (start from the content image), "noise" (white noise, seeded by ``seed``: the paper's
            start, and the one that shows what a loss alone keeps) or an image (1, 3, H, W) of the content's size.

    Chapters 9 and 10.
    """
    check_images(content, name="the content image", channels=3)
    check_images(style, name="the style image", channels=3)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if min_progress is not None and (min_progress < 0 or window < 1):
        raise ValueError(f"min_progress must be >= 0 and window >= 1, got {min_progress} and {window}")
    if transform_content and transform is None:
        raise ValueError("transform_content=True needs a transform (e.g. transform=softmax_smoothing)")
    layers = tuple(style_layers or network.style_layers)
    c_layer = content_layer or network.content_layer
    t = transform or (lambda f: f)
    tc = t if transform_content else (lambda f: f)  # the content loss's features: transformed only if asked (SWAG)
    weights = {name: 1.0 / len(layers) for name in layers}  # equal weights summing to 1 (Gatys et al., Fig. 2)
    with torch.no_grad():
        target = tc(network.extract(content, [c_layer])[c_layer])  # P: (1, C, H_l, W_l)
        grams = {name: gram_matrix(t(f)) for name, f in network.extract(style, layers).items()}  # A: (1, C_l, C_l)
    # contiguous: L-BFGS flattens the gradient with .view, which a permuted image (a photo read as H, W, C) would break
    x = _start(content, init, seed).contiguous().requires_grad_(True)
    opt = torch.optim.LBFGS([x], lr=1.0, max_iter=1, history_size=50) if optimizer == "lbfgs" else torch.optim.Adam([x], lr=lr)
    history, logs = History(), {}

    def closure() -> torch.Tensor:
        opt.zero_grad()
        f = network.extract(x, (*layers, c_layer))
        lc = content_loss(tc(f[c_layer]), target)
        ls = style_loss({name: t(f[name]) for name in layers}, grams, weights)
        tv = total_variation_loss(x)
        loss = content_weight * lc + style_weight * ls + tv_weight * tv
        loss.backward()
        logs.update(content=lc.item(), style=ls.item(), tv=tv.item(), loss=loss.item())
        return loss

    start = time.perf_counter()
    bar = tqdm(range(steps), desc=f"Gatys ({optimizer})", disable=not progress)
    for step in bar:
        opt.step(closure)
        with torch.no_grad():
            x.clamp_(-1, 1)  # stay an image
        history.append(step + 1, logs)
        bar.set_postfix(content=f"{logs['content']:.3g}", style=f"{logs['style']:.3g}")
        if time_budget is not None and time.perf_counter() - start > time_budget:
            history.record("stop", step + 1, "budget")
            break
        if min_progress is not None and _stalled(history["loss"], window, min_progress):
            history.record("stop", step + 1, "converged")
            break
    return Stylized(x.detach(), history)


def _stalled(losses: list[float], window: int, min_progress: float) -> bool:
    """Whether the lowest of the last ``window`` losses improved on the lowest before them by less than
    ``min_progress`` times the first loss (lowest values, so that one step up and back does not stop a run)."""
    if len(losses) <= window:
        return False
    return min(losses[:-window]) - min(losses[-window:]) < min_progress * losses[0]


def _start(content: torch.Tensor, init: str | torch.Tensor, seed: int) -> torch.Tensor:
    if isinstance(init, torch.Tensor):
        if init.shape != content.shape:
            raise ValueError(f"init must have the content's shape {tuple(content.shape)}, got {tuple(init.shape)}")
        return init.detach().clone().to(content.device)
    if init == "content":
        return content.detach().clone()
    if init == "noise":
        g = torch.Generator().manual_seed(seed)
        return (torch.rand(content.shape, generator=g) * 2 - 1).to(content.device)  # uniform white noise in [-1, 1]
    raise ValueError(f"init must be 'content', 'noise' or an image tensor, got {init!r}")


__all__ = ["OPTIMIZERS", "Stylized", "stylize_gatys"]
