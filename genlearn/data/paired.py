"""Paired datasets for pix2pix (chapter 8): ``x, y = get_paired(name, split, size)``.

Offline, built from the real photos that ship with installed packages, split by photo
(:func:`genlearn.data.list_photos`):

* ``"watermarks"`` -- marked crop -> clean crop (:func:`genlearn.data.watermark_pairs`);
* ``"colorize"`` -- grayscale crop -> colour crop (:func:`colorization_pairs`): an output with many
  plausible answers, where L1 alone averages the colours away.

Online: an official pix2pix archive by name (:data:`PIX2PIX_DATASETS`, downloaded once), or the path
of a folder in the pix2pix layout (``PATH/train/*.jpg``, each image A|B side by side).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ._common import check_choice, check_size
from .archives import PIX2PIX_DATASETS, download_pix2pix
from .folders import PairedImageFolder
from .watermarks import photo_arrays, random_crop, to_tensor, watermark_pairs

PAIRED_DATASETS = ("watermarks", "colorize")
ARCHIVE_DIRECTION = {"facades": "BtoA"}  # the paper's direction where it is not left -> right: facades are photo | labels
PAIRED_COUNT = {"train": 2000, "test": 200}  # offline crops per split
LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601, as PIL's convert("L")


def colorization_pairs(split: str = "train", n: int = 256, size: int = 64, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` (grayscale, colour) pairs of random ``size`` x ``size`` crops of the ``split`` photos.

    Crops are drawn as in :func:`genlearn.data.watermark_pairs` (``numpy.random.default_rng([seed, i])``
    for item ``i``), half of them mirrored left to right.

    Returns:
        x: luma ``0.299 R + 0.587 G + 0.114 B``, float32 ``(n, 1, size, size)`` in [-1, 1];
        y: the colour crops, float32 ``(n, 3, size, size)`` in [-1, 1].

    Chapter 8.
    """
    check_choice(split, ("train", "test"), "split")
    size = check_size(size)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    photos = photo_arrays(split, size)
    colour = np.empty((n, size, size, 3), np.uint8)
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        crop = random_crop(photos, rng, size)
        colour[i] = crop[:, ::-1] if rng.random() < 0.5 else crop
    y = to_tensor(colour)  # (n, 3, S, S)
    x = torch.einsum("c,nchw->nhw", torch.tensor(LUMA), y)[:, None]  # (n, 1, S, S): affine, so [-1, 1] maps to [-1, 1]
    return x, y


def check_paired(name: str) -> str:
    """``name`` if it names paired data (offline set, official archive or folder), else ValueError saying what is expected.

    Chapter 8.
    """
    if name in PAIRED_DATASETS or name in PIX2PIX_DATASETS or Path(name).is_dir():
        return name
    raise ValueError(f"pix2pix trains on pairs: --data {', '.join(PAIRED_DATASETS)} (offline), {', '.join(PIX2PIX_DATASETS)} "
                     f"(downloaded once), or a folder with train/*.jpg holding A|B side by side; got {name!r}")  # fmt: skip


def get_paired(name: str, split: str = "train", size: int = 64, n: int | None = None, marks: str = "train",
               direction: str | None = None, scale: int | None = None, unmarked: float = 0.0,
               backgrounds: str = "photos") -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """Pairs ``(x, y)`` -- inputs and targets, float32 ``(N, C, size, size)`` in [-1, 1] -- held in memory.

    Args:
        name: "watermarks", "colorize", an official archive (:data:`PIX2PIX_DATASETS`) or a folder of A|B images.
        split: "train" or "test" (for archives and folders: the subfolder, e.g. "val").
        size: image side (crops of the offline photos; archives and folders are resized).
        n: pairs of an offline set (default :data:`PAIRED_COUNT` of the split, seed 0 for train, 1 for test).
        marks: the watermark styles (watermarks only): "train", "held-out", "broad", "unseen", "faint-tiled" or
            "broad-faint" (:data:`~genlearn.data.watermarks.MARK_STYLES`).
        direction: for archives and folders, "AtoB" (left -> right) or "BtoA"; default the paper's
            (:data:`ARCHIVE_DIRECTION`: labels -> photo for facades), else "AtoB".
        scale, unmarked, backgrounds: watermarks only: the crop side that photos and marks are sized for (default
            ``size``), the share of pairs left unmarked and what the crops are cut from (see
            :func:`~genlearn.data.watermark_pairs`).

    Chapter 8.
    """
    check_paired(name)
    if name in PAIRED_DATASETS:
        check_choice(split, tuple(PAIRED_COUNT), "split")
        n = PAIRED_COUNT[split] if n is None else n
        seed = 0 if split == "train" else 1
        if name == "watermarks":
            return watermark_pairs(split, n=n, size=size, seed=seed, marks=marks, scale=scale, unmarked=unmarked,
                                   backgrounds=backgrounds)  # fmt: skip
        return colorization_pairs(split, n=n, size=size, seed=seed)
    root = download_pix2pix(name) if name in PIX2PIX_DATASETS else Path(name)
    pairs = PairedImageFolder(root, split, size, direction=direction or ARCHIVE_DIRECTION.get(name, "AtoB"))
    items = [pairs[i] for i in range(len(pairs) if n is None else min(n, len(pairs)))]
    return torch.stack([a for a, _ in items]), torch.stack([b for _, b in items])  # (N, 3, S, S) each


__all__ = ["ARCHIVE_DIRECTION", "LUMA", "PAIRED_COUNT", "PAIRED_DATASETS", "check_paired", "colorization_pairs", "get_paired"]
