"""An exponential moving average of a generator's weights (Yazıcı et al. 2019).

GAN training oscillates around an equilibrium instead of settling; averaging G's weights over
the recent past lands closer to it. The exponential moving average of Yazıcı et al. 2019:

    theta_EMA(t) = beta * theta_EMA(t-1) + (1 - beta) * theta(t)

Only G is averaged and only the averaged copy is used for sampling; training never reads it.
Buffers (batch-norm running statistics) are copied, not averaged.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA(nn.Module):
    """Keep ``self.model``, an averaged copy of ``model``, in eval mode and without gradients.

    An ``nn.Module`` itself, so its ``state_dict`` (the average and the update count) goes into
    checkpoints and a resumed run continues the same average.

    Args:
        model: the network being trained (G).
        decay: ``beta``; 0.999 averages over roughly the last 1,000 steps.
        warmup: use ``min(decay, (1 + t) / (10 + t))`` at update ``t``, so the early average is not
            dominated by the random initialization (a common variant; ``False`` is the paper's rule).

    Chapters 2, 3, 4, 5 and 11.
    """

    def __init__(self, model: nn.Module, decay: float = 0.999, warmup: bool = True):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
        super().__init__()
        self.decay, self.warmup = decay, warmup
        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        self.register_buffer("updates", torch.zeros((), dtype=torch.long))
        self._updates_on_host: int | None = 0

    def train(self, mode: bool = True) -> "EMA":
        return self  # the average is always in eval mode

    def forward(self, *args, **kwargs):
        return self.model(*args, **kwargs)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the average toward ``model``'s current weights (call after each G step).

        Nothing here waits for the GPU: the step count is kept on the host too (reading the ``updates`` buffer back
        would stall the CPU until every queued kernel ran), and the parameters move in one ``_foreach_lerp_``
        (a handful of kernel launches, not two per parameter)."""
        t = self._count() + 1
        self._updates_on_host = t
        self.updates.fill_(t)  # the checkpointed count, written without a read
        beta = min(self.decay, (1 + t) / (10 + t)) if self.warmup else self.decay
        averaged, current = list(self.model.parameters()), [p.detach() for p in model.parameters()]
        if len(averaged) != len(current):
            raise ValueError(f"the EMA averages a network of {len(averaged)} parameters; this one has {len(current)}")
        torch._foreach_lerp_(averaged, current, 1.0 - beta)  # beta * p_ema + (1 - beta) * p, for every parameter
        for b_ema, b in zip(self.model.buffers(), model.buffers()):
            b_ema.copy_(b)

    def _count(self) -> int:
        """The number of updates so far, read from the buffer once (after a load) and then kept on the host."""
        if self._updates_on_host is None:
            self._updates_on_host = int(self.updates)
        return self._updates_on_host

    def _load_from_state_dict(self, *args, **kwargs) -> None:
        super()._load_from_state_dict(*args, **kwargs)
        self._updates_on_host = None  # a checkpoint's count: read it again at the next update


__all__ = ["EMA"]
