"""Training: the thin loop (:func:`fit`), resumable batches and checkpoints."""

from genlearn.train.checkpoint import load_checkpoint, restore, save_checkpoint, unwrap
from genlearn.train.loop import Every, History, InfiniteBatches, NonFiniteLossError, fit

__all__ = [
    "Every",
    "History",
    "InfiniteBatches",
    "NonFiniteLossError",
    "fit",
    "load_checkpoint",
    "restore",
    "save_checkpoint",
    "unwrap",
]
