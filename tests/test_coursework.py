"""book/coursework.md: every example on the page runs, as printed, in order, in a folder that holds a reader's own
images (the test writes them), in the smoke profile. An example that breaks fails here before a student sees it."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from genlearn.data import load_mnist_5k, load_photo

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "coursework.md"


def examples() -> list[tuple[str, str]]:
    """The page's ```bash and ```python blocks, in order."""
    return re.findall(r"```(bash|python)\n(.*?)```", PAGE.read_text(), re.S)


def test_the_page_is_in_the_book_and_has_the_five_examples():
    assert "book/coursework" in (ROOT / "_toc.yml").read_text()
    commands = "\n".join(code for _, code in examples())
    for needed in ("train dcgan --data my_digits", "genlearn evaluate", "genlearn.load(", "genlearn translate", "genlearn stylize"):
        assert needed in commands


def test_every_example_runs_as_printed(tmp_path):
    digits = tmp_path / "my_digits"
    digits.mkdir()
    x, _ = load_mnist_5k("test", size=28)
    for i, img in enumerate(x[:400]):  # a student's own folder of 400 digit scans
        Image.fromarray(((img[0].numpy() + 1) * 127.5).round().astype(np.uint8), mode="L").save(digits / f"{i:03d}.png")
    photos = tmp_path / "my_photos"
    photos.mkdir()
    for name in ("chelsea", "coffee"):
        img = load_photo(name, 48)  # (3, 48, W): sizes that are not a multiple of the U-Net's stride
        Image.fromarray(((img.permute(1, 2, 0).numpy() + 1) * 127.5).round().astype(np.uint8)).save(photos / f"{name}.jpg")
    env = {**os.environ, "GENLEARN_PROFILE": "smoke", "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "MPLBACKEND": "Agg"}  # fmt: skip
    for kind, code in examples():
        argv = ["bash", "-euo", "pipefail", "-c", code] if kind == "bash" else [sys.executable, "-c", code]
        result = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"{code}\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr, result.stderr
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert scores["n"] == 360 and scores["draws"] == 2 and set(scores["fd"]) == {"mean", "std"}
    assert (tmp_path / "my-dcgan.png").stat().st_size > 1000 and (tmp_path / "stylized.png").exists()
    assert sorted(p.name for p in (tmp_path / "translated").iterdir()) == ["chelsea.png", "coffee.png"]
    assert Image.open(tmp_path / "translated" / "coffee.png").size == Image.open(photos / "coffee.jpg").size
