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

    def train(self, mode: bool = True) -> "EMA":
        return self  # the average is always in eval mode

    def forward(self, *args, **kwargs):
        return self.model(*args, **kwargs)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the average toward ``model``'s current weights (call after each G step)."""
        self.updates += 1
        t = int(self.updates)
        beta = min(self.decay, (1 + t) / (10 + t)) if self.warmup else self.decay
        for p_ema, p in zip(self.model.parameters(), model.parameters()):
            p_ema.lerp_(p.detach(), 1.0 - beta)  # beta * p_ema + (1 - beta) * p
        for b_ema, b in zip(self.model.buffers(), model.buffers()):
            b_ema.copy_(b)


__all__ = ["EMA"]
