"""Input checks that fail early with a message saying what was expected.

Every public function that takes images calls :func:`check_images`, so a reader who passes a
(H, W, C) NumPy image, a [0, 255] tensor or the wrong channel count learns what to change.
"""

from __future__ import annotations

from typing import Sequence

import torch


def check_images(
    x: torch.Tensor,
    *,
    name: str = "images",
    channels: int | Sequence[int] | None = None,
    size: int | tuple[int, int] | None = None,
    value_range: tuple[float, float] | None = (-1.0, 1.0),
    tol: float = 1e-3,
) -> torch.Tensor:
    """Check a batch of images ``(N, C, H, W)`` and return it unchanged.

    Args:
        x: the batch.
        name: what to call it in the error message.
        channels: allowed channel count(s), or None for any.
        size: required ``H == W == size`` or ``(H, W)``, or None for any.
        value_range: required value range (default [-1, 1], genlearn's image convention), or None.
        tol: slack on the range check (interpolation overshoots a little).

    Raises:
        TypeError: not a floating-point tensor.
        ValueError: wrong rank, channels, size or range.

    Chapter 0.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape (N, C, H, W), got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(
            f"{name} must be a floating-point tensor in [-1, 1], got dtype {x.dtype}; "
            "convert uint8 images with genlearn.checks.from_uint8"
        )
    if x.dim() != 4:
        raise ValueError(f"{name} must have shape (N, C, H, W), got {tuple(x.shape)}")
    if channels is not None:
        allowed = (channels,) if isinstance(channels, int) else tuple(channels)
        if x.shape[1] not in allowed:
            hint = " (is the channel axis last? use x.permute(0, 3, 1, 2))" if x.shape[-1] in allowed else ""
            raise ValueError(
                f"{name} must have {' or '.join(map(str, allowed))} channel(s), got shape {tuple(x.shape)}{hint}"
            )
    if size is not None:
        hw = (size, size) if isinstance(size, int) else tuple(size)
        if tuple(x.shape[-2:]) != hw:
            raise ValueError(f"{name} must be {hw[0]}x{hw[1]} pixels, got {tuple(x.shape[-2:])}")
    if value_range is not None and x.numel() > 0:
        lo, hi = value_range
        xmin, xmax = float(x.min()), float(x.max())
        if xmin != xmin or xmax != xmax:
            raise ValueError(f"{name} contain NaN")
        if xmin < lo - tol or xmax > hi + tol:
            hint = ""
            if xmax > 2:
                hint = "; it looks like [0, 255]: use genlearn.checks.from_uint8"
            elif xmin >= 0 and lo < 0:
                hint = "; it looks like [0, 1]: use genlearn.checks.from_unit"
            raise ValueError(f"{name} must lie in [{lo:g}, {hi:g}], got values in [{xmin:.3g}, {xmax:.3g}]{hint}")
    return x


def from_unit(x: torch.Tensor) -> torch.Tensor:
    """[0, 1] -> [-1, 1].

    Chapter 0.
    """
    return x * 2 - 1


def to_unit(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> [0, 1], clamped (for display and metrics that want [0, 1]).

    Chapter 6.
    """
    return ((x + 1) / 2).clamp(0, 1)


def from_uint8(x: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float32 [-1, 1].

    Chapters 0 and 8.
    """
    return x.float() / 127.5 - 1
