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
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, NamedTuple, Sequence

from torch import nn

from genlearn.runtime import progress_bar
from genlearn.train.checkpoint import load_checkpoint, restore, save_checkpoint
from genlearn.train.distributed import Distributed, agree
from genlearn.train.precision import Precision
from genlearn.train.batches import InfiniteBatches, UnevenBatchError  # noqa: F401  (their first home; chapter 0 imports them from genlearn.train)

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


@dataclass(frozen=True)
class FitOptions:
    """How a run executes, as opposed to what it learns (that is the trainer's config): one object that every
    trainer takes as ``fit=`` and hands on to :func:`fit` unchanged.

    Args:
        callbacks: :class:`Every` hooks, e.g. a sample grid or a metric every 500 steps.
        checkpoint: file to save to and resume from; None keeps everything in memory.
        checkpoint_every: steps between checkpoints (one is also written at the end, on
            interruption and on a time-budget stop).
        run: the run's description stored in the checkpoint (model, model_config, train_config,
            data, seed; see :func:`genlearn.train.checkpoint.run_info`), so :func:`genlearn.load`
            can rebuild the model.
        time_budget: stop after this many seconds of training (checkpointed, resumable); the
            history's ``"stop"`` event says whether the budget or the step count ended the run.
        desc: progress-bar label (None: the trainer's own, e.g. "DCGAN").
        progress: show a tqdm bar (notebook-aware).
        distributed: with several processes (:mod:`genlearn.train.distributed`), only rank 0 saves the
            checkpoint and shows progress (every rank resumes from it), and a stop (budget, signal) that any
            rank sees is taken by all of them after the same step.
        precision: mixed precision and channels-last on CUDA (:class:`~genlearn.train.precision.Precision`),
            decided once when the trainer's set-up is built; a trainer that must run in float32 overrides it
            and says why.
        plan: a :class:`~genlearn.train.budget.StepPlan` whose total may move during the run (re-planned to a time
            budget): the loop runs to it, the set-up's schedules decay over it, and it is checkpointed.

    Chapter 0.
    """

    callbacks: Sequence[Every] = ()
    checkpoint: str | Path | None = None
    checkpoint_every: int = 500
    run: Mapping[str, Any] | None = None
    time_budget: float | None = None
    desc: str | None = None
    progress: bool = True
    distributed: Distributed | None = None
    precision: Precision = Precision()
    plan: Any = None

    def __post_init__(self) -> None:
        if self.checkpoint_every < 1:
            raise ValueError(f"checkpoint_every must be >= 1, got {self.checkpoint_every}")
        if self.time_budget is not None and not self.time_budget > 0:
            raise ValueError(f"time_budget must be > 0 seconds (or None), got {self.time_budget}")

    def but(self, **changes: Any) -> "FitOptions":
        """A copy with ``changes``, e.g. ``options.but(progress=False)``."""
        return replace(self, **changes)


FIT_OPTIONS = tuple(f.name for f in fields(FitOptions))


def fit_options(fit: FitOptions | None, options: Mapping[str, Any], *, desc: str, where: str = "the trainer", **defaults: Any) -> FitOptions:
    """``fit`` (default: :class:`FitOptions` with the trainer's ``defaults``) with the keyword arguments a trainer of
    genlearn 0.2 took one by one (``callbacks=``, ``checkpoint=``, ``time_budget=``, ...) folded in, and ``desc``
    where none was given.

    Chapter 0.
    """
    unknown = sorted(set(options) - set(FIT_OPTIONS))
    if unknown:
        raise TypeError(f"{where} got unexpected keyword arguments {unknown}; its run options are {', '.join(FIT_OPTIONS)}")
    fit = (fit or FitOptions(**defaults)).but(**options)
    return fit if fit.desc is not None else fit.but(desc=desc)


