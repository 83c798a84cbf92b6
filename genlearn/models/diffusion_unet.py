"""The time-conditioned U-Net of DDPM (Ho, Jain & Abbeel 2020, Appendix B), block for block as their official code.

A diffusion model's network ``eps_theta(x_t, t)`` takes a noisy image and its timestep and predicts the noise
(DDPM, Eq. 12); its output has the shape of its input. Appendix B describes it as a PixelCNN++-style U-Net
(Salimans et al. 2017) of wide residual blocks (Zagoruyko & Komodakis 2016) with group normalization (Wu & He
2018), self-attention at 16x16, and the timestep added to every block through the Transformer's sinusoidal
position embedding (Vaswani et al. 2017, Sec. 3.5). Read top to bottom, :class:`DiffusionUNet` is:

* ``temb = Linear(SiLU(Linear(sinusoid(t))))``, width ``4 w`` (plus a class embedding for a conditional net);
* with ``patch_size`` p > 1, ``pixel_unshuffle``: p x p patches folded into channels, ``(N, C, S, S)`` to
  ``(N, C p^2, S/p, S/p)``, losing nothing (genlearn's option, after Hoogeboom, Heek & Salimans 2023, below);
* ``conv_in`` (3x3), then per resolution ``num_res_blocks`` residual blocks (with attention where asked) and a
  stride-2 3x3 convolution, keeping every output for a skip connection;
* a middle of block, attention, block;
* per resolution, from the smallest up, ``num_res_blocks + 1`` blocks, each on ``concat(h, skip)``, then nearest
  x2 upsampling and a 3x3 convolution;
* ``GroupNorm``, ``SiLU``, ``conv_out`` (3x3), and with p > 1 ``pixel_shuffle`` back to ``(N, C, S, S)``.

``patch_size`` is not in DDPM. It follows the fourth finding of *simple diffusion* (Hoogeboom, Heek & Salimans
2023): downsample as the network's first step and upsample as its last, so that no feature map is at full resolution;
the paper's simpler variant is a p x p convolution of stride p, which ``pixel_unshuffle`` followed by ``conv_in``
contains. Chapter 13's digits are 8x8 images resized to 16x16, so folding 2x2 patches costs the network no detail
and halves every feature map's side (a step about half as long at the same width).

:meth:`DiffusionUNetConfig.ddpm_cifar10` is the paper's CIFAR-10 network: 35,746,307 parameters, the count of the
official code. Initialization follows that code too: Xavier-uniform weights (TensorFlow's ``fan_avg`` uniform
variance scaling), zero biases, and zero weights in each block's second convolution, each attention's output
projection and ``conv_out`` -- so every block starts as its shortcut and a fresh network outputs exactly zero.

Inputs may be ``channels_last`` and the forward pass may run under ``torch.autocast``: nothing here fixes a dtype
or a memory format (autocast runs ``group_norm`` and ``softmax`` in float32 by itself).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from genlearn.models._config import SavedConfig, check_at_least


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding of (possibly fractional) timesteps, as in DDPM's code (Vaswani et al. 2017, Sec. 3.5).

    With ``h = dim / 2`` frequencies ``f_k = max_period ** (-k / (h - 1))``, ``k = 0 .. h-1`` (from 1 down to
    ``1 / max_period``), the embedding is ``[sin(t f_0), ..., sin(t f_{h-1}), cos(t f_0), ..., cos(t f_{h-1})]``:
    half sines, then half cosines (Ho, Jain & Abbeel 2020, Appendix B; ``get_timestep_embedding`` in their code).

    Args:
        t: timesteps ``(N,)``, integer indices or floats.
        dim: embedding size, even and >= 2 (with ``dim = 2`` the one frequency is 1).
        max_period: the longest period, ``2 pi max_period``.

    Returns:
        ``(N, dim)``, float32 (float64 for float64 ``t``).

    Raises:
        ValueError: ``dim`` odd or < 2, or ``t`` not one-dimensional.

    Chapter 13.
    """
    if not isinstance(dim, int) or dim < 2 or dim % 2:
        raise ValueError(f"timestep_embedding: dim must be an even int >= 2 (half sines, half cosines), got {dim!r}")
    if not isinstance(t, torch.Tensor) or t.dim() != 1:
        shape = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
        raise ValueError(f"timestep_embedding: t must be a tensor of shape (N,), got {shape}")
    dtype = torch.float64 if t.dtype == torch.float64 else torch.float32
    half = dim // 2
    k = torch.arange(half, device=t.device, dtype=dtype)
    freqs = torch.exp(-math.log(max_period) * k / max(half - 1, 1))  # (dim/2,)
    angles = t.to(dtype)[:, None] * freqs[None, :]  # (N, dim/2)
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)  # (N, dim)


