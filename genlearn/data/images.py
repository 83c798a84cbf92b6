"""Photos, textures and faces that ship inside installed wheels, and random crops over them.

Every file here is read straight from the package folder of scikit-image, scikit-learn or matplotlib,
so nothing is ever downloaded (scikit-image's own loaders would fetch some images with pooch).
Images come back as float32 ``(C, H, W)`` in [-1, 1].
"""

from __future__ import annotations

import functools
from typing import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from genlearn.checks import from_uint8

from ._common import check_choice, check_size, package_file, resize

# name -> (package, path inside the package, pip name)
_PHOTO_FILES: dict[str, tuple[str, str, str]] = {
    "astronaut": ("skimage", "data/astronaut.png", "scikit-image"),  # Eileen Collins, 512x512 RGB
    "camera": ("skimage", "data/camera.png", "scikit-image"),  # cameraman, 512x512 gray
    "chelsea": ("skimage", "data/chelsea.png", "scikit-image"),  # a cat, 300x451 RGB
    "coffee": ("skimage", "data/coffee.png", "scikit-image"),  # 400x600 RGB
    "rocket": ("skimage", "data/rocket.jpg", "scikit-image"),  # 427x640 RGB
    "immunohistochemistry": ("skimage", "data/ihc.png", "scikit-image"),  # stained tissue, 512x512 RGB
    "hubble_deep_field": ("skimage", "data/hubble_deep_field.jpg", "scikit-image"),  # 872x1000 RGB
    "retina": ("skimage", "data/retina.jpg", "scikit-image"),  # 1411x1411 RGB
    "motorcycle": ("skimage", "data/motorcycle_left.png", "scikit-image"),  # 500x741 RGB
    "moon": ("skimage", "data/moon.png", "scikit-image"),  # 512x512 gray
    "coins": ("skimage", "data/coins.png", "scikit-image"),  # 303x384 gray
    "china": ("sklearn", "datasets/images/china.jpg", "scikit-learn"),  # 427x640 RGB
    "flower": ("sklearn", "datasets/images/flower.jpg", "scikit-learn"),  # 427x640 RGB
    "grace_hopper": ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg", "matplotlib"),  # 600x512 RGB
}
_TEXTURE_FILES: dict[str, tuple[str, str, str]] = {
    "brick": ("skimage", "data/brick.png", "scikit-image"),  # 512x512 gray
    "grass": ("skimage", "data/grass.png", "scikit-image"),  # 512x512 gray
    "gravel": ("skimage", "data/gravel.png", "scikit-image"),  # 512x512 gray
}
FACES_PER_SIDE = 25


# Held-out photos for the paired-translation chapter (no photo is in both splits): four RGB photos of
# different kinds (a portrait, food, a plant, a machine); the other ten train.
TEST_PHOTOS = ("astronaut", "coffee", "flower", "motorcycle")
PHOTO_SPLITS = ("train", "test", "all")


def list_photos(split: str = "all") -> tuple[str, ...]:
    """Names accepted by :func:`load_photo` (all load offline), sorted.

    Args:
        split: "all" (14 photos), "test" (:data:`TEST_PHOTOS`, 4) or "train" (the other 10), so a
            model trained on crops of the train photos is scored on photos it never saw.

    Chapters 0, 8, 10 and 12.
    """
    check_choice(split, PHOTO_SPLITS, "split")
    names = sorted(_PHOTO_FILES)
    if split == "all":
        return tuple(names)
    return tuple(n for n in names if (n in TEST_PHOTOS) == (split == "test"))


# Style images for the style-transfer chapters: "train", every image that ships offline except the four photos held
# out as content tests (the ten training photos and the three textures); "unseen", paintings drawn by
# genlearn.data.paintings, a process no training style comes from (chapter 10 scores AdaIN on them).
STYLE_SPLITS = {
    "train": ("brick", "camera", "chelsea", "china", "coins", "grace_hopper", "grass", "gravel", "hubble_deep_field",
              "immunohistochemistry", "moon", "retina", "rocket"),
    "unseen": ("strokes-100", "dots-100", "blocks-100", "waves-100", "strokes-101", "dots-101", "blocks-101", "waves-101"),
}  # fmt: skip


def list_styles(split: str = "all") -> tuple[str, ...]:
    """Names of the offline style images, all loadable with :func:`load_image`: "train" (13: the ten training photos
    and three textures), "unseen" (8 paintings drawn by :func:`~genlearn.data.painted_style`, named
    ``"KIND-SEED"``) or "all".

    Chapter 10.
    """
    check_choice(split, ("train", "unseen", "all"), "split")
    return STYLE_SPLITS["train"] + STYLE_SPLITS["unseen"] if split == "all" else STYLE_SPLITS[split]


