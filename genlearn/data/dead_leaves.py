"""Dead-leaves images: backgrounds with the clutter of natural scenes, drawn from a palette alone (chapter 8).

Matheron's dead-leaves model lets opaque shapes ("leaves") fall one after another at random places, each hiding what
lies beneath. Lee, Mumford & Huang (2001) made it scale-invariant by drawing disc radii with density

    p(r) proportional to r^-3,   r_min <= r <= r_max,

and found that these images come close to natural images' elementary statistics (filter responses at every scale,
co-occurrences of pixel pairs); Achddou, Gousseau & Ladjal (2021) train denoising networks on them and come near
the results of training on photos. The watermark remover uses them the same way: its gate must learn what a mark
looks like on clutter it has not seen, and 10 training photos hold little clutter (chapter 8).

:func:`dead_leaves` paints discs in the order they fall (a later disc covers an earlier one), coloured with pixels of
a palette (:func:`palette_from`, e.g. the training photos' colours), and blurs half of the images slightly, as a
lens would. Everything is drawn from ``numpy.random.default_rng([seed, 7])``: the same arguments give the same image
on every machine.
"""

from __future__ import annotations

import numpy as np

from ._common import check_size

_STREAM = 7  # the dead-leaves draws are numpy stream (seed, 7)


def leaf_radii(rng: np.random.Generator, n: int, r_min: float, r_max: float) -> np.ndarray:
    """``n`` radii with density proportional to r^-3 on [r_min, r_max] (Lee, Mumford & Huang 2001) -> (n,) float.

    Inverse-CDF sampling: F(r) = (r_min^-2 - r^-2) / (r_min^-2 - r_max^-2), so r = (r_min^-2 - u (r_min^-2 - r_max^-2))^-1/2
    for u uniform on [0, 1).

    Chapter 8.
    """
    if not 0 < r_min < r_max:
        raise ValueError(f"radii need 0 < r_min < r_max, got r_min={r_min} and r_max={r_max}")
    u = rng.uniform(size=n)
    return 1 / np.sqrt(1 / r_min**2 - u * (1 / r_min**2 - 1 / r_max**2))


def palette_from(images: list[np.ndarray], n: int = 20_000, seed: int = 0) -> np.ndarray:
    """About ``n`` pixels drawn from uint8 ``(H, W, 3)`` ``images``, the same number from each -> uint8 (n, 3): a palette.

    Chapter 8.
    """
    if not images:
        raise ValueError("palette_from needs at least one image to draw colours from")
    rng = np.random.default_rng(seed)
    per_image = n // len(images)
    return np.concatenate([im.reshape(-1, 3)[rng.integers(0, im.shape[0] * im.shape[1], size=per_image)] for im in images])


def dead_leaves(side: int, seed: int, palette: np.ndarray, *, r_min: float = 1.5, r_max: float | None = None,
                leaves: int | None = None, blur: bool | None = None) -> np.ndarray:  # fmt: skip
    """A ``side`` x ``side`` dead-leaves image -> uint8 ``(side, side, 3)``.

    Args:
        side: image side in pixels.
        seed: the draws (radii, places, colours, blur).
        palette: uint8 ``(K, 3)`` colours; each leaf takes one at random, and so does the background beneath them.
        r_min, r_max: the radii's range in pixels (default ``r_max``: a fifth of the side).
        leaves: how many discs fall (default ``side**2 / 12``: the first ones are covered many times over).
        blur: a Gaussian blur of radius 0.4-1.0 pixel; None: on half of the seeds.

    Chapter 8.
    """
    from PIL import Image, ImageDraw, ImageFilter

    side = check_size(side, "side")
    palette = np.asarray(palette)
    if palette.ndim != 2 or palette.shape[1] != 3 or len(palette) == 0:
        raise ValueError(f"palette holds RGB colours, shape (K, 3) with K >= 1; got {palette.shape}")
    n = int(side * side / 12) if leaves is None else leaves
    if n < 1:
        raise ValueError(f"leaves is how many discs fall, at least 1; got {leaves}")
    rng = np.random.default_rng([seed, _STREAM])
    r_max = 0.2 * side if r_max is None else r_max
    img = Image.new("RGB", (side, side), tuple(int(v) for v in palette[rng.integers(len(palette))]))
    draw = ImageDraw.Draw(img)
    radii = leaf_radii(rng, n, r_min, r_max)  # (n,)
    xs, ys = rng.uniform(-r_max, side + r_max, size=(2, n))  # centres, also just outside: leaves cut by the border
    colours = palette[rng.integers(len(palette), size=n)]  # (n, 3)
    for x, y, r, c in zip(xs, ys, radii, colours):  # in the order they fall: a later leaf covers an earlier one
        draw.ellipse([x - r, y - r, x + r, y + r], fill=tuple(int(v) for v in c))
    blurred = rng.random() < 0.5 if blur is None else blur
    if blurred:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.0)))
    return np.asarray(img, np.uint8).copy()


__all__ = ["dead_leaves", "leaf_radii", "palette_from"]
