"""The command line a student can trust: one sentence and exit status 2 for every mistake, own folders, budgets."""

import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
import torch

from genlearn.cli import main


@pytest.fixture
def image_folder(tmp_path):
    """12 images of three sizes, half RGB and half grayscale, plus one file that is not an image."""
    from PIL import Image

    folder = tmp_path / "my-images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(12):
        w, h = [(40, 30), (64, 64), (20, 50)][i % 3]
        if i % 2:
            Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(folder / f"rgb{i}.png")
        else:
            Image.fromarray(rng.integers(0, 255, (h, w), dtype=np.uint8), mode="L").save(folder / f"grey{i}.jpg")
    (folder / "broken.png").write_bytes(b"this is not a png")
    return folder


def trained_run(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLEARN_PROFILE", "smoke")
    run = tmp_path / "run"
    assert main(["train", "gaussian", "--out", str(run)]) == 0
    return run


CASES = [
    "unknown model", "unknown dataset", "dataset needs the network", "not a folder", "folder without images", "unknown device",
    "missing checkpoint", "corrupt checkpoint", "--n 0", "unwritable --out", "negative --steps", "zero --minutes",
    "a corrupt checkpoint in the run folder", "classifier on another dataset", "pix2pix on unpaired data", "pix2pix archive offline",
]


def user_errors(tmp_path):
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "checkpoint.pt").write_bytes(b"PK\x03\x04 half a file")
    (tmp_path / "a-file").write_text("not a folder")
    empty = tmp_path / "no-images"
    empty.mkdir()
    (empty / "notes.txt").write_text("nothing to see")
    return {
        "unknown model": (["train", "stylegan9"], "unknown model 'stylegan9'; choose one of"),
        "unknown dataset": (["train", "dcgan", "--data", "imagenet"], "unknown dataset 'imagenet'; choose one of"),
        "dataset needs the network": (["train", "dcgan", "--data", "cifar10", "--steps", "1", "--out", str(tmp_path / "c")], "could not be downloaded"),
        "not a folder": (["train", "dcgan", "--data", str(tmp_path / "missing" / "x")], "is not a folder"),
        "folder without images": (["train", "dcgan", "--data", str(empty), "--out", str(tmp_path / "e")], "has no readable images"),
        "unknown device": (["train", "dcgan", "--device", "tpu", "--out", str(tmp_path / "d")], "unknown device 'tpu'"),
        "missing checkpoint": (["sample", str(tmp_path / "nothing")], "no checkpoint at"),
        "corrupt checkpoint": (["sample", str(corrupt)], "truncated or corrupt"),
        "--n 0": (["sample", str(corrupt), "--n", "0"], "--n must be >= 1"),
        "unwritable --out": (["train", "gaussian", "--out", str(tmp_path / "a-file" / "run")], "cannot write the run to"),
        "negative --steps": (["train", "gaussian", "--steps", "-3"], "--steps must be >= 0"),
        "zero --minutes": (["train", "dcgan", "--minutes", "0"], "--minutes must be > 0"),
        "a corrupt checkpoint in the run folder": (["train", "vae", "--out", str(corrupt)], "truncated or corrupt"),
        "classifier on another dataset": (["train", "classifier", "--data", "faces"], "'digits' (the digits metric) or 'digit-domains'"),
        "pix2pix on unpaired data": (["train", "pix2pix", "--data", "faces"], "pix2pix trains on pairs: --data watermarks, colorize"),
        "pix2pix archive offline": (["train", "pix2pix", "--data", "facades", "--steps", "1", "--out", str(tmp_path / "f")], "train offline on pairs cut from the shipped photos (--data watermarks or colorize"),
    }


@pytest.mark.parametrize("case", CASES)
def test_every_user_error_is_one_sentence_and_exit_status_2(case, tmp_path, monkeypatch, capsys, no_network):
    monkeypatch.setenv("GENLEARN_PROFILE", "smoke")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no dataset cached by the reader under ~/.cache/genlearn
    errors = user_errors(tmp_path)
    assert sorted(errors) == sorted(CASES)
    argv, message = errors[case]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("genlearn: ") and message in err[-1], err
    assert not any("Traceback" in line for line in err)


def test_a_resumed_folder_must_hold_the_same_model(tmp_path, monkeypatch, capsys):
    run = trained_run(tmp_path, monkeypatch)
    assert main(["train", "vae", "--steps", "1", "--out", str(run)]) == 2
    assert "holds a 'gaussian' run, not 'vae'" in capsys.readouterr().err


