"""Figures the chapters show: image grids, loss curves, input/output/target rows, interpolation strips.

Every function takes images ``(N, C, H, W)`` in [-1, 1] and returns the matplotlib ``Figure``
(so a notebook shows it and a script can ``savefig`` it).
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import torch
from torchvision.utils import make_grid

from genlearn.checks import check_images, to_unit


def grid_image(x: torch.Tensor, nrow: int | None = None, padding: int = 2) -> torch.Tensor:
    """A grid of images as one (3, H, W) tensor in [0, 1] (via ``torchvision.utils.make_grid``).

    Chapter 0.
    """
    check_images(x.detach().float(), channels=(1, 3), tol=0.05)
    nrow = nrow or max(1, int(math.ceil(math.sqrt(x.shape[0]))))
    return make_grid(to_unit(x.detach().float().cpu()), nrow=nrow, padding=padding, pad_value=1.0)


def show_grid(x: torch.Tensor, nrow: int | None = None, title: str | None = None, ax=None, size: float = 4.0):
    """Show images ``(N, C, H, W)`` in [-1, 1] as a grid; returns the Figure.

    Chapter 0; used in most chapters.
    """
    g = grid_image(x, nrow)
    if ax is None:
        fig, ax = plt.subplots(figsize=(size, size * g.shape[1] / g.shape[2]))
    else:
        fig = ax.figure
    ax.imshow(g.permute(1, 2, 0).numpy(), interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return fig


def show_row(images: Sequence[torch.Tensor], titles: Sequence[str] | None = None, height: float = 2.4):
    """Images of any sizes side by side, each ``(C, H, W)`` or ``(1, C, H, W)`` in [-1, 1], with titles; returns the Figure.

    Chapters 9 and 10.
    """
    images = [x[0] if x.ndim == 4 else x for x in images]
    widths = [x.shape[-1] / x.shape[-2] for x in images]
    fig, axes = plt.subplots(1, len(images), figsize=(height * sum(widths) + 0.1 * len(images), height + 0.4),
                             gridspec_kw={"width_ratios": widths}, squeeze=False)  # fmt: skip
    for i, (ax, x) in enumerate(zip(axes[0], images)):
        show_grid(x[None], nrow=1, ax=ax, title=titles[i] if titles else None)
        if titles:
            ax.title.set_fontsize(9)
    fig.tight_layout()
    return fig


@torch.no_grad()
def style_mixing_grid(G, rows: int, cols: int, crossover: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """StyleGAN's Fig. 3 as a batch: ``(rows + 1) * (cols + 1)`` images, row-major, for ``show_grid(x, nrow=cols + 1)``.

    The first row holds ``cols`` source images B (after a blank corner), the first column ``rows`` source images A;
    cell (i, j) takes A_i's styles before layer ``crossover`` and B_j's from it on, with the noise inputs off, so the
    grid shows what the layers from ``crossover`` on control (an early crossover: B's pose and shape; a late one: A's).

    Chapter 11.
    """
    w_a = G.mapping_net(G.sample_latent(rows, generator))  # (rows, w_dim)
    w_b = G.mapping_net(G.sample_latent(cols, generator))  # (cols, w_dim)
    ws_a, ws_b = G.broadcast(w_a), G.broadcast(w_b)
    a, b = G.synthesis(ws_a, noise="none"), G.synthesis(ws_b, noise="none")
    blank = torch.ones_like(a[:1])
    out = [blank, b]
    for i in range(rows):
        mixed = G.mix(ws_a[i : i + 1].expand(cols, -1, -1), ws_b, crossover)
        out += [a[i : i + 1], G.synthesis(mixed, noise="none")]
    return torch.cat(out)


def smooth(values: Sequence[float], window: int) -> list[float]:
    """Trailing moving average (the first points average what exists so far).

    Chapters 4, 5 and 8.
    """
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def plot_losses(
    history, keys: Sequence[str] | None = None, window: int = 25, ax=None, title: str = "training losses", logy: bool = False
):
    """Loss curves from a :class:`genlearn.train.History` (raw in light color, smoothed on top).

    Chapter 0; used in most chapters.
    """
    keys = list(keys or history.keys())
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.5))
    else:
        fig = ax.figure
    for k in keys:
        (line,) = ax.plot(history.steps, history[k], alpha=0.25)
        ax.plot(history.steps, smooth(history[k], window), color=line.get_color(), label=k)
    ax.set_xlabel("step")
    ax.set_title(title)
    if logy:
        ax.set_yscale("log")
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


def plot_metric(points: Sequence[tuple[int, float]] | Mapping[str, Sequence[tuple[int, float]]], ylabel: str, ax=None, floor: float | None = None):
    """A metric over training: ``[(step, value), ...]`` or several named series; optional floor line.

    Chapters 1, 2 and 3.
    """
    series = points if isinstance(points, Mapping) else {ylabel: points}
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.5))
    else:
        fig = ax.figure
    for name, pts in series.items():
        steps, values = zip(*pts) if pts else ((), ())
        ax.plot(steps, values, marker="o", label=name)
    if floor is not None:
        ax.axhline(floor, color="gray", linestyle="--", label="real-vs-real floor")
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def compare_rows(rows: Mapping[str, torch.Tensor], n: int = 8, size: float = 1.2):
    """One row per named batch (e.g. input / output / target), ``n`` images each.

    Chapters 6, 7 and 8.
    """
    fig, axes = plt.subplots(len(rows), 1, figsize=(n * size, len(rows) * size * 1.1), squeeze=False)
    for ax, (name, x) in zip(axes[:, 0], rows.items()):
        show_grid(x[:n], nrow=n, ax=ax)
        ax.set_title(name, loc="left", fontsize=10)
    fig.tight_layout()
    return fig


def interpolation_strip(images: torch.Tensor, steps: int, title: str | None = None, size: float = 1.0):
    """Rows of ``steps`` images each, e.g. decoded ``lerp(z0, z1, t)`` for several pairs ``(R*steps, C, H, W)``.

    Chapters 2 and 6.
    """
    if images.shape[0] % steps:
        raise ValueError(f"{images.shape[0]} images do not split into rows of {steps}")
    rows = images.shape[0] // steps
    fig, ax = plt.subplots(figsize=(steps * size, rows * size))
    show_grid(images, nrow=steps, ax=ax, title=title)
    return fig


def scatter_2d(points: Mapping[str, torch.Tensor], ax=None, title: str | None = None, s: float = 4.0):
    """Scatter several 2-D point sets ``(N, 2)`` (e.g. real vs generated toy samples).

    Chapters 0 and 6.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(4, 4))
    else:
        fig = ax.figure
    for name, p in points.items():
        p = p.detach().cpu()
        ax.scatter(p[:, 0], p[:, 1], s=s, alpha=0.5, label=name)
    ax.set_aspect("equal")
    ax.legend(markerscale=3)
    if title:
        ax.set_title(title)
    return fig
