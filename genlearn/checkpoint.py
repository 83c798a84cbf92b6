"""One checkpoint schema for every model, written by :func:`save_checkpoint`, read back by :func:`genlearn.load`.

A bare ``state_dict`` forces every reader to repeat the training flags (the most common issue
in junyanz/pytorch-CycleGAN-and-pix2pix). A genlearn checkpoint is a dict with

    format            "genlearn-checkpoint-2"
    model             the command-line model name ("dcgan", "vae", ...), or None for a notebook's run
    model_config      plain data that rebuilds the network the run samples from
    train_config      plain data of the optimization (and of helper networks such as a critic)
    data, seed        what it was trained on, and with which seed
    genlearn_version  the version that wrote it
    step              completed training steps
    modules           name -> state_dict (G, D, G_ema, critic, vae, ...)
    optimizers        name -> state_dict (optimizers and learning-rate schedules)
    rng, extra        random-number states; history and batch-stream position (for resume)

The schema sits below ``genlearn.train`` (it imports torch, numpy and genlearn's version only), so
``genlearn.load`` and the command line read a run without importing any training code;
``genlearn.train.checkpoint`` re-exports these names for the trainers and the chapters.
"""

from __future__ import annotations

import os
import pickle
import random
import zipfile
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch
from torch import nn

from genlearn._version import __version__

FORMAT = "genlearn-checkpoint-2"
RUN_KEYS = ("model", "model_config", "train_config", "data", "seed")


class CheckpointError(ValueError):
    """A file that is not a usable genlearn checkpoint; the message says what was expected.

    Chapter 2.
    """


def unwrap(module: nn.Module) -> nn.Module:
    """The module inside a ``torch.compile`` wrapper (whose state_dict keys gain ``_orig_mod.``), a
    ``DistributedDataParallel`` wrapper (``module.``) or a :class:`~genlearn.train.distributed.Replica`, or
    both; the module itself otherwise.

    Chapter 0.
    """
    # a Replica is known by its class attribute _genlearn_wrapper, so loading a model never imports genlearn.train
    if isinstance(module, nn.parallel.DistributedDataParallel) or getattr(type(module), "_genlearn_wrapper", False):
        module = module.module
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


def run_info(model: str | None = None, model_config: Mapping | None = None, train_config: Mapping | None = None,
             data: str | None = None, seed: int | None = None) -> dict[str, Any]:  # fmt: skip
    """The description of a run that :func:`save_checkpoint` stores (every key of :data:`RUN_KEYS`).

    Chapter 10.
    """
    return {"model": model, "model_config": dict(model_config or {}), "train_config": dict(train_config or {}),
            "data": data, "seed": seed}  # fmt: skip


def save_checkpoint(
    path: str | os.PathLike,
    *,
    modules: Mapping[str, nn.Module],
    optimizers: Mapping[str, Any] | None = None,
    step: int = 0,
    run: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write a checkpoint atomically (a crash mid-write leaves the previous one intact).

    Args:
        path: file to write (parent folders are created).
        modules: name -> model; compiled models are unwrapped first.
        optimizers: name -> optimizer or learning-rate schedule (anything with ``state_dict``).
        step: number of completed steps.
        run: the run's description, keys of :data:`RUN_KEYS` (see :func:`run_info`); what
            :func:`genlearn.load` rebuilds the model from.
        extra: anything else picklable by torch.save (history, loader state, ...).

    Chapter 10.
    """
    unknown = set(run or {}) - set(RUN_KEYS)
    if unknown:
        raise ValueError(f"run has unknown keys {sorted(unknown)}; a run is described by {', '.join(RUN_KEYS)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        **run_info(**dict(run or {})),
        "genlearn_version": __version__,
        "step": int(step),
        "modules": {k: unwrap(m).state_dict() for k, m in modules.items()},
        "optimizers": {k: o.state_dict() for k, o in (optimizers or {}).items()},
        "rng": rng_state(),
        "extra": dict(extra or {}),
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)
    return path


def checkpoint_path(run: str | os.PathLike) -> Path:
    """``RUN/checkpoint.pt`` for a run folder, the path itself for a file.

    Chapter 2.
    """
    run = Path(run)
    return run / "checkpoint.pt" if run.is_dir() else run


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` (a plain dict); a run folder is read from ``RUN/checkpoint.pt``.

    Raises:
        FileNotFoundError: nothing at ``path``.
        CheckpointError: the file is unreadable (truncated, corrupt) or not a genlearn checkpoint.

    Chapter 2.
    """
    path = checkpoint_path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}; train first (python -m genlearn train MODEL --out RUN) or check the path")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=False)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, OSError) as e:
        raise CheckpointError(f"{path} cannot be read as a checkpoint (truncated or corrupt: {type(e).__name__}); train again to rewrite it") from None
    fmt = payload.get("format") if isinstance(payload, dict) else None
    if fmt == "genlearn-checkpoint-1":
        raise CheckpointError(f"{path} was written by genlearn 0.1 (checkpoint format 1, no model config); train it again with this version")
    if fmt != FORMAT:
        raise CheckpointError(f"{path} is not a genlearn checkpoint (one written by genlearn.train.save_checkpoint)")
    return payload


