"""Mixed precision and channels-last, decided once when a training set-up is built.

A :class:`Precision` says whether a run uses autocast (bfloat16 where the GPU has it, else float16 with a
``GradScaler``) and channels-last tensors. Both only ever take effect on CUDA; on CPU and MPS they are no-ops, so one
code path serves every device. The set-up (:class:`genlearn.train.setup.Setup`) resolves its precision for its device
when it is built and makes it the *active* one while its steps run; the step functions' ``with autocast(device):``
reads the active precision, never the environment. A trainer that must stay in float32 says so, with its reason::

    Precision.float32("the style loss reaches 1e9, beyond float16's range")

Penalties that need second derivatives (R1, the gradient penalty, the path length penalty) run outside autocast,
in float32, whatever the precision says.
"""

from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass, replace
from typing import Iterator

import torch


@dataclass(frozen=True)
class Precision:
    """Autocast (``amp``) and channels-last (``channels_last``) on CUDA; ``reason`` says why a trainer turned them off.

    Chapter 0.
    """

    amp: bool = True
    channels_last: bool = True
    reason: str = ""

    @classmethod
    def float32(cls, reason: str) -> "Precision":
        """Float32 and contiguous tensors everywhere, for the ``reason`` given (shown in the trainer's docs and tests)."""
        if not reason:
            raise ValueError("say why a trainer must run in float32 (e.g. 'the loss reaches 1e9, beyond float16')")
        return cls(amp=False, channels_last=False, reason=reason)

    def on(self, device: torch.device | str) -> "Precision":
        """This precision as it acts on ``device``: both switches off anywhere but CUDA."""
        if torch.device(device).type == "cuda":
            return self
        return replace(self, amp=False, channels_last=False)

    @property
    def dtype(self) -> torch.dtype:
        """The autocast dtype: bfloat16 where the GPU supports it, else float16 (float32 when ``amp`` is off)."""
        if not self.amp:
            return torch.float32
        return torch.bfloat16 if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else torch.float16


_ACTIVE: contextvars.ContextVar[Precision] = contextvars.ContextVar("genlearn_precision", default=Precision())


def active_precision() -> Precision:
    """The precision in force: the running set-up's, else the default (AMP and channels-last on CUDA).

    Chapter 0.
    """
    return _ACTIVE.get()


@contextlib.contextmanager
def using(precision: Precision) -> Iterator[Precision]:
    """Make ``precision`` the active one inside the block (what a set-up does around its steps).

    Chapter 0.
    """
    token = _ACTIVE.set(precision)
    try:
        yield precision
    finally:
        _ACTIVE.reset(token)


def autocast(device: torch.device | str, enabled: bool | None = None) -> contextlib.AbstractContextManager:
    """Mixed precision where it pays: bfloat16/float16 autocast on CUDA when the active precision has ``amp`` on, a
    no-op elsewhere.

    Keep penalties that need second derivatives (the WGAN-GP gradient penalty) outside this
    context, in float32.

    Chapter 5.
    """
    device = torch.device(device)
    if enabled is None:
        enabled = active_precision().amp
    if not enabled or device.type != "cuda":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.autocast(device_type="cuda", dtype=dtype)


def grad_scaler(device: torch.device | str, precision: Precision | None = None) -> torch.amp.GradScaler:
    """A GradScaler that is active only for float16 autocast on CUDA (bfloat16 needs none).

    Chapter 0.
    """
    device = torch.device(device)
    precision = (precision or active_precision()).on(device)
    enabled = precision.amp and not torch.cuda.is_bf16_supported()
    return torch.amp.GradScaler(device.type if device.type == "cuda" else "cpu", enabled=enabled)


def backward_and_step(loss: torch.Tensor, optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler | None = None,
                      max_grad_norm: float | None = None) -> torch.Tensor | None:
    """``zero_grad``, ``backward`` and ``step`` for one optimizer; through ``scaler`` when one is given
    (float16 autocast on CUDA scales the loss so small gradients do not underflow).

    With ``max_grad_norm``, the gradients of the optimizer's parameters are clipped to that global norm before the step
    (unscaled first under a scaler), and the norm before clipping is returned as a 0-d tensor (read it with ``.item()``
    after the update, so that the GPU is not waited for in between); otherwise None.

    Chapters 0 and 13.
    """
    optimizer.zero_grad(set_to_none=True)
    norm = None
    if scaler is None:
        loss.backward()
        if max_grad_norm is not None:
            norm = _clip(optimizer, max_grad_norm)
        optimizer.step()
    else:
        scaler.scale(loss).backward()
        if max_grad_norm is not None:
            scaler.unscale_(optimizer)
            norm = _clip(optimizer, max_grad_norm)
        scaler.step(optimizer)
        scaler.update()
    return norm


def _clip(optimizer: torch.optim.Optimizer, max_norm: float) -> torch.Tensor:
    params = [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
    return torch.nn.utils.clip_grad_norm_(params, max_norm)


def to_channels_last(module: torch.nn.Module, device: torch.device | str, precision: Precision | None = None) -> torch.nn.Module:
    """Channels-last memory format on CUDA (faster convolutions with tensor cores) when the precision (default: the
    active one) has it on; unchanged elsewhere.

    Chapter 0.
    """
    if (precision or active_precision()).on(device).channels_last:
        return module.to(memory_format=torch.channels_last)
    return module


__all__ = ["Precision", "active_precision", "autocast", "backward_and_step", "grad_scaler", "to_channels_last", "using"]
