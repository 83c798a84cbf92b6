"""Devices, seeds, the version stamp every notebook prints first, and a timer.

The book's profiles (``pick``, ``cap``, ``get_profile``, ``max_steps``, ``PROFILES``) live in
:mod:`genlearn.profile`; they are importable from here too, where every chapter imports them. Mixed precision is
:mod:`genlearn.train.precision`.
"""

from __future__ import annotations

import contextlib
import os
import platform
import random
import time
from typing import Any, Iterator

import numpy as np
import torch

# the chapters import the profile's names from here (re-exported, no warning: this is not a deprecated path)
from genlearn.profile import PROFILES, cap, get_profile, max_steps, pick  # noqa: F401

DEVICES = ("cpu", "cuda", "mps")


def get_device(name: str | None = None) -> torch.device:
    """The device to train on: ``name`` or ``$GENLEARN_DEVICE`` if given, else cuda -> mps -> cpu.

    Chapters 0-12.
    """
    name = name or os.environ.get("GENLEARN_DEVICE") or None
    if name is not None:
        kind = name.split(":")[0]
        if kind not in DEVICES:
            raise ValueError(f"unknown device {name!r}; choose one of {', '.join(DEVICES)}")
        if kind == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("device 'cuda' was asked for but CUDA is not available; use 'cpu' (or unset GENLEARN_DEVICE)")
        if kind == "mps" and not torch.backends.mps.is_available():
            raise RuntimeError("device 'mps' was asked for but Apple MPS is not available; use 'cpu'")
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (all devices); return a CPU ``torch.Generator`` seeded the same.

    Chapters 0-12.
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds CUDA and MPS
    return torch.Generator().manual_seed(seed)


def version_info() -> dict[str, Any]:
    """Profile, device and versions as a dict (what :func:`stamp` prints).

    Chapter 0.
    """
    import genlearn

    device = get_device()
    info = {
        "genlearn": genlearn.__version__,
        "profile": get_profile(),
        "device": str(device),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


class Stamp:
    """What a notebook prints first; ``repr`` shows profile, device, versions and start time.

    Chapter 0.
    """

    def __init__(self) -> None:
        self.info = version_info()
        self.started = time.time()

    def __repr__(self) -> str:
        parts = [f"{k} {v}" for k, v in self.info.items()]
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(self.started))
        return "genlearn stamp: " + " | ".join(parts) + f" | started {when}"


def stamp() -> Stamp:
    """Print-ready stamp: ``stamp()`` as the last expression of a notebook's first cell.

    Chapters 0-12.
    """
    return Stamp()


def format_seconds(seconds: float) -> str:
    """``seconds`` as ``'12 s'``, ``'3 min 12 s'`` or ``'1 h 5 min'``.

    Chapter 0.
    """
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


@contextlib.contextmanager
def timer() -> Iterator[dict[str, float]]:
    """``with timer() as t: ...`` then ``t['seconds']``.

    Chapters 2, 7, 8, 9 and 11.
    """
    out: dict[str, float] = {}
    start = time.perf_counter()
    try:
        yield out
    finally:
        out["seconds"] = time.perf_counter() - start


def progress_bar(total: int, initial: int = 0, desc: str = "", enabled: bool = True):
    """A tqdm bar over ``total`` steps: a notebook widget where ipywidgets is installed (Jupyter, Colab), else text.

    Used by the training loop and the diffusion samplers. Chapters 0 and 13.
    """
    try:
        import ipywidgets  # noqa: F401

        from tqdm.auto import tqdm
    except ImportError:
        from tqdm.std import tqdm

    return tqdm(total=total, initial=initial, desc=desc, disable=not enabled, dynamic_ncols=True, mininterval=0.5)

