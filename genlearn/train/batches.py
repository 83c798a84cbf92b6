"""Resumable, shardable batch streams: what every trainer's set-up draws its batches from.

* :class:`InfiniteBatches` -- endless shuffled mini-batches over in-memory tensors (images, and labels or targets);
* :class:`UnpairedBatches` -- ``(a, b)`` from two domains of any sizes, each its own stream (CycleGAN);
* :class:`StyledBatches` -- content batches zipped with independently shuffled style batches (AdaIN).

Each has ``state_dict`` / ``load_state_dict``, so :func:`genlearn.train.fit` checkpoints its position and a
resumed run draws exactly the batches an unbroken one would; ``shard=(rank, world_size)`` gives one process of a
distributed run its share of every global batch.
"""

from __future__ import annotations

from typing import Any, Mapping

import torch


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


class UnpairedBatches:
    """``(a, b)`` batches from two domains of any sizes, each its own resumable shuffled stream
    (``shard=(rank, world_size)``: this process's share of each, as in :class:`InfiniteBatches`).

    Chapter 7.
    """

    def __init__(self, x_a: torch.Tensor, x_b: torch.Tensor, *, batch_size: int, seed: int = 0, device: torch.device | str = "cpu",
                 shard: tuple[int, int] | None = None):  # fmt: skip
        self.a = InfiniteBatches(x_a, batch_size=min(batch_size, len(x_a)), seed=seed, device=device, shard=shard)
        self.b = InfiniteBatches(x_b, batch_size=min(batch_size, len(x_b)), seed=seed + 1, device=device, shard=shard)

    def __iter__(self) -> "UnpairedBatches":
        return self

    def __next__(self) -> tuple[torch.Tensor, torch.Tensor]:
        return next(self.a), next(self.b)

    def state_dict(self) -> dict:
        return {"a": self.a.state_dict(), "b": self.b.state_dict()}

    def load_state_dict(self, state: Mapping) -> None:
        self.a.load_state_dict(state["a"]), self.b.load_state_dict(state["b"])


class StyledBatches:
    """``(content, style)`` batches: content batches zipped with independently shuffled style batches, the styles
    repeated to the content batch's size; resumable.

    Chapter 0.
    """

    def __init__(self, contents: InfiniteBatches, styles: InfiniteBatches, batch_size: int):
        self.contents, self.styles, self.batch_size = contents, styles, batch_size

    def __iter__(self) -> "StyledBatches":
        return self

    def __next__(self) -> tuple[torch.Tensor, torch.Tensor]:
        c, s = next(self.contents), next(self.styles)
        reps = -(-self.batch_size // len(s))
        return c, s.repeat(reps, 1, 1, 1)[: len(c)]

    def state_dict(self) -> dict:
        return {"contents": self.contents.state_dict(), "styles": self.styles.state_dict()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.contents.load_state_dict(state["contents"])
        self.styles.load_state_dict(state["styles"])


__all__ = ["InfiniteBatches", "StyledBatches", "UnevenBatchError", "UnpairedBatches"]
