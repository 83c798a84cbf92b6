"""Style images made by a process no training style comes from: paintings drawn stroke by stroke (chapter 10).

No painting ships with the offline packages, and every shipped image is a photo or a scanned texture. To score an
arbitrary-style model on styles it never saw, and unlike anything it saw, :func:`painted_style` draws images with
PIL from a random palette, in four manners:

* ``"strokes"`` -- an impressionist canvas: thousands of short, thick, oriented brush strokes following a smooth
  random flow field, over a wash of the palette's colours;
* ``"dots"`` -- pointillism: dense round dabs of pure palette colours, each region dominated by one of them;
* ``"blocks"`` -- a Mondrian-like grid of flat rectangles in the palette with thick dark lines;
* ``"waves"`` -- op-art bands: stripes of the palette bent by a sum of sines.

The palette is 4-6 colours of random hue, saturation and lightness, so a painting's colours are rarely those of any
training image. Everything is drawn from ``numpy.random.default_rng([seed, kind])``: the same arguments give the
same image on every machine.
"""

from __future__ import annotations

import colorsys

import numpy as np
import torch

from genlearn.checks import from_uint8

from ._common import check_choice, check_size

PAINTING_KINDS = ("strokes", "dots", "blocks", "waves")


def _palette(rng: np.random.Generator) -> np.ndarray:
    """4-6 colours (K, 3) uint8: hues anywhere, saturation 0.4-1, lightness 0.2-0.8."""
    k = int(rng.integers(4, 7))
    base = rng.uniform()
    hues = (base + rng.uniform(-0.25, 0.25, size=k)) % 1.0 if rng.random() < 0.5 else rng.uniform(size=k)  # related or free
    return np.array([[int(255 * c) for c in colorsys.hls_to_rgb(h, rng.uniform(0.2, 0.8), rng.uniform(0.4, 1.0))] for h in hues], np.uint8)


def _smooth_field(rng: np.random.Generator, side: int, waves: int = 4) -> np.ndarray:
    """A smooth random field (side, side) in about [-1, 1]: a sum of ``waves`` random plane waves."""
    yy, xx = np.mgrid[0:side, 0:side] / side
    f = np.zeros((side, side))
    for _ in range(waves):
        k = rng.uniform(0.5, 3.0, size=2) * rng.choice([-1, 1], size=2)
        f += np.sin(2 * np.pi * (k[0] * xx + k[1] * yy) + rng.uniform(0, 2 * np.pi))
    return f / np.sqrt(waves)


def _strokes(rng, side, palette):
    from PIL import Image, ImageDraw

    field = _smooth_field(rng, side)  # the strokes' angle
    shade = _smooth_field(rng, side)  # which palette colour dominates where
    img = Image.new("RGB", (side, side), tuple(int(v) for v in palette[0]))
    draw = ImageDraw.Draw(img)
    length, width = rng.uniform(0.04, 0.09) * side, max(2, int(rng.uniform(0.012, 0.03) * side))
    for _ in range(int(rng.uniform(3, 6) * side * side / (length * width))):
        x, y = rng.uniform(0, side, size=2)
        i, j = min(int(y), side - 1), min(int(x), side - 1)
        a = np.pi * field[i, j]
        k = int(np.clip((shade[i, j] + 1) / 2 * len(palette) + rng.normal(0, 0.7), 0, len(palette) - 1))
        colour = np.clip(palette[k].astype(int) + rng.integers(-20, 21, size=3), 0, 255)
        dx, dy = np.cos(a) * length / 2, np.sin(a) * length / 2
        draw.line((x - dx, y - dy, x + dx, y + dy), fill=tuple(int(c) for c in colour), width=width)
    return img


def _dots(rng, side, palette):
    from PIL import Image, ImageDraw

    shade = _smooth_field(rng, side, waves=6)
    img = Image.new("RGB", (side, side), (250, 248, 240))
    draw = ImageDraw.Draw(img)
    r = max(1.5, rng.uniform(0.006, 0.014) * side)
    for _ in range(int(2.5 * side * side / (np.pi * r * r))):
        x, y = rng.uniform(0, side, size=2)
        k = int(np.clip((shade[min(int(y), side - 1), min(int(x), side - 1)] + 1) / 2 * len(palette) + rng.normal(0, 1.0), 0, len(palette) - 1))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(int(c) for c in palette[k]))
    return img


def _blocks(rng, side, palette):
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (side, side), (240, 236, 225))
    draw = ImageDraw.Draw(img)
    line = max(2, int(rng.uniform(0.01, 0.025) * side))
    boxes = [(0.0, 0.0, float(side), float(side))]
    for _ in range(int(rng.integers(6, 14))):  # split a random box along its longer side
        b = boxes.pop(int(rng.integers(len(boxes))))
        w, h = b[2] - b[0], b[3] - b[1]
        if max(w, h) < 6 * line:
            boxes.append(b)
            continue
        t = rng.uniform(0.3, 0.7)
        boxes += [(b[0], b[1], b[0] + t * w, b[3]), (b[0] + t * w, b[1], b[2], b[3])] if w > h else [(b[0], b[1], b[2], b[1] + t * h), (b[0], b[1] + t * h, b[2], b[3])]
    for b in boxes:
        fill = (240, 236, 225) if rng.random() < 0.4 else tuple(int(c) for c in palette[rng.integers(len(palette))])
        draw.rectangle(b, fill=fill, outline=(20, 20, 25), width=line)
    return img


def _waves(rng, side, palette):
    from PIL import Image

    yy, xx = np.mgrid[0:side, 0:side] / side
    bend = 0.15 * _smooth_field(rng, side, waves=3)
    a = rng.uniform(0, np.pi)
    bands = rng.uniform(8, 20)
    t = (np.cos(a) * xx + np.sin(a) * yy + bend) * bands  # (side, side) band coordinate
    k = np.floor(t).astype(int) % len(palette)
    return Image.fromarray(palette[k])


_DRAW = {"strokes": _strokes, "dots": _dots, "blocks": _blocks, "waves": _waves}


def painted_style(kind: str, size: int = 256, seed: int = 0) -> torch.Tensor:
    """A ``size`` x ``size`` painting in one of :data:`PAINTING_KINDS`: float32 ``(3, size, size)`` in [-1, 1].

    Drawn at twice the size and reduced with a box filter, so edges are antialiased as a photographed canvas's.

    Chapter 10.
    """
    check_choice(kind, PAINTING_KINDS, "painting kind")
    size = check_size(size)
    rng = np.random.default_rng([seed, PAINTING_KINDS.index(kind)])
    from PIL import Image

    img = _DRAW[kind](rng, 2 * size, _palette(rng)).resize((size, size), Image.Resampling.BOX)
    return from_uint8(torch.from_numpy(np.asarray(img).copy()).permute(2, 0, 1))


__all__ = ["PAINTING_KINDS", "painted_style"]
