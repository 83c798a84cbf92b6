"""Image files in and out: one image from anywhere a reader has one, and the one decode path every reader shares.

``load_image(source, size)`` is what the style-transfer chapters and ``python -m genlearn stylize``
read content and style images with. Names (:func:`~genlearn.data.list_photos`,
:func:`~genlearn.data.list_textures`) load offline; an ``http(s)://`` URL is downloaded once into
``~/.cache/genlearn/images`` (without a network: :class:`DatasetUnavailableError`, one sentence).
Grayscale files become three equal channels; anything unreadable is a ValueError that says so.

:func:`read_image` and :func:`write_image` are the files of ``python -m genlearn translate`` and ``stylize``;
:func:`read_image` is also how :func:`~genlearn.data.folders.load_image_folder` reads each image, and the
pix2pix and CycleGAN folders decode through the same path.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import torch

from genlearn.checks import from_uint8, to_unit

from ._common import check_size
from .archives import _fetch
from .images import STYLE_SPLITS, fit_size, list_photos, list_textures, load_photo, load_texture
from .paintings import painted_style

IMAGE_CACHE = "~/.cache/genlearn/images"
GREY_MODES = ("1", "L", "LA", "I", "I;16", "F")  # Pillow modes that read_image(channels=None) keeps as one channel


def _center_square(im):
    w, h = im.size
    s = min(w, h)
    return im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))


def _decode(path: str | Path, channels: int | None, crop=None, size: int | None = None) -> torch.Tensor:
    """The one path from an image file to a tensor: decode, convert to grayscale or RGB (``channels`` 1 or 3; None: 1
    for a file in a grayscale mode, else 3), ``crop`` (a function of the Pillow image), resize to ``size`` x ``size``
    (bicubic) -> float32 ``(C, H, W)`` in [-1, 1]. Pillow's errors pass through: each reader words its own."""
    from PIL import Image

    with Image.open(path) as im:
        im.load()
        if channels is None:
            channels = 1 if im.mode in GREY_MODES else 3
        im = im.convert("L" if channels == 1 else "RGB")  # grayscale and palette images converted
        if crop is not None:
            im = crop(im)
        if size is not None:
            im = im.resize((size, size), Image.Resampling.BICUBIC)
        x = torch.from_numpy(np.asarray(im).copy())  # (H, W) or (H, W, 3) uint8
    return from_uint8(x[None] if channels == 1 else x.permute(2, 0, 1))


def read_image(path: str | Path, channels: int | None = 3, size: int | None = None) -> torch.Tensor:
    """One image file (any size and mode Pillow reads) as float32 ``(C, H, W)`` in [-1, 1].

    Args:
        path: the image file.
        channels: 1 (grayscale) or 3 (RGB), converting what the file holds; None: 1 for a grayscale file, else 3.
        size: None keeps the image as it is; an int centre-crops it to a square and resizes that (bicubic) to
            ``size`` x ``size``, as the training folders are read.

    Raises:
        ValueError: the file is not a readable image (one sentence naming it).

    Chapters 7 and 8 (``python -m genlearn translate`` reads its image files with it).
    """
    if channels not in (1, 3, None):
        raise ValueError(f"channels must be 1 (grayscale), 3 (RGB) or None (as the file is), got {channels!r}")
    from PIL import UnidentifiedImageError

    size = None if size is None else check_size(size)
    try:
        return _decode(path, channels, _center_square if size is not None else None, size)
    except (UnidentifiedImageError, OSError) as e:
        raise ValueError(f"{path} is not a readable image ({type(e).__name__})") from None


def write_image(path: str | Path, x: torch.Tensor) -> None:
    """Write ``x``, ``(C, H, W)`` in [-1, 1] with C 1 or 3 (clamped), as an 8-bit image file; the suffix of ``path``
    (.png, .jpg, ...) sets the format.

    Chapters 7 and 8 (``python -m genlearn translate`` writes its image files with it).
    """
    if x.dim() != 3 or x.shape[0] not in (1, 3):
        raise ValueError(f"write_image needs an image (C, H, W) with 1 or 3 channels, got shape {tuple(x.shape)}")
    from PIL import Image

    array = (to_unit(x.detach().clamp(-1, 1)) * 255).round().to(torch.uint8).cpu().numpy()  # (C, H, W)
    Image.fromarray(array[0] if array.shape[0] == 1 else array.transpose(1, 2, 0)).save(path)


def load_image(source: str | Path, size: int | tuple[int, int] | None = None, cache: str | Path = IMAGE_CACHE) -> torch.Tensor:
    """An RGB image as float32 ``(3, H, W)`` in [-1, 1].

    Args:
        source: a photo or texture name ("chelsea", "brick", ...), a painting of ``list_styles("unseen")``
            ("strokes-100", drawn by :func:`~genlearn.data.painted_style`), an image file, or an http(s) URL.
        size: None keeps the image's size; an int sets the shorter side (aspect kept); ``(H, W)`` exactly.
        cache: where downloaded URLs are kept.

    Chapters 9 and 10.
    """
    source = str(source)
    if source in list_photos():
        return load_photo(source, size)
    if source in list_textures():
        return load_texture(source, size)
    if source in STYLE_SPLITS["unseen"]:  # "KIND-SEED": drawn square at the larger side asked for, then fitted
        kind, seed = source.rsplit("-", 1)
        side = 256 if size is None else size if isinstance(size, int) else max(size)
        return fit_size(painted_style(kind, side, int(seed)), size)
    if urlparse(source).scheme in ("http", "https"):
        folder = Path(cache).expanduser()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / (hashlib.sha256(source.encode()).hexdigest()[:16] + Path(urlparse(source).path).suffix)
        if not path.is_file():
            _fetch(source, path, timeout=20.0, size=None, alternative=f"use a local file or a shipped image ({', '.join(list_photos()[:3])}, ...)")
    else:
        path = Path(source).expanduser()
        if not path.is_file():
            raise ValueError(f"{source} is neither an image file nor a shipped image; names: {', '.join(list_photos() + list_textures() + STYLE_SPLITS['unseen'])}")
    from PIL import UnidentifiedImageError

    try:
        x = _decode(path, 3)  # (3, H, W)
    except (UnidentifiedImageError, OSError) as e:
        raise ValueError(f"{source} is not a readable image ({type(e).__name__})") from None
    return fit_size(x, size)


__all__ = ["IMAGE_CACHE", "load_image", "read_image", "write_image"]
