"""Training to a time budget: plan the steps from a timed trial, then re-plan from the pace the run itself keeps.

Planning a step count, instead of only stopping at the budget, lets the learning-rate decays finish on a slow
machine too. But one trial is one sample of a shared machine's speed: a trial on a busy machine plans far too few
steps, and the run then ends long before its budget. So the plan is a :class:`StepPlan`, which the loop and the
schedules read at every step, and :class:`Replan` moves it to what the measured pace fits in the time that is left
(the schedules follow, so the decay still ends at the run's last step).
"""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping

from genlearn.train.distributed import Distributed, broadcast_int
from genlearn.train.loop import Every, FitOptions, History


class StepPlan:
    """The run's total step count, which may move while it runs; checkpointed, so a resumed run keeps its plan.

    ``int(plan)`` is the current total. Pass it as ``FitOptions(plan=...)``: :func:`genlearn.train.fit` runs until it
    and the set-up's schedules decay over it.

    Chapter 0.
    """

    def __init__(self, total: int):
        if total < 0:
            raise ValueError(f"a plan needs total >= 0 steps, got {total}")
        self.total = int(total)

    def __int__(self) -> int:
        return self.total

    def __index__(self) -> int:
        return self.total

    def __repr__(self) -> str:
        return f"StepPlan({self.total})"

    def state_dict(self) -> dict[str, int]:
        return {"total": self.total}

    def load_state_dict(self, state: Mapping[str, int]) -> None:
        self.total = int(state["total"])


class Replan(Every):
    """A callback that, every ``n`` steps, moves ``plan`` to the steps that fit ``budget_s`` at the pace measured since
    :meth:`start` (never past ``max_steps``, never before the step reached, and only when the change is over
    ``tolerance``); each change is recorded in the history as a ``"replan"`` event.

    Chapter 0.
    """

    def __init__(self, plan: StepPlan, budget_s: float, max_steps: int, n: int = 20, tolerance: float = 0.05, margin: float = 0.95,
                 distributed: Distributed | None = None):  # fmt: skip
        self.plan, self.budget_s, self.max_steps, self.distributed = plan, budget_s, max_steps, distributed
        self.tolerance, self.margin = tolerance, margin
        self.began: float | None = None
        self.first_step = 0
        super().__init__(n, self.replan)

    def start(self, step: int) -> None:
        """Start the clock at ``step`` (the run's first step, or the step it resumes from)."""
        self.began, self.first_step = time.perf_counter(), step

    def replan(self, step: int, history: History) -> None:
        if self.began is None:
            self.start(step)
            return
        done = step - self.first_step
        if done <= 0:
            return
        elapsed = time.perf_counter() - self.began
        per_step = elapsed / done
        left = self.margin * self.budget_s - elapsed
        target = max(step + 1, min(self.max_steps, step + int(left / per_step)))
        target = broadcast_int(target, self.distributed)  # rank 0's plan for all: every rank stops after the same step
        if abs(target - self.plan.total) > self.tolerance * self.plan.total:
            history.record("replan", step, target)
            self.plan.total = target


def plan_steps(trainer: Callable[..., Any], max_steps: int, budget_s: float, trial: int = 40, warmup: int = 10) -> tuple[int, float]:
    """The steps that fit ``budget_s`` on this machine, from a throwaway run of ``trial`` steps (the
    first ``warmup`` not timed), at most ``max_steps``; returns ``(steps, seconds per step)``.

    ``trainer(steps, fit=FitOptions(...))`` trains fresh models. Pair the plan with :class:`Replan` where the
    machine may be busy during the trial.

    Chapter 11.
    """
    trial = min(trial, max_steps)
    if trial <= warmup + 1:
        return max_steps, 0.0
    marks: list[float] = []
    trainer(trial, fit=FitOptions(progress=False, callbacks=[Every(1, lambda step, history: marks.append(time.perf_counter()))]))
    per_step = (marks[-1] - marks[warmup - 1]) / (trial - warmup)
    return max(1, min(max_steps, int(0.9 * budget_s / per_step))), per_step  # 10% left for start-up and saving


__all__ = ["Replan", "StepPlan", "plan_steps"]
