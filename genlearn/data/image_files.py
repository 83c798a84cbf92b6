"""One image from anywhere a reader has one: a shipped photo or texture by name, a file, or a URL.

``load_image(source, size)`` is what the style-transfer chapters and ``python -m genlearn stylize``
read content and style images with. Names (:func:`~genlearn.data.list_photos`,
:func:`~genlearn.data.list_textures`) load offline; an ``http(s)://`` URL is downloaded once into
``~/.cache/genlearn/images`` (without a network: :class:`DatasetUnavailableError`, one sentence).
Grayscale files become three equal channels; anything unreadable is a ValueError that says so.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import torch

from genlearn.checks import from_uint8

from .archives import _fetch
from .images import fit_size, list_photos, list_textures, load_photo, load_texture

IMAGE_CACHE = "~/.cache/genlearn/images"


def load_image(source: str | Path, size: int | tuple[int, int] | None = None, cache: str | Path = IMAGE_CACHE) -> torch.Tensor:
    """An RGB image as float32 ``(3, H, W)`` in [-1, 1].

    Args:
        source: a photo or texture name ("chelsea", "brick", ...), an image file, or an http(s) URL.
        size: None keeps the image's size; an int sets the shorter side (aspect kept); ``(H, W)`` exactly.
        cache: where downloaded URLs are kept.

    Chapters 9 and 10.
    """
    source = str(source)
    if source in list_photos():
        return load_photo(source, size)
    if source in list_textures():
        return load_texture(source, size)
    if urlparse(source).scheme in ("http", "https"):
        folder = Path(cache).expanduser()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / (hashlib.sha256(source.encode()).hexdigest()[:16] + Path(urlparse(source).path).suffix)
        if not path.is_file():
            _fetch(source, path, timeout=20.0, size=None, alternative=f"use a local file or a shipped image ({', '.join(list_photos()[:3])}, ...)")
    else:
        path = Path(source).expanduser()
        if not path.is_file():
            raise ValueError(f"{source} is neither an image file nor a shipped image; names: {', '.join(list_photos() + list_textures())}")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            rgb = np.asarray(im.convert("RGB")).copy()  # (H, W, 3); grayscale and palette images converted
    except (UnidentifiedImageError, OSError) as e:
        raise ValueError(f"{source} is not a readable image ({type(e).__name__})") from None
    return fit_size(from_uint8(torch.from_numpy(rgb).permute(2, 0, 1)), size)


__all__ = ["IMAGE_CACHE", "load_image"]
