"""The command line's recipes: ``python -m genlearn train MODEL`` runs ``MODELS[MODEL]``'s ``train(request)``.

A recipe turns a :class:`TrainRequest` (the model, data, steps, budget, seed, run folder, device, style, profile,
processes and precision) into configs, calls the library's trainer and writes ``RUN/checkpoint.pt`` (the one
schema, reloadable with :func:`genlearn.load`) and ``RUN/history.json``. Recipes are plain functions, callable from
Python too::

    from genlearn.recipes import TrainRequest, recipe
    recipe("dcgan").train(TrainRequest("dcgan", steps=200, out=Path("runs/dcgan"), profile="cpu"))

Only recipes (and notebooks) choose by profile, and they are given it: nothing reads it from the environment here.
Each recipe module declares ``DEFAULT_DATA`` (its ``--data`` when none is given), ``train(request)``, and, where it
cannot train on several processes, ``DISTRIBUTED = False``. The table below is plain data (module paths imported on
use), so importing genlearn registers nothing; a model that :func:`genlearn.load` rebuilds also has its line in
:mod:`genlearn.models.registry` (which sits below the training code and cannot import it).
"""

from __future__ import annotations

import importlib
import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Mapping

from genlearn.runtime import PROFILES, cap, format_seconds, pick
from genlearn.train.checkpoint import CheckpointError, load_checkpoint
from genlearn.train.distributed import Distributed, broadcast_int
from genlearn.train.budget import Replan, StepPlan, plan_steps
from genlearn.train.loop import FitOptions, History
from genlearn.train.precision import Precision

MODELS: dict[str, str] = {
    "classifier": "genlearn.recipes.classifier",
    "gaussian": "genlearn.recipes.gaussian",
    "gan": "genlearn.recipes.gan",
    "dcgan": "genlearn.recipes.dcgan",
    "cgan": "genlearn.recipes.cgan",
    "wgan": "genlearn.recipes.wgan",
    "wgan-gp": "genlearn.recipes.wgan",
    "vae": "genlearn.recipes.vae",
    "cvae": "genlearn.recipes.vae",
    "cyclegan": "genlearn.recipes.cyclegan",
    "pix2pix": "genlearn.recipes.pix2pix",
    "fast-style": "genlearn.recipes.fast_style",
    "adain": "genlearn.recipes.adain",
    "stylegan": "genlearn.recipes.stylegan",
    "ddpm": "genlearn.recipes.ddpm",
}


class UsageError(Exception):
    """A mistake in what the command line was asked; it prints the message (one sentence) and exits 2."""


@dataclass(frozen=True)
class TrainRequest:
    """What ``python -m genlearn train`` asks of a recipe, typed (the recipes' whole input).

    Args:
        model: the model name (a key of :data:`MODELS`).
        data: a dataset name or a folder of images (None: the recipe's ``DEFAULT_DATA``).
        steps: training steps (None: the profile's, cut to fit the budget).
        minutes: the time budget (None: 5 minutes in the cpu profile unless ``steps`` is given; a recipe may say more).
        seed: initialization, batch order and noise.
        out: the run folder (an existing checkpoint there is resumed).
        device: "cpu", "cuda" or "mps" (None: the best available).
        style: fast-style: the style image; adain: style names, files or a folder.
        profile: "smoke", "cpu" or "gpu": sizes and step counts.
        distributed: this process of a ``torchrun`` run (None: one process).
        precision: mixed precision and channels-last on CUDA.

    Chapter 0.
    """

    model: str
    data: str | None = None
    steps: int | None = None
    minutes: float | None = None
    seed: int = 0
    out: Path | None = None
    device: str | None = None
    style: str | None = None
    profile: str = "cpu"
    distributed: Distributed | None = None
    precision: Precision = Precision()

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise UsageError(f"unknown profile {self.profile!r}; choose one of {', '.join(PROFILES)}")
        if self.steps is not None and self.steps < 0:
            raise UsageError(f"--steps must be >= 0, got {self.steps}")
        if self.minutes is not None and not self.minutes > 0:
            raise UsageError(f"--minutes must be > 0, got {self.minutes}")

    def pick(self, *, smoke, cpu, gpu):
        """The value for this request's profile: ``request.pick(smoke=20, cpu=3000, gpu=20000)``."""
        return pick(smoke=smoke, cpu=cpu, gpu=gpu, profile=self.profile)

    def but(self, **changes) -> "TrainRequest":
        """A copy with ``changes``, e.g. ``request.but(data="digits")``."""
        return replace(self, **changes)


def recipe(name: str) -> ModuleType:
    """The recipe module for a model name; unknown names list the choices."""
    if name not in MODELS:
        raise UsageError(f"unknown model {name!r}; choose one of: {', '.join(sorted(MODELS))}")
    return importlib.import_module(MODELS[name])


def default_budget(cpu_minutes: float = 5.0, *, profile: str | None = None) -> float | None:
    """Seconds of training when neither --steps nor --minutes is given: 5 minutes in the cpu profile (a recipe may say otherwise)."""
    return pick(smoke=None, cpu=60.0 * cpu_minutes, gpu=None, profile=profile)