@dataclass(frozen=True)
class DiffusionUNetConfig(SavedConfig):
    """Sizes of :class:`DiffusionUNet` (Ho, Jain & Abbeel 2020, Appendix B).

    Args:
        image_size: side ``S`` of the square images; divisible by ``patch_size * 2 ** (len(channel_mults) - 1)``.
        in_channels: image channels (1 grey, 3 RGB).
        out_channels: channels of the prediction; None for ``in_channels`` (the predicted noise).
        width: base channels ``w`` (``ch`` in DDPM's code); even (it is also the timestep embedding's size).
        channel_mults: channels ``w * m`` at each resolution, from ``S`` down to ``S / 2 ** (len - 1)``.
        num_res_blocks: residual blocks per resolution on the way down (one more on the way up).
        attention_resolutions: sides at which each block is followed by self-attention (the middle always has one).
        dropout: dropout rate in each block, in [0, 1) (0.1 on CIFAR-10).
        num_classes: 0 for an unconditional net; > 0 adds a class embedding with ``num_classes + 1`` rows, the last
            the "no label" token (classifier-free guidance trains with it and samples with both).
        norm_groups: GroupNorm groups, ``min(norm_groups, channels)`` for each norm, which must divide its channels.
        patch_size: side ``p`` of the patches folded into channels at the input and unfolded at the output; the
            levels work at ``S / p``, ``S / 2p``, ... (1: none, as in DDPM).

    Chapter 13.
    """

    image_size: int = 32
    in_channels: int = 3
    out_channels: int | None = None
    width: int = 128
    channel_mults: tuple[int, ...] = (1, 2, 2, 2)
    num_res_blocks: int = 2
    attention_resolutions: tuple[int, ...] = (16,)
    dropout: float = 0.1
    num_classes: int = 0
    norm_groups: int = 32
    patch_size: int = 1

    def __post_init__(self) -> None:
        for name in ("channel_mults", "attention_resolutions"):  # a JSON list or any sequence becomes a tuple
            object.__setattr__(self, name, tuple(getattr(self, name)))
        check_at_least(self, 1, "image_size", "in_channels", "width", "num_res_blocks", "norm_groups", "patch_size")
        check_at_least(self, 0, "num_classes")
        if self.out_channels is not None:
            check_at_least(self, 1, "out_channels")
        if self.width % 2:
            raise ValueError(f"width must be even (it is the size of the sinusoidal timestep embedding), got {self.width}")
        if not self.channel_mults or min(self.channel_mults) < 1:
            raise ValueError(f"channel_mults must be a non-empty tuple of ints >= 1, got {self.channel_mults}")
        factor = self.patch_size * 2 ** (len(self.channel_mults) - 1)
        if self.image_size % factor:
            raise ValueError(
                f"image_size must be divisible by patch_size * 2 ** (len(channel_mults) - 1) = {factor} "
                f"(patches of {self.patch_size}, then {len(self.channel_mults) - 1} halvings), got {self.image_size}"
            )
        missing = sorted(set(self.attention_resolutions) - set(self.resolutions))
        if missing:
            raise ValueError(
                f"attention_resolutions {missing} are never reached: the U-Net works at {self.resolutions}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        for c in sorted(_group_norm_channels(self)):
            groups = min(self.norm_groups, c)
            if c % groups:
                raise ValueError(
                    f"norm_groups={self.norm_groups} does not divide the {c} channels of a GroupNorm "
                    f"(every norm uses min(norm_groups, channels) groups; its channels are {sorted(_group_norm_channels(self))})"
                )

    @property
    def resolutions(self) -> list[int]:
        """Side of the feature maps at each level, from ``image_size / patch_size`` down."""
        return [self.image_size // self.patch_size // 2**i for i in range(len(self.channel_mults))]

    @property
    def output_channels(self) -> int:
        """``out_channels``, or ``in_channels`` when it is None."""
        return self.in_channels if self.out_channels is None else self.out_channels

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "DiffusionUNetConfig":
        """The config back from ``to_dict``'s dict, after JSON turned its tuples into lists."""
        d = dict(d)
        for name in ("channel_mults", "attention_resolutions"):
            if name in d:
                d[name] = tuple(d[name])
        return cls(**d)

    @classmethod
    def tiny(cls, num_classes: int = 0) -> "DiffusionUNetConfig":
        """8x8 grey images, width 8, two levels, attention at 4x4: about 45k parameters, for tests."""
        return cls(
            image_size=8, in_channels=1, width=8, channel_mults=(1, 2), num_res_blocks=1,
            attention_resolutions=(4,), dropout=0.0, num_classes=num_classes, norm_groups=4,
        )

    @classmethod
    def ddpm_cifar10(cls) -> "DiffusionUNetConfig":
        """The paper's CIFAR-10 network (Appendix B): 32x32x3, ``ch=128``, ``ch_mult=(1, 2, 2, 2)``, 2 blocks, attention
        at 16x16, dropout 0.1; 35,746,307 parameters."""
        return cls(image_size=32, in_channels=3, width=128, channel_mults=(1, 2, 2, 2), num_res_blocks=2,
                   attention_resolutions=(16,), dropout=0.1)


def _group_norm_channels(c: DiffusionUNetConfig) -> set[int]:
    """Channels of every GroupNorm in the net of ``c``: the U-Net's walk, counting channels only."""
    widths = [c.width * m for m in c.channel_mults]
    ch, skips, normed = c.width, [c.width], set()
    for i, out in enumerate(widths):
        for _ in range(c.num_res_blocks):
            normed |= {ch, out}
            ch = out
            skips.append(ch)
        if i < len(widths) - 1:
            skips.append(ch)
    normed.add(ch)  # the middle
    for out in reversed(widths):
        for _ in range(c.num_res_blocks + 1):
            normed |= {ch + skips.pop(), out}
            ch = out
    return normed


def _norm(channels: int, norm_groups: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(norm_groups, channels), channels)


class ResBlock(nn.Module):
    """DDPM's residual block (Ho, Jain & Abbeel 2020, Appendix B; ``resnet_block`` in their code).

    ``h = conv1(SiLU(norm1(x))) + Linear(SiLU(temb))``, ``h = conv2(dropout(SiLU(norm2(h))))``, output
    ``shortcut(x) + h``; 3x3 convolutions, a 1x1 shortcut when the channels change. ``conv2`` starts at zero, so
    the block starts as its shortcut.

    Args:
        in_channels: channels ``C_in`` of ``x``.
        out_channels: channels ``C_out`` of the output.
        temb_dim: size of the time (and class) embedding.
        dropout: dropout rate before ``conv2``.
        norm_groups: GroupNorm groups (at most the channels of each norm).

    Chapter 13.
    """

    def __init__(self, in_channels: int, out_channels: int, temb_dim: int, dropout: float = 0.0, norm_groups: int = 32):
        super().__init__()
        self.norm1 = _norm(in_channels, norm_groups)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)  # (N, C_out, H, W)
        self.temb_proj = nn.Linear(temb_dim, out_channels)
        self.norm2 = _norm(out_channels, norm_groups)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.shortcut = nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else nn.Identity()
        _init(self, zero=(self.conv2,))

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        """x (N, C_in, H, W), temb (N, temb_dim) -> (N, C_out, H, W)."""
        h = self.conv1(F.silu(self.norm1(x)))  # (N, C_out, H, W)
        h = h + self.temb_proj(F.silu(temb))[:, :, None, None]  # the timestep, broadcast over H, W
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return self.shortcut(x) + h  # (N, C_out, H, W)


class SelfAttention(nn.Module):
    """Self-attention over the ``H W`` positions of a feature map (Ho, Jain & Abbeel 2020, Appendix B; ``attn_block``).

    With ``q, k, v`` 1x1 convolutions of ``GroupNorm(x)``, seen as ``(N, HW, C)``, the output is
    ``x + proj_out(softmax(q k^T / sqrt(C)) v)`` (one head; Vaswani et al. 2017, Eq. 1). ``proj_out`` starts at
    zero, so the block starts as the identity.

    Args:
        channels: channels ``C``.
        norm_groups: GroupNorm groups (at most ``C``).

    Chapter 13.
    """

    def __init__(self, channels: int, norm_groups: int = 32):
        super().__init__()
        self.norm = _norm(channels, norm_groups)
        self.q = nn.Conv2d(channels, channels, 1)
        self.k = nn.Conv2d(channels, channels, 1)
        self.v = nn.Conv2d(channels, channels, 1)
        self.proj_out = nn.Conv2d(channels, channels, 1)
        _init(self, zero=(self.proj_out,))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (N, C, H, W) -> (N, C, H, W)."""
        n, c, height, width = x.shape
        h = self.norm(x)
        q = self.q(h).permute(0, 2, 3, 1).reshape(n, height * width, c)  # (N, HW, C)
        k = self.k(h).permute(0, 2, 3, 1).reshape(n, height * width, c)  # (N, HW, C)
        v = self.v(h).permute(0, 2, 3, 1).reshape(n, height * width, c)  # (N, HW, C)
        weights = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(c), dim=-1)  # (N, HW, HW): row i sums to 1
        h = (weights @ v).reshape(n, height, width, c).permute(0, 3, 1, 2)  # (N, C, H, W), stored channels-last
        return x + self.proj_out(h)


class Downsample(nn.Module):
    """Halve the side with a stride-2 3x3 convolution, padded as TensorFlow's ``SAME`` (one row and column, bottom
    and right), as DDPM's code (Ho, Jain & Abbeel 2020, Appendix B).

    Chapter 13.
    """

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2)
        _init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (N, C, H, W) -> (N, C, H/2, W/2)."""
        return self.conv(F.pad(x, (0, 1, 0, 1)))  # (N, C, H/2, W/2)


