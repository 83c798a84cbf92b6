"""Training on several processes with PyTorch's own DistributedDataParallel (DDP): one process per GPU (or per CPU
worker with the gloo backend), each holding a replica; gradients are averaged across them in every backward.

The code path is the single-process one. A :class:`Distributed` says which process this is; trainers take it as an
argument (library code never reads the environment), and the command line builds it from what ``torchrun`` sets::

    torchrun --standalone --nproc_per_node 2 -m genlearn train gan --steps 2000 --out runs/gan-ddp

What changes with ``world_size`` > 1:

* the batch size stays the **global** batch: each process takes every ``world_size``-th image of each batch
  (:class:`genlearn.train.batches.InfiniteBatches` with ``shard=``), and the latents are drawn the same way, so k steps
  on N processes equal k steps of one process with the same global batch, up to floating-point order;
* each model trains as a :class:`Replica`, one ``DistributedDataParallel`` wrapper through which every call of the
  model or of its parts (``G.G_AB``, ``G.synthesis``) goes; checkpoints hold the unwrapped weights
  (:func:`genlearn.train.checkpoint.unwrap`);
* rank 0 alone writes checkpoints, logs and the progress bar; every rank reads the checkpoint to resume;
* stopping (a time budget, Ctrl-C, SIGTERM) is agreed on by all ranks after each step, so none waits forever.

Batch norm normalizes over each process's part of the batch, so models with batch norm (the DCGAN, pix2pix) differ a
little from one process; ``torch.nn.SyncBatchNorm`` would fix that on CUDA.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Any, Mapping

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class Distributed:
    """Which of ``world_size`` processes this is (``rank``), and its GPU index on this node (``local_rank``).

    Chapter 0 (the page "Beyond one GPU").
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    def __post_init__(self) -> None:
        if not (self.world_size >= 1 and 0 <= self.rank < self.world_size):
            raise ValueError(f"rank must be in [0, world_size), got rank {self.rank} of {self.world_size}")

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that writes files and shows progress."""
        return self.rank == 0

    @property
    def active(self) -> bool:
        """More than one process: DDP, sharded batches and collective stops are on."""
        return self.world_size > 1


def from_environment(environ: Mapping[str, str] | None = None) -> Distributed:
    """The process's place as ``torchrun`` describes it (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``); one process without them.

    Chapter 0 (the page "Beyond one GPU").
    """
    env = os.environ if environ is None else environ
    return Distributed(int(env.get("RANK", 0)), int(env.get("WORLD_SIZE", 1)), int(env.get("LOCAL_RANK", 0)))


def init_process_group(info: Distributed, device: torch.device) -> None:
    """Join the process group (NCCL on CUDA, gloo otherwise) once; a no-op for one process.

    Chapter 0 (the page "Beyond one GPU").
    """
    if info.active and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", rank=info.rank, world_size=info.world_size)


class _Dispatch(nn.Module):
    """What DDP wraps: a forward that calls the model, or one of its parts by its dotted name (``"G_AB"``,
    ``"synthesis"``, ``"encoder.extract"``)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, path: str, *args: Any, **kwargs: Any) -> Any:
        target: Any = self.model
        for name in path.split(".") if path else ():
            target = getattr(target, name)
        return target(*args, **kwargs)


class Replica:
    """A model inside ``DistributedDataParallel`` that is called like the model itself, parts included.

    DDP averages the gradients of a backward pass only when a call of its own ``forward`` came before it. Some
    trainers call a model's parts rather than its forward: CycleGAN's ``G.G_AB(a)``, StyleGAN's
    ``G.synthesis(ws)``, AdaIN's ``model.encoder.extract(y, layers)``. A replica sends each such call through the
    one DDP wrapper (``ddp("G_AB", a)``), so every update's backward is averaged, and the step functions stay
    those of one process. Calls of ``nn.Module``'s own methods (``parameters``, ``train``, ``state_dict``,
    ``requires_grad_``) and other attributes (``config``) reach the model directly.

    Chapter 0 (the page "Beyond one GPU").
    """

    _genlearn_wrapper = True  # genlearn.checkpoint.unwrap takes .module out of it without importing this module

    def __init__(self, module: nn.Module, ddp: nn.parallel.DistributedDataParallel, path: str = ""):
        self.module, self.ddp, self.path = module, ddp, path  # module: the model (or the part at ``path``)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.ddp(self.path, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.module, name)
        path = f"{self.path}.{name}" if self.path else name
        if isinstance(attr, nn.Module):  # a part: its calls go through the wrapper too
            return Replica(attr, self.ddp, path)
        if callable(attr) and not hasattr(nn.Module, name):  # the model's own method (synthesis, extract, ...)
            return functools.partial(self.ddp, path)
        return attr

    def __repr__(self) -> str:
        return f"Replica({self.path or type(self.module).__name__})"


def wrap(module: nn.Module, info: Distributed | None) -> nn.Module | Replica:
    """``module`` as a :class:`Replica` in ``DistributedDataParallel`` when several processes train, else itself.

    A GAN's trainer calls each player's replica only in the update that runs backward through it (D's update for
    D, G's for G) and the bare model elsewhere, so every call through DDP is followed by its backward, and every
    parameter that needs a gradient gets one in it.

    Chapter 0 (the page "Beyond one GPU").
    """
    if info is None or not info.active:
        return module
    device = next(module.parameters()).device
    ddp = nn.parallel.DistributedDataParallel(_Dispatch(module), device_ids=[device.index] if device.type == "cuda" else None)
    return Replica(module, ddp)


def shard(info: Distributed | None) -> tuple[int, int] | None:
    """``(rank, world_size)`` when several processes train (what :class:`~genlearn.train.batches.InfiniteBatches` takes
    as ``shard=``), else None.

    Chapter 0 (the page "Beyond one GPU").
    """
    return (info.rank, info.world_size) if info is not None and info.active else None


def _collective_device() -> torch.device:
    """Where a collective's tensors live: this process's GPU for NCCL, the CPU for gloo."""
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


def agree(flag: bool, info: Distributed | None) -> bool:
    """True on every rank if ``flag`` is true on any (a stop that all processes take at the same step).

    Chapter 0 (the page "Beyond one GPU").
    """
    if info is None or not info.active:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=_collective_device())
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def broadcast_int(value: int, info: Distributed | None) -> int:
    """Rank 0's ``value`` on every rank (e.g. the number of steps planned from its timing).

    Chapter 0 (the page "Beyond one GPU").
    """
    if info is None or not info.active:
        return value
    t = torch.tensor([value], dtype=torch.long, device=_collective_device())
    dist.broadcast(t, src=0)
    return int(t.item())


__all__ = ["Distributed", "Replica", "agree", "broadcast_int", "from_environment", "init_process_group", "shard", "wrap"]
