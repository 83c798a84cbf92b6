"""The recipes as plain functions: a typed TrainRequest in, a run folder out; the profile is given, never read."""

import ast
from pathlib import Path

import pytest

import genlearn
from genlearn.recipes import MODELS, TrainRequest, UsageError, recipe

ROOT = Path(__file__).resolve().parents[1]


def test_a_recipe_trains_from_python_with_the_profile_it_is_given(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLEARN_PROFILE", "gpu")  # what the request says wins: the recipe never reads this
    run = recipe("dcgan").train(TrainRequest("dcgan", data="digits", steps=3, out=tmp_path / "run", profile="smoke", device="cpu"))
    payload = genlearn.checkpoint.load_checkpoint(run)
    assert payload["step"] == 3 and payload["train_config"]["steps"] == 3
    assert payload["train_config"]["full_steps"] == 20  # the smoke profile's full run (chapter 12's table shows both)
    assert payload["model_config"]["g_width"] == 8  # the smoke profile's width (the gpu profile's is 64)
    assert genlearn.load(run).sample(2).shape == (2, 1, 16, 16)


def test_every_recipe_declares_its_default_data_and_one_entry_says_whether_it_distributes():
    for name in MODELS:
        module = recipe(name)
        assert isinstance(module.DEFAULT_DATA, str), name
    assert [m for m in MODELS if not getattr(recipe(m), "DISTRIBUTED", True)] == ["gaussian"]


@pytest.mark.parametrize(("changes", "said"), [({"profile": "fast"}, "unknown profile"), ({"steps": -1}, "--steps must be >= 0"),
                                               ({"minutes": 0}, "--minutes must be > 0")])  # fmt: skip
def test_a_bad_request_says_what_was_expected(changes, said):
    with pytest.raises(UsageError, match=said):
        TrainRequest("gan", **changes)


def test_no_library_code_writes_the_environment_or_reads_the_profile_or_precision_from_it():
    writes, reads = [], []
    for path in sorted((ROOT / "genlearn").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Assign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                writes += [rel for t in targets if "os.environ" in ast.unparse(t)]
            elif isinstance(node, ast.Constant) and node.value in ("GENLEARN_PROFILE", "GENLEARN_AMP", "GENLEARN_CHANNELS_LAST"):
                reads.append(rel)
    assert writes == []
    # the profile's own module defines $GENLEARN_PROFILE; the command line reads it and the precision switches once
    assert set(reads) <= {"genlearn/runtime.py", "genlearn/profile.py", "genlearn/cli.py"}, sorted(set(reads))


@pytest.mark.parametrize("profile, regularized", [("cpu", False), ("gpu", True)])
def test_the_stylegan_recipe_regularizes_only_the_long_gpu_runs(profile, regularized, tmp_path, monkeypatch):
    import genlearn.recipes.stylegan as sg

    seen = {}

    class Captured(Exception):
        pass

    def capture(G, D, x, *, config, **kwargs):  # stands in for training: records the config and stops the recipe
        seen["config"] = config
        raise Captured

    monkeypatch.setattr(sg, "train_stylegan", capture)
    with pytest.raises(Captured):
        sg.train(TrainRequest("stylegan", data="digits", steps=1, out=tmp_path / "run", profile=profile, device="cpu"))
    c = seen["config"]
    assert (c.r1_gamma > 0, c.diffaugment == "translation", c.pl_weight > 0) == (regularized,) * 3, c
    assert c.ema_decay > 0 and c.mixing_prob == 0.0
