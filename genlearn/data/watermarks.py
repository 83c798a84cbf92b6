"""Watermark removal pairs built offline from real photos: (marked, clean) crops for pix2pix (chapter 8).

``watermark_pairs(split, n, size, seed, marks, scale, unmarked)`` cuts ``n`` random square crops from the photos
of ``split`` (:func:`genlearn.data.list_photos`: no photo is in both splits) and composites semi-transparent marks
over them. The clean crop is the target and is never touched. The mark sets (:data:`MARK_STYLES`):

* ``"train"`` and ``"held-out"``: the marks of chapter 8's ablations, one or two visible single marks (text,
  sometimes a ring logo) at +-40 degrees; "train" in 5 DejaVu and Computer Modern fonts at opacity 0.45-0.75,
  "held-out" in fonts and texts it never uses, more opaque (0.75-0.9).
* ``"broad"``: the marks users meet, drawn broadly -- a single mark (sometimes two, sometimes with a ring logo) or a
  tiled grid of one text, at any angle, opacity 0.2 to 0.9, light or dark grey, in 13 DejaVu and Computer Modern
  fonts, with 26 words or random codes.
* ``"unseen"``: another procedure, with what "broad" never shows -- STIX fonts, other texts, outlined letters,
  tinted colours (pale yellow, sky blue, dark red ...), rows laid brick-wise on a staggered lattice, and framed
  rectangular stamps -- so that a model can be scored on marks made differently from the ones it learned from.
* ``"faint-tiled"``: the "unseen" procedure limited to what a new user tried on the first edition's remover: faint
  (opacity 0.3 to 0.6), tiled and rotated marks in the STIX fonts, light and dark grey.
* ``"broad-faint"``: the "broad" procedure limited as "faint-tiled" is (its opacity, sizes and tiling), in the
  training fonts and texts: beside "faint-tiled" it tells what faint tiled marks cost from what unseen fonts cost.

``unmarked`` leaves that share of the crops clean (``x == y``), so that a model also learns to leave a clean photo
alone; ``unmarked=1.0`` gives the same crops without any mark, which a remover must return unchanged. ``scale`` is
the crop side that photos and marks are sized for (default ``size``): photos are resized so their shorter side is
``4 * scale`` and the marks of "broad", "unseen" and "faint-tiled" are sized as fractions of ``scale``, so 64-pixel crops with
``scale=128`` show the pixels of 128-pixel crops a quarter at a time. Everything is drawn from
``numpy.random.default_rng([seed, i])`` for item ``i``: the same arguments give the same pairs on every machine,
and the crops do not depend on ``marks``. ``backgrounds="varied"`` (training only) cuts the crops from more than the
10 training photos (:func:`background_arrays`, dead-leaves clutter among them): a remover trained on 10 photos
learns those photos.
"""

from __future__ import annotations

import colorsys

import numpy as np
import torch

from genlearn.checks import from_uint8

from ._common import check_choice, check_size
from .colour import colour_variants
from .dead_leaves import dead_leaves, palette_from
from .digits import _font
from .images import list_photos, load_photo, load_texture
from .paintings import PAINTING_KINDS, painted_style

_TRAIN_FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf", "DejaVuSerif.ttf",
                "DejaVuSerif-Bold.ttf", "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSansDisplay.ttf",
                "cmss10.ttf", "cmtt10.ttf", "cmr10.ttf", "cmb10.ttf")  # fmt: skip
_TRAIN_TEXTS = ("© genlearn", "SAMPLE", "PROOF", "stock photo", "DRAFT", "© 2024", "watermark", "PREVIEW", "© photo agency",
                "do not copy", "licensed", "shutter", "© 2019 images", "specimen", "not for sale", "getty", "istock",
                "www.example.com", "@photographer", "ID 4471203", "UNPAID", "review copy", "© all rights reserved",
                "DEMO", "proof 2/5", "Photo by Ana")  # fmt: skip
_HELD_OUT_FONTS = ("STIXGeneral.ttf", "STIXGeneralBol.ttf", "STIXGeneralItalic.ttf", "STIXGeneralBolIta.ttf")
_HELD_OUT_TEXTS = ("CONFIDENTIAL", "© studio", "preview only", "COPY", "Bildrechte", "épreuve", "property of M. Lee", "COMP",
                   "© Nordlicht 1998", "for approval")  # fmt: skip

