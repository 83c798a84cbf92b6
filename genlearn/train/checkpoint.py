"""The checkpoint schema, under the name the trainers and the chapters import it by.

The schema lives in :mod:`genlearn.checkpoint`, below ``genlearn.train``, so that :func:`genlearn.load` reads a run
without importing training code; this module re-exports the same objects (``genlearn.train.checkpoint.save_checkpoint
is genlearn.checkpoint.save_checkpoint``), and stays: it is not deprecated.
"""

from genlearn.checkpoint import (
    FORMAT,
    RUN_KEYS,
    CheckpointError,
    checkpoint_path,
    ema_weights,
    load_checkpoint,
    load_run,
    restore,
    rng_state,
    run_info,
    save_checkpoint,
    set_rng_state,
    unwrap,
)

__all__ = [
    "FORMAT", "RUN_KEYS", "CheckpointError", "checkpoint_path", "ema_weights", "load_checkpoint", "load_run", "restore",
    "run_info", "save_checkpoint", "unwrap",
]
