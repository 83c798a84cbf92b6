"""Moved to :mod:`genlearn.train.toy_gan`; this name keeps the imports of earlier editions of the book working."""

import warnings

from genlearn.train.toy_gan import *  # noqa: F401,F403
from genlearn.train.toy_gan import __all__  # noqa: F401

warnings.warn("genlearn.toy moved to genlearn.train.toy_gan; import it from there", DeprecationWarning, stacklevel=2)
