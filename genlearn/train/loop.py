"""The thin training loop: progress bar, history, callbacks, checkpoints, resume.

The step function does the learning (one plain function per update, returning a dict of
floats); :func:`fit` only repeats it. Interrupt a run (Ctrl-C, a batch scheduler's SIGTERM, a
Colab timeout) and call :func:`fit` again with the same checkpoint path: it resumes where it
stopped, and on CPU it ends with exactly the weights of an uninterrupted run.

A signal lands at an arbitrary moment, often in the middle of a step. Inside :func:`fit`, SIGINT
and SIGTERM are only noted; the step in progress finishes, the last completed step is saved, one
line is printed and :class:`Interrupted` (a ``KeyboardInterrupt``) is raised. A checkpoint never
holds a half-applied step.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, NamedTuple, Sequence

import torch
from torch import nn

from genlearn.train.checkpoint import load_checkpoint, restore, save_checkpoint
from genlearn.train.distributed import Distributed, agree
from genlearn.train.schedules import linear_decay  # noqa: F401  (its old home)

StepFn = Callable[[Any], Mapping[str, float]]


class Trained(NamedTuple):
    """What every trainer returns: the network to sample from (eval mode) and the run's history.

    For a GAN ``model`` is the EMA average of G where the run kept one, else G itself.

    Chapter 0.
    """

    model: nn.Module
    history: "History"


class Interrupted(KeyboardInterrupt):
    """A run stopped by a signal (SIGINT: Ctrl-C, SIGTERM: a scheduler's preemption) after its last
    completed step was saved; ``exit_code`` is the shell's ``128 + signal number`` (130, 143).

    Chapter 0.
    """

    def __init__(self, signum: int, step: int, checkpoint: Path | None):
        self.signum, self.step, self.checkpoint = signum, step, checkpoint
        self.exit_code = 128 + signum
        super().__init__(f"{signal.Signals(signum).name} at step {step}")


@contextlib.contextmanager
def deferred_signals(signums: Sequence[int] = (signal.SIGINT, signal.SIGTERM)) -> Iterator[list[int]]:
    """Inside the block SIGINT and SIGTERM are only appended to the yielded list, so the work in
    progress can finish first (signal handlers can be set in the main thread only; elsewhere the
    list stays empty and signals act as usual).

    Chapter 0.
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    previous = {s: signal.getsignal(s) for s in signums}
    for s in signums:
        signal.signal(s, lambda signum, frame: received.append(signum))
    try:
        yield received
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


class NonFiniteLossError(FloatingPointError):
    """A step returned NaN or infinity; training stops instead of silently producing noise.

    Chapter 0.
    """


class UnevenBatchError(ValueError):
    """A global batch of ``batch_size`` that ``world_size`` processes cannot share equally.

    Chapter 0 (the page "Beyond one GPU").
    """

    def __init__(self, batch_size: int, world_size: int):
        self.batch_size, self.world_size = batch_size, world_size
        super().__init__(f"a batch of {batch_size} cannot be split evenly over {world_size} processes; use a multiple of {world_size}")


class InfiniteBatches:
    """Endless shuffled mini-batches over in-memory tensors, resumable from a state dict.

    Epoch ``e`` uses the permutation drawn from ``seed + e``, so the batch order depends only
    on ``(seed, position)``, never on the global RNG.

    Args:
        *tensors: tensors with the same first dimension ``N`` (e.g. images and labels).
        batch_size: rows per batch; the last incomplete batch of an epoch is dropped.
        seed: seed of the shuffling.
        device: where to put the batches.
        shard: ``(rank, world_size)`` for distributed training: every process draws the same global batch
            of ``batch_size`` rows and keeps rows ``rank, rank + world_size, ...`` of it (None: all of it).

    Chapters 0 and 1.
    """

    def __init__(self, *tensors: torch.Tensor, batch_size: int, seed: int = 0, device: torch.device | str = "cpu",
                 shard: tuple[int, int] | None = None):  # fmt: skip
        if not tensors:
            raise ValueError("InfiniteBatches needs at least one tensor")
        n = tensors[0].shape[0]
        if any(t.shape[0] != n for t in tensors):
            raise ValueError(f"all tensors need the same first dimension, got {[tuple(t.shape) for t in tensors]}")
        if not 1 <= batch_size <= n:
            raise ValueError(f"batch_size must be between 1 and the dataset size {n}, got {batch_size}")
        rank, world = shard or (0, 1)
        if not 0 <= rank < world:
            raise ValueError(f"shard needs 0 <= rank < world_size, got {shard}")
        if batch_size % world:
            raise UnevenBatchError(batch_size, world)
        self.tensors, self.batch_size, self.seed, self.device = tensors, batch_size, seed, torch.device(device)
        self.rank, self.world = rank, world
        self.epoch, self.position = 0, 0
        self._perm = self._permutation()

    def _permutation(self) -> torch.Tensor:
        g = torch.Generator().manual_seed(self.seed + self.epoch)
        return torch.randperm(self.tensors[0].shape[0], generator=g)

    def __iter__(self) -> "InfiniteBatches":
        return self

    def __next__(self) -> torch.Tensor | tuple[torch.Tensor, ...]:
        if self.position + self.batch_size > len(self._perm):
            self.epoch, self.position = self.epoch + 1, 0
            self._perm = self._permutation()
        idx = self._perm[self.position : self.position + self.batch_size][self.rank :: self.world]  # this process's share
        self.position += self.batch_size
        batch = tuple(t[idx].to(self.device, non_blocking=True) for t in self.tensors)
        return batch[0] if len(batch) == 1 else batch

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "position": self.position, "seed": self.seed}

    def load_state_dict(self, state: Mapping[str, int]) -> None:
        self.seed, self.epoch, self.position = state["seed"], state["epoch"], state["position"]
        self._perm = self._permutation()


