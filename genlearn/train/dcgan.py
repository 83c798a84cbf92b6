"""Moved: chapter 2's digits recipe is :meth:`genlearn.train.gan.GANConfig.digits`; the profile's DCGAN
sizes are :func:`genlearn.recipes.presets.dcgan_config` (library code never reads the profile). These
names keep the imports of earlier editions of the book working, with a DeprecationWarning."""

import importlib
import warnings

from genlearn.train.gan import digits_train_config  # noqa: F401

_PRESETS = ("SMALL_DATA", "image_size", "model_config")


def __getattr__(name: str):
    if name in _PRESETS:  # imported on use: the profile presets live with the command line's recipes
        warnings.warn(f"genlearn.train.dcgan.{name} moved to genlearn.recipes.presets", DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module("genlearn.recipes.presets"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


warnings.warn("genlearn.train.dcgan moved: use GANConfig.digits() from genlearn.train.gan", DeprecationWarning, stacklevel=2)
