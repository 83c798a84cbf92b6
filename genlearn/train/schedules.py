"""Learning-rate schedules; each is a ``torch.optim.lr_scheduler`` whose state goes into checkpoints."""

from __future__ import annotations

from typing import SupportsInt

import torch


def linear_decay(optimizer: torch.optim.Optimizer, steps: int | SupportsInt, fraction: float) -> torch.optim.lr_scheduler.LambdaLR:
    """Keep the learning rate for the first ``1 - fraction`` of ``steps``, then fall linearly to 0 at ``steps``.

    ``steps`` may be a :class:`~genlearn.train.budget.StepPlan`, read at every step. Call ``.step()`` once per training step. Its ``last_epoch`` counts the steps done and its
    state dict goes into checkpoints with the optimizers', so a resumed run continues the schedule.

    Chapter 2.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")

    def factor(step: int) -> float:
        total = int(steps)  # read at every step: a re-planned run (a StepPlan) decays over its current plan
        start = total * (1.0 - fraction)  # first step of the decay
        return 1.0 if step < start or fraction == 0 else max(0.0, (total - step) / (total - start))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def linear_warmup(optimizer: torch.optim.Optimizer, steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Raise the learning rate linearly from lr/steps to lr over the first ``steps`` steps, then keep it (Ho et al.
    2020, Appendix B: a warmup of 5,000 steps). Call ``.step()`` once per training step; its state is checkpointed.

    Chapter 13.
    """
    if steps < 0:
        raise ValueError(f"warmup steps must be >= 0, got {steps}")
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / steps) if steps else 1.0)


__all__ = ["linear_decay", "linear_warmup"]
