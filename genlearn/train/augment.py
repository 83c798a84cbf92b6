"""DiffAugment (Zhao et al. 2020): differentiable augmentation applied to *both* real and fake images before D.

With little data, D memorizes the training set and its feedback to G collapses. Augmenting
only the reals would teach G to produce augmented images; augmenting only D's inputs in the D
step would leave G's step unaugmented. DiffAugment applies the same random transform family to
every image D sees, real or fake, in both steps -- and because each transform is differentiable,
G's gradient flows through it (Zhao et al. 2020, Sec. 3):

    L_D = E_x[f(-D(T(x)))] + E_z[f(D(T(G(z))))],    L_G = E_z[f(-D(T(G(z))))]

The three transforms follow the official implementation (mit-han-lab/data-efficient-gans):
``color`` (brightness, saturation, contrast), ``translation`` (shift by up to 1/8 of the side,
zero padding) and ``cutout`` (a zeroed square of half the side).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

POLICIES = ("color", "translation", "cutout")


def _rand(shape, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    return torch.rand(shape, generator=generator).to(device=x.device, dtype=x.dtype)


def _randint(low: int, high: int, shape, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    return torch.randint(low, high, shape, generator=generator).to(x.device)


def rand_color(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Random brightness (+-0.5), saturation (x0..2) and contrast (x0.5..1.5) per image. (N, C, H, W) -> same.

    Chapter 2.
    """
    n = x.shape[0]
    x = x + (_rand((n, 1, 1, 1), x, generator) - 0.5)
    mean = x.mean(dim=1, keepdim=True)  # (N, 1, H, W): a no-op for grey images
    x = (x - mean) * (_rand((n, 1, 1, 1), x, generator) * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)  # (N, 1, 1, 1)
    return (x - mean) * (_rand((n, 1, 1, 1), x, generator) + 0.5) + mean


def rand_translation(x: torch.Tensor, ratio: float = 0.125, generator: torch.Generator | None = None) -> torch.Tensor:
    """Shift each image by up to ``ratio`` of its side in x and y, filling with zeros. (N, C, H, W) -> same.

    Chapter 2.
    """
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    tx = _randint(-sh, sh + 1, (n, 1, 1), x, generator)
    ty = _randint(-sw, sw + 1, (n, 1, 1), x, generator)
    gb, gx, gy = torch.meshgrid(
        torch.arange(n, device=x.device), torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij"
    )  # (N, H, W) each
    gx = torch.clamp(gx + tx + 1, 0, h + 1)
    gy = torch.clamp(gy + ty + 1, 0, w + 1)
    x_pad = F.pad(x, [1, 1, 1, 1])  # (N, C, H+2, W+2); the zero border is what shifted-in pixels read
    return x_pad.permute(0, 2, 3, 1)[gb, gx, gy].permute(0, 3, 1, 2)  # gather: differentiable in x


def rand_cutout(x: torch.Tensor, ratio: float = 0.5, generator: torch.Generator | None = None) -> torch.Tensor:
    """Zero a random square of ``ratio`` times the side in each image. (N, C, H, W) -> same.

    Chapter 2.
    """
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ox = _randint(0, h + (1 - ch % 2), (n, 1, 1), x, generator)
    oy = _randint(0, w + (1 - cw % 2), (n, 1, 1), x, generator)
    gb, gx, gy = torch.meshgrid(
        torch.arange(n, device=x.device), torch.arange(ch, device=x.device), torch.arange(cw, device=x.device), indexing="ij"
    )  # (N, ch, cw) each
    gx = torch.clamp(gx + ox - ch // 2, 0, h - 1)
    gy = torch.clamp(gy + oy - cw // 2, 0, w - 1)
    mask = torch.ones(n, h, w, dtype=x.dtype, device=x.device)
    mask[gb, gx, gy] = 0
    return x * mask.unsqueeze(1)  # (N, C, H, W)


TRANSFORMS = {"color": rand_color, "translation": rand_translation, "cutout": rand_cutout}


def parse_policy(policy: str) -> tuple[str, ...]:
    """``"translation,cutout"`` -> ``("translation", "cutout")``; ``""`` means no augmentation.

    Chapter 2.
    """
    names = tuple(p.strip() for p in policy.split(",") if p.strip())
    bad = [p for p in names if p not in TRANSFORMS]
    if bad:
        raise ValueError(f"unknown DiffAugment transform(s) {bad}; choose from {', '.join(POLICIES)} (comma-separated)")
    return names


def diff_augment(x: torch.Tensor, policy: str = "translation,cutout", generator: torch.Generator | None = None) -> torch.Tensor:
    """Apply the transforms in ``policy`` (comma-separated, in order) to images (N, C, H, W); differentiable.

    Chapter 2.
    """
    for name in parse_policy(policy):
        x = TRANSFORMS[name](x, generator=generator)
    return x


__all__ = ["POLICIES", "diff_augment", "parse_policy", "rand_color", "rand_cutout", "rand_translation"]
