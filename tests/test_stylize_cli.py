"""Images from anywhere (names, files, URLs) and ``python -m genlearn stylize`` end to end on tiny images."""

import numpy as np
import pytest
import torch
from PIL import Image

from genlearn.cli import main
from genlearn.data import DatasetUnavailableError, load_image, load_photo


def test_load_image_reads_names_files_and_converts_grayscale(tmp_path):
    assert torch.equal(load_image("chelsea", 40), load_photo("chelsea", 40))
    assert load_image("gravel", (24, 30)).shape == (3, 24, 30)
    Image.fromarray(np.full((20, 30), 200, np.uint8), mode="L").save(tmp_path / "grey.png")
    grey = load_image(tmp_path / "grey.png")
    assert grey.shape == (3, 20, 30) and torch.equal(grey[0], grey[2])  # converted, not rejected
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(ValueError, match="not a readable image"):
        load_image(tmp_path / "notes.png")
    with pytest.raises(ValueError, match="neither an image file nor a shipped image"):
        load_image("no-such-picture")


def test_a_url_without_network_is_one_sentence(tmp_path, no_network):
    with pytest.raises(DatasetUnavailableError, match="could not download .* use a local file or a shipped image"):
        load_image("https://example.org/starry-night.jpg", cache=tmp_path)


def test_stylize_a_tiny_image_end_to_end(tmp_path, capsys):
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 50), dtype=np.uint8), mode="L").save(tmp_path / "content.png")
    out = tmp_path / "out" / "styled.png"
    assert main(["stylize", str(tmp_path / "content.png"), "brick", "--size", "32", "--steps", "3", "--out", str(out)]) == 0
    with Image.open(out) as im:
        assert im.size == (40, 32) and im.mode == "RGB"  # the shorter side is 32, the aspect kept
    printed = capsys.readouterr().out
    assert "feature network: EfficientNet-Lite0" in printed and "style loss" in printed


def test_the_tv_weight_reaches_the_optimization(tmp_path, capsys):
    from genlearn.metrics.image_quality import high_frequency_energy

    def grain(tv: str) -> float:
        out = tmp_path / f"tv{tv}.png"
        assert main(["stylize", "chelsea", "immunohistochemistry", "--size", "32", "--steps", "10", "--tv-weight", tv, "--out", str(out)]) == 0
        return high_frequency_energy(load_image(out)[None]).item()

    assert grain("1e5") < 0.85 * grain("0")  # a strong TV weight smooths the result (equal without it: the run is deterministic)
    capsys.readouterr()
    assert main(["stylize", "chelsea", "brick", "--tv-weight", "-1", "--out", str(tmp_path / "x.png")]) == 2
    assert "--tv-weight must be >= 0" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["stylize", "chelsea", "brick", "--size", "16", "--out", "x.png"], "--size must be at least 32"),
    (["stylize", "missing.png", "brick", "--out", "x.png"], "neither an image file nor a shipped image"),
    (["stylize", "chelsea", "brick", "--out", "x.gif"], "--out must name a .png or .jpg"),
])  # fmt: skip
def test_stylize_mistakes_are_one_sentence(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize("command, trained_on, fails_on", [
    ("stylize", "list_styles('train')", "expected to fail on styles whose character is their large-scale layout"),
    ("translate", "learned grey text marks drawn broadly", "expected to fail on marks unlike text"),
    ("sample", "draws the kind of image it trained on", "never trained on"),
])  # fmt: skip
def test_help_says_what_a_run_trained_on_and_where_it_fails(capsys, command, trained_on, fails_on):
    with pytest.raises(SystemExit) as e:
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps the epilog
    assert e.value.code == 0 and trained_on in text and fails_on in text


def test_the_unseen_paintings_are_styles_the_command_line_accepts(tmp_path):
    from genlearn.data import list_styles

    out = tmp_path / "painted.png"
    assert main(["stylize", "coffee", list_styles("unseen")[0], "--size", "32", "--steps", "1", "--out", str(out)]) == 0
    assert Image.open(out).size[1] == 32
