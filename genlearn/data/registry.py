"""One entry point for the in-memory image datasets, ``x, y = get_dataset("digits")``, and the real images that
``python -m genlearn evaluate`` compares samples with (:func:`get_reference`, :func:`get_held_out`)."""

from __future__ import annotations

from pathlib import Path

import torch

from ._common import check_choice
from .digits import load_digits, load_mnist_5k, typeset_digits
from .folders import load_image_folder
from .images import load_faces
from .online import load_torchvision

DATASETS = ("digits", "mnist-5k", "typeset-digits", "faces", "mnist", "fashion-mnist", "cifar10")
OFFLINE_DATASETS = ("digits", "mnist-5k", "typeset-digits", "faces")
NATIVE_SIZE = {
    "digits": 8, "mnist-5k": 28, "typeset-digits": 32, "faces": 25, "mnist": 28, "fashion-mnist": 28, "cifar10": 32
}
TYPESET_COUNT = {"train": 10_000, "test": 2_000, "all": 12_000}
REFERENCES = ("digits", "mnist-5k")  # reference sets by name (their train split); a folder of images also serves
HELD_OUT = {"digits-test": ("digits", 16), "mnist-5k-test": ("mnist-5k", 28)}  # name -> (dataset, the side its runs sample)


def is_folder_name(name: str) -> bool:
    """Whether ``--data NAME`` means a folder of images (a path) rather than one of :data:`DATASETS`.

    Chapter 2.
    """
    return name not in DATASETS and ("/" in name or "\\" in name or name.startswith(".") or Path(name).is_dir())


def check_dataset(name: str) -> str:
    """``name`` if it is a dataset or an existing folder, else ValueError saying what was expected.

    Chapter 2.
    """
    if name in DATASETS or Path(name).is_dir():
        return name
    if is_folder_name(name):
        raise ValueError(f"{name} is not a folder; --data takes a dataset name ({', '.join(DATASETS)}) or a folder of images")
    raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}, or give a folder of your own images")


def get_dataset(name: str, split: str = "train", size: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Load an image dataset into memory by name.

    ``"digits"``, ``"mnist-5k"``, ``"typeset-digits"`` and ``"faces"`` ship with installed packages
    and work offline; ``"mnist"``, ``"fashion-mnist"`` and ``"cifar10"`` go through
    :func:`load_torchvision` (downloaded to ``~/.cache/genlearn`` on first use).

    ``"typeset-digits"`` has 10,000 "train" images (seed 0) and 2,000 "test" images (seed 1).
    ``"faces"`` has one split of 100 images, returned for any ``split``.

    Args:
        name: one of :data:`DATASETS`, or the path of a folder of your own images
            (:func:`~genlearn.data.folders.load_image_folder`: any size, RGB or grayscale,
            centre-cropped and resized to ``size``, 32 when None; one split, returned for any ``split``).
        split: "train" or "test" ("all" for the offline sets).
        size: image side; None is the dataset's native size (:data:`NATIVE_SIZE`).

    Returns:
        x: float32 ``(N, C, size, size)`` in [-1, 1].
        y: int64 ``(N,)`` labels.

    Chapter 2.
    """
    if name not in DATASETS and Path(name).is_dir():
        return load_image_folder(name, 32 if size is None else size)
    check_dataset(name)
    size = NATIVE_SIZE[name] if size is None else size
    if name == "digits":
        return load_digits(split, size)
    if name == "mnist-5k":
        return load_mnist_5k(split, size)
    if name == "typeset-digits":
        check_choice(split, tuple(TYPESET_COUNT), "split")
        if split == "all":
            x_train, y_train = typeset_digits(TYPESET_COUNT["train"], size, seed=0)
            x_test, y_test = typeset_digits(TYPESET_COUNT["test"], size, seed=1)
            return torch.cat([x_train, x_test]), torch.cat([y_train, y_test])
        return typeset_digits(TYPESET_COUNT[split], size, seed=0 if split == "train" else 1)
    if name == "faces":
        check_choice(split, ("train", "test", "all"), "split")
        return load_faces(size)
    return load_torchvision(name, split=split, size=size)


def get_reference(name: str, size: int) -> torch.Tensor:
    """The real images that samples are scored against, at the samples' ``size``: the train split of "digits" or
    "mnist-5k" (:data:`REFERENCES`), or every image of a folder (:func:`~genlearn.data.folders.load_image_folder`).

    Returns:
        float32 ``(N, C, size, size)`` in [-1, 1].

    Raises:
        ValueError: another name.

    Chapter 12 (``python -m genlearn evaluate SAMPLES --reference NAME``).
    """
    if name in REFERENCES:
        return get_dataset(name, "train", size)[0]
    if Path(name).is_dir():  # after the names: a folder called digits does not hide the dataset
        return load_image_folder(name, size=size)[0]
    raise ValueError(f"unknown reference {name!r}; choose {' or '.join(REFERENCES)} (their train split), or give a folder of images")


def get_held_out(name: str) -> torch.Tensor:
    """Held-out real images, to be scored like samples against :func:`get_reference`'s train split: the real-vs-real
    floor. "digits-test" at 16 pixels and "mnist-5k-test" at 28 (:data:`HELD_OUT`), the sizes the book's runs sample at.

    Returns:
        float32 ``(N, 1, S, S)`` in [-1, 1].

    Raises:
        ValueError: another name.

    Chapter 12 (``python -m genlearn evaluate digits-test``).
    """
    if name not in HELD_OUT:
        raise ValueError(f"unknown held-out set {name!r}; choose one of {', '.join(HELD_OUT)}")
    dataset, size = HELD_OUT[name]
    return get_dataset(dataset, "test", size)[0]
