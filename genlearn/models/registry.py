"""Which network each command-line model samples from, and how to rebuild it from a checkpoint's config.

Plain data (module paths imported on use), so importing genlearn registers nothing. A chapter that
adds a model to the command line adds its line here; :func:`genlearn.load` reads it.
"""

from __future__ import annotations

import importlib
from typing import Any, Mapping, NamedTuple

from torch import nn


class Buildable(NamedTuple):
    """How to rebuild one model: ``cls(config_cls.from_dict(model_config))``, weights from ``weights[0]``
    if the checkpoint holds it (an EMA copy), else ``weights[1]``, ...

    Chapter 2.
    """

    module: str
    cls: str
    config_cls: str | None  # None: the class takes the model_config's items as keyword arguments
    weights: tuple[str, ...]
    kind: str = "generative"  # "generative": sample(n, ...); "translation": translate(x, direction); "stylize": stylize(x[, style]); "classifier"
    into: str | None = None  # the weights belong to this submodule (the rest is fixed and rebuilt, such as AdaIN's encoder)


BUILDABLE: dict[str, Buildable] = {
    "gan": Buildable("genlearn.models.mlp", "MLPGenerator", "MLPConfig", ("G_ema", "G")),
    "dcgan": Buildable("genlearn.models.dcgan", "DCGANGenerator", "DCGANConfig", ("G_ema", "G")),
    "wgan": Buildable("genlearn.models.dcgan", "DCGANGenerator", "DCGANConfig", ("G_ema", "G")),
    "wgan-gp": Buildable("genlearn.models.dcgan", "DCGANGenerator", "DCGANConfig", ("G_ema", "G")),
    "cgan": Buildable("genlearn.models.conditional", "ConditionalGenerator", "ConditionalConfig", ("G_ema", "G")),
    "vae": Buildable("genlearn.models.vae", "VAE", "VAEConfig", ("vae",)),
    "cvae": Buildable("genlearn.models.vae", "VAE", "VAEConfig", ("vae",)),
    "gaussian": Buildable("genlearn.models.gaussian", "PixelGaussian", None, ("gaussian",)),
    "classifier": Buildable("genlearn.models.classifier", "DigitsClassifier", "ClassifierConfig", ("classifier",), "classifier"),
    "cyclegan": Buildable("genlearn.models.cyclegan", "CycleGAN", "CycleGANConfig", ("G",), "translation"),
    "pix2pix": Buildable("genlearn.models.pix2pix", "Pix2Pix", "Pix2PixConfig", ("G",), "translation"),
    "fast-style": Buildable("genlearn.models.transform_net", "TransformNet", "TransformNetConfig", ("net",), "stylize"),
    "stylegan": Buildable("genlearn.models.stylegan", "StyleGANGenerator", "StyleGANConfig", ("G_ema", "G")),
    "ddpm": Buildable("genlearn.models.ddpm", "DDPM", "DDPMConfig", ("ddpm_ema", "ddpm")),
    "adain": Buildable("genlearn.models.adain", "build_adain", "AdaINConfig", ("decoder",), "stylize", into="decoder"),
}


def build(model: str, model_config: Mapping[str, Any], **options: Any) -> nn.Module:
    """A freshly initialized network of ``model`` with ``model_config`` (raises KeyError, TypeError or ValueError);
    ``options`` go to the builder with the config (AdaIN's ``weights=``, its encoder's weights file).

    Chapter 2.
    """
    entry = BUILDABLE[model]
    module = importlib.import_module(entry.module)
    cls = getattr(module, entry.cls)
    if entry.config_cls is None:
        return cls(**dict(model_config), **options)
    return cls(getattr(module, entry.config_cls).from_dict(dict(model_config)), **options)


__all__ = ["BUILDABLE", "Buildable", "build"]
