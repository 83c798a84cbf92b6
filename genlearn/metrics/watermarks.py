"""How well a watermark remover does on marks and photos it never saw, and whether it leaves clean photos alone (chapter 8).

* :func:`removal_test` -- the sets chapter 8 reports (:data:`REMOVAL_TESTS`), built by
  :func:`~genlearn.data.watermark_pairs` from seeds that no training set uses.
* :func:`removal_gain` -- PSNR of the remover's output minus PSNR of the marked input, per crop (0 = as good as
  doing nothing; below 0 it made the crop worse).
* :func:`clean_psnr` -- PSNR of the remover's output on *unmarked* crops against those same crops, pooled over
  the set (one MSE over every pixel, so a few repainted crops count in full; inf if every pixel passed through).
"""

from __future__ import annotations

import math

import torch

from genlearn.data import watermark_pairs
from genlearn.data._common import check_choice
from genlearn.metrics.image_quality import DATA_RANGE, psnr

REMOVAL_TESTS = {  # name: (photos, marks, share unmarked); seed 1 on the held-out photos, 5 on the training photos
    "training photos": ("train", "broad", 0.0),
    "held-out photos": ("test", "broad", 0.0),
    "unseen marks": ("test", "unseen", 0.0),
    "faint tiled": ("test", "faint-tiled", 0.0),
    "faint tiled, training fonts": ("test", "broad-faint", 0.0),  # "faint tiled" drawn by the training procedure
    "chapter's held-out marks": ("test", "held-out", 0.0),
    "clean photos": ("test", "broad", 1.0),  # the same crops as "held-out photos", without any mark
}


def removal_test(name: str, n: int = 200, size: int = 128) -> tuple[torch.Tensor, torch.Tensor]:
    """The test set ``name`` of :data:`REMOVAL_TESTS`: ``n`` (marked, clean) crops of ``size`` x ``size`` -> (n, 3, S, S) each.

    Chapter 8.
    """
    check_choice(name, tuple(REMOVAL_TESTS), "name")
    split, marks, unmarked = REMOVAL_TESTS[name]
    return watermark_pairs(split, n=n, size=size, seed=1 if split == "test" else 5, marks=marks, unmarked=unmarked)


def _apply(model, x: torch.Tensor, batch: int = 50) -> torch.Tensor:
    """The model's translation of ``x`` (N, 3, S, S) in batches, no gradients."""
    with torch.no_grad():
        return torch.cat([model.translate(x[i : i + batch]) for i in range(0, len(x), batch)])


def removal_gain(model, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-crop PSNR of ``model.translate(x)`` minus PSNR of ``x``, both against ``y`` -> (N,) dB (above 0: improved).

    Chapter 8.
    """
    if (x == y).flatten(1).all(1).any():
        raise ValueError("removal_gain scores marked crops: some x equal their y (score unmarked crops with clean_psnr)")
    return psnr(_apply(model, x), y) - psnr(x, y)  # (N,): a marked crop differs from y, so both are finite


def clean_psnr(model, x: torch.Tensor) -> dict:
    """``model.translate`` on unmarked crops ``x`` (N, 3, S, S), against ``x`` itself.

    Returns ``{"psnr": dB over the pooled set (inf: every pixel untouched), "changed": share of crops with a changed pixel}``.

    Chapter 8.
    """
    out = _apply(model, x)
    mse = (out.double() - x.double()).pow(2).mean().item()
    pooled = math.inf if mse == 0 else 10 * math.log10(DATA_RANGE**2 / mse)
    return {"psnr": pooled, "changed": (out != x).flatten(1).any(1).float().mean().item()}


__all__ = ["REMOVAL_TESTS", "clean_psnr", "removal_gain", "removal_test"]
