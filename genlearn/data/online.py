"""The standard benchmarks through torchvision, for readers with a network (or the files on disk).

Nothing here runs at import. A call first looks for the files under ``root``; only when they are
missing and ``download=True`` does it touch the network, with a short socket timeout, and a failed
download raises :class:`DatasetUnavailableError` with one sentence naming the offline alternative.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch.utils.data import Dataset

from genlearn.checks import from_uint8

from ._common import DatasetUnavailableError, check_choice, check_online, check_size, resize, socket_timeout

TORCHVISION_DATASETS = ("mnist", "fashion-mnist", "cifar10", "celeba")
DEFAULT_ROOT = "~/.cache/genlearn"
TIMEOUT_S = 10.0

# name -> (torchvision class name, URL probed before downloading, offline alternative, where the files go)
_INFO = {
    "mnist": (
        "MNIST",
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "genlearn.data.load_mnist_5k() (5,000 real MNIST digits, offline)",
        "MNIST/raw/ (the four *-idx*-ubyte files)",
    ),
    "fashion-mnist": (
        "FashionMNIST",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "genlearn.data.load_digits() or typeset_digits() (offline)",
        "FashionMNIST/raw/ (the four *-idx*-ubyte files)",
    ),
    "cifar10": (
        "CIFAR10",
        "https://www.cs.toronto.edu/~kriz/",
        "genlearn.data.load_digits() or photo crops with RandomCropDataset (offline)",
        "cifar-10-batches-py/ (extracted from cifar-10-python.tar.gz)",
    ),
    "celeba": (
        "CelebA",
        "https://drive.google.com/",
        "genlearn.data.load_faces() (100 LFW faces, offline)",
        "celeba/ (img_align_celeba/ and the list_*.txt and identity_CelebA.txt files)",
    ),
}
_SPLITS = {"mnist": ("train", "test"), "fashion-mnist": ("train", "test"), "cifar10": ("train", "test"),
           "celeba": ("train", "valid", "test", "all")}


def _unavailable(name: str, root: Path, reason: str) -> DatasetUnavailableError:
    _, _, alternative, where = _INFO[name]
    failed = "was not downloaded" if reason == "download=False" else "could not be downloaded"
    return DatasetUnavailableError(
        f"{name} is not under {root} and {failed} ({reason}); "
        f"use {alternative} instead, or put {where} under {root} and call again"
    )


def _construct(cls: Callable, root: Path, name: str, split: str, download: bool, timeout: float):
    """Build the torchvision dataset, downloading only when the files are missing."""
    kwargs = {"split": split, "target_type": "attr"} if name == "celeba" else {"train": split == "train"}
    try:
        return cls(str(root), download=False, **kwargs)
    except RuntimeError as error:  # torchvision: "Dataset not found ... use download=True"
        if not download:
            raise _unavailable(name, root, "download=False") from error
    try:
        check_online(_INFO[name][1], timeout=min(timeout, 3.0))
        with socket_timeout(timeout):
            return cls(str(root), download=True, **kwargs)
    except Exception as error:  # URLError, socket errors, torchvision's RuntimeError, missing gdown
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise _unavailable(name, root, f"{type(error).__name__}: {reason[:200]}") from error


class CelebAFaces(Dataset):
    """CelebA aligned faces as a Dataset of ``(x, attrs)``, decoded lazily (202,599 JPEGs do not fit
    in memory as float tensors).

    Items: ``x`` float32 ``(3, size, size)`` in [-1, 1], the central 178x178 of the 178x218 aligned
    face resized to ``size`` (the DCGAN-era crop); ``attrs`` int64 ``(40,)`` binary attributes
    (names in ``.attr_names``).

    Chapter 0 (the online datasets of the tour).
    """

    def __init__(self, base: Dataset, size: int) -> None:
        self.base, self.size = base, size
        self.attr_names = list(base.attr_names)[:40]

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image, attrs = self.base[index]  # PIL (178x218), (40,)
        rgb = torch.from_numpy(np.asarray(image.convert("RGB")).copy()).permute(2, 0, 1)  # (3, H, W)
        h, w = rgb.shape[-2:]
        side = min(h, w, 178)
        top, left = (h - side) // 2, (w - side) // 2
        x = from_uint8(rgb[:, top : top + side, left : left + side])  # (3, side, side)
        return resize(x[None], self.size)[0], attrs.long()


def load_torchvision(
    name: str,
    root: str | os.PathLike = DEFAULT_ROOT,
    split: str = "train",
    size: int | None = None,
    download: bool = True,
    timeout: float = TIMEOUT_S,
):
    """MNIST, Fashion-MNIST, CIFAR-10 or CelebA through torchvision.

    Args:
        name: "mnist", "fashion-mnist", "cifar10" or "celeba".
        root: folder that holds (or receives) the files, in torchvision's layout.
        split: "train" or "test"; CelebA also "valid" and "all".
        size: output side; None keeps the native size (28, 28, 32; 64 for CelebA).
        download: fetch missing files; False only reads what is under ``root``.
        timeout: socket timeout in seconds for the download.

    Returns:
        For mnist, fashion-mnist, cifar10: ``(x, y)`` with x float32 ``(N, C, size, size)`` in
        [-1, 1] (C = 1, 1, 3) and y int64 ``(N,)`` class labels. For celeba: a :class:`CelebAFaces`
        Dataset, whose items are ``(x (3, size, size), attrs (40,))``.

    Raises:
        DatasetUnavailableError: the files are missing and could not be downloaded.

    Chapter 0.
    """
    check_choice(name, TORCHVISION_DATASETS, "torchvision dataset")
    check_choice(split, _SPLITS[name], f"split for {name}")
    if size is not None:
        size = check_size(size)
    root = Path(root).expanduser()
    try:
        import torchvision.datasets
    except ImportError as error:
        raise ModuleNotFoundError(
            "load_torchvision needs torchvision; install it with `pip install torchvision`"
        ) from error

    dataset = _construct(getattr(torchvision.datasets, _INFO[name][0]), root, name, split, download, timeout)
    if name == "celeba":
        return CelebAFaces(dataset, size or 64)
    data = dataset.data
    if name == "cifar10":
        x = from_uint8(torch.from_numpy(np.ascontiguousarray(data)).permute(0, 3, 1, 2))  # (N, 3, 32, 32)
    else:
        x = from_uint8(torch.as_tensor(data)).unsqueeze(1)  # (N, 1, 28, 28)
    y = torch.as_tensor(np.asarray(dataset.targets), dtype=torch.int64)
    return (x if size is None else resize(x, size)), y
