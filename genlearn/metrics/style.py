"""How much style and how much content an image carries, per image: chapters 9 and 10 score every method with these.

* :func:`style_distance` -- Gatys's style loss (Eqs. 4-5, equal layer weights) of each image against one
  style image, under any feature network, so optimization, feed-forward and AdaIN results are scored alike
  (and by a network other than the one that made them).
* :func:`content_distance` -- Gatys's content loss (Eq. 1) of each image against its content image.
* :func:`colour_distance` -- the Fréchet distance between Gaussian fits of the pixels' RGB values, a score of
  colour that involves no network at all.
* :func:`chroma_histogram_distance` -- the share of pixels whose colour (hue and chroma, the a*b* plane of CIE Lab,
  lightness left out) falls in other bins of a 2-D histogram: a check on colour that does not use the RGB mean and
  covariance that :func:`~genlearn.data.colour.match_colour` equalizes.
* :func:`random_style_distance` -- :func:`style_distance` under fixed random multi-scale features
  (:class:`~genlearn.models.random_features.RandomMultiScaleFeatures`): a judge of style that none of the
  chapters' methods optimizes or trains on, for comparing methods fairly.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from skimage.color import rgb2lab

from genlearn.checks import check_images
from genlearn.data.colour import pixel_stats
from genlearn.losses.style import content_loss, gram_matrix, style_loss
from genlearn.metrics.frechet import frechet_distance_from_stats
from genlearn.models.random_features import RandomMultiScaleFeatures


@torch.no_grad()
def style_distance(
    images: torch.Tensor,
    style: torch.Tensor,
    network: torch.nn.Module,
    layers: tuple[str, ...] | None = None,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """Style loss of each of ``images`` (N, 3, H, W) against ``style`` (1, 3, H', W') over ``layers``
    (default: the network's style layers, equal weights summing to 1): (N,).

    Chapters 9 and 10.
    """
    check_images(images, name="the images to score", channels=3)
    check_images(style, name="the style image", channels=3)
    layers = tuple(layers or network.style_layers)
    t = transform or (lambda f: f)
    grams = {name: gram_matrix(t(f)) for name, f in network.extract(style, layers).items()}
    weights = {name: 1.0 / len(layers) for name in layers}
    out = []
    for x in images:
        f = network.extract(x[None], layers)
        out.append(style_loss({name: t(v) for name, v in f.items()}, grams, weights))
    return torch.stack(out)


@torch.no_grad()
def content_distance(
    images: torch.Tensor,
    content: torch.Tensor,
    network: torch.nn.Module,
    layer: str | None = None,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """Content loss of each of ``images`` (N, 3, H, W) against the content images (1 or N, 3, H, W) at ``layer``: (N,).

    ``transform`` (e.g. :func:`~genlearn.models.features.softmax_smoothing`) is applied to both sides' features first,
    as :func:`~genlearn.train.gatys.stylize_gatys` does with ``transform_content=True``.

    Chapters 9 and 10.
    """
    check_images(images, name="the images to score", channels=3)
    check_images(content, name="the content image", channels=3)
    if content.shape[-2:] != images.shape[-2:]:
        raise ValueError(f"content_distance compares images of one size, got {tuple(images.shape)} and {tuple(content.shape)}")
    layer = layer or network.content_layer
    t = transform or (lambda f: f)
    target = t(network.extract(content, [layer])[layer])
    return torch.stack([content_loss(t(network.extract(x[None], [layer])[layer]), target[i % len(target)][None]) for i, x in enumerate(images)])


@torch.no_grad()
def random_style_distance(images: torch.Tensor, style: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """Gatys's style loss of each of ``images`` (N, 3, H, W) against ``style`` (1, 3, H', W') under random
    multi-scale features that no method trains with: (N,). Both sides must be at least 23 pixels a side.

    A method scored by the loss it minimizes wins by construction (chapter 10's Gatys row is scored by its own
    objective). This judge uses :class:`~genlearn.models.random_features.RandomMultiScaleFeatures` with filters
    drawn from ``seed``: six filter sizes, 3 to 23 pixels, one Gram matrix each, equal weights, no training. No
    method in chapters 9 and 10 optimizes these features unless chapter 9's random network is chosen as its
    feature network. Divide by the content photo's own value for a ratio like chapter 10's style ratio. Gram
    statistics depend on scale: score the images and the style at the scale they are meant to match.

    Chapter 10.
    """
    net = RandomMultiScaleFeatures(seed=seed).to(images.device)
    return style_distance(images, style.to(images.device), net)


def colour_distance(images: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    """Fréchet distance between the RGB distribution of each of ``images`` (N, 3, H, W) and of ``style``
    (1, 3, H', W'), each fitted by a Gaussian over its pixels, values in [-1, 1]: (N,).

    Chapters 9 and 10.
    """
    check_images(images, name="the images to score", channels=3)
    check_images(style, name="the style image", channels=3)
    mu_s, cov_s = pixel_stats(style[0])
    return torch.tensor([frechet_distance_from_stats(*pixel_stats(x), mu_s, cov_s) for x in images])


def chroma_histogram(image: torch.Tensor, bins: int = 21, limit: float = 105.0) -> np.ndarray:
    """The 2-D histogram of an image's (3, H, W) colours in the a*b* plane of CIE Lab (D65), values in [-1, 1]:
    (bins, bins), summing to 1. a* runs green to red and b* blue to yellow: the angle is the hue and the distance from
    the centre the chroma; lightness (L*) is left out. Bins cover [-limit, limit] (sRGB's a* and b* lie within about
    +-108; values beyond go to the edge bins); an odd ``bins`` puts the greys (a* = b* = 0) in the middle of one bin.

    Chapters 9 and 10.
    """
    check_images(image[None], name="the image", channels=3)
    rgb = ((image.detach().float().cpu().clamp(-1, 1) + 1) / 2).permute(1, 2, 0).numpy()  # (H, W, 3) in [0, 1]
    lab = rgb2lab(rgb)  # (H, W, 3): L*, a*, b*
    a, b = (np.clip(lab[..., k].ravel(), -limit, limit) for k in (1, 2))
    h, _, _ = np.histogram2d(a, b, bins=bins, range=[[-limit, limit], [-limit, limit]])
    return h / h.sum()


def chroma_histogram_distance(images: torch.Tensor, reference: torch.Tensor, bins: int = 21, limit: float = 105.0) -> torch.Tensor:
    """Total-variation distance between the :func:`chroma_histogram` of each of ``images`` (N, 3, H, W) and that of
    ``reference`` (1, 3, H', W'): (N,), from 0 (the same colours in the same proportions) to 1 (no colour in common).

    It is the share of one image's pixels that would have to change bin (10 units of a* or b* wide by default) to give
    the other's histogram. Unlike :func:`colour_distance` it sees the whole distribution of hue and chroma, not the RGB
    mean and covariance, and ignores lightness, so it is an independent check on
    :func:`~genlearn.data.colour.match_colour`, which equalizes exactly that mean and covariance. Histograms of
    different crops of one image differ too: read it against such a floor.

    Chapters 9 and 10.
    """
    check_images(images, name="the images to score", channels=3)
    check_images(reference, name="the reference image", channels=3)
    ref = chroma_histogram(reference[0], bins, limit)
    return torch.tensor([0.5 * np.abs(chroma_histogram(x, bins, limit) - ref).sum() for x in images])


__all__ = ["chroma_histogram", "chroma_histogram_distance", "colour_distance", "content_distance", "random_style_distance", "style_distance"]