def restore(
    payload: Mapping[str, Any],
    *,
    modules: Mapping[str, nn.Module],
    optimizers: Mapping[str, Any] | None = None,
    rng: bool = True,
) -> int:
    """Load weights, optimizer state and (optionally) RNG state from ``payload``; return its step.

    Chapter 0.
    """
    counted = "steps" in modules and "steps" not in payload["modules"]  # genlearn 0.2's one-player runs kept no counter
    missing = set(modules) - set(payload["modules"]) - ({"steps"} if counted else set())
    if missing:
        raise CheckpointError(f"checkpoint has no weights for {sorted(missing)}; it holds {sorted(payload['modules'])}")
    for name, module in modules.items():
        if name == "steps" and counted:
            unwrap(module).load_state_dict({"count": torch.tensor(int(payload["step"]))})  # the counter is the step reached
            continue
        unwrap(module).load_state_dict(payload["modules"][name])
    for name, opt in (optimizers or {}).items():
        opt.load_state_dict(payload["optimizers"][name])
    if rng:
        set_rng_state(payload["rng"])
    return int(payload["step"])


def ema_weights(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The averaged network's own state_dict out of an :class:`~genlearn.train.ema.EMA`'s (keys ``model.*``).

    Chapter 2.
    """
    return {k[len("model."):]: v for k, v in state.items() if k.startswith("model.")}


def load_run(run: str | os.PathLike, device: str | torch.device | None = None, *,
             encoder_weights: str | os.PathLike | None = None) -> nn.Module:  # fmt: skip
    """Rebuild the model of a run from its checkpoint alone (what :func:`genlearn.load` does).

    The network a run samples from (the EMA copy where the run kept one), in eval mode, on
    ``device`` (default: CPU). ``encoder_weights`` is the weights file of the fixed part a run
    does not save (AdaIN's ImageNet encoder), for a machine where that network's default file is
    missing. Raises FileNotFoundError or :class:`CheckpointError` with one sentence; ValueError
    for ``encoder_weights`` with a run that has no fixed encoder, or a file that does not fit it.

    Chapter 2.
    """
    from genlearn.models.registry import BUILDABLE, build

    path = checkpoint_path(run)
    payload = load_checkpoint(path)
    model = payload.get("model")
    if model not in BUILDABLE:
        raise CheckpointError(f"{path} holds a run of model {model!r}, which genlearn.load cannot rebuild; it knows {', '.join(sorted(BUILDABLE))}")
    if encoder_weights is not None and BUILDABLE[model].into is None:
        raise ValueError(f"{path} holds a {model!r} run, which saves all of its weights; encoder_weights is for a run with a fixed encoder (adain)")
    options = {} if encoder_weights is None else {"weights": encoder_weights}
    try:
        net = build(model, payload["model_config"], **options)
    except (TypeError, ValueError, KeyError) as e:
        if options:  # the weights file may be at fault as well as the config: say both
            raise ValueError(f"{path}: cannot rebuild its {model!r} model with the encoder weights {encoder_weights} ({e})") from None
        raise CheckpointError(f"{path}: its model_config does not fit this genlearn's {model!r} model ({e}); train it again with this version") from None
    key = next((k for k in BUILDABLE[model].weights if k in payload["modules"]), None)
    if key is None:
        raise CheckpointError(f"{path} has no weights for a {model!r} model (looked for {', '.join(BUILDABLE[model].weights)})")
    state = payload["modules"][key]
    try:
        target = getattr(net, BUILDABLE[model].into) if BUILDABLE[model].into else net
        target.load_state_dict(ema_weights(state) if key.endswith("_ema") else state)
    except RuntimeError as e:
        first = str(e).strip().splitlines()[0]
        raise CheckpointError(f"{path}: the weights do not match its model_config ({first}); the file was edited or is corrupt") from None
    return net.to(device if device is not None else "cpu").eval()


__all__ = [
    "FORMAT", "RUN_KEYS", "CheckpointError", "checkpoint_path", "ema_weights", "load_checkpoint", "load_run", "restore",
    "run_info", "save_checkpoint", "unwrap",
]
