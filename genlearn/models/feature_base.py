"""What the fixed feature networks of chapters 9-10 share: torchvision's ImageNet normalization and the input checks
of their ``extract(x, layers)``.

:mod:`~genlearn.models.features` (VGG-19 and the factory that picks a network),
:mod:`~genlearn.models.efficientnet_lite` and :mod:`~genlearn.models.random_features` import it; it imports none of
them, so the three stay free of import cycles. ``genlearn.models.features`` re-exports these names.
"""

from __future__ import annotations

import torch

from genlearn.checks import check_images

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)  # torchvision's, on [0, 1] pixels


def check_extract(x: torch.Tensor, layers, known, network: str, min_side: int) -> None:
    """What both feature networks' ``extract`` refuse, in one sentence each: unknown layers, non-RGB input, too small an image.

    Chapter 9.
    """
    unknown = [name for name in layers if name not in known]
    if unknown:
        raise ValueError(f"unknown layer(s) {unknown}; {network} has {', '.join(known)}")
    check_images(x, name="the feature network's input", channels=3, value_range=None)
    if min(x.shape[-2:]) < min_side:
        raise ValueError(f"{network} needs images of at least {min_side} pixels a side, got {tuple(x.shape[-2:])}")


__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "check_extract"]