def fit(
    step_fn: StepFn,
    batches: Any,
    *,
    steps: int,
    modules: Mapping[str, nn.Module],
    states: Mapping[str, Any] | None = None,
    options: FitOptions | None = None,
    postfix_every: int = 10,
    optimizers: Mapping[str, Any] | None = None,
    **legacy: Any,
) -> History:
    """Run ``step_fn(next(batches))`` until ``steps`` steps are done (or ``options.time_budget`` seconds pass).

    Args:
        step_fn: one training update; returns a dict of floats (losses, scores).
        batches: an iterator of batches; an :class:`InfiniteBatches` is checkpointed and resumed too.
        steps: total number of steps of the run (not the number still to do).
        modules: saved in checkpoints and restored on resume.
        states: more objects with ``state_dict`` / ``load_state_dict`` saved and restored with them: optimizers,
            learning-rate schedules, image pools (``optimizers=`` is the same, its first name; both are
            stored under the checkpoint's ``"optimizers"``).
        options: callbacks, checkpoint, budget, progress, distributed (:class:`FitOptions`); the same names
            may also be passed as keyword arguments, e.g. ``fit(step, batches, steps=40, modules=m, progress=False)``.
        postfix_every: refresh the bar's loss read-out every this many steps.

    Returns:
        The :class:`History` of the whole run (resumed runs include the earlier steps).

    Raises:
        NonFiniteLossError: a loss became NaN or infinite (the last good checkpoint is kept).
        Interrupted: SIGINT or SIGTERM arrived; the last completed step was saved first.

    Chapter 0.
    """
    opts = fit_options(options, legacy, desc="train", where="fit()")
    callbacks, checkpoint, checkpoint_every, run = opts.callbacks, opts.checkpoint, opts.checkpoint_every, opts.run
    time_budget, desc, progress, distributed = opts.time_budget, opts.desc, opts.progress, opts.distributed
    optimizers = {**(optimizers or {}), **(states or {})}
    plan = opts.plan

    def total() -> int:  # the run's steps: fixed, or a plan's current total
        return steps if plan is None else int(plan)
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
        if plan is not None and "plan" in payload["extra"]:
            plan.load_state_dict(payload["extra"]["plan"])

    main = distributed is None or distributed.is_main

    def save(step: int) -> None:
        if checkpoint is None or not main:
            return
        extra = {"history": history.state_dict()}
        if resumable:
            extra["batches"] = batches.state_dict()
        if plan is not None:
            extra["plan"] = plan.state_dict()
        save_checkpoint(checkpoint, modules=modules, optimizers=optimizers, step=step, run=run, extra=extra)

    for m in modules.values():
        m.train()
    bar = progress_bar(total(), start, desc, progress and main)
    began, step, mid_step = time.perf_counter(), start, False
    try:
        with deferred_signals() as signals:
            while step < total():
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
                if bar.total != total():  # re-planned
                    bar.total = total()
                bar.update(1)
                if step % postfix_every == 0 or step == total():
                    bar.set_postfix({k: f"{float(v):.3g}" for k, v in logs.items()}, refresh=False)
                for cb in callbacks:
                    if step % cb.n == 0 or step == total():
                        cb.fn(step, history)
                over_budget = time_budget is not None and time.perf_counter() - began > time_budget and step < total()
                stop = signals[:1]  # the signal to stop for, if any
                if distributed is not None and distributed.active:  # every rank stops after the same step
                    # Only the agreed answer counts: a signal that lands on one rank after its vote is left for the
                    # next step's vote, or that rank would stop alone and leave the others waiting in a collective.
                    stop_all, over_budget = agree(bool(stop), distributed), agree(over_budget, distributed)
                    stop = (stop or [signal.SIGTERM]) if stop_all else []
                if stop:
                    raise Interrupted(stop[0], step, Path(checkpoint) if checkpoint is not None else None)
                if checkpoint is not None and step % checkpoint_every == 0:
                    save(step)
                if over_budget:
                    if main:
                        bar.write(f"{desc}: time budget of {time_budget:g} s reached at step {step}/{total()}")
                    history.record("stop", step, "budget")
                    break
    except KeyboardInterrupt as e:
        bar.close()
        if mid_step:  # a KeyboardInterrupt raised inside a step (no signal handler here): do not save it
            print(f"interrupted during step {step + 1}; the last checkpoint is kept; run again to resume", flush=True)
            raise
        save(step)
        where = f"saved {checkpoint}; run again to resume" if checkpoint is not None else "nothing saved (no checkpoint)"
        name = signal.Signals(e.signum).name if isinstance(e, Interrupted) else "interrupted"
        if main:  # flushed now: a launcher (torchrun) may kill this process before its exit flushes stdout
            print(f"{name}: stopped after step {step}; {where}", flush=True)
        raise
    bar.close()
    if step >= total() and step > start:
        history.record("stop", step, "steps")
    save(step)
    return history
