import numpy as np
import pytest
import torch

from genlearn.cli import MODELS, main


def test_unknown_model_lists_choices(tmp_path, capsys):
    assert main(["train", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown model 'nope'; choose one of: " in capsys.readouterr().err


def test_bad_arguments_exit_with_usage(capsys):
    with pytest.raises(SystemExit) as e:
        main(["train", "gaussian", "--profile", "fast"])
    assert e.value.code == 2 and "invalid choice: 'fast'" in capsys.readouterr().err


def test_gaussian_train_then_sample(tmp_path):
    run = tmp_path / "g"
    assert main(["train", "gaussian", "--data", "digits", "--out", str(run)]) == 0
    assert main(["sample", str(run), "--n", "50", "--seed", "1"]) == 0
    with np.load(run / "samples.npz") as f:
        images = f["images"]
    assert images.shape == (50, 1, 8, 8) and images.min() >= -1 and images.max() <= 1
    assert (run / "samples.png").is_file()
    # the same seed gives the same samples, another seed others
    main(["sample", str(run), "--n", "50", "--seed", "1", "--out", str(tmp_path / "again.npz")])
    main(["sample", str(run), "--n", "50", "--seed", "2", "--out", str(tmp_path / "other.npz")])
    assert np.array_equal(np.load(tmp_path / "again.npz")["images"], images)
    assert not np.array_equal(np.load(tmp_path / "other.npz")["images"], images)


def test_sample_needs_a_run(tmp_path, capsys):
    assert main(["sample", str(tmp_path / "missing")]) == 2
    assert "no checkpoint at" in capsys.readouterr().err


def test_classifier_is_not_generative(tmp_path, capsys):
    run = tmp_path / "c"
    main(["train", "classifier", "--steps", "2", "--out", str(run)])
    assert main(["sample", str(run)]) == 2
    assert "not a generative model; sample from one of: " in capsys.readouterr().err


# model -> (image side of its digits samples, writes labels)
GENERATIVE = {
    "gan": (8, False),
    "dcgan": (16, False),
    "cgan": (16, True),
    "wgan": (16, False),
    "wgan-gp": (16, False),
    "vae": (8, False),
    "cvae": (8, True),
    "stylegan": (16, False),
    "ddpm": (16, False),
}


@pytest.mark.parametrize("model", sorted(GENERATIVE))
def test_train_sample_resume_round_trip(model, tmp_path, monkeypatch):
    """Every generative model: a 2-step run through the command line, then samples anyone can read."""
    from genlearn.train import load_checkpoint

    monkeypatch.setenv("GENLEARN_PROFILE", "smoke")
    size, conditional = GENERATIVE[model]
    run = tmp_path / model
    train = ["train", model, "--data", "digits", "--steps", "2", "--out", str(run), "--device", "cpu"]
    assert main(train) == 0
    payload = load_checkpoint(run / "checkpoint.pt")
    assert payload["model"] == model and payload["data"] == "digits" and payload["step"] == 2
    assert (run / "history.json").is_file()
    out = tmp_path / "samples.npz"
    assert main(["sample", str(run), "--n", "12", "--seed", "1", "--out", str(out)]) == 0
    data = np.load(out)
    images = data["images"]
    assert images.shape == (12, 1, size, size) and images.dtype == np.float32
    assert images.min() >= -1 and images.max() <= 1
    if conditional:
        assert data["labels"].tolist() == [i % 10 for i in range(12)]
    else:
        assert "labels" not in data
    # resuming a finished run trains no further, and the same seed gives the same samples
    assert main(train) == 0
    assert load_checkpoint(run / "checkpoint.pt")["step"] == 2
    again = tmp_path / "again.npz"
    main(["sample", str(run), "--n", "12", "--seed", "1", "--out", str(again)])
    np.testing.assert_array_equal(np.load(again)["images"], images)


def test_every_generative_model_is_round_tripped():
    from genlearn.models.registry import BUILDABLE

    assert set(BUILDABLE) == set(MODELS)  # every command-line model can be reloaded
    assert set(MODELS) - {"gaussian", "classifier", "cyclegan", "pix2pix", "fast-style", "adain"} == set(GENERATIVE)
    assert {m for m, e in BUILDABLE.items() if e.kind == "translation"} == {"cyclegan", "pix2pix"}
    assert {m for m, e in BUILDABLE.items() if e.kind == "stylize"} == {"fast-style", "adain"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A 2-step run of every command-line model on the digits (smoke profile)."""
    import os

    old = os.environ.get("GENLEARN_PROFILE")
    os.environ["GENLEARN_PROFILE"] = "smoke"
    root = tmp_path_factory.mktemp("runs")
    try:
        for model in MODELS:
            data = "digits-typeset" if model == "cyclegan" else "digits"
            assert main(["train", model, "--data", data, "--steps", "2", "--out", str(root / model), "--device", "cpu"]) == 0
    finally:
        os.environ["GENLEARN_PROFILE"] = old or "smoke"
    return root


LOAD_IN_A_FRESH_PROCESS = """
import sys, torch, genlearn
from genlearn.models.registry import BUILDABLE
root, names, out = sys.argv[1], sys.argv[2].split(","), sys.argv[3]
models = {name: genlearn.load(f"{root}/{name}") for name in names}
torch.save({name: (getattr(m, BUILDABLE[name].into) if BUILDABLE[name].into else m).state_dict() for name, m in models.items()}, out)
"""


def test_load_rebuilds_every_model_in_a_fresh_process(runs, tmp_path):
    """genlearn.load needs the checkpoint alone: a new interpreter rebuilds each model with the saved weights
    (the EMA copy where the run kept one)."""
    import subprocess
    import sys

    import torch

    from genlearn.train.checkpoint import ema_weights, load_checkpoint

    out = tmp_path / "loaded.pt"
    subprocess.run([sys.executable, "-c", LOAD_IN_A_FRESH_PROCESS, str(runs), ",".join(MODELS), str(out)], check=True, timeout=120)
    loaded = torch.load(out, weights_only=True)
    for name in MODELS:
        modules = load_checkpoint(runs / name)["modules"]
        ema = next((k for k in modules if k.endswith("_ema")), None)  # G_ema, ddpm_ema
        if ema is not None:
            expected = ema_weights(modules[ema])
            raw = modules[ema[: -len("_ema")]]
            assert any(not torch.equal(expected[k], raw[k]) for k in expected), name  # the EMA is not the raw weights
        else:
            expected = next(modules[k] for k in ("G", "vae", "gaussian", "classifier", "net", "decoder") if k in modules)
        assert set(loaded[name]) == set(expected), name
        assert all(torch.equal(loaded[name][k], expected[k]) for k in expected), name


def test_load_puts_the_model_on_the_device_asked_for(runs):
    import genlearn

    model = genlearn.load(runs / "dcgan", device="meta")  # any torch device; "meta" exists on every machine
    assert {p.device.type for p in model.parameters()} == {"meta"} and not model.training


def test_load_explains_a_checkpoint_that_does_not_match(runs, tmp_path):
    import torch

    import genlearn
    from genlearn.train.checkpoint import CheckpointError, load_checkpoint

    payload = load_checkpoint(runs / "dcgan")
    cases = {
        "other": ({**payload, "model": "stylegan9"}, "cannot rebuild; it knows"),
        "config": ({**payload, "model_config": {**payload["model_config"], "depth": 3}}, "model_config does not fit"),
        "sizes": ({**payload, "model_config": {**payload["model_config"], "g_width": 5}}, "weights do not match"),
    }
    for name, (bad, message) in cases.items():
        torch.save(bad, tmp_path / f"{name}.pt")
        with pytest.raises(CheckpointError, match=message):
            genlearn.load(tmp_path / f"{name}.pt")
    (tmp_path / "corrupt.pt").write_bytes((runs / "dcgan" / "checkpoint.pt").read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        genlearn.load(tmp_path / "corrupt.pt")
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        genlearn.load(tmp_path / "missing")


def test_sample_seeds_give_disjoint_reproducible_sets(runs):
    """--seed 512 must not repeat images of --seed 0 (it did when chunk i was seeded with seed + i)."""
    import genlearn
    from genlearn.cli import SAMPLE_CHUNK, draw_samples

    model = genlearn.load(runs / "dcgan")
    n = 2 * SAMPLE_CHUNK
    a, b = draw_samples(model, n, 0)["images"], draw_samples(model, n, SAMPLE_CHUNK)["images"]
    flat_a, flat_b = a.flatten(1), b.flatten(1)
    assert not (torch.cdist(flat_a, flat_b) < 1e-6).any()  # no image in common
    assert torch.equal(draw_samples(model, n, 0)["images"], a)
    cgan = draw_samples(genlearn.load(runs / "cgan"), 12, 0)
    assert cgan["labels"].tolist() == [i % 10 for i in range(12)]


def test_translate_round_trip_for_npz_image_files_and_folders(runs, tmp_path, capsys):
    from PIL import Image

    from genlearn.data import get_unpaired

    x_a, _, x_b, _ = get_unpaired("digits-typeset", "test", 16)
    np.savez(tmp_path / "a.npz", images=x_a[:5].numpy())
    run = str(runs / "cyclegan")
    assert main(["translate", run, "--direction", "AtoB", "--input", str(tmp_path / "a.npz"), "--out", str(tmp_path / "b.npz")]) == 0
    out = np.load(tmp_path / "b.npz")["images"]
    assert out.shape == (5, 1, 16, 16) and out.min() >= -1 and out.max() <= 1
    np.savez(tmp_path / "big.npz", images=np.zeros((2, 1, 32, 32), np.float32))  # another size: resized as training data was
    assert main(["translate", run, "--input", str(tmp_path / "big.npz"), "--out", str(tmp_path / "big-out.npz")]) == 0
    assert np.load(tmp_path / "big-out.npz")["images"].shape == (2, 1, 16, 16)
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(folder / "red.png")
    Image.new("L", (12, 12), 90).save(folder / "grey.jpg")
    assert main(["translate", run, "--direction", "BtoA", "--input", str(folder), "--out", str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["grey.png", "red.png"]
    with Image.open(tmp_path / "out" / "red.png") as im:
        assert im.size == (16, 16) and im.mode == "L"
    assert main(["translate", run, "--input", str(folder / "red.png"), "--out", str(tmp_path / "one.png")]) == 0
    capsys.readouterr()
    np.savez(tmp_path / "rgb.npz", images=np.zeros((2, 3, 16, 16), np.float32))
    assert main(["translate", run, "--input", str(tmp_path / "rgb.npz"), "--out", str(tmp_path / "x.npz")]) == 2
    assert "expects (N, 1, H, W)" in capsys.readouterr().err
    assert main(["translate", str(runs / "dcgan"), "--input", str(folder), "--out", str(tmp_path / "y")]) == 2
    assert "not an image-to-image model" in capsys.readouterr().err
    (folder / "notes.png").write_text("not an image")  # in a folder: skipped with a note; alone: one sentence, exit 2
    assert main(["translate", run, "--input", str(folder), "--out", str(tmp_path / "out")]) == 0
    assert "skipped 1 files that are not readable images: notes.png" in capsys.readouterr().err
    assert main(["translate", run, "--input", str(folder / "notes.png"), "--out", str(tmp_path / "n.png")]) == 2
    assert "notes.png is not a readable image (UnidentifiedImageError)" in capsys.readouterr().err


def test_pix2pix_translates_any_size_through_the_command_line(runs, tmp_path, capsys):
    """pix2pix keeps an image's size: padded to a multiple of 2^depth for the U-Net and cropped back."""
    from PIL import Image

    import genlearn
    from genlearn.data import watermark_pairs

    run = str(runs / "pix2pix")
    model = genlearn.load(run)
    assert model.config.unblend and model.config.gate_threshold == 0.5 and model.config.gate_views == 8 and model.config.in_channels == 3  # the default data: the remover
    x, _ = watermark_pairs("test", n=3, size=16, seed=1)
    odd = torch.nn.functional.interpolate(x, size=(20, 28))  # (3, 3, 20, 28): not multiples of 2^depth = 8
    np.savez(tmp_path / "marked.npz", images=odd.numpy())
    assert main(["translate", run, "--input", str(tmp_path / "marked.npz"), "--out", str(tmp_path / "clean.npz")]) == 0
    out = np.load(tmp_path / "clean.npz")["images"]
    assert out.shape == (3, 3, 20, 28) and out.min() >= -1 and out.max() <= 1
    np.testing.assert_allclose(out, model.translate(odd).numpy(), atol=1e-6)  # what genlearn.load's model gives in Python
    Image.new("RGB", (37, 23), (30, 120, 200)).save(tmp_path / "photo.png")
    assert main(["translate", run, "--input", str(tmp_path / "photo.png"), "--out", str(tmp_path / "photo-clean.png")]) == 0
    with Image.open(tmp_path / "photo-clean.png") as im:
        assert im.size == (37, 23) and im.mode == "RGB"  # not resized to the training crops
    capsys.readouterr()
    assert main(["translate", run, "--direction", "BtoA", "--input", str(tmp_path / "photo.png"), "--out", str(tmp_path / "x.png")]) == 2
    assert "one direction" in capsys.readouterr().err


def test_a_fast_style_run_stylizes_through_the_command_line(runs, tmp_path, capsys):
    from PIL import Image

    run = str(runs / "fast-style")
    assert main(["stylize", "coffee", "--method", "fast", "--run", run, "--size", "40", "--out", str(tmp_path / "fast.png")]) == 0
    with Image.open(tmp_path / "fast.png") as im:
        assert im.size == (60, 40) and im.mode == "RGB"  # coffee is 400x600: the shorter side 40, any size accepted
    assert "in the style of immunohistochemistry" in capsys.readouterr().out
    assert main(["stylize", "coffee", "--method", "fast", "--run", str(runs / "dcgan"), "--out", str(tmp_path / "x.png")]) == 2
    assert "needs a fast-style run" in capsys.readouterr().err
    assert main(["stylize", "coffee", "--method", "fast", "--out", str(tmp_path / "x.png")]) == 2
    assert "needs --run RUN" in capsys.readouterr().err


def test_an_adain_run_stylizes_any_style_through_the_command_line(runs, tmp_path, capsys):
    from PIL import Image

    import genlearn
    from genlearn.data import load_image, match_colour

    run = str(runs / "adain")
    out = tmp_path / "adain.png"
    assert main(["stylize", "coffee", "gravel", "--method", "adain", "--run", run, "--size", "40", "--alpha", "0.5", "--out", str(out)]) == 0
    assert "in the style of gravel (AdaIN, alpha 0.5)" in capsys.readouterr().out
    with Image.open(out) as im:
        assert im.size == (60, 40) and im.mode == "RGB"  # any size: padded to a multiple of 4 and cropped back
        written = torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1).float() / 127.5 - 1
    model = genlearn.load(run)
    content, style = load_image("coffee", 40)[None], load_image("gravel", 40)[None]
    assert torch.allclose(written, model.stylize(content, style, alpha=0.5)[0], atol=1 / 127)  # the same as in Python
    assert main(["stylize", "coffee", "gravel", "--method", "adain", "--run", run, "--size", "40", "--keep-colours", "--out", str(out)]) == 0
    with Image.open(out) as im:
        kept = torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1).float() / 127.5 - 1
    recoloured = match_colour(style[0], content[0])[None]
    assert torch.allclose(kept, model.stylize(content, recoloured)[0], atol=1 / 127)
    from genlearn.models.efficientnet_lite import shipped_weights_path

    weights = tmp_path / "encoder.pth"  # the encoder's weights from a path (a VGG-19 run on a machine without the cache)
    weights.write_bytes(shipped_weights_path().read_bytes())
    assert main(["stylize", "coffee", "gravel", "--method", "adain", "--run", run, "--size", "40", "--alpha", "0.5", "--weights", str(weights),
                 "--out", str(tmp_path / "w.png")]) == 0  # fmt: skip
    with Image.open(tmp_path / "w.png") as im:
        from_path = torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1).float() / 127.5 - 1
    assert torch.equal(from_path, written)  # the same encoder, so the same image
    capsys.readouterr()
    assert main(["stylize", "coffee", "gravel", "--method", "adain", "--run", run, "--weights", str(tmp_path / "none.pth"), "--out", str(out)]) == 2
    assert "none.pth" in capsys.readouterr().err
    capsys.readouterr()
    assert main(["stylize", "coffee", "--method", "adain", "--run", run, "--out", str(tmp_path / "x.png")]) == 2
    assert "adain needs a STYLE image" in capsys.readouterr().err
    assert main(["stylize", "coffee", "brick", "--method", "adain", "--run", str(runs / "fast-style"), "--out", str(out)]) == 2
    assert "needs an adain run" in capsys.readouterr().err
    assert main(["stylize", "coffee", "brick", "--method", "adain", "--run", run, "--alpha", "2", "--out", str(out)]) == 2
    assert "--alpha must be between 0" in capsys.readouterr().err


def test_stylegan_samples_with_truncation_from_the_command_line(runs, tmp_path, capsys):
    run = str(runs / "stylegan")
    spread = {}
    for psi in ("0", "1"):
        out = tmp_path / f"psi{psi}.npz"
        assert main(["sample", run, "--n", "16", "--truncation", psi, "--out", str(out)]) == 0
        spread[psi] = np.load(out)["images"].std(axis=0).mean()
    assert spread["0"] < 0.5 * spread["1"]  # psi = 0: every sample from the average w
    capsys.readouterr()
    assert main(["sample", run, "--truncation", "1.5", "--out", str(tmp_path / "x.npz")]) == 2
    assert "--truncation must be between 0" in capsys.readouterr().err
    assert main(["sample", str(runs / "dcgan"), "--truncation", "0.7", "--out", str(tmp_path / "x.npz")]) == 2
    assert "--truncation is for stylegan runs" in capsys.readouterr().err
