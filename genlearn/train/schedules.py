"""Learning-rate schedules; each is a ``torch.optim.lr_scheduler`` whose state goes into checkpoints."""

from __future__ import annotations

import torch


def linear_decay(optimizer: torch.optim.Optimizer, steps: int, fraction: float) -> torch.optim.lr_scheduler.LambdaLR:
    """Keep the learning rate for the first ``1 - fraction`` of ``steps``, then fall linearly to 0 at ``steps``.

    Call ``.step()`` once per training step. Its ``last_epoch`` counts the steps done and its
    state dict goes into checkpoints with the optimizers', so a resumed run continues the schedule.

    Chapter 2.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    start = steps * (1.0 - fraction)  # first step of the decay

    def factor(step: int) -> float:
        return 1.0 if step < start or fraction == 0 else max(0.0, (steps - step) / (steps - start))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


__all__ = ["linear_decay"]
