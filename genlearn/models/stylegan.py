"""Style-based generators (Karras et al. 2019, "StyleGAN"; 2020, "StyleGAN2"), small enough for a CPU (chapter 11).

The generator is two networks (StyleGAN, Sec. 2):

* a **mapping network** ``f: z -> w``, an MLP with a 100x smaller learning rate (``lr_mul = 0.01``);
* a **synthesis network** ``g`` that starts from a learned constant 4x4 map and, at every layer, takes a
  *style* computed from ``w`` by a learned affine map ``A``, plus per-pixel noise scaled by a learned
  strength ``B``.

The style enters each layer in one of two ways (``StyleGANConfig.style_mode``):

* ``"adain"`` -- StyleGAN's Eq. 1: ``AdaIN(x_i, y) = y_s,i (x_i - mu(x_i)) / sigma(x_i) + y_b,i``, chapter 10's
  operation with the style statistics predicted from ``w``;
* ``"modulated"`` (the default) -- StyleGAN2's Eqs. 1-3: scale the convolution's input channels by the style,
  ``w'_ijk = s_i w_ijk``, then *demodulate* each output channel, ``w''_ijk = w'_ijk / sqrt(sum_ik w'_ijk^2 + eps)``,
  which removed the droplet artifacts that StyleGAN2's authors attribute, as a hypothesis, to AdaIN's
  normalization (StyleGAN2, Sec. 2).

Every weight uses the **equalized learning rate** (ProGAN, Karras et al. 2018, Sec. 4.1): stored as N(0, 1)
(N(0, 1 / lr_mul^2) in the mapping network) and multiplied at run time by ``c = lr_mul / sqrt(fan_in)``. Adam's
steps do not depend on a parameter's scale, so with every stored parameter on one scale each layer's weights
change at the same *relative* speed (the effective weights' absolute steps still shrink with the fan-in). ``c``
is He's constant without its sqrt(2): as in StyleGAN2's code, that gain is applied after the leaky ReLU instead.
Images are summed from each resolution's ``toRGB`` output (StyleGAN2's "skip" generator, Fig. 7). The
training-time pieces (style mixing, the tracked ``w_avg``, truncation) are methods of :class:`StyleGANGenerator`;
the losses are in :mod:`genlearn.losses.stylegan`.

Pure PyTorch: no custom CUDA or C++ operations, so it runs on CPU, CUDA and MPS with any torch 2.x.
The discriminator is StyleGAN2's residual one with a minibatch standard-deviation layer (ProGAN, Sec. 3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from genlearn.checks import check_images
from genlearn.models._config import SavedConfig
from genlearn.models.layers import check_unconditional
from genlearn.models.mlp import check_latent

STYLE_MODES = ("modulated", "adain")
SQRT2 = math.sqrt(2.0)  # the gain that keeps leaky-ReLU(0.2) activations at unit variance (StyleGAN's code)


@dataclass(frozen=True)
class StyleGANConfig(SavedConfig):
    """Sizes of :class:`StyleGANGenerator` and :class:`StyleGANDiscriminator`.

    Args:
        image_size: side of the square images, a power of two >= 8.
        channels: image channels (1 grey, 3 RGB).
        latent_dim: size of ``z``; w_dim: size of ``w`` (512 and 512 in the papers).
        mapping_layers: depth of the mapping MLP (8 in the papers).
        width: channels of every synthesis layer up to 32x32, halved at each larger resolution (512 in the papers).
        style_mode: "modulated" (StyleGAN2) or "adain" (StyleGAN).
        mapping_lr_mul: the mapping network's learning-rate multiplier (0.01 in the papers).

    Chapter 11.
    """

    image_size: int = 32
    channels: int = 1
    latent_dim: int = 64
    w_dim: int = 64
    mapping_layers: int = 4
    width: int = 64
    style_mode: str = "modulated"
    mapping_lr_mul: float = 0.01

    def __post_init__(self) -> None:
        s = self.image_size
        if not isinstance(s, int) or s < 8 or s & (s - 1):
            raise ValueError(f"StyleGAN image_size must be a power of two >= 8, got {s!r}")
        if self.style_mode not in STYLE_MODES:
            raise ValueError(f"style_mode must be one of {STYLE_MODES}, got {self.style_mode!r}")
        if min(self.channels, self.latent_dim, self.w_dim, self.mapping_layers, self.width) < 1 or not self.mapping_lr_mul > 0:
            raise ValueError(f"sizes must be >= 1 and mapping_lr_mul > 0, got {self}")

    @property
    def resolutions(self) -> list[int]:
        """4, 8, ..., image_size."""
        return [2**k for k in range(2, self.image_size.bit_length())]

    @property
    def num_ws(self) -> int:
        """Style inputs of the synthesis network: one at 4x4, two per larger resolution (the toRGBs reuse the next one).

        genlearn's variant: the last toRGB reuses the last style, so ``2 len(resolutions) - 1`` (5 at 16x16). StyleGAN2's
        code gives the last toRGB a style of its own: ``2 log2(resolution) - 2`` (6 at 16x16)."""
        return 2 * len(self.resolutions) - 1

    def channels_at(self, resolution: int) -> int:
        return max(1, self.width * 32 // max(32, resolution))

    @classmethod
    def tiny(cls, image_size: int = 8, channels: int = 1, style_mode: str = "modulated") -> "StyleGANConfig":
        return cls(image_size=image_size, channels=channels, latent_dim=8, w_dim=8, mapping_layers=2, width=8, style_mode=style_mode)


class EqualLinear(nn.Module):
    """``y = x (c W)^T + lr_mul b`` with ``W ~ N(0, 1) / lr_mul`` stored and ``c = lr_mul / sqrt(in_features)`` applied at run time.

    Chapter 11.
    """

    def __init__(self, in_features: int, out_features: int, lr_mul: float = 1.0, bias_init: float = 0.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_features,), bias_init / lr_mul))
        self.scale, self.lr_mul = lr_mul / math.sqrt(in_features), lr_mul

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)


class EqualConv2d(nn.Module):
    """A k x k convolution (same padding) whose N(0, 1) weights are scaled by ``c = 1 / sqrt(in_channels k^2)`` at run time.

    Chapter 11.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel: int, bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.scale = 1.0 / math.sqrt(in_channels * kernel * kernel)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.weight.shape[-1] // 2)