def image_crops(images: Sequence[torch.Tensor], crop: int, n: int, seed: int = 0) -> torch.Tensor:
    """``n`` random ``crop`` x ``crop`` crops (n, C, crop, crop) of ``images`` (a list of (C, H, W)), fixed by ``seed``:
    the photo crops that style-transfer networks train on (:class:`RandomCropDataset`, flips included).

    Chapters 10 and 12.
    """
    crops = RandomCropDataset(list(images), crop=crop, length=n, seed=seed)
    return torch.stack([crops[i] for i in range(n)])


def style_training_crops(images: Sequence[torch.Tensor], crop: int, n: int, seed: int = 0, scales: Sequence[float] = (1.0, 1.5, 2.0, 3.0),
                         recoloured: float = 0.5) -> torch.Tensor:  # fmt: skip
    """``n`` crops (n, 3, crop, crop) of style ``images`` (a list of (3, H, W)) at several scales, a share recoloured:
    the style set of an arbitrary-style network (chapter 10's AdaIN), stretched beyond the images themselves.

    Each image is resized so that its shorter side is ``s * crop`` for each ``s`` in ``scales`` (1: a crop shows the
    whole image's width, its large-scale layout; 3: a third of it, its fine texture), ``n / len(scales)`` crops are
    cut at each, and a ``recoloured`` share of all crops get a random hue, saturation and channel order
    (:func:`~genlearn.data.colour_variants`), so the palettes are not only those of the few images.
    Everything is fixed by ``seed``.

    Chapter 10.
    """
    from .colour import colour_variants

    if not images:
        raise ValueError("style_training_crops needs at least one style image")
    if not 0.0 <= recoloured <= 1.0 or not scales or min(scales) < 1.0:
        raise ValueError(f"recoloured must be in [0, 1] and every scale >= 1 (a crop fits in the image), got {recoloured} and {tuple(scales)}")
    counts = [n // len(scales) + (k < n % len(scales)) for k in range(len(scales))]
    parts = [image_crops([fit_size(im, round(s * crop)) for im in images], crop, m, seed=seed + 1 + k)
             for k, (s, m) in enumerate(zip(scales, counts)) if m]  # fmt: skip
    crops = torch.cat(parts)  # (n, 3, crop, crop)
    chosen = torch.randperm(n, generator=torch.Generator().manual_seed(seed))[: round(recoloured * n)]
    if len(chosen):
        crops[chosen] = colour_variants(crops[chosen], seed=seed)
    return crops


def list_textures() -> tuple[str, ...]:
    """Names accepted by :func:`load_texture` (all load offline).

    Chapter 0.
    """
    return tuple(sorted(_TEXTURE_FILES))


@functools.lru_cache(maxsize=32)
def _read_rgb(package: str, relpath: str, pip_name: str) -> np.ndarray:
    from PIL import Image

    path = package_file(package, *relpath.split("/"), pip_name=pip_name)
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))  # (H, W, 3) uint8; gray files get 3 equal channels


def _load(files: dict, name: str, what: str, size: int | tuple[int, int] | None, channels: int) -> torch.Tensor:
    check_choice(name, tuple(sorted(files)), what)
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 (gray) or 3 (RGB), got {channels!r}")
    rgb = torch.from_numpy(_read_rgb(*files[name]).copy()).permute(2, 0, 1)  # (3, H, W) uint8
    x = from_uint8(rgb)
    if channels == 1:
        # ITU-R BT.601 luma, as PIL's convert("L")
        x = (0.299 * x[0:1] + 0.587 * x[1:2] + 0.114 * x[2:3]).clamp(-1, 1)
    return fit_size(x, size)


def fit_size(x: torch.Tensor, size: int | tuple[int, int] | None) -> torch.Tensor:
    """(C, H, W) resized so the *shorter* side is ``size`` (aspect kept), or to exactly ``(H, W)``; None: unchanged.

    Chapter 9 (the photos of the style-transfer chapters).
    """
    if size is None:
        return x
    if isinstance(size, int):
        h, w = x.shape[-2:]
        size = check_size(size)
        hw = (size, max(1, round(w * size / h))) if h <= w else (max(1, round(h * size / w)), size)
    else:
        hw = (check_size(size[0]), check_size(size[1]))
    return resize(x[None], hw)[0]


def load_photo(name: str, size: int | tuple[int, int] | None = None, channels: int = 3) -> torch.Tensor:
    """A photo from scikit-image, scikit-learn or matplotlib, read from the installed package.

    Args:
        name: one of :func:`list_photos`.
        size: None keeps the native size; an int resizes the *shorter* side to ``size`` keeping the
            aspect ratio; ``(H, W)`` resizes to exactly that (bilinear, antialiased).
        channels: 3 (gray photos get three equal channels) or 1 (RGB photos become BT.601 luma).

    Returns:
        float32 ``(channels, H, W)`` in [-1, 1].

    Chapters 0 and 12.
    """
    return _load(_PHOTO_FILES, name, "photo", size, channels)


