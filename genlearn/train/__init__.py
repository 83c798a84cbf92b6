"""Training: the thin loop (:func:`fit`), the shared adversarial setup, step functions per family, checkpoints.

* :mod:`~genlearn.train.loop` -- :func:`fit`, batches, history; :mod:`~genlearn.train.checkpoint` -- the one schema
  (:mod:`genlearn.checkpoint`, re-exported).
* :mod:`~genlearn.train.adversarial` -- optimizers, schedules, EMA, scaler, augmentation for every GAN family.
* :mod:`~genlearn.train.gan`, :mod:`~genlearn.train.wgan`, :mod:`~genlearn.train.vae`,
  :mod:`~genlearn.train.toy_gan`, :mod:`~genlearn.train.classifier` -- step functions and trainers.
"""

from genlearn.checkpoint import CheckpointError, load_checkpoint, restore, save_checkpoint, unwrap
from genlearn.train.loop import Every, History, InfiniteBatches, Interrupted, NonFiniteLossError, Trained, fit, plan_steps
from genlearn.train.schedules import linear_decay

__all__ = [
    "plan_steps",
    "CheckpointError",
    "Every",
    "History",
    "InfiniteBatches",
    "Interrupted",
    "NonFiniteLossError",
    "Trained",
    "fit",
    "linear_decay",
    "load_checkpoint",
    "restore",
    "save_checkpoint",
    "unwrap",
]