MARK_STYLES = {
    "train": {
        "process": "single",
        "fonts": ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf", "cmss10.ttf"),
        "texts": ("© genlearn", "SAMPLE", "PROOF", "stock photo", "DRAFT", "© 2024", "watermark"),
        "opacity": (0.45, 0.75),  # visible stock-photo marks (fainter ones leave little to remove)
        "size": (0.18, 0.4),  # text height as a fraction of the crop side
    },
    "held-out": {
        "process": "single",
        "fonts": ("STIXGeneral.ttf", "STIXGeneralBol.ttf", "DejaVuSerif-Italic.ttf"),
        "texts": ("CONFIDENTIAL", "© studio", "preview only", "COPY"),
        "opacity": (0.75, 0.9),  # more opaque than any training mark
        "size": (0.18, 0.4),
    },
    "broad": {
        "process": "layers",
        "codes": True,  # and random codes of capitals and digits (_text)
        "fonts": _TRAIN_FONTS,
        "texts": _TRAIN_TEXTS,
        "opacity": (0.2, 0.9),
        "size": (0.07, 0.35),  # text height as a fraction of ``scale``
        "tiled": 0.5,  # share of marked crops with a tiled grid instead of single marks
    },
    "unseen": {
        "process": "layers",
        "fonts": _HELD_OUT_FONTS,
        "texts": _HELD_OUT_TEXTS,
        "opacity": (0.3, 0.9),
        "size": (0.07, 0.3),
        "tiled": 0.5,
        "tinted": 0.5,  # share of marks in a colour instead of grey
        "outlined": 0.4,  # share of marks drawn as hollow outlines
        "stamp": 0.3,  # share of single marks framed by a rectangle
        "brick": True,  # the "unseen" procedure: staggered rows, stamps instead of ring logos
    },
    "faint-tiled": {
        "process": "layers",
        "fonts": _HELD_OUT_FONTS,
        "texts": _HELD_OUT_TEXTS,
        "opacity": (0.3, 0.6),
        "size": (0.07, 0.2),
        "tiled": 1.0,
        "brick": True,
    },
}
MARK_STYLES["broad-faint"] = {**MARK_STYLES["broad"], **{k: MARK_STYLES["faint-tiled"][k] for k in ("opacity", "size", "tiled")}}
MARK_SETS = ("train", "held-out", "broad", "unseen", "faint-tiled", "broad-faint")
BACKGROUNDS = ("photos", "varied")
VARIED_TEXTURES = ("brick", "grass", "gravel")  # the textures AdaIN trains on too (chapter 10)
DEAD_LEAVES = 12  # dead-leaves backgrounds among the varied ones

_CODE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"  # no I or O: they read as 1 and 0


def _text(rng: np.random.Generator, style: dict) -> str:
    """One of the style's texts, or (with ``codes``, a third of the time) a random code such as "© K7QX2"."""
    if style.get("codes") and rng.random() < 1 / 3:
        return ("© " if rng.random() < 0.5 else "") + "".join(rng.choice(list(_CODE_CHARS), size=int(rng.integers(3, 10))))
    return style["texts"][rng.integers(len(style["texts"]))]


def _grey(rng: np.random.Generator) -> tuple[int, int, int]:
    """Light (200-255, 60% of marks) or dark (0-60) grey."""
    v = int(rng.uniform(200, 256)) if rng.random() < 0.6 else int(rng.uniform(0, 61))
    return v, v, v


def _tint(rng: np.random.Generator) -> tuple[int, int, int]:
    """A pale (lightness 0.85) or deep (0.25) colour of random hue: pale yellow, sky blue, dark red ..."""
    r, g, b = colorsys.hls_to_rgb(rng.uniform(), 0.85 if rng.random() < 0.6 else 0.25, rng.uniform(0.5, 0.9))
    return int(255 * r), int(255 * g), int(255 * b)


