"""Checkpoints of format 2 written by genlearn 0.2 still load with this version: the files in tests/data/format2 come
from commit 5020e88's own trainers (tests/data/format2/README.md says how). genlearn.load rebuilds each model from
the file alone with the file's weights; the GAN runs also resume. A 0.2 VAE run does not resume yet (see below)."""

import shutil
from pathlib import Path

import pytest
import torch

import genlearn
from genlearn.checkpoint import FORMAT, RUN_KEYS, load_checkpoint
from genlearn.data import get_dataset
from genlearn.models.critic import Critic, CriticConfig
from genlearn.models.dcgan import DCGANConfig, DCGANGenerator
from genlearn.models.mlp import MLPConfig, MLPDiscriminator, MLPGenerator
from genlearn.models.vae import VAE, VAEConfig
from genlearn.train.gan import GANConfig, train_gan
from genlearn.train.loop import FitOptions
from genlearn.train.vae import VAETrainConfig, train_vae
from genlearn.train.wgan import WGANConfig, train_wgan

DATA = Path(__file__).parent / "data" / "format2"


def expected_weights(payload: dict) -> dict[str, torch.Tensor]:
    """The weights a 0.2 run samples from, read off the file by hand: the EMA copy where it kept one."""
    modules = payload["modules"]
    if "G_ema" in modules:  # an EMA's state_dict holds the averaged network under "model."
        return {k[len("model.") :]: v for k, v in modules["G_ema"].items() if k.startswith("model.")}
    return modules["G"] if "G" in modules else modules[payload["model"]]


@pytest.mark.parametrize("name", ["gan", "vae", "wgan-gp"])
def test_a_format_2_file_from_genlearn_0_2_loads_with_its_weights_and_samples(name):
    payload = torch.load(DATA / f"{name}.pt", map_location="cpu", weights_only=False)
    assert payload["format"] == FORMAT == "genlearn-checkpoint-2" and payload["genlearn_version"] == "0.2.0"
    model = genlearn.load(DATA / f"{name}.pt")
    assert not model.training
    want = expected_weights(payload)
    got = model.state_dict()
    assert set(got) == set(want)
    assert all(torch.equal(got[k], want[k]) for k in want), f"{name}: the rebuilt model's weights are not the file's"
    if "G_ema" in payload["modules"]:  # the EMA copy and G differ, so the check above tells which one was loaded
        assert any(not torch.equal(v, payload["modules"]["G"][k]) for k, v in want.items())

    x = model.sample(4, generator=torch.Generator().manual_seed(0))
    again = model.sample(4, generator=torch.Generator().manual_seed(0))
    shape = payload["model_config"].get("data_shape") or [payload["model_config"]["channels"], *[payload["model_config"]["image_size"]] * 2]
    assert x.shape == (4, *shape) and torch.isfinite(x).all() and torch.equal(x, again)


def resume(name: str, path: Path, steps: int, init: int = 0):
    """Resume the 0.2 run in ``path`` to ``steps`` with this version's trainer, rebuilt from the run's description;
    the networks start from the initialization of seed ``init``, which a resume replaces by the file's weights."""
    run = load_checkpoint(path)
    torch.manual_seed(init)
    fit = FitOptions(checkpoint=path, run={k: run[k] for k in RUN_KEYS}, progress=False)  # as the command line resumes
    if name == "gan":
        model, config = MLPConfig.from_dict(run["model_config"]), GANConfig.from_dict(run["train_config"])
        x, _ = get_dataset(run["data"], split="train")
        return train_gan(MLPGenerator(model), MLPDiscriminator(model), x, config=config, steps=steps, seed=run["seed"], fit=fit)
    if name == "wgan-gp":
        model = DCGANConfig.from_dict(run["model_config"])
        train_config = dict(run["train_config"])
        critic = CriticConfig.from_dict(train_config.pop("critic"))
        x, _ = get_dataset(run["data"], split="train", size=model.image_size)
        return train_wgan(DCGANGenerator(model), Critic(critic), x, config=WGANConfig.from_dict(train_config), steps=steps,
                          seed=run["seed"], fit=fit)  # fmt: skip
    model, config = VAEConfig.from_dict(run["model_config"]), VAETrainConfig.from_dict(run["train_config"])
    x, _ = get_dataset(run["data"], split="train")
    return train_vae(VAE(model), x, config=config, steps=steps, seed=run["seed"], device="cpu", fit=fit)


@pytest.mark.parametrize("name", ["gan", "wgan-gp"])
def test_a_gan_run_of_genlearn_0_2_resumes(name, tmp_path):
    shutil.copy(DATA / f"{name}.pt", tmp_path / "once.pt")
    shutil.copy(DATA / f"{name}.pt", tmp_path / "twice.pt")
    before = load_checkpoint(DATA / f"{name}.pt")
    start = before["step"]

    once = resume(name, tmp_path / "once.pt", start + 2, init=1)
    assert once.history.steps == list(range(1, start + 3))  # the 0.2 run's steps, then two more
    old = before["extra"]["history"]["logs"]
    assert all(once.history.logs[k][:start] == old[k] for k in old)  # its history is carried over, not restarted
    after = load_checkpoint(tmp_path / "once.pt")
    assert after["step"] == start + 2 and after["format"] == FORMAT
    assert any(not torch.equal(v, before["modules"]["G"][k]) for k, v in after["modules"]["G"].items())

    resume(name, tmp_path / "twice.pt", start + 1, init=2)  # the same two steps as two resumes of one step each,
    resume(name, tmp_path / "twice.pt", start + 2, init=3)  # from other initializations: only the files' weights count
    twice = load_checkpoint(tmp_path / "twice.pt")
    for module in after["modules"]:
        assert all(torch.equal(v, twice["modules"][module][k]) for k, v in after["modules"][module].items()), module


def test_a_vae_run_of_genlearn_0_2_resumes(tmp_path):  # 0.2's VAE trainer kept no step counter: restore sets it
    shutil.copy(DATA / "vae.pt", tmp_path / "vae.pt")
    trained = resume("vae", tmp_path / "vae.pt", load_checkpoint(DATA / "vae.pt")["step"] + 2, init=1)
    assert trained.history.steps[-1] == load_checkpoint(DATA / "vae.pt")["step"] + 2