@dataclass
class History:
    """Per-step logs: ``history['d_loss']`` is a list aligned with ``history.steps``.

    Chapter 0.
    """

    steps: list[int] = field(default_factory=list)
    logs: dict[str, list[float]] = field(default_factory=dict)
    events: dict[str, list[tuple[int, Any]]] = field(default_factory=dict)

    def append(self, step: int, logs: Mapping[str, float]) -> None:
        self.steps.append(step)
        for k, v in logs.items():
            self.logs.setdefault(k, [math.nan] * (len(self.steps) - 1)).append(float(v))
        for k, seq in self.logs.items():  # keys missing this step
            if len(seq) < len(self.steps):
                seq.append(math.nan)

    def record(self, name: str, step: int, value: Any) -> None:
        """Store a sparse value (a metric, a sample grid) computed every few steps."""
        self.events.setdefault(name, []).append((step, value))

    def __getitem__(self, key: str) -> list[float]:
        return self.logs[key]

    def keys(self):
        return self.logs.keys()

    def state_dict(self) -> dict[str, Any]:
        return {"steps": self.steps, "logs": self.logs, "events": self.events}

    @classmethod
    def from_state_dict(cls, state: Mapping[str, Any]) -> "History":
        return cls(list(state["steps"]), {k: list(v) for k, v in state["logs"].items()}, dict(state["events"]))


@dataclass
class Every:
    """A callback ``fn(step, history)`` called every ``n`` steps (and after the last step).

    Chapter 0.
    """

    n: int
    fn: Callable[[int, History], None]


def _progress(total: int, initial: int, desc: str, enabled: bool):
    """A notebook widget bar where ipywidgets is installed (Jupyter, Colab), else a text bar."""
    try:
        import ipywidgets  # noqa: F401

        from tqdm.auto import tqdm
    except ImportError:
        from tqdm.std import tqdm

    return tqdm(total=total, initial=initial, desc=desc, disable=not enabled, dynamic_ncols=True, mininterval=0.5)


