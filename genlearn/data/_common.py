"""Helpers shared by the loaders: the offline error, package files, resizing and splits."""

from __future__ import annotations

import contextlib
import importlib.util
import socket
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

import numpy as np
import torch
import torch.nn.functional as F


class DatasetUnavailableError(RuntimeError):
    """A dataset is not on disk and could not be downloaded (usually: no network).

    The message is one sentence: what failed, the offline alternative in genlearn, and where to put
    the files by hand.
    """


def package_file(package: str, *parts: str, pip_name: str | None = None) -> Path:
    """Path to a data file shipped inside an installed package, without importing the package.

    Raises:
        ModuleNotFoundError: the package is not installed (the message says what to pip install).
        FileNotFoundError: the package is installed but the file is missing.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"this dataset ships with {package}; install it with `pip install {pip_name or package}`"
        )
    path = Path(list(spec.submodule_search_locations)[0], *parts)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is not in the installed {package} (other versions may not ship it); install the version in "
            f"requirements.txt, or reinstall with `pip install --force-reinstall {pip_name or package}`"
        )
    return path


def check_size(size: int, name: str = "size") -> int:
    """A positive int image side, or ValueError."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"{name} must be a positive int (pixels per side), got {size!r}")
    return int(size)


def check_choice(value: str, choices: tuple[str, ...], what: str) -> str:
    """``value`` if it is one of ``choices``, else ValueError listing them."""
    if value not in choices:
        raise ValueError(f"unknown {what} {value!r}; choose one of {', '.join(map(repr, choices))}")
    return value


def resize(x: torch.Tensor, size: int | tuple[int, int]) -> torch.Tensor:
    """Bilinear antialiased resize of ``(N, C, H, W)`` images in [-1, 1], clamped back to [-1, 1].

    Returns ``x`` itself when it already has the requested size.
    """
    hw = (size, size) if isinstance(size, int) else tuple(size)
    if tuple(x.shape[-2:]) == hw:
        return x
    # antialias matters when shrinking; bilinear overshoots a little, hence the clamp
    return F.interpolate(x, size=hw, mode="bilinear", antialias=True, align_corners=False).clamp_(-1, 1)


def split_indices(y: np.ndarray, split: str, test_size: int, seed: int = 0) -> np.ndarray:
    """Indices of a fixed stratified train/test split: ``train_test_split(..., stratify=y, random_state=seed)``."""
    check_choice(split, ("train", "test", "all"), "split")
    if split == "all":
        return np.arange(len(y))
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(np.arange(len(y)), test_size=test_size, stratify=y, random_state=seed)
    return train if split == "train" else test


@contextlib.contextmanager
def socket_timeout(seconds: float) -> Iterator[None]:
    """Temporarily give every new socket a timeout, so a dead network fails instead of hanging."""
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(old)


def check_online(url: str, timeout: float = 3.0) -> None:
    """Open one TCP connection to ``url``'s host, or raise OSError within ``timeout`` seconds.

    Called before a download so that a machine without network fails in seconds instead of waiting
    through every mirror and retry.
    """
    parts = urlparse(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    with socket.create_connection((parts.hostname, port), timeout=timeout):
        pass
