"""Checkpoints that rebuild what they saved: models, optimizers, step, history, RNG state, config.

A bare ``state_dict`` forces every reader to repeat the training flags (the most common issue
in junyanz/pytorch-CycleGAN-and-pix2pix). genlearn stores the config next to the weights.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch
from torch import nn


def unwrap(module: nn.Module) -> nn.Module:
    """The module inside a ``torch.compile`` wrapper (whose state_dict keys gain ``_orig_mod.``)."""
    return getattr(module, "_orig_mod", module)


def rng_state() -> dict[str, Any]:
    """Every random-number state a training step may draw from."""
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Mapping[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(
    path: str | os.PathLike,
    *,
    modules: Mapping[str, nn.Module],
    optimizers: Mapping[str, torch.optim.Optimizer] | None = None,
    step: int = 0,
    config: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write a checkpoint atomically (a crash mid-write leaves the previous one intact).

    Args:
        path: file to write (parent folders are created).
        modules: name -> model; compiled models are unwrapped first.
        optimizers: name -> optimizer.
        step: number of completed steps.
        config: plain data (numbers, strings, lists, dicts) that rebuilds the models.
        extra: anything else picklable by torch.save (history, loader state, ...).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": "genlearn-checkpoint-1",
        "step": int(step),
        "config": dict(config or {}),
        "modules": {k: unwrap(m).state_dict() for k, m in modules.items()},
        "optimizers": {k: o.state_dict() for k, o in (optimizers or {}).items()},
        "rng": rng_state(),
        "extra": dict(extra or {}),
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)
    return path


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` (a plain dict)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}; train first (python -m genlearn train ...) or check the path")
    payload = torch.load(path, map_location=map_location, weights_only=False)
    if not isinstance(payload, dict) or payload.get("format") != "genlearn-checkpoint-1":
        raise ValueError(f"{path} is not a genlearn checkpoint (written by genlearn.train.save_checkpoint)")
    return payload


def restore(
    payload: Mapping[str, Any],
    *,
    modules: Mapping[str, nn.Module],
    optimizers: Mapping[str, torch.optim.Optimizer] | None = None,
    rng: bool = True,
) -> int:
    """Load weights, optimizer state and (optionally) RNG state from ``payload``; return its step."""
    missing = set(modules) - set(payload["modules"])
    if missing:
        raise KeyError(f"checkpoint has no weights for {sorted(missing)}; it holds {sorted(payload['modules'])}")
    for name, module in modules.items():
        unwrap(module).load_state_dict(payload["modules"][name])
    for name, opt in (optimizers or {}).items():
        opt.load_state_dict(payload["optimizers"][name])
    if rng:
        set_rng_state(payload["rng"])
    return int(payload["step"])
