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


def test_every_registered_recipe_imports():
    import importlib

    for name, path in MODELS.items():
        assert hasattr(importlib.import_module(path), "train"), name
