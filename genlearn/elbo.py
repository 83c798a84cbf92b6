"""Moved to :mod:`genlearn.losses.elbo`; this name keeps the imports of earlier editions of the book working."""

import warnings

from genlearn.losses.elbo import *  # noqa: F401,F403
from genlearn.losses.elbo import __all__  # noqa: F401

warnings.warn("genlearn.elbo moved to genlearn.losses.elbo; import it from there", DeprecationWarning, stacklevel=2)
