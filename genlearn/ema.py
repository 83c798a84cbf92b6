"""Moved to :mod:`genlearn.train.ema`; this name keeps the imports of earlier editions of the book working."""

import warnings

from genlearn.train.ema import *  # noqa: F401,F403
from genlearn.train.ema import __all__  # noqa: F401

warnings.warn("genlearn.ema moved to genlearn.train.ema; import it from there", DeprecationWarning, stacklevel=2)
