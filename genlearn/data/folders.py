"""Folders of images: pix2pix pairs (A|B side by side), CycleGAN's two unpaired domains, and a folder of your own
(:func:`load_image_folder`). Every file is decoded by :mod:`genlearn.data.image_files`."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ._common import check_choice, check_size
from .image_files import _decode, read_image

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


def _image_files(folder: Path, layout: str) -> list[Path]:
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} does not exist; expected {layout}")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise FileNotFoundError(f"{folder} has no {'/'.join(IMAGE_SUFFIXES)} images; expected {layout}")
    return files


def _read(path: Path, box: tuple[int, int, int, int] | None, size: int) -> torch.Tensor:
    """Crop ``box`` out of the image at ``path`` (None: all of it) and resize it (bicubic) -> ``(3, size, size)`` in [-1, 1]."""
    return _decode(path, 3, None if box is None else (lambda im: im.crop(box)), size)


class PairedImageFolder(Dataset):
    """pix2pix pairs: ``root/{split}/*.jpg``, each image the input A and target B side by side (A|B).

    Images are resized to ``size`` x ``size`` (bicubic) with no augmentation. pix2pix's random jitter
    and mirroring (resize to 286, random 256 crop, flip; Isola et al., Appendix 6.2) are not applied here,
    nor by genlearn's pix2pix training loop.

    Args:
        root: dataset folder, e.g. the path :func:`download_pix2pix` returns.
        split: subfolder, usually "train", "val" or "test".
        size: side of each returned image.
        direction: "AtoB" returns (left, right); "BtoA" returns (right, left).

    Items:
        ``(a, b)``: float32 ``(3, size, size)`` each, in [-1, 1]; ``a`` is the input, ``b`` the target.

    Chapter 8.
    """

    def __init__(self, root: str | os.PathLike, split: str = "train", size: int = 256, direction: str = "AtoB") -> None:
        self.root = Path(root).expanduser()
        self.size = check_size(size)
        self.direction = check_choice(direction, ("AtoB", "BtoA"), "direction")
        layout = f"the pix2pix layout {self.root}/{split}/*.jpg with A and B side by side in each image"
        self.files = _image_files(self.root / split, layout)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        from PIL import Image

        path = self.files[index]
        with Image.open(path) as im:
            w, h = im.size
        if w < 2:
            raise ValueError(f"{path} is {w}x{h}; a pix2pix pair needs A and B side by side")
        left = _read(path, (0, 0, w // 2, h), self.size)  # (3, size, size)
        right = _read(path, (w // 2, 0, 2 * (w // 2), h), self.size)  # (3, size, size)
        return (left, right) if self.direction == "AtoB" else (right, left)


class UnpairedImageFolder(Dataset):
    """CycleGAN domains: ``root/{split}A/`` and ``root/{split}B/``, with no correspondence between them.

    Item ``i`` is ``A[i % len(A)]`` with a ``B`` image drawn independently from
    ``numpy.random.default_rng([seed, i])``, so it is reproducible for a seed; an epoch has
    ``max(len(A), len(B))`` items, as in the CycleGAN code.

    Args:
        root: dataset folder, e.g. the path :func:`download_cyclegan` returns.
        split: "train" or "test" (folders ``trainA``/``trainB``, ``testA``/``testB``).
        size: side of each returned image (bicubic resize, no augmentation).
        seed: seed of the B draws.

    Items:
        ``(a, b)``: float32 ``(3, size, size)`` each, in [-1, 1].

    Chapter 7.
    """

    def __init__(self, root: str | os.PathLike, split: str = "train", size: int = 256, seed: int = 0) -> None:
        self.root = Path(root).expanduser()
        self.size, self.seed = check_size(size), seed
        layout = f"the CycleGAN layout {self.root}/{split}A/*.jpg and {self.root}/{split}B/*.jpg"
        self.files_a = _image_files(self.root / f"{split}A", layout)
        self.files_b = _image_files(self.root / f"{split}B", layout)

    def __len__(self) -> int:
        return max(len(self.files_a), len(self.files_b))

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} items")
        j = int(np.random.default_rng([self.seed, index]).integers(len(self.files_b)))
        return _read(self.files_a[index % len(self.files_a)], None, self.size), _read(self.files_b[j], None, self.size)


class ImageFolderError(ValueError):
    """A folder given as a dataset holds no image genlearn can read; the message says what was looked for.

    Chapter 2 (training on a folder of your own images).
    """


def load_image_folder(root: str | os.PathLike, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Every image in a folder of your own, centre-cropped to a square and resized to ``size``.

    Images of any size and mode are read (Pillow); if all of them are grayscale the result has one
    channel, else three (grayscale ones are converted to RGB). Files that cannot be read as images
    are skipped with one warning that names them. Subfolders, if there are any, are classes (labels
    ``0..K-1`` in sorted order, as torchvision's ``ImageFolder``); images directly in ``root`` are
    class 0 otherwise.

    Returns:
        x: float32 ``(N, C, size, size)`` in [-1, 1]; y: int64 ``(N,)``.

    Raises:
        ImageFolderError: ``root`` is not a folder, or no file in it could be read as an image.

    Chapter 2 (training on a folder of your own images).
    """
    import warnings

    root, size = Path(root), check_size(size)
    if not root.is_dir():
        raise ImageFolderError(f"{root} is not a folder; --data takes a dataset name or a folder of images")
    classes = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    groups = [(i, sorted(f for f in c.rglob("*") if f.is_file() and not f.name.startswith("."))) for i, c in enumerate(classes)]
    if not classes:
        groups = [(0, sorted(f for f in root.iterdir() if f.is_file() and not f.name.startswith(".")))]
    images, labels, skipped = [], [], []
    for label, files in groups:
        for f in files:
            try:
                images.append(read_image(f, None, size))  # (1, S, S) for a grayscale file, else (3, S, S)
                labels.append(label)
            except (OSError, ValueError):
                skipped.append(f.name)
    if not images:
        raise ImageFolderError(
            f"{root} has no readable images (looked in it{' and its subfolders' if classes else ''} for files Pillow can open, "
            f"e.g. {'/'.join(IMAGE_SUFFIXES)}; {len(skipped)} files could not be read)"
        )
    if skipped:
        warnings.warn(f"skipped {len(skipped)} files of {root} that are not readable images: {', '.join(skipped[:5])}"
                      + (" ..." if len(skipped) > 5 else ""), stacklevel=2)  # fmt: skip
    channels = max(x.shape[0] for x in images)  # 1 if every file is grayscale; else grayscale ones repeated to RGB
    x = torch.stack([x.expand(channels, -1, -1) for x in images])  # (N, C, S, S)
    return x, torch.tensor(labels, dtype=torch.int64)
