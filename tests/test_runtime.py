import pytest
import torch

from genlearn import __version__
from genlearn.runtime import format_seconds, get_device, get_profile, pick, seed_everything, stamp
from genlearn.train.precision import autocast


def test_profile_from_env(monkeypatch):
    monkeypatch.setenv("GENLEARN_PROFILE", "cpu")
    assert get_profile() == "cpu"
    assert pick(smoke=1, cpu=2, gpu=3) == 2
    monkeypatch.setenv("GENLEARN_PROFILE", "smoke")
    assert pick(smoke=1, cpu=2, gpu=3) == 1


def test_profile_default_follows_cuda(monkeypatch):
    monkeypatch.delenv("GENLEARN_PROFILE", raising=False)
    assert get_profile() == ("gpu" if torch.cuda.is_available() else "cpu")


def test_unknown_profile_lists_choices(monkeypatch):
    monkeypatch.setenv("GENLEARN_PROFILE", "fast")
    with pytest.raises(ValueError, match="smoke, cpu, gpu"):
        get_profile()
    with pytest.raises(ValueError, match="unknown profile"):
        pick(smoke=1, cpu=2, gpu=3, profile="tpu")


def test_device_choice(monkeypatch):
    monkeypatch.delenv("GENLEARN_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert get_device().type == expected
    assert get_device("cpu").type == "cpu"
    with pytest.raises(ValueError, match="cpu, cuda, mps"):
        get_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            get_device("cuda")


def test_seed_everything_repeats():
    g = seed_everything(7)
    a, b = torch.randn(3), torch.randn(3, generator=g)
    g = seed_everything(7)
    assert torch.equal(a, torch.randn(3)) and torch.equal(b, torch.randn(3, generator=g))
    with pytest.raises(ValueError):
        seed_everything(-1)


def test_autocast_is_noop_on_cpu():
    with autocast("cpu"):
        y = torch.ones(2, 2) @ torch.ones(2, 2)
    assert y.dtype == torch.float32


def test_stamp_names_profile_device_versions(monkeypatch):
    monkeypatch.setenv("GENLEARN_PROFILE", "smoke")
    text = repr(stamp())
    assert text.startswith("genlearn stamp:")
    for part in (f"genlearn {__version__}", "profile smoke", f"torch {torch.__version__}", "device "):
        assert part in text


def test_format_seconds():
    assert format_seconds(5) == "5 s"
    assert format_seconds(192) == "3 min 12 s"
    assert format_seconds(3720) == "1 h 2 min"


def test_the_dry_run_cap_limits_steps_and_data(monkeypatch):
    from genlearn.runtime import cap, max_steps

    monkeypatch.delenv("GENLEARN_MAX_STEPS", raising=False)
    assert max_steps() is None and cap(20_000) == 20_000  # unset: every chapter runs as committed
    monkeypatch.setenv("GENLEARN_MAX_STEPS", "2")
    assert max_steps() == 2 and cap(20_000) == 2 and cap(1) == 1
    assert cap(2000, at_least=64) == 64 and cap(16, at_least=64) == 16  # data: a batch's worth, never more than asked
    monkeypatch.setenv("GENLEARN_MAX_STEPS", "two")
    with pytest.raises(ValueError, match="GENLEARN_MAX_STEPS must be a whole number >= 1, got 'two'"):
        cap(10)


def test_the_command_line_caps_its_recipes_steps(tmp_path, monkeypatch, capsys):
    from genlearn.cli import main
    from genlearn.train.checkpoint import load_checkpoint

    monkeypatch.setenv("GENLEARN_MAX_STEPS", "3")
    monkeypatch.setenv("GENLEARN_PROFILE", "gpu")  # restored after the test (--profile sets it for the process)
    assert main(["train", "gan", "--profile", "gpu", "--out", str(tmp_path / "run")]) == 0  # the gpu profile's 20,000 steps
    assert load_checkpoint(tmp_path / "run")["step"] == 3
