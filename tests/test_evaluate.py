"""``genlearn.metrics.evaluate`` and ``python -m genlearn evaluate``: the numbers agree with the single metrics; clear errors."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from genlearn.cli import main
from genlearn.data import load_digits
from genlearn.metrics.digits import digits_fd
from genlearn.metrics.evaluate import evaluate


def test_a_set_against_itself_is_perfect():
    x, _ = load_digits("test", size=16)
    r = evaluate(x, x)
    assert r["fd"] == pytest.approx(0.0, abs=1e-6) and r["precision"] == r["recall"] == r["coverage"] == 1.0
    assert r["n"] == r["reference_n"] == 360
    halves = evaluate(x[:180], x[180:])  # two samples of one distribution: the unbiased KID is about 0
    assert abs(halves["kid"]["mean"]) < 0.1 * evaluate(x[:180] * 0.5, x[180:])["kid"]["mean"]


def test_the_command_line_on_an_npz_and_on_a_folder(tmp_path, capsys):
    x, _ = load_digits("test", size=16)
    np.savez(tmp_path / "real.npz", images=x.numpy())
    assert main(["evaluate", str(tmp_path / "real.npz"), "--reference", "digits"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"fd", "kid", "precision", "recall", "density", "coverage", "n", "reference"}
    assert out["fd"] == pytest.approx(digits_fd(x), rel=1e-9) and out["n"] == 360 and out["reference"] == "digits"
    folder = tmp_path / "pngs"
    folder.mkdir()
    for i, img in enumerate(x[:40]):
        Image.fromarray(((img[0].numpy() + 1) * 127.5).round().astype(np.uint8), mode="L").save(folder / f"{i}.png")
    assert main(["evaluate", str(folder), "--n", "30"]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == 30


def test_mistakes_are_one_sentence(tmp_path, capsys):
    x, _ = load_digits("test", size=16)
    np.savez(tmp_path / "rgb.npz", images=x.repeat(1, 3, 1, 1).numpy())
    np.savez(tmp_path / "few.npz", images=x[:5].numpy())
    cases = [
        (["evaluate", str(tmp_path / "rgb.npz")], "channel"),
        (["evaluate", str(tmp_path / "few.npz")], "need at least 6 images"),
        (["evaluate", str(tmp_path / "few.npz"), "--features", "inception"], "unknown feature network"),
        (["evaluate", str(tmp_path / "none.txt")], "SAMPLES must be an .npz"),
        (["evaluate", str(tmp_path / "few.npz"), "--reference", "imagenet"], "--reference must be digits, mnist-5k or a folder"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, err
    with pytest.raises(ValueError, match="KID subset .* larger than the smaller set"):
        evaluate(x[:100], x, kid_subset=500)