def previous_run(checkpoint: Path, run: Mapping[str, Any]) -> dict | None:
    """The checkpoint a run folder already holds, if it is a run of the same model, data and sizes."""
    if not checkpoint.is_file():
        return None
    try:
        payload = load_checkpoint(checkpoint)
    except CheckpointError as e:
        raise UsageError(f"{e}; or delete it, or choose another --out") from None
    folder = checkpoint.parent
    if payload.get("model") != run["model"]:
        raise UsageError(f"{folder} holds a {payload.get('model')!r} run, not {run['model']!r}; choose another --out or delete that folder")
    if payload.get("data") != run["data"] or payload.get("model_config") != run["model_config"]:
        raise UsageError(f"{folder} holds a {run['model']!r} run with other data or sizes (another --data or --profile); "
                         "choose another --out, or repeat the first run's flags to resume it")  # fmt: skip
    return payload


def run_training(req: TrainRequest, trainer: Callable[..., Any], run: Mapping[str, Any], *, default_steps: int, cpu_minutes: float = 5.0) -> Path:
    """What every iterative recipe does: choose the steps and budget, resume or start, train, report, save.

    Args:
        req: the request (``steps``, ``minutes``, ``out``, ``profile``, ``distributed``, ``precision``).
        trainer: ``trainer(steps, fit=FitOptions(...))`` builds fresh models (seeded) and trains them; it is
            called once more, briefly, to time a step when the steps are planned from the budget.
        run: the run's description (:func:`genlearn.train.checkpoint.run_info`).
        default_steps: the profile's step count.
        cpu_minutes: the default budget in the cpu profile.

    Steps: ``--steps`` if given; else those of the run being resumed; else the profile's, cut to
    what fits the budget on this machine. Budget: ``--minutes`` if given; else 5 minutes in the cpu
    profile unless ``--steps`` was given. The run stops at its steps or its budget, whichever comes
    first, says which, and is checkpointed either way: the same command resumes it. The checkpoint's
    ``train_config`` keeps the planned ``steps`` and the profile's ``full_steps`` (``default_steps``);
    a re-planned total is in its ``extra["plan"]``.
    """
    default_steps = cap(default_steps)  # GENLEARN_MAX_STEPS: the dry run's cap
    folder = Path(req.out)
    checkpoint = folder / "checkpoint.pt"
    previous = previous_run(checkpoint, run)
    distributed = req.distributed
    main = distributed is None or distributed.is_main
    say = print if main else (lambda *a, **k: None)  # one process speaks
    budget = req.minutes * 60 if req.minutes is not None else (default_budget(cpu_minutes, profile=req.profile) if req.steps is None else None)
    planned = False  # a plan from a timed trial follows the run's pace (a busy trial must not cut the run short)
    if req.steps is not None:
        steps = req.steps
    elif previous is not None and "steps" in previous.get("train_config", {}):
        steps = int(previous["train_config"]["steps"])
    elif budget is not None:
        steps, per_step = plan_steps(trainer, default_steps, budget)  # each process alone, on the whole global batch
        steps = broadcast_int(steps, distributed)  # rank 0's plan for all
        planned = True
        if steps < default_steps:
            say(f"{run['model']}: {steps:,} steps planned to fit {format_seconds(budget)} here ({per_step * 1e3:.0f} ms per step; "
                  f"the profile's full run is {default_steps:,}; re-planned from the run's own pace as it goes)")  # fmt: skip
    else:
        steps = default_steps
    # "steps": this run's plan (budget-cut); "full_steps": the profile's full run, so a table can show what the budget cut
    info = {**run, "train_config": {**run["train_config"], "steps": steps, "full_steps": default_steps}}
    if previous is not None:
        say(f"{run['model']}: resuming {folder} at step {previous['step']:,} of {steps:,}")
    began = time.perf_counter()
    plan = StepPlan(steps) if planned or (previous is not None and "plan" in previous.get("extra", {})) else None
    replan = Replan(plan, budget, default_steps, distributed=distributed) if plan is not None and budget is not None else None
    fit = FitOptions(checkpoint=checkpoint, run=info, time_budget=budget, desc=run["model"], distributed=distributed,
                     precision=req.precision, plan=plan, callbacks=[replan] if replan else [])  # fmt: skip
    if replan is not None:
        replan.start(previous["step"] if previous is not None else 0)
    _, history = trainer(steps, fit=fit)
    steps = int(plan) if plan is not None else steps
    if not main:
        return folder
    write_history(folder, history)
    done = history.steps[-1] if history.steps else 0
    stops = history.events.get("stop", [])
    if stops and stops[-1][1] == "budget" and done < steps:
        print(f"{run['model']}: stopped at the {format_seconds(budget)} budget after step {done:,} of {steps:,} "
              "(checkpointed; run the same command again to continue)")  # fmt: skip
    else:
        print(f"{run['model']}: {done:,} of {steps:,} steps done ({format_seconds(time.perf_counter() - began)} this time)")
    return folder


def write_history(run: Path, history: History) -> Path:
    """``RUN/history.json``: per-step logs and sparse events that are plain numbers."""
    events = {k: [(s, v) for s, v in pts if isinstance(v, (int, float))] for k, pts in history.events.items()}
    path = Path(run) / "history.json"
    path.write_text(json.dumps({"steps": history.steps, "logs": history.logs, "events": events}))
    return path


__all__ = ["MODELS", "TrainRequest", "UsageError", "default_budget", "plan_steps", "previous_run", "recipe", "run_training", "write_history"]
