"""Training: the thin loop (:func:`fit`), resumable batches and checkpoints."""

from genlearn.train.checkpoint import load_checkpoint, restore, save_checkpoint, unwrap
from genlearn.train.loop import Every, History, InfiniteBatches, NonFiniteLossError, fit, linear_decay

__all__ = [
    "Every",
    "History",
    "InfiniteBatches",
    "NonFiniteLossError",
    "fit",
    "linear_decay",
    "load_checkpoint",
    "restore",
    "save_checkpoint",
    "unwrap",
]