class Upsample(nn.Module):
    """Double the side: nearest-neighbour x2, then a 3x3 convolution (Ho, Jain & Abbeel 2020, Appendix B).

    Chapter 13.
    """

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)
        _init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (N, C, H, W) -> (N, C, 2H, 2W)."""
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))  # (N, C, 2H, 2W)


class _Level(nn.Module):
    """One resolution of the U-Net: its blocks, the attention after each (or Identity), and its resampling."""

    def __init__(self, blocks: list[ResBlock], attns: list[nn.Module], resample: nn.Module | None):
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.attns = nn.ModuleList(attns)
        self.resample = resample


class DiffusionUNet(nn.Module):
    """DDPM's noise-prediction U-Net ``eps_theta(x_t, t)`` (Ho, Jain & Abbeel 2020, Appendix B).

    ``x (N, C_in, S, S)``, timesteps ``t (N,)`` and, for a conditional net, labels ``y (N,)`` give
    ``(N, C_out, S, S)``. The structure and initialization are those of the official code (see the module
    docstring); ``DiffusionUNet(DiffusionUNetConfig.ddpm_cifar10())`` has its 35,746,307 parameters.

    Args:
        config: the sizes; its dict is what a checkpoint stores.

    Chapter 13.
    """

    def __init__(self, config: DiffusionUNetConfig = DiffusionUNetConfig()):
        super().__init__()
        self.config = c = config
        w, temb_dim, groups = c.width, 4 * c.width, c.norm_groups

        def block(cin: int, cout: int) -> ResBlock:
            return ResBlock(cin, cout, temb_dim, c.dropout, groups)

        def attention(ch: int, resolution: int) -> nn.Module:
            return SelfAttention(ch, groups) if resolution in c.attention_resolutions else nn.Identity()

        self.time_embed = nn.Sequential(nn.Linear(w, temb_dim), nn.SiLU(), nn.Linear(temb_dim, temb_dim))
        self.class_embed = nn.Embedding(c.num_classes + 1, temb_dim) if c.num_classes > 0 else None
        p2 = c.patch_size**2
        self.conv_in = nn.Conv2d(c.in_channels * p2, w, 3, padding=1)  # (N, w, S/p, S/p)

        ch, skips = w, [w]  # channels of h, and of each output kept for a skip connection
        self.down = nn.ModuleList()
        for i, (mult, res) in enumerate(zip(c.channel_mults, c.resolutions)):
            blocks, attns = [], []
            for _ in range(c.num_res_blocks):
                blocks.append(block(ch, w * mult))  # (N, w m, res, res)
                ch = w * mult
                attns.append(attention(ch, res))
                skips.append(ch)
            last = i == len(c.channel_mults) - 1
            self.down.append(_Level(blocks, attns, None if last else Downsample(ch)))  # (N, ch, res/2, res/2)
            if not last:
                skips.append(ch)

        self.mid_block1 = block(ch, ch)
        self.mid_attn = SelfAttention(ch, groups)
        self.mid_block2 = block(ch, ch)

        self.up = nn.ModuleList()  # from the smallest resolution up
        for i in reversed(range(len(c.channel_mults))):
            mult, res = c.channel_mults[i], c.resolutions[i]
            blocks, attns = [], []
            for _ in range(c.num_res_blocks + 1):
                blocks.append(block(ch + skips.pop(), w * mult))  # (N, w m, res, res)
                ch = w * mult
                attns.append(attention(ch, res))
            self.up.append(_Level(blocks, attns, Upsample(ch) if i > 0 else None))  # (N, ch, 2 res, 2 res)
        assert not skips

        self.norm_out = _norm(ch, groups)
        self.conv_out = nn.Conv2d(ch, c.output_channels * p2, 3, padding=1)  # (N, C_out p^2, S/p, S/p)
        _init(self.time_embed)
        _init(self.conv_in)
        _init(self.conv_out, zero=(self.conv_out,))

    def check(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None) -> None:
        """Raise ValueError, saying what was expected, unless x, t and y fit this net."""
        c = self.config
        expected = f"(N, {c.in_channels}, {c.image_size}, {c.image_size})"
        if not isinstance(x, torch.Tensor) or x.dim() != 4 or tuple(x.shape[1:]) != (c.in_channels, c.image_size, c.image_size):
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"DiffusionUNet: x must have shape {expected}, got {got}")
        n = x.shape[0]
        if not isinstance(t, torch.Tensor) or tuple(t.shape) != (n,):
            got = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
            raise ValueError(f"DiffusionUNet: t must have shape (N,) = ({n},), one timestep per image, got {got}")
        if y is None:
            return
        if c.num_classes == 0:
            raise ValueError("DiffusionUNet: this net is unconditional (num_classes=0); call it without y")
        if not isinstance(y, torch.Tensor) or tuple(y.shape) != (n,) or y.is_floating_point():
            got = f"{tuple(y.shape)} {y.dtype}" if isinstance(y, torch.Tensor) else type(y).__name__
            raise ValueError(f"DiffusionUNet: y must be integer labels of shape (N,) = ({n},), got {got}")
        if n and (int(y.min()) < 0 or int(y.max()) > c.num_classes):
            raise ValueError(
                f"DiffusionUNet: labels must be in [0, {c.num_classes - 1}], or {c.num_classes} for 'no label', "
                f"got values in [{int(y.min())}, {int(y.max())}]"
            )

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Predict the noise in ``x``.

        Args:
            x: noisy images ``x_t`` (N, C_in, S, S).
            t: timesteps (N,), integer indices or floats.
            y: labels (N,) in ``[0, num_classes]`` (``num_classes`` is "no label"), or None: "no label" for a
                conditional net; must be None for an unconditional one.

        Returns:
            (N, C_out, S, S).
        """
        self.check(x, t, y)
        c = self.config
        temb = self.time_embed(timestep_embedding(t, c.width).to(x.dtype))  # (N, 4w)
        if self.class_embed is not None:
            if y is None:
                y = torch.full((x.shape[0],), c.num_classes, dtype=torch.long, device=x.device)
            temb = temb + self.class_embed(y)  # (N, 4w)

        if c.patch_size > 1:
            x = F.pixel_unshuffle(x, c.patch_size)  # (N, C_in p^2, S/p, S/p)
        hs = [self.conv_in(x)]  # (N, w, S/p, S/p)
        for level in self.down:
            for block, attn in zip(level.blocks, level.attns):
                hs.append(attn(block(hs[-1], temb)))  # (N, w m, res, res)
            if level.resample is not None:
                hs.append(level.resample(hs[-1]))  # (N, w m, res/2, res/2)

        h = self.mid_block2(self.mid_attn(self.mid_block1(hs[-1], temb)), temb)

        for level in self.up:
            for block, attn in zip(level.blocks, level.attns):
                h = attn(block(torch.cat([h, hs.pop()], dim=1), temb))  # (N, w m, res, res)
            if level.resample is not None:
                h = level.resample(h)  # (N, w m, 2 res, 2 res)

        out = self.conv_out(F.silu(self.norm_out(h)))  # (N, C_out p^2, S/p, S/p)
        return F.pixel_shuffle(out, c.patch_size) if c.patch_size > 1 else out  # (N, C_out, S, S)


def _init(module: nn.Module, zero: tuple[nn.Module, ...] = ()) -> None:
    """DDPM's init: Xavier-uniform weights (TF's ``variance_scaling(1, "fan_avg", "uniform")``), zero biases; the
    modules in ``zero`` get zero weights too (the code's ``init_scale=0``)."""
    zeroed = {id(m) for m in zero}
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            if id(m) in zeroed:
                nn.init.zeros_(m.weight)
            else:
                nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)


__all__ = ["DiffusionUNet", "DiffusionUNetConfig", "ResBlock", "SelfAttention", "timestep_embedding"]
