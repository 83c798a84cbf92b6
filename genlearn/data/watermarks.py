"""Watermark removal pairs built offline from real photos: (marked, clean) crops for pix2pix (chapter 8).

``watermark_pairs(split, n, size, seed, marks)`` cuts ``n`` random square crops from the photos of
``split`` (:func:`genlearn.data.list_photos`: no photo is in both splits) and composites one or two
semi-transparent marks over each: text in a font, size, angle, colour, opacity and position drawn
at random, sometimes with a ring logo. The clean crop is the target and is never touched.

``marks="train"`` draws from the training styles; ``marks="held-out"`` from fonts, texts and
opacities that the training styles never use, so a model can be scored on marks it has not seen.
Everything is drawn from ``numpy.random.default_rng([seed, i])`` for item ``i``: the same arguments
give the same pairs on every machine.
"""

from __future__ import annotations

import numpy as np
import torch

from genlearn.checks import from_uint8

from ._common import check_choice, check_size
from .digits import _font
from .images import list_photos, load_photo

MARK_STYLES = {
    "train": {
        "fonts": ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf", "cmss10.ttf"),
        "texts": ("© genlearn", "SAMPLE", "PROOF", "stock photo", "DRAFT", "© 2024", "watermark"),
        "opacity": (0.45, 0.75),  # visible stock-photo marks (fainter ones leave little to remove)
        "size": (0.18, 0.4),  # text height as a fraction of the crop side
    },
    "held-out": {
        "fonts": ("STIXGeneral.ttf", "STIXGeneralBol.ttf", "DejaVuSerif-Italic.ttf"),
        "texts": ("CONFIDENTIAL", "© studio", "preview only", "COPY"),
        "opacity": (0.75, 0.9),  # more opaque than any training mark
        "size": (0.18, 0.4),
    },
}
MARK_SETS = ("train", "held-out")


def _marked(clean: np.ndarray, rng: np.random.Generator, style: dict) -> np.ndarray:
    """clean (S, S, 3) uint8 -> the same crop with 1-2 marks alpha-composited over it."""
    from PIL import Image, ImageDraw

    s = clean.shape[0]
    base = Image.fromarray(clean).convert("RGBA")
    for _ in range(int(rng.integers(1, 3))):
        layer = Image.new("RGBA", (2 * s, 2 * s), (0, 0, 0, 0))  # drawn large, rotated, then placed
        draw = ImageDraw.Draw(layer)
        text = style["texts"][rng.integers(len(style["texts"]))]
        font = _font(style["fonts"][rng.integers(len(style["fonts"]))], max(6, int(rng.uniform(*style["size"]) * s)))
        grey = int(rng.choice([255, 235, 30]))  # white, light or dark marks
        alpha = int(255 * rng.uniform(*style["opacity"]))
        draw.text((s, s), text, fill=(grey, grey, grey, alpha), font=font, anchor="mm")
        if rng.random() < 0.3:  # a ring logo beside the text
            r = rng.uniform(0.08, 0.15) * s
            cx = s - rng.uniform(0.3, 0.5) * s
            draw.ellipse((cx - r, s - r, cx + r, s + r), outline=(grey, grey, grey, alpha), width=max(1, int(r / 4)))
        layer = layer.rotate(rng.uniform(-40, 40), resample=Image.Resampling.BICUBIC)
        dx, dy = (rng.uniform(-0.3, 0.3, size=2) * s).astype(int)
        layer = layer.crop((s // 2 - dx, s // 2 - dy, s // 2 - dx + s, s // 2 - dy + s))  # (s, s)
        base = Image.alpha_composite(base, layer)
    return np.asarray(base.convert("RGB"))


def watermark_pairs(split: str = "train", n: int = 256, size: int = 64, seed: int = 0, marks: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` (marked, clean) pairs of random ``size`` x ``size`` crops of the ``split`` photos.

    Args:
        split: "train" or "test" photos (:func:`genlearn.data.list_photos`).
        n: number of pairs; size: crop side in pixels (photos are first resized so their shorter
            side is ``4 * size``, so a crop shows a part of a scene, not a thumbnail of it).
        seed: the draws of crops and marks.
        marks: "train" or "held-out" mark styles (:data:`MARK_STYLES`).

    Returns:
        x: marked crops, float32 ``(n, 3, size, size)`` in [-1, 1]; y: the clean crops, same shape.

    Chapter 8.
    """
    check_choice(split, ("train", "test"), "split")
    check_choice(marks, MARK_SETS, "marks")
    size = check_size(size)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    photos = photo_arrays(split, size)
    clean = np.empty((n, size, size, 3), np.uint8)
    marked = np.empty_like(clean)
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        clean[i] = random_crop(photos, rng, size)
        marked[i] = _marked(clean[i], rng, MARK_STYLES[marks])
    return to_tensor(marked), to_tensor(clean)


def photo_arrays(split: str, size: int) -> list[np.ndarray]:
    """The ``split`` photos as uint8 ``(H, W, 3)`` arrays, the shorter side ``4 * size`` (a crop shows part of a scene)."""
    return [((load_photo(name, size=4 * size) + 1) * 127.5).round().clamp(0, 255).byte().permute(1, 2, 0).numpy() for name in list_photos(split)]


def random_crop(photos: list[np.ndarray], rng: np.random.Generator, size: int) -> np.ndarray:
    """A ``size`` x ``size`` crop of a photo drawn from ``photos``, at a position drawn from ``rng`` -> (S, S, 3)."""
    photo = photos[rng.integers(len(photos))]  # (H, W, 3)
    top, left = rng.integers(photo.shape[0] - size + 1), rng.integers(photo.shape[1] - size + 1)
    return photo[top : top + size, left : left + size]


def to_tensor(a: np.ndarray) -> torch.Tensor:
    """uint8 ``(N, S, S, C)`` -> float32 ``(N, C, S, S)`` in [-1, 1]."""
    return from_uint8(torch.from_numpy(a).permute(0, 3, 1, 2).contiguous())


__all__ = ["MARK_SETS", "MARK_STYLES", "watermark_pairs"]