def fit(
    step_fn: StepFn,
    batches: Any,
    *,
    steps: int,
    modules: Mapping[str, nn.Module],
    optimizers: Mapping[str, torch.optim.Optimizer] | None = None,
    callbacks: Sequence[Every] = (),
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 500,
    run: Mapping[str, Any] | None = None,
    time_budget: float | None = None,
    desc: str = "train",
    progress: bool = True,
    postfix_every: int = 10,
    distributed: Distributed | None = None,
) -> History:
    """Run ``step_fn(next(batches))`` until ``steps`` steps are done (or ``time_budget`` seconds pass).

    Args:
        step_fn: one training update; returns a dict of floats (losses, scores).
        batches: an iterator of batches; an :class:`InfiniteBatches` is checkpointed and resumed too.
        steps: total number of steps of the run (not the number still to do).
        modules, optimizers: saved in checkpoints and restored on resume (learning-rate schedules
            have the same ``state_dict`` interface and may go with the optimizers).
        callbacks: :class:`Every` hooks, e.g. a sample grid or a metric every 500 steps.
        checkpoint: file to save to and resume from; None keeps everything in memory.
        checkpoint_every: steps between checkpoints (one is also written at the end, on
            interruption and on a time-budget stop).
        run: the run's description stored in the checkpoint (model, model_config, train_config,
            data, seed; see :func:`genlearn.train.checkpoint.run_info`), so :func:`genlearn.load`
            can rebuild the model.
        time_budget: stop after this many seconds of training (checkpointed, resumable); the
            history's ``"stop"`` event says whether the budget or the step count ended the run.
        desc: progress-bar label.
        progress: show a tqdm bar (notebook-aware).
        postfix_every: refresh the bar's loss read-out every this many steps.
        distributed: with several processes (:mod:`genlearn.train.distributed`), only rank 0 saves the
            checkpoint and shows progress (every rank resumes from it), and a stop (budget, signal) that any
            rank sees is taken by all of them after the same step.

    Returns:
        The :class:`History` of the whole run (resumed runs include the earlier steps).

    Raises:
        NonFiniteLossError: a loss became NaN or infinite (the last good checkpoint is kept).
        Interrupted: SIGINT or SIGTERM arrived; the last completed step was saved first.

    Chapter 0.
    """
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    history, start = History(), 0
    resumable = hasattr(batches, "state_dict") and hasattr(batches, "load_state_dict")
    if checkpoint is not None and Path(checkpoint).is_file():
        payload = load_checkpoint(checkpoint)
        start = restore(payload, modules=modules, optimizers=optimizers)
        history = History.from_state_dict(payload["extra"]["history"])
        if resumable and "batches" in payload["extra"]:
            batches.load_state_dict(payload["extra"]["batches"])

    main = distributed is None or distributed.is_main

    def save(step: int) -> None:
        if checkpoint is None or not main:
            return
        extra = {"history": history.state_dict()}
        if resumable:
            extra["batches"] = batches.state_dict()
        save_checkpoint(checkpoint, modules=modules, optimizers=optimizers, step=step, run=run, extra=extra)

    for m in modules.values():
        m.train()
    bar = _progress(steps, start, desc, progress and main)
    began, step, mid_step = time.perf_counter(), start, False
    try:
        with deferred_signals() as signals:
            while step < steps:
                mid_step = True  # from here until the step's bookkeeping is done, the state is half-applied
                logs = step_fn(next(batches))
                bad = {k: v for k, v in logs.items() if not math.isfinite(float(v))}
                if bad:
                    where = f"; the last good checkpoint is {checkpoint}" if checkpoint else ""
                    raise NonFiniteLossError(
                        f"{', '.join(f'{k}={v}' for k, v in bad.items())} at step {step + 1}{where}; "
                        "lower the learning rate or check the inputs' range"
                    )
                step += 1
                history.append(step, logs)
                mid_step = False
                bar.update(1)
                if step % postfix_every == 0 or step == steps:
                    bar.set_postfix({k: f"{float(v):.3g}" for k, v in logs.items()}, refresh=False)
                for cb in callbacks:
                    if step % cb.n == 0 or step == steps:
                        cb.fn(step, history)
                over_budget = time_budget is not None and time.perf_counter() - began > time_budget and step < steps
                if distributed is not None and distributed.active:  # every rank stops after the same step
                    code = agree(bool(signals), distributed), agree(over_budget, distributed)
                    signals[:] = signals or ([signal.SIGTERM] if code[0] else [])
                    over_budget = code[1]
                if signals:
                    raise Interrupted(signals[0], step, Path(checkpoint) if checkpoint is not None else None)
                if checkpoint is not None and step % checkpoint_every == 0:
                    save(step)
                if over_budget:
                    if main:
                        bar.write(f"{desc}: time budget of {time_budget:g} s reached at step {step}/{steps}")
                    history.record("stop", step, "budget")
                    break
    except KeyboardInterrupt as e:
        bar.close()
        if mid_step:  # a KeyboardInterrupt raised inside a step (no signal handler here): do not save it
            print(f"interrupted during step {step + 1}; the last checkpoint is kept; run again to resume")
            raise
        save(step)
        where = f"saved {checkpoint}; run again to resume" if checkpoint is not None else "nothing saved (no checkpoint)"
        name = signal.Signals(e.signum).name if isinstance(e, Interrupted) else "interrupted"
        if main:
            print(f"{name}: stopped after step {step}; {where}")
        raise
    bar.close()
    if step >= steps and step > start:
        history.record("stop", step, "steps")
    save(step)
    return history


def plan_steps(trainer: Callable[..., Any], max_steps: int, budget_s: float, trial: int = 40, warmup: int = 10) -> tuple[int, float]:
    """The steps that fit ``budget_s`` on this machine, from a throwaway run of ``trial`` steps (the
    first ``warmup`` not timed), at most ``max_steps``; returns ``(steps, seconds per step)``.

    Planning the count, instead of only stopping at the budget, lets the learning-rate decays finish
    on a slow machine too.

    Chapter 11.
    """
    trial = min(trial, max_steps)
    if trial <= warmup + 1:
        return max_steps, 0.0
    marks: list[float] = []
    trainer(trial, progress=False, callbacks=[Every(1, lambda step, history: marks.append(time.perf_counter()))])
    per_step = (marks[-1] - marks[warmup - 1]) / (trial - warmup)
    return max(1, min(max_steps, int(0.9 * budget_s / per_step))), per_step  # 10% left for start-up and saving
