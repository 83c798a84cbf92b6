"""The Inception-v3 of the standard FID (Heusel et al. 2017), loaded from a local weights file, never downloaded.

Published FIDs are computed with the TensorFlow graph ``inception-2015-12-05``, not with torchvision's ImageNet
Inception-v3: same layers, other weights, and three pooling details that differ (ported to PyTorch by
pytorch-fid, whose weights file ``pt_inception-2015-12-05-6726825d.pth`` this module reads):

* the average pools inside the Inception blocks of types A, C and the first E leave the zero padding out of the
  average (TensorFlow's ``SAME`` average pool), ``count_include_pad=False``;
* the last E block pools its fourth branch with a *max* pool, not an average;
* the classifier has 1008 outputs.

The FID features are the 2048-d average-pooled output of the last block, computed at 299x299 after a bilinear
resize. Inputs here are genlearn images in [-1, 1], the range that graph expects.

The weights (91 MB) are not shipped with genlearn: :func:`fid_inception_weights` finds them at
``$GENLEARN_FID_WEIGHTS`` or in torch's hub cache, and says where to put them when they are absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import inception as tv

WEIGHTS_FILE = "pt_inception-2015-12-05-6726825d.pth"
WEIGHTS_URL = f"https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/{WEIGHTS_FILE}"
FEATURE_DIM = 2048
INPUT_SIZE = 299


class FIDWeightsMissing(FileNotFoundError):
    """The FID Inception weights file is not on this machine.

    Chapter 12.
    """


def _avg_pool_without_padding(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class FIDInceptionA(tv.InceptionA):
    """torchvision's InceptionA with TensorFlow's average pool (padding left out of the mean)."""

    def _forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return [self.branch1x1(x), b5, b3, self.branch_pool(_avg_pool_without_padding(x))]


class FIDInceptionC(tv.InceptionC):
    """torchvision's InceptionC with TensorFlow's average pool."""

    def _forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = x
        for layer in (self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            d = layer(d)
        return [self.branch1x1(x), b7, d, self.branch_pool(_avg_pool_without_padding(x))]


class FIDInceptionE(tv.InceptionE):
    """torchvision's InceptionE; ``pool="avg"`` (TensorFlow's average pool) for Mixed_7b, ``"max"`` for Mixed_7c."""

    def __init__(self, in_channels: int, pool: str) -> None:
        super().__init__(in_channels)
        self.pool = pool

    def _forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        d = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
        pooled = _avg_pool_without_padding(x) if self.pool == "avg" else F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
        return [self.branch1x1(x), b3, d, self.branch_pool(pooled)]


class FIDInceptionV3(nn.Module):
    """Inception-v3 as in the TensorFlow FID graph; ``forward`` returns the 2048-d pool features (N, 2048).

    Chapter 12.
    """

    def __init__(self) -> None:
        super().__init__()
        net = tv.Inception3(num_classes=1008, aux_logits=False, init_weights=False)
        net.Mixed_5b = FIDInceptionA(192, pool_features=32)
        net.Mixed_5c = FIDInceptionA(256, pool_features=64)
        net.Mixed_5d = FIDInceptionA(288, pool_features=64)
        for name, c7 in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192)):
            setattr(net, name, FIDInceptionC(768, channels_7x7=c7))
        net.Mixed_7b = FIDInceptionE(1280, pool="avg")
        net.Mixed_7c = FIDInceptionE(2048, pool="max")
        self.net = net.eval()

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x (N, 3, H, W) in [-1, 1]. Returns (N, 2048)."""
        n = self.net
        x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)  # (N, 3, 299, 299)
        x = F.max_pool2d(n.Conv2d_2b_3x3(n.Conv2d_2a_3x3(n.Conv2d_1a_3x3(x))), kernel_size=3, stride=2)  # (N, 64, 73, 73)
        x = F.max_pool2d(n.Conv2d_4a_3x3(n.Conv2d_3b_1x1(x)), kernel_size=3, stride=2)  # (N, 192, 35, 35)
        for block in (n.Mixed_5b, n.Mixed_5c, n.Mixed_5d, n.Mixed_6a, n.Mixed_6b, n.Mixed_6c, n.Mixed_6d, n.Mixed_6e):
            x = block(x)  # (N, 768, 17, 17) after Mixed_6e
        x = n.Mixed_7c(n.Mixed_7b(n.Mixed_7a(x)))  # (N, 2048, 8, 8)
        return x.mean(dim=(2, 3))  # (N, 2048)


def fid_inception_weights(path: str | Path | None = None) -> Path:
    """The local weights file: ``path``, else ``$GENLEARN_FID_WEIGHTS``, else torch's hub cache.

    Raises:
        FIDWeightsMissing: one sentence naming the file, where it comes from and where to put it.

    Chapter 12.
    """
    if path is None and os.environ.get("GENLEARN_FID_WEIGHTS"):
        path = os.environ["GENLEARN_FID_WEIGHTS"]
    candidate = Path(path) if path is not None else Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_FILE
    if not candidate.is_file():
        raise FIDWeightsMissing(
            f"the FID Inception-v3 weights are not at {candidate}: download {WEIGHTS_FILE} (91 MB, {WEIGHTS_URL}) on a machine "
            f"with internet and put it there or point GENLEARN_FID_WEIGHTS at it; offline, use --features efficientnet-lite0"
        )  # fmt: skip
    return candidate


def load_fid_inception(path: str | Path | None = None) -> FIDInceptionV3:
    """The FID Inception-v3 with the weights of :func:`fid_inception_weights` (evaluation mode, no gradients).

    Chapter 12.
    """
    file = fid_inception_weights(path)
    state = torch.load(file, map_location="cpu", weights_only=True)
    model = FIDInceptionV3()
    try:
        model.net.load_state_dict(state)
    except RuntimeError as e:
        raise ValueError(f"{file} is not the FID Inception-v3 state dict ({WEIGHTS_FILE}): {str(e).splitlines()[0]}") from None
    return model.requires_grad_(False)


__all__ = ["FEATURE_DIM", "FIDInceptionV3", "FIDWeightsMissing", "WEIGHTS_FILE", "WEIGHTS_URL", "fid_inception_weights", "load_fid_inception"]