def _layer(side: int, rng: np.random.Generator, style: dict, scale: int, brick: bool, tiled: bool):
    """A transparent (side, side) RGBA layer, tiled with one text or with one text at its centre."""
    from PIL import Image, ImageDraw

    layer = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    text = _text(rng, style)
    font = _font(style["fonts"][rng.integers(len(style["fonts"]))], max(6, int(rng.uniform(*style["size"]) * scale)))
    colour = _tint(rng) if rng.random() < style.get("tinted", 0.0) else _grey(rng)
    fill = (*colour, int(255 * rng.uniform(*style["opacity"])))
    outlined = rng.random() < style.get("outlined", 0.0)
    kw = dict(font=font, anchor="mm", fill=(0, 0, 0, 0) if outlined else fill)  # outlined: the stroke alone, hollow letters
    if outlined:
        kw.update(stroke_width=max(1, font.size // 14), stroke_fill=fill)
    if tiled:
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font, anchor="mm")
        w, h = right - left, bottom - top
        dx, dy = w + rng.uniform(0.3, 1.5) * h + 1, h * rng.uniform(1.6, 3.5) + 1  # the grid's pitch
        for row, y in enumerate(np.arange(rng.uniform(0, dy), side + dy, dy)):
            shift = dx / 2 if brick and row % 2 else 0.0  # held-out: a staggered lattice
            for x in np.arange(rng.uniform(0, dx) - dx + shift, side + dx, dx):
                draw.text((x, y), text, **kw)
    else:
        draw.text((side / 2, side / 2), text, **kw)
        if not brick and rng.random() < 0.3:  # training: a ring logo beside the text
            r, cx = rng.uniform(0.06, 0.12) * scale, side / 2 - rng.uniform(0.25, 0.45) * scale
            draw.ellipse((cx - r, side / 2 - r, cx + r, side / 2 + r), outline=fill, width=max(1, int(r / 4)))
        if brick and rng.random() < style.get("stamp", 0.0):  # held-out: a rectangular stamp framing the text
            left, top, right, bottom = draw.textbbox((side / 2, side / 2), text, font=font, anchor="mm")
            pad = font.size // 3
            draw.rectangle((left - pad, top - pad, right + pad, bottom + pad), outline=fill, width=max(1, font.size // 10))
    return layer


def _single_marks(clean: np.ndarray, rng: np.random.Generator, style: dict) -> np.ndarray:
    """clean (S, S, 3) uint8 -> the same crop with 1-2 single marks alpha-composited over it ("train", "held-out")."""
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


def _layered_marks(clean: np.ndarray, rng: np.random.Generator, style: dict, scale: int, brick: bool) -> np.ndarray:
    """clean (S, S, 3) uint8 -> the same crop with a tiled grid or 1-2 single marks alpha-composited over it ("broad",
    "unseen", "faint-tiled"; ``brick``: the "unseen" procedure)."""
    from PIL import Image

    s = clean.shape[0]
    base = Image.fromarray(clean).convert("RGBA")
    for _ in range(2):
        tiled = rng.random() < style["tiled"]
        # drawn large, rotated about the centre, then a window of s x s is cut out: a grid must cover the window at
        # any angle (its corners lie within 1.06 s of the centre), a single mark must fit whole
        side = int(2.3 * s) + 2 if tiled else 3 * max(s, scale)
        layer = _layer(side, rng, style, scale, brick, tiled)
        layer = layer.rotate(rng.uniform(-180, 180), resample=Image.Resampling.BICUBIC)  # any angle
        # where the layer's centre falls in the crop: anywhere near it for a single mark, about the middle for a grid
        cx, cy = rng.uniform(0.25, 0.75, size=2) * s if tiled else rng.uniform(-0.1, 1.1, size=2) * s
        left, top = int(side / 2 - cx), int(side / 2 - cy)
        base = Image.alpha_composite(base, layer.crop((left, top, left + s, top + s)))
        if tiled or rng.random() < 0.7:  # one grid, or one single mark 70% of the time (two otherwise)
            break
    return np.asarray(base.convert("RGB"))


def watermark_pairs(split: str = "train", n: int = 256, size: int = 64, seed: int = 0, marks: str = "train",
                    scale: int | None = None, unmarked: float = 0.0, backgrounds: str = "photos") -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """``n`` (marked, clean) pairs of random ``size`` x ``size`` crops of the ``split`` photos.

    Args:
        split: "train" or "test" photos (:func:`genlearn.data.list_photos`).
        n: number of pairs; size: crop side in pixels.
        seed: the draws of crops and marks (the crops are the same for every ``marks``).
        marks: "train", "held-out", "broad", "unseen", "faint-tiled" or "broad-faint" (:data:`MARK_STYLES`; see the
            module's text).
        scale: the crop side that photos and marks are sized for (default ``size``): photos are resized so
            their shorter side is ``4 * scale`` (a crop shows a part of a scene, not a thumbnail of it) and
            the mark heights of "broad", "unseen" and "faint-tiled" are fractions of ``scale``.
        unmarked: the share of pairs left without a mark (``x == y``); the others carry at least one marked pixel.
        backgrounds: "photos" (the split's photos) or "varied" (train only: :func:`background_arrays`).

    Returns:
        x: marked crops, float32 ``(n, 3, size, size)`` in [-1, 1]; y: the clean crops, same shape.

    Chapter 8.
    """
    check_choice(split, ("train", "test"), "split")
    check_choice(marks, MARK_SETS, "marks")
    size = check_size(size)
    scale = size if scale is None else check_size(scale, "scale")
    if scale < size:
        raise ValueError(f"scale is the crop side that photos are sized for and cannot be smaller than the crops: got scale={scale}, size={size}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if not 0 <= unmarked <= 1:
        raise ValueError(f"unmarked is the share of pairs without a mark, in [0, 1]; got {unmarked!r}")
    check_choice(backgrounds, BACKGROUNDS, "backgrounds")
    if backgrounds == "varied" and split != "train":
        raise ValueError("backgrounds='varied' is for training: a test set is cut from the held-out photos alone (backgrounds='photos')")
    photos = photo_arrays(split, scale) if backgrounds == "photos" else background_arrays(scale)
    style = MARK_STYLES[marks]
    clean = np.empty((n, size, size, 3), np.uint8)
    marked = np.empty_like(clean)
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        clean[i] = random_crop(photos, rng, size)
        marked[i] = clean[i]
        if unmarked > 0 and rng.random() < unmarked:  # no draw when every crop is marked (the chapter's sets)
            continue
        if style["process"] == "single":
            marked[i] = _single_marks(clean[i], rng, style)
            continue
        for _ in range(10):  # a single mark can fall beside a small crop: draw again until a pixel changes
            marked[i] = _layered_marks(clean[i], rng, style, scale, brick=style.get("brick", False))
            if (marked[i] != clean[i]).any():
                break
    return to_tensor(marked), to_tensor(clean)


def remover_pairs(n: int = 1500, size: int = 128, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The watermark remover's training pairs: "broad" marks on ``size`` crops at the scale they are used at
    (``scale=size``), half of the crops unmarked, cut from the 57 varied backgrounds (:func:`background_arrays`)
    -> (marked, clean), (n, 3, size, size) each.

    Chapter 8 (the ``watermarks`` recipe trains on these).
    """
    return watermark_pairs("train", n=n, size=size, seed=seed, marks="broad", scale=size, unmarked=0.5, backgrounds="varied")


def photo_arrays(split: str, size: int) -> list[np.ndarray]:
    """The ``split`` photos as uint8 ``(H, W, 3)`` arrays, the shorter side ``4 * size`` (a crop shows part of a scene).

    Chapter 8.
    """
    return [((load_photo(name, size=4 * size) + 1) * 127.5).round().clamp(0, 255).byte().permute(1, 2, 0).numpy() for name in list_photos(split)]


def background_arrays(size: int) -> list[np.ndarray]:
    """57 training backgrounds as uint8 ``(H, W, 3)`` arrays, the shorter side ``4 * size``; no held-out photo among them.

    The 10 training photos, two recolourings of each (:func:`~genlearn.data.colour_variants`, seeds 100-109 and
    110-119), the textures of :data:`VARIED_TEXTURES`, 12 drawn paintings (:func:`~genlearn.data.painted_style`,
    each kind with seeds 0-2; ``list_styles("unseen")`` uses seeds 100 and 101) and 12 dead-leaves images in the
    training photos' colours (:func:`~genlearn.data.dead_leaves.dead_leaves`, seeds 0-11): clutter at every scale,
    which 10 photos hold little of.

    Chapter 8.
    """
    side = 4 * size
    photos = photo_arrays("train", size)
    as_tensors = [torch.from_numpy(p).permute(2, 0, 1).float() / 127.5 - 1 for p in photos]  # (3, H, W) in [-1, 1]
    recoloured = [colour_variants(t[None], seed=100 + 10 * k + j)[0] for k in range(2) for j, t in enumerate(as_tensors)]
    textures = [load_texture(name, side) for name in VARIED_TEXTURES]
    paintings = [painted_style(kind, side, seed=s) for kind in PAINTING_KINDS for s in range(3)]
    palette = palette_from(photos)  # (20000, 3): the training photos' colours
    leaves = [dead_leaves(side, s, palette) for s in range(DEAD_LEAVES)]
    return photos + [_to_array(t) for t in recoloured + textures + paintings] + leaves


def _to_array(t: torch.Tensor) -> np.ndarray:
    """(3, H, W) in [-1, 1] -> uint8 (H, W, 3)."""
    return ((t + 1) * 127.5).round().clamp(0, 255).byte().permute(1, 2, 0).numpy()


def random_crop(photos: list[np.ndarray], rng: np.random.Generator, size: int) -> np.ndarray:
    """A ``size`` x ``size`` crop of a photo drawn from ``photos``, at a position drawn from ``rng`` -> (S, S, 3)."""
    photo = photos[rng.integers(len(photos))]  # (H, W, 3)
    top, left = rng.integers(photo.shape[0] - size + 1), rng.integers(photo.shape[1] - size + 1)
    return photo[top : top + size, left : left + size]


def to_tensor(a: np.ndarray) -> torch.Tensor:
    """uint8 ``(N, S, S, C)`` -> float32 ``(N, C, S, S)`` in [-1, 1]."""
    return from_uint8(torch.from_numpy(a).permute(0, 3, 1, 2).contiguous())


__all__ = ["BACKGROUNDS", "DEAD_LEAVES", "MARK_SETS", "MARK_STYLES", "VARIED_TEXTURES", "background_arrays", "photo_arrays",
           "remover_pairs", "watermark_pairs"]  # fmt: skip
