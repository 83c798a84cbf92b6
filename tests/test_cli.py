import numpy as np
import pytest

from genlearn.cli import MODELS, main


def test_unknown_model_lists_choices(tmp_path):
    with pytest.raises(SystemExit, match="unknown model 'nope'; choose one of: .*gaussian"):
        main(["train", "nope", "--out", str(tmp_path)])


def test_bad_arguments_exit_with_usage(capsys):
    with pytest.raises(SystemExit) as e:
        main(["train", "gaussian", "--profile", "fast"])
    assert e.value.code == 2 and "invalid choice: 'fast'" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="--steps must be >= 0"):
        main(["train", "gaussian", "--steps", "-3"])


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


def test_sample_needs_a_run(tmp_path):
    with pytest.raises(SystemExit, match="no checkpoint at"):
        main(["sample", str(tmp_path / "missing")])


def test_classifier_is_not_generative(tmp_path):
    run = tmp_path / "c"
    main(["train", "classifier", "--steps", "2", "--out", str(run)])
    with pytest.raises(SystemExit, match="not a generative model; sample from one of: .*gaussian"):
        main(["sample", str(run)])


# model -> (image side of its digits samples, writes labels)
GENERATIVE = {
    "gan": (8, False),
    "dcgan": (16, False),
    "cgan": (16, True),
    "wgan": (16, False),
    "wgan-gp": (16, False),
    "vae": (8, False),
    "cvae": (8, True),
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
    assert payload["config"]["model"] == model and payload["step"] == 2
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
    import importlib

    generative = {m for m, path in MODELS.items() if hasattr(importlib.import_module(path), "sample")}
    assert generative - {"gaussian"} == set(GENERATIVE)


def test_every_registered_recipe_imports():
    import importlib

    for name, path in MODELS.items():
        assert hasattr(importlib.import_module(path), "train"), name
