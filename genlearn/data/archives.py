"""Download, verify and extract dataset archives once: the pix2pix and CycleGAN image-pair sets.

:func:`download_archive` streams to a temporary file with a timeout, checks the byte count and
SHA-256 when given (a bad file is deleted), checks that the archive reads end to end and that no
member escapes ``root`` (absolute paths, ``..``, links), extracts it, and writes a marker
``root/.{archive}.json`` with the SHA-256 it computed, so a second call returns at once, offline.

We ship no official checksums for the Berkeley archives (none are published next to them); the
SHA-256 recorded in the marker lets you pin one for your own reruns.
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from ._common import DatasetUnavailableError, check_choice, check_online

PIX2PIX_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/{name}.tar.gz"
CYCLEGAN_URL = "http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/{name}.zip"
PIX2PIX_DATASETS = ("facades", "maps", "edges2shoes", "edges2handbags", "night2day")
CYCLEGAN_DATASETS = (
    "horse2zebra",
    "apple2orange",
    "summer2winter_yosemite",
    "monet2photo",
    "cezanne2photo",
    "ukiyoe2photo",
    "vangogh2photo",
    "iphone2dslr_flower",
    "maps",
    "facades",
    "ae_photos",
)
_CITYSCAPES = (
    "the Cityscapes license forbids redistribution, so the authors' server does not offer it: download "
    "gtFine_trainvaltest.zip and leftImg8bit_trainvaltest.zip from https://www.cityscapes-dataset.com and "
    "build the pairs with datasets/prepare_cityscapes_dataset.py from the pytorch-CycleGAN-and-pix2pix repository"
)
_OFFLINE_PAIRS = "train offline on pairs cut from the shipped photos (--data watermarks or colorize; get_paired in Python)"
_OFFLINE_UNPAIRED = "train offline on the digit domains (--data digits-typeset or digits-mnist; get_unpaired in Python)"
_CHUNK = 1 << 20


def _archive_kind(filename: str) -> str:
    if filename.endswith((".tar.gz", ".tgz", ".tar")):
        return "tar"
    if filename.endswith(".zip"):
        return "zip"
    raise ValueError(f"{filename!r} is not a .tar.gz, .tgz, .tar or .zip archive")


def _sha256(path: Path) -> tuple[str, int]:
    digest, nbytes = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            nbytes += len(chunk)
    return digest.hexdigest(), nbytes


def _fetch(url: str, dest: Path, timeout: float, size: int | None, alternative: str) -> None:
    """Stream ``url`` into ``dest`` through a temporary file in the same folder (renamed when complete)."""
    try:
        if urlparse(url).scheme in ("http", "https"):
            check_online(url, timeout=min(timeout, 5.0))
        with urllib.request.urlopen(url, timeout=timeout) as response:
            expected = response.headers.get("Content-Length")
            fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
            try:
                nbytes = 0
                with os.fdopen(fd, "wb") as f:
                    while chunk := response.read(_CHUNK):
                        nbytes += len(chunk)
                        if size is not None and nbytes > size:
                            raise ValueError(f"{url} is larger than the expected {size} bytes; not keeping it")
                        f.write(chunk)
                if expected is not None and nbytes != int(expected):
                    raise OSError(f"download was cut off after {nbytes} of {expected} bytes")
                os.replace(tmp, dest)
            finally:
                if os.path.exists(tmp):
                    os.remove(tmp)
    except (urllib.error.URLError, OSError) as error:  # includes socket timeouts and refused connections
        reason = getattr(error, "reason", None) or error
        raise DatasetUnavailableError(f"could not download {url} ({reason}); {alternative}") from error


def _verify(archive: Path, sha256: str | None, size: int | None) -> tuple[str, int]:
    digest, nbytes = _sha256(archive)
    problem = None
    if size is not None and nbytes != size:
        problem = f"has {nbytes} bytes, expected {size}"
    elif sha256 is not None and digest != sha256.lower():
        problem = f"has SHA-256 {digest}, expected {sha256.lower()}"
    if problem:
        archive.unlink()
        raise ValueError(f"{archive} {problem}; the file was deleted, call again to download it afresh")
    return digest, nbytes


def _inside(root: Path, member: str) -> bool:
    path = PurePosixPath(member.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        return False
    return (root / path).resolve().is_relative_to(root.resolve())


def _members(archive: Path, root: Path) -> list[str]:
    """Member names after reading the archive end to end and checking that none escapes ``root``."""
    try:
        if _archive_kind(archive.name) == "tar":
            with tarfile.open(archive, "r:*") as tf:
                infos = tf.getmembers()  # reads (and CRC-checks) the whole gzip stream
            names = [i.name for i in infos]
            for i in infos:
                if i.issym() or i.islnk():
                    target = str(PurePosixPath(i.name).parent / i.linkname) if i.issym() else i.linkname
                    if not _inside(root, target):
                        names.append(i.linkname)
                elif not (i.isfile() or i.isdir()):
                    names.append(f"/special file {i.name}")
        else:
            with zipfile.ZipFile(archive) as zf:
                bad = zf.testzip()
                if bad is not None:
                    raise zipfile.BadZipFile(f"CRC error in member {bad}")
                names = zf.namelist()
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as error:
        archive.unlink()
        raise ValueError(
            f"{archive} is not a readable archive ({error}); it was deleted, call again to download it afresh"
        ) from error
    unsafe = [n for n in names if not _inside(root, n)]
    if unsafe:
        archive.unlink()
        raise ValueError(
            f"{archive} has members that are unsafe to extract (e.g. {unsafe[0]!r}: an absolute path, '..', a link "
            f"or a special file that would land outside {root}); refusing to extract it, and deleted it"
        )
    return names


def download_archive(
    url: str,
    root: str | os.PathLike,
    *,
    sha256: str | None = None,
    size: int | None = None,
    timeout: float = 30.0,
    keep_archive: bool = True,
    offline_hint: str | None = None,
) -> Path:
    """Download ``url`` into ``root``, verify it and extract it once.

    A file already at ``root/<archive name>`` is used instead of downloading (so you can copy the
    archive there by hand). After extraction a marker ``root/.<archive name>.json`` records the URL,
    byte count, the SHA-256 computed and the extracted path; later calls return that path at once.

    Args:
        url: http(s) or file:// URL of a .tar.gz/.tgz/.tar/.zip archive.
        root: folder to download and extract into.
        sha256: expected hex digest; on mismatch the file is deleted and ValueError raised.
        size: expected size in bytes, checked the same way.
        timeout: socket timeout in seconds (connection and each read).
        keep_archive: keep the archive after extraction (False deletes it to save disk).
        offline_hint: what to tell the reader when the download fails (default: where to put the file).

    Returns:
        The archive's single top-level folder (e.g. ``root/facades``), or ``root`` if it has several.

    Raises:
        DatasetUnavailableError: the download failed (no network, timeout, server error).
        ValueError: wrong size or SHA-256, unreadable archive, or a member escaping ``root``.

    Chapter 0 (the online datasets of the tour).
    """
    root = Path(root).expanduser()
    filename = PurePosixPath(urlparse(url).path).name
    _archive_kind(filename)
    archive, marker = root / filename, root / f".{filename}.json"
    if marker.is_file():
        info = json.loads(marker.read_text())
        if (root / info["path"]).exists():
            return root / info["path"]
    root.mkdir(parents=True, exist_ok=True)
    if not archive.is_file():
        hint = offline_hint or f"put {filename} in {root} and call again to verify and extract it without the network"
        _fetch(url, archive, timeout, size, hint)
    digest, nbytes = _verify(archive, sha256, size)
    names = _members(archive, root)
    if _archive_kind(filename) == "tar":
        with tarfile.open(archive, "r:*") as tf:
            # the data filter (Python >= 3.11.4) refuses links and paths outside root, on top of our check
            tf.extractall(root, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    else:
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(root)
    tops = {PurePosixPath(n.replace("\\", "/")).parts[0] for n in names if PurePosixPath(n).parts}
    top = next(iter(tops)) if len(tops) == 1 and (root / next(iter(tops))).is_dir() else "."
    record = {"url": url, "bytes": nbytes, "sha256": digest, "path": top, "members": len(names)}
    marker.write_text(json.dumps(record, indent=1))
    if not keep_archive:
        archive.unlink()
    return root / top


def _named(name: str, choices: tuple[str, ...], what: str) -> None:
    if name == "cityscapes":
        raise ValueError(f"cityscapes is not downloadable here: {_CITYSCAPES}")
    check_choice(name, choices, what)


def download_pix2pix(name: str, root: str | os.PathLike = "~/.cache/genlearn/pix2pix", **kwargs) -> Path:
    """Download and extract a pix2pix dataset (Isola et al. 2017, https://arxiv.org/abs/1611.07004).

    Args:
        name: one of :data:`PIX2PIX_DATASETS` (facades is the small one: 29 MB, 400 training pairs).
        root: where to put it.
        **kwargs: passed to :func:`download_archive` (``sha256``, ``size``, ``timeout``, ``keep_archive``).

    Returns:
        ``root/name``, with ``train/``, ``val/`` (and for some ``test/``) folders of A|B images for
        :class:`PairedImageFolder`.

    Chapter 8 (and the tour in Chapter 0).
    """
    _named(name, PIX2PIX_DATASETS, "pix2pix dataset")
    root = Path(root).expanduser()
    hint = f"{_OFFLINE_PAIRS}, or put {name}.tar.gz in {root} and call again"
    return download_archive(PIX2PIX_URL.format(name=name), root, offline_hint=hint, **kwargs)


def download_cyclegan(name: str, root: str | os.PathLike = "~/.cache/genlearn/cyclegan", **kwargs) -> Path:
    """Download and extract a CycleGAN dataset (Zhu et al. 2017, https://arxiv.org/abs/1703.10593).

    Args:
        name: one of :data:`CYCLEGAN_DATASETS`.
        root: where to put it.
        **kwargs: passed to :func:`download_archive`.

    Returns:
        ``root/name``, with ``trainA/``, ``trainB/``, ``testA/``, ``testB/`` for :class:`UnpairedImageFolder`.

    Chapter 7 (and the tour in Chapter 0).
    """
    _named(name, CYCLEGAN_DATASETS, "CycleGAN dataset")
    root = Path(root).expanduser()
    hint = f"{_OFFLINE_UNPAIRED}, or put {name}.zip in {root} and call again"
    return download_archive(CYCLEGAN_URL.format(name=name), root, offline_hint=hint, **kwargs)
