"""Datasets for the book: small ones that ship inside installed wheels (offline), and loaders for the
standard benchmarks for readers with a network.

Images are float32 ``(N, C, H, W)`` (or ``(C, H, W)`` for single photos and dataset items) in
[-1, 1]. Importing this package reads no file and touches no network.

Offline: :func:`load_digits`, :func:`load_mnist_5k`, :func:`typeset_digits`, :func:`load_faces`,
:func:`load_photo`, :func:`load_texture`, :func:`toy_mixture`; styles unlike any of them: :func:`painted_style`; pairs for pix2pix from the photos:
:func:`watermark_pairs`, :func:`colorization_pairs` (:func:`get_paired` by name).
Files: :func:`load_image` (a name, file or URL), :func:`read_image` / :func:`write_image`, :func:`load_image_folder`;
the real images ``evaluate`` scores against: :func:`get_reference`, :func:`get_held_out`.
Online: :func:`load_torchvision`, :func:`download_pix2pix`, :func:`download_cyclegan`; without a
network they raise :class:`DatasetUnavailableError` naming the offline alternative.
"""

from ._common import DatasetUnavailableError
from .archives import (
    CYCLEGAN_DATASETS,
    PIX2PIX_DATASETS,
    download_archive,
    download_cyclegan,
    download_pix2pix,
)
from .colour import colour_variants, match_colour
from .digits import load_digits, load_mnist_5k, typeset_digits
from .folders import ImageFolderError, PairedImageFolder, UnpairedImageFolder, load_image_folder
from .image_files import load_image, read_image, write_image
from .images import STYLE_SPLITS, RandomCropDataset, image_crops, list_photos, list_styles, list_textures, load_faces, load_photo, load_texture, style_training_crops
from .paintings import PAINTING_KINDS, painted_style
from .paired import PAIRED_DATASETS, colorization_pairs, get_paired
from .online import TORCHVISION_DATASETS, CelebAFaces, load_torchvision
from .registry import DATASETS, OFFLINE_DATASETS, check_dataset, get_dataset, get_held_out, get_reference, is_folder_name
from .toy import MIXTURES, mixture_modes, mode_coverage, toy_mixture
from .unpaired import DIGIT_DOMAINS, UNPAIRED_DATASETS, digit_domains, get_unpaired
from .watermarks import MARK_SETS, MARK_STYLES, watermark_pairs

__all__ = [
    "STYLE_SPLITS",
    "image_crops",
    "list_styles",
    "colour_variants",
    "match_colour",
    "PAINTING_KINDS",
    "painted_style",
    "CYCLEGAN_DATASETS",
    "DATASETS",
    "DIGIT_DOMAINS",
    "MARK_SETS",
    "MARK_STYLES",
    "MIXTURES",
    "OFFLINE_DATASETS",
    "PAIRED_DATASETS",
    "PIX2PIX_DATASETS",
    "TORCHVISION_DATASETS",
    "UNPAIRED_DATASETS",
    "CelebAFaces",
    "colorization_pairs",
    "get_paired",
    "DatasetUnavailableError",
    "ImageFolderError",
    "PairedImageFolder",
    "RandomCropDataset",
    "UnpairedImageFolder",
    "download_archive",
    "download_cyclegan",
    "download_pix2pix",
    "check_dataset",
    "digit_domains",
    "get_dataset",
    "get_held_out",
    "get_reference",
    "get_unpaired",
    "is_folder_name",
    "list_photos",
    "list_textures",
    "style_training_crops",
    "load_digits",
    "load_faces",
    "load_image",
    "load_image_folder",
    "load_mnist_5k",
    "load_photo",
    "load_texture",
    "load_torchvision",
    "mixture_modes",
    "mode_coverage",
    "read_image",
    "toy_mixture",
    "typeset_digits",
    "watermark_pairs",
    "write_image",
]
