"""Training: the thin loop (:func:`fit`), the one set-up every trainer builds on, step functions per family, checkpoints.

* :mod:`~genlearn.train.loop` -- :func:`fit`, :class:`FitOptions`, history; :mod:`~genlearn.train.batches` -- the
  resumable batch streams; :mod:`~genlearn.train.checkpoint` -- the one schema
  (:mod:`genlearn.checkpoint`, re-exported).
* :mod:`~genlearn.train.setup` -- named players, optimizers, schedules, EMA, precision, DDP views for every trainer;
  :mod:`~genlearn.train.adversarial` -- its two-player form (G and D) with DiffAugment;
  :mod:`~genlearn.train.precision` -- mixed precision and channels-last, decided once;
  :mod:`~genlearn.train.budget` -- steps planned (and re-planned) to a time budget.
* step functions and trainers, one file per family: :mod:`~genlearn.train.gan`, :mod:`~genlearn.train.wgan`,
  :mod:`~genlearn.train.vae`, :mod:`~genlearn.train.cyclegan`, :mod:`~genlearn.train.pix2pix`,
  :mod:`~genlearn.train.stylegan`, :mod:`~genlearn.train.fast_style`, :mod:`~genlearn.train.adain`,
  :mod:`~genlearn.train.gatys`, :mod:`~genlearn.train.toy_gan`, :mod:`~genlearn.train.classifier`, :mod:`~genlearn.train.ddpm`.
"""

from genlearn.checkpoint import CheckpointError, load_checkpoint, restore, save_checkpoint, unwrap
from genlearn.train.batches import InfiniteBatches
from genlearn.train.budget import plan_steps
from genlearn.train.loop import Every, FitOptions, History, Interrupted, NonFiniteLossError, Trained, fit
from genlearn.train.precision import Precision
from genlearn.train.schedules import linear_decay

__all__ = [
    "plan_steps",
    "CheckpointError",
    "Every",
    "FitOptions",
    "History",
    "InfiniteBatches",
    "Interrupted",
    "NonFiniteLossError",
    "Precision",
    "Trained",
    "fit",
    "linear_decay",
    "load_checkpoint",
    "restore",
    "save_checkpoint",
    "unwrap",
]