def test_user_errors_in_a_real_process_print_no_traceback(tmp_path):
    for argv in (["train", "dcgan", "--data", "imagenet"], ["sample", str(tmp_path / "nothing"), "--n", "0"]):
        p = subprocess.run([sys.executable, "-m", "genlearn", *argv], capture_output=True, text=True, timeout=120)
        assert p.returncode == 2 and "Traceback" not in p.stderr and p.stderr.startswith("genlearn: "), p.stderr


def test_train_help_lists_models_and_datasets(capsys):
    with pytest.raises(SystemExit) as e:
        main(["train", "--help"])
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps the epilog at the terminal's width
    assert e.value.code == 0
    assert all(name in out for name in ("dcgan", "wgan-gp", "cvae", "stylegan", "adain", "digits", "mnist-5k", "faces", "cifar10 (online)", "folder"))


def test_a_folder_of_own_images_loads_centre_cropped_and_resized(image_folder):
    from genlearn.data import ImageFolderError, get_dataset, load_image_folder

    with pytest.warns(UserWarning, match="skipped 1 files .* broken.png"):
        x, y = load_image_folder(image_folder, 16)
    assert x.shape == (12, 3, 16, 16) and x.dtype == torch.float32 and x.min() >= -1 and x.max() <= 1
    assert y.tolist() == [0] * 12
    grey = x[:6]  # files are read in sorted order: grey0, grey10, grey2, ..., then rgb1, ...: the first 6 are grayscale
    assert torch.equal(grey[:, 0], grey[:, 1])  # grayscale images became RGB with equal channels
    for f in image_folder.glob("rgb*"):
        f.unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x1, _ = get_dataset(str(image_folder), size=8)
    assert x1.shape == (6, 1, 8, 8)  # all grayscale: one channel
    (image_folder / "sevens").mkdir()
    for f in list(image_folder.glob("grey*"))[:3]:
        f.rename(image_folder / "sevens" / f.name)
    (image_folder / "twos").mkdir()
    for f in list(image_folder.glob("grey*")):
        f.rename(image_folder / "twos" / f.name)
    _, y2 = load_image_folder(image_folder, 8)
    assert sorted(y2.tolist()) == [0, 0, 0, 1, 1, 1]  # subfolders are classes
    with pytest.raises(ImageFolderError, match="not a folder"):
        load_image_folder(image_folder / "none", 8)


def test_train_any_image_model_on_an_own_folder_then_sample(image_folder, tmp_path, monkeypatch):
    import genlearn

    monkeypatch.setenv("GENLEARN_PROFILE", "smoke")
    for model in ("dcgan", "vae", "ddpm"):
        run = tmp_path / model
        assert main(["train", model, "--data", str(image_folder), "--steps", "2", "--out", str(run)]) == 0
        images = genlearn.load(run).sample(4)
        assert images.shape[:2] == (4, 3)
        assert main(["sample", str(run), "--n", "5", "--out", str(tmp_path / f"{model}.npz")]) == 0


def test_minutes_stops_at_the_budget_says_so_and_resumes(tmp_path, monkeypatch, capsys):
    from genlearn.train import load_checkpoint

    monkeypatch.setenv("GENLEARN_PROFILE", "smoke")
    run = tmp_path / "budget"
    argv = ["train", "dcgan", "--steps", "100000", "--minutes", "0.04", "--out", str(run)]
    began = time.perf_counter()
    assert main(argv) == 0
    assert time.perf_counter() - began < 60
    first = load_checkpoint(run)["step"]
    out = capsys.readouterr().out
    assert 0 < first < 100_000 and f"stopped at the 2 s budget after step {first:,} of 100,000" in out
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"resuming {run} at step {first:,} of 100,000" in out and load_checkpoint(run)["step"] > first


def test_plan_steps_fits_the_budget_from_a_timed_trial():
    from genlearn.recipes import plan_steps

    def trainer(steps, fit):  # 10 ms per step
        assert not fit.progress
        for step in range(1, steps + 1):
            time.sleep(0.01)
            for cb in fit.callbacks:
                cb.fn(step, None)

    steps, per_step = plan_steps(trainer, max_steps=10_000, budget_s=1.0)
    assert 0.01 <= per_step < 0.03 and 30 <= steps <= 90  # 0.9 * 1 s / 10 ms = 90 at most
    assert plan_steps(trainer, max_steps=20, budget_s=1.0)[0] == 20  # never more than the profile's
