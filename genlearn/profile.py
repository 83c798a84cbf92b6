"""Book profiles: one switch that changes sizes and step counts only, never the code path.

* ``smoke`` -- seconds per notebook; what CI runs with nbval.
* ``cpu``   -- the default without a GPU: a few minutes per chapter on 2 cores.
* ``gpu``   -- the default with CUDA: paper-scale data and steps.

Only the notebooks and the command line's recipes (:mod:`genlearn.recipes`) read the profile; library code takes
explicit sizes. ``GENLEARN_MAX_STEPS`` caps every step count and data size for the gpu-profile dry run (:func:`cap`).
"""

from __future__ import annotations

import os
from typing import TypeVar

import torch

PROFILES = ("smoke", "cpu", "gpu")
T = TypeVar("T")


def get_profile() -> str:
    """The active profile: ``$GENLEARN_PROFILE`` if set, else ``gpu`` with CUDA, else ``cpu``.

    Chapters 0 and 1.
    """
    name = os.environ.get("GENLEARN_PROFILE", "").strip().lower()
    if not name:
        return "gpu" if torch.cuda.is_available() else "cpu"
    if name not in PROFILES:
        raise ValueError(f"GENLEARN_PROFILE={name!r} is not a profile; choose one of {', '.join(PROFILES)}")
    return name


def max_steps() -> int | None:
    """``$GENLEARN_MAX_STEPS``: the dry-run cap on step counts and data sizes (None when unset).

    CI runs every chapter in the gpu profile with ``GENLEARN_MAX_STEPS=2``: the code path Colab readers take, with
    paper-scale models, but two steps and a few images each, on a CPU.

    Chapter 0.
    """
    value = os.environ.get("GENLEARN_MAX_STEPS", "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"GENLEARN_MAX_STEPS must be a whole number >= 1, got {value!r}")
    return int(value)


def cap(n: int, at_least: int = 1) -> int:
    """``n``, or the dry run's :func:`max_steps` where that is smaller (but not below ``at_least``, e.g. a batch's
    worth of images): ``steps = cap(pick(smoke=20, cpu=3000, gpu=20000))``.

    Chapters 0-12.
    """
    limit = max_steps()
    return n if limit is None else min(n, max(limit, at_least))


def pick(*, smoke: T, cpu: T, gpu: T, profile: str | None = None) -> T:
    """Choose a value by profile, e.g. ``steps = pick(smoke=20, cpu=3000, gpu=20000)``.

    Chapters 0-12.
    """
    profile = profile or get_profile()
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    return {"smoke": smoke, "cpu": cpu, "gpu": gpu}[profile]


__all__ = ["PROFILES", "cap", "get_profile", "max_steps", "pick"]