def load_texture(name: str, size: int | tuple[int, int] | None = None, channels: int = 3) -> torch.Tensor:
    """A 512x512 grayscale texture from scikit-image ("brick", "grass", "gravel").

    Args and returns as :func:`load_photo`; ``channels=3`` (default) repeats the gray channel, which
    is what VGG-based texture losses expect.

    Chapter 0.
    """
    return _load(_TEXTURE_FILES, name, "texture", size, channels)


def load_faces(size: int = FACES_PER_SIDE) -> tuple[torch.Tensor, torch.Tensor]:
    """The 100 face images of scikit-image's ``lfw_subset`` (Labeled Faces in the Wild, 25x25 gray).

    The file holds 200 images: the first 100 are faces, the last 100 random non-face patches; only
    the faces are returned. Small, but enough to see a face GAN or VAE start to work offline.

    Args:
        size: output side in pixels (native 25).

    Returns:
        x: float32 ``(100, 1, size, size)`` in [-1, 1].
        y: int64 ``(100,)`` zeros (one class; returned so every loader gives ``(x, y)``).

    Chapter 11 (and the tour in Chapter 0).
    """
    size = check_size(size)
    path = package_file("skimage", "data", "lfw_subset.npy", pip_name="scikit-image")
    faces = np.load(path)[:100]  # (100, 25, 25) float64 in [0, 1]
    x = torch.from_numpy(faces).float().mul(2).sub(1).unsqueeze(1)  # (100, 1, 25, 25)
    return resize(x, size), torch.zeros(len(x), dtype=torch.int64)


class RandomCropDataset(Dataset):
    """Random square crops over a few large images: a dataset of patches for texture and SinGAN-style
    models.

    Item ``i`` is always the same crop for a given ``seed``: its image, position and flip are drawn
    from ``numpy.random.default_rng([seed, i])``, so it does not depend on the order items are read
    or on the number of DataLoader workers.

    Args:
        images: a list of ``(C, H, W)`` tensors (same C) or one ``(N, C, H, W)`` tensor, in [-1, 1].
        crop: crop side ``s`` or ``(h, w)`` in pixels; must fit inside every image.
        length: number of items (crops) in one epoch.
        seed: seed of the crop positions.
        flip: also flip half of the crops horizontally.

    Returns (per item):
        float32 ``(C, h, w)``.

    Chapter 0.
    """

    def __init__(
        self,
        images: Sequence[torch.Tensor] | torch.Tensor,
        crop: int | tuple[int, int],
        length: int,
        seed: int = 0,
        flip: bool = True,
    ) -> None:
        images = list(images)
        if not images:
            raise ValueError("images is empty; pass a list of (C, H, W) tensors, e.g. [load_photo('astronaut')]")
        for i, im in enumerate(images):
            if not isinstance(im, torch.Tensor) or im.dim() != 3:
                shape = tuple(im.shape) if isinstance(im, torch.Tensor) else type(im).__name__
                raise ValueError(f"images[{i}] must be a (C, H, W) tensor, got {shape}")
            if im.shape[0] != images[0].shape[0]:
                raise ValueError(f"images[{i}] has {im.shape[0]} channels but images[0] has {images[0].shape[0]}")
        self.crop = (crop, crop) if isinstance(crop, int) else tuple(crop)
        for i, im in enumerate(images):
            if self.crop[0] > im.shape[1] or self.crop[1] > im.shape[2] or min(self.crop) < 1:
                raise ValueError(
                    f"crop {self.crop[0]}x{self.crop[1]} does not fit images[{i}] of size "
                    f"{im.shape[1]}x{im.shape[2]}; use a smaller crop or a larger image"
                )
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise ValueError(f"length must be a positive int, got {length!r}")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        self.images, self.length, self.seed, self.flip = images, length, seed, flip

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> torch.Tensor:
        if not -self.length <= index < self.length:
            raise IndexError(f"index {index} out of range for {self.length} crops")
        index %= self.length
        rng = np.random.default_rng([self.seed, index])
        im = self.images[int(rng.integers(len(self.images)))]
        (h, w), (H, W) = self.crop, im.shape[1:]
        top, left = int(rng.integers(H - h + 1)), int(rng.integers(W - w + 1))
        patch = im[:, top : top + h, left : left + w]  # (C, h, w)
        if self.flip and rng.random() < 0.5:
            patch = patch.flip(-1)
        return patch.clone()