def pixel_norm(z: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """``z / sqrt(mean(z^2) + eps)`` over the features: every latent onto the sphere of radius sqrt(dim) (ProGAN Sec. 4.2).

    Chapter 11.
    """
    return z * torch.rsqrt(z.pow(2).mean(dim=1, keepdim=True) + eps)


class MappingNetwork(nn.Module):
    """``z (N, latent_dim) -> w (N, w_dim)``: pixel norm, then ``layers`` equalized linear layers with leaky ReLU.

    Chapter 11.
    """

    def __init__(self, latent_dim: int, w_dim: int, layers: int, lr_mul: float):
        super().__init__()
        dims = [latent_dim] + [w_dim] * layers
        self.layers = nn.ModuleList(EqualLinear(a, b, lr_mul=lr_mul) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = pixel_norm(z)
        for layer in self.layers:
            x = F.leaky_relu(layer(x), 0.2) * SQRT2
        return x


def modulated_conv2d(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor, demodulate: bool = True, eps: float = 1e-8) -> torch.Tensor:
    """StyleGAN2's Eqs. 1-3: (N, C_in, H, W), weight (C_out, C_in, k, k), styles (N, C_in) -> (N, C_out, H, W).

    ``w'_ijk = s_i w_ijk`` per sample (modulation); with ``demodulate``, ``w''_ijk = w'_ijk / sqrt(sum_ik w'_ijk^2 + eps)``,
    so that unit-variance inputs give unit-variance outputs (Eq. 2's assumption: i.i.d. inputs). Computed without
    per-sample weights, as the authors' non-fused path does: scaling the input channels by ``s`` and the output
    channels by the demodulation factor around one shared convolution is the same linear map, and cheaper on a CPU
    than one grouped convolution with N weight copies (a whole width-64, 16x16 training step took about 230 ms
    instead of about 300 ms on 2 cores).

    Chapter 11.
    """
    n, c_in = x.shape[:2]
    k = weight.shape[-1]
    if styles.shape != (n, c_in):
        raise ValueError(f"modulated_conv2d needs one style per input channel and sample, {(n, c_in)}, got {tuple(styles.shape)}")
    out = F.conv2d(x * styles[:, :, None, None], weight, padding=k // 2)  # Eq. 1: sum_i (s_i w_ijk) x_i
    if demodulate:  # Eq. 3: sigma_j = sqrt(sum_ik (s_i w_ijk)^2) = sqrt(sum_i s_i^2 sum_k w_ijk^2)
        d = torch.rsqrt(styles.pow(2) @ weight.pow(2).sum(dim=(2, 3)).T + eps)  # (N, C_out)
        out = out * d[:, :, None, None]
    return out


class NoiseInput(nn.Module):
    """Per-pixel Gaussian noise times a learned strength (StyleGAN's B; one scalar per layer, as in StyleGAN2), initialized to 0.

    Chapter 11.
    """

    def __init__(self):
        super().__init__()
        self.strength = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
        if noise is None:
            noise = torch.randn(x.shape[0], 1, *x.shape[2:], device=x.device, dtype=x.dtype)  # (N, 1, H, W): shared by the channels
        return x + self.strength * noise


class StyleLayer(nn.Module):
    """[x2 upsample] -> 3x3 convolution styled by ``w`` -> noise -> bias -> leaky ReLU; ``(N, C_in, H, W) -> (N, C_out, H', W')``.

    Chapter 11.
    """

    def __init__(self, c_in: int, c_out: int, w_dim: int, mode: str, upsample: bool = False):
        super().__init__()
        self.mode, self.upsample = mode, upsample
        self.weight = nn.Parameter(torch.randn(c_out, c_in, 3, 3))
        self.scale = 1.0 / math.sqrt(c_in * 9)
        if mode == "modulated":
            self.affine = EqualLinear(w_dim, c_in, bias_init=1.0)  # A: styles start at 1 (no modulation)
        else:  # AdaIN after the convolution: a scale (around 1) and a bias per output channel
            self.affine = EqualLinear(w_dim, 2 * c_out)
            with torch.no_grad():
                self.affine.bias[:c_out] = 1.0
        self.noise = NoiseInput()
        self.bias = nn.Parameter(torch.zeros(c_out))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)  # (N, C_in, 2H, 2W)
        if self.mode == "modulated":
            x = modulated_conv2d(x, self.weight * self.scale, self.affine(w))  # (N, C_out, H, W)
            x = self.noise(x, noise) + self.bias[None, :, None, None]
            return F.leaky_relu(x, 0.2) * SQRT2
        x = F.conv2d(x, self.weight * self.scale, padding=1)
        x = F.leaky_relu(self.noise(x, noise) + self.bias[None, :, None, None], 0.2) * SQRT2
        y_s, y_b = self.affine(w).chunk(2, dim=1)  # (N, C_out) each
        return y_s[:, :, None, None] * F.instance_norm(x) + y_b[:, :, None, None]  # StyleGAN Eq. 1


class ToRGB(nn.Module):
    """A styled 1x1 convolution to image channels, without demodulation (StyleGAN2's tRGB).

    Chapter 11.
    """

    def __init__(self, c_in: int, channels: int, w_dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(channels, c_in, 1, 1))
        self.scale = 1.0 / math.sqrt(c_in)
        self.affine = EqualLinear(w_dim, c_in, bias_init=1.0)
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return modulated_conv2d(x, self.weight * self.scale, self.affine(w), demodulate=False) + self.bias[None, :, None, None]


class StyleGANGenerator(nn.Module):
    """``z (N, latent_dim) -> images (N, channels, S, S)`` in [-1, 1] (``tanh`` at the end, genlearn's convention).

    ``forward(z, truncation=1.0)`` maps, truncates and synthesizes; ``mapping``, ``synthesis``, ``truncate``
    and ``mix`` are the parts. In training mode every ``mapping`` call moves ``w_avg``, the tracked
    average of ``w`` that truncation pulls towards (StyleGAN, Sec. 3.2 and Appendix B).

    Chapter 11.
    """

    def __init__(self, config: StyleGANConfig = StyleGANConfig(), w_avg_beta: float = 0.995):
        super().__init__()
        self.config = c = config
        self.mapping_net = MappingNetwork(c.latent_dim, c.w_dim, c.mapping_layers, c.mapping_lr_mul)
        res = c.resolutions
        self.const = nn.Parameter(torch.randn(1, c.channels_at(4), 4, 4))  # the learned constant input
        self.layers = nn.ModuleList([StyleLayer(c.channels_at(4), c.channels_at(4), c.w_dim, c.style_mode)])
        self.to_rgb = nn.ModuleList([ToRGB(c.channels_at(4), c.channels, c.w_dim)])
        for prev, r in zip(res[:-1], res[1:]):
            self.layers.append(StyleLayer(c.channels_at(prev), c.channels_at(r), c.w_dim, c.style_mode, upsample=True))
            self.layers.append(StyleLayer(c.channels_at(r), c.channels_at(r), c.w_dim, c.style_mode))
            self.to_rgb.append(ToRGB(c.channels_at(r), c.channels, c.w_dim))
        self.register_buffer("w_avg", torch.zeros(c.w_dim))
        self.w_avg_beta = w_avg_beta

    def mapping(self, z: torch.Tensor) -> torch.Tensor:
        """``w = f(z)``, (N, w_dim); in training mode ``w_avg <- lerp(mean w, w_avg, beta)``."""
        check_latent(z, self.config.latent_dim)
        w = self.mapping_net(z)
        if self.training:
            with torch.no_grad():
                self.w_avg.copy_(w.detach().mean(0).lerp(self.w_avg, self.w_avg_beta))
        return w

    def truncate(self, w: torch.Tensor, psi: float) -> torch.Tensor:
        """The truncation trick in W (StyleGAN, Appendix B): ``w_avg + psi (w - w_avg)``; psi = 1: unchanged, 0: the average."""
        if not 0.0 <= psi <= 1.0:
            raise ValueError(f"truncation psi must be in [0, 1] (1 = none, 0 = the average w), got {psi}")
        return self.w_avg.lerp(w, psi)

    def broadcast(self, w: torch.Tensor) -> torch.Tensor:
        """One ``w`` (N, w_dim) for every style input: (N, num_ws, w_dim)."""
        return w[:, None].expand(-1, self.config.num_ws, -1)

    def mix(self, ws1: torch.Tensor, ws2: torch.Tensor, crossover: int) -> torch.Tensor:
        """Style mixing (StyleGAN, Sec. 3.1): the styles of ``ws1`` (N, num_ws, w_dim) before layer ``crossover``
        and of ``ws2`` from it on. Layer 0 is the 4x4 one and each larger resolution has two (at 16x16: 1-2 are 8x8,
        3-4 are 16x16). StyleGAN's "coarse" layers 0-3 (4x4 and 8x8) index the 18 style inputs of its 1024x1024
        generator, not these."""
        if not 0 <= crossover <= self.config.num_ws:
            raise ValueError(f"crossover must be a style layer index in [0, {self.config.num_ws}] (this generator has {self.config.num_ws} style inputs), got {crossover}")
        out = ws1.clone()
        out[:, crossover:] = ws2[:, crossover:]
        return out

    def noise_shapes(self, n: int) -> list[tuple[int, int, int, int]]:
        """The shape (n, 1, r, r) of each style layer's noise input."""
        sides = [4] + [r for r in self.config.resolutions[1:] for _ in range(2)]
        return [(n, 1, r, r) for r in sides]

    def make_noise(self, n: int, generator: torch.Generator | None = None) -> list[torch.Tensor]:
        """Per-pixel noise for every style layer, drawn on CPU from ``generator`` (so a seed fixes it on any device)."""
        return [torch.randn(shape, generator=generator).to(self.const.device) for shape in self.noise_shapes(n)]

    def synthesis(self, ws: torch.Tensor, noise: str | list[torch.Tensor] = "random") -> torch.Tensor:
        """``g(ws)``: styles (N, num_ws, w_dim) -> images (N, channels, S, S).

        ``noise``: "random" (fresh per-pixel noise), "none" (zeros), or a list from :meth:`make_noise`."""
        if ws.ndim != 3 or ws.shape[1:] != (self.config.num_ws, self.config.w_dim):
            raise ValueError(f"synthesis needs styles (N, {self.config.num_ws}, {self.config.w_dim}), got {tuple(ws.shape)}")
        n = ws.shape[0]
        if isinstance(noise, str):
            if noise not in ("random", "none"):
                raise ValueError(f"noise must be 'random', 'none' or a list of tensors, got {noise!r}")
            noise = [None] * len(self.layers) if noise == "random" else [torch.zeros(s, device=ws.device) for s in self.noise_shapes(n)]
        x = self.const.expand(n, -1, -1, -1)  # (N, C_4, 4, 4)
        image = None
        for i, layer in enumerate(self.layers):
            x = layer(x, ws[:, i], noise[i])  # style i; an upsampling layer doubles the side
            if i % 2 == 0:  # the last layer of a resolution: add its RGB output to the upsampled running image
                rgb = self.to_rgb[i // 2](x, ws[:, min(i + 1, ws.shape[1] - 1)])  # (N, channels, r, r)
                image = rgb if image is None else F.interpolate(image, scale_factor=2, mode="bilinear", align_corners=False) + rgb
        return torch.tanh(image)

    def forward(self, z: torch.Tensor, truncation: float = 1.0, noise: str | list[torch.Tensor] = "random") -> torch.Tensor:
        """``z`` (N, latent_dim) -> images (N, channels, S, S) in [-1, 1]."""
        w = self.mapping(z)
        if truncation != 1.0:
            w = self.truncate(w, truncation)
        return self.synthesis(self.broadcast(w), noise)

    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``z ~ N(0, I)`` (n, latent_dim), drawn on CPU so seeds agree across devices."""
        return torch.randn(n, self.config.latent_dim, generator=generator).to(self.const.device)

    @torch.no_grad()
    def sample(self, n: int, *, labels: None = None, generator: torch.Generator | None = None, truncation: float = 1.0) -> torch.Tensor:
        """``n`` images (n, channels, S, S) in [-1, 1]; ``truncation`` psi in [0, 1] trades variety for typicality.
        The per-pixel noise comes from the same ``generator``, so a seed fixes the images."""
        check_unconditional(self, labels)
        z = self.sample_latent(n, generator)
        check_latent(z, self.config.latent_dim)
        w = self.truncate(self.mapping_net(z), truncation)  # not self.mapping: sampling never moves w_avg
        return self.synthesis(self.broadcast(w), self.make_noise(n, generator))


def minibatch_stddev(x: torch.Tensor, group: int = 4) -> torch.Tensor:
    """ProGAN Sec. 3: append the average standard deviation over groups of samples as one more channel,
    so D can see a lack of variety; (N, C, H, W) -> (N, C + 1, H, W).

    Chapter 11.
    """
    n, c, h, w = x.shape
    g = min(group, n)
    while n % g:
        g -= 1
    y = x.reshape(g, n // g, c, h, w)
    y = (y - y.mean(0)).pow(2).mean(0).add(1e-8).sqrt().mean(dim=(1, 2, 3))  # (N / g,)
    y = y.repeat(g)[:, None, None, None].expand(n, 1, h, w)
    return torch.cat([x, y], dim=1)


class DiscriminatorBlock(nn.Module):
    """StyleGAN2's residual D block: two 3x3 convolutions and a 2x average-pool, with a 1x1 skip, summed / sqrt(2).

    Chapter 11.
    """

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv1, self.conv2 = EqualConv2d(c_in, c_in, 3), EqualConv2d(c_in, c_out, 3)
        self.skip = EqualConv2d(c_in, c_out, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.leaky_relu(self.conv1(x), 0.2) * SQRT2
        y = F.avg_pool2d(F.leaky_relu(self.conv2(y), 0.2) * SQRT2, 2)  # (N, C_out, H/2, W/2)
        return (y + F.avg_pool2d(self.skip(x), 2)) / SQRT2


class StyleGANDiscriminator(nn.Module):
    """``images (N, channels, S, S) -> logits (N,)``: fromRGB, residual blocks down to 4x4, minibatch stddev, conv, linear.

    Chapter 11.
    """

    def __init__(self, config: StyleGANConfig = StyleGANConfig()):
        super().__init__()
        self.config = c = config
        res = c.resolutions[::-1]  # S, ..., 4
        self.from_rgb = EqualConv2d(c.channels, c.channels_at(res[0]), 1)
        self.blocks = nn.Sequential(*(DiscriminatorBlock(c.channels_at(r), c.channels_at(r // 2)) for r in res[:-1]))
        c4 = c.channels_at(4)
        self.conv = EqualConv2d(c4 + 1, c4, 3)
        self.fc = EqualLinear(c4 * 16, c4)
        self.out = EqualLinear(c4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, name="the discriminator's input", channels=self.config.channels, size=self.config.image_size, value_range=None)
        h = F.leaky_relu(self.from_rgb(x), 0.2) * SQRT2
        h = self.blocks(h)  # (N, C_4, 4, 4)
        h = F.leaky_relu(self.conv(minibatch_stddev(h)), 0.2) * SQRT2
        h = F.leaky_relu(self.fc(h.flatten(1)), 0.2) * SQRT2
        return self.out(h)[:, 0]


__all__ = [
    "STYLE_MODES", "DiscriminatorBlock", "EqualConv2d", "EqualLinear", "MappingNetwork", "NoiseInput", "StyleGANConfig",
    "StyleGANDiscriminator", "StyleGANGenerator", "StyleLayer", "ToRGB", "minibatch_stddev", "modulated_conv2d", "pixel_norm",
]
