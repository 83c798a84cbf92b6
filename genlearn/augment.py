"""Moved to :mod:`genlearn.train.augment`; this name keeps the imports of earlier editions of the book working."""

import warnings

from genlearn.train.augment import *  # noqa: F401,F403
from genlearn.train.augment import __all__  # noqa: F401

warnings.warn("genlearn.augment moved to genlearn.train.augment; import it from there", DeprecationWarning, stacklevel=2)
