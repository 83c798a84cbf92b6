"""The package's shape: one adversarial set-up, the sampling protocol, the old import paths, the fixed metric."""

import importlib
import warnings

import pytest
import torch

import genlearn
from genlearn.models.conditional import ConditionalConfig, ConditionalGenerator
from genlearn.models.dcgan import DCGANConfig, DCGANDiscriminator, DCGANGenerator
from genlearn.models.gaussian import PixelGaussian
from genlearn.models.mlp import MLPConfig, MLPGenerator
from genlearn.models.vae import VAE, VAEConfig


def unconditional_models():
    return [MLPGenerator(MLPConfig.tiny((1, 8, 8))), DCGANGenerator(DCGANConfig.tiny()), PixelGaussian((1, 8, 8)), VAE(VAEConfig.tiny("mlp"))]


@pytest.mark.parametrize("model", unconditional_models(), ids=lambda m: type(m).__name__)
def test_one_sampling_protocol_for_unconditional_models(model):
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    a = model.sample(5, generator=g())
    assert a.shape[0] == 5 and torch.equal(a, model.sample(5, labels=None, generator=g()))
    with pytest.raises(ValueError, match="unconditional"):
        model.sample(5, labels=torch.zeros(5, dtype=torch.long))
    with pytest.raises(TypeError):
        model.sample(5, g())  # labels and generator are keyword-only


@pytest.mark.parametrize("model", [ConditionalGenerator(ConditionalConfig.tiny()), VAE(VAEConfig.tiny("conv", 10))], ids=lambda m: type(m).__name__)
def test_conditional_models_take_labels_or_cycle_the_classes(model):
    model.eval()
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    cycled = model.sample(12, generator=g())
    assert torch.equal(cycled, model.sample(12, labels=torch.arange(12) % 10, generator=g()))
    assert not torch.equal(cycled, model.sample(12, labels=torch.zeros(12, dtype=torch.long), generator=g()))


def test_gan_steps_call_backward_outside_autocast(monkeypatch):
    """PyTorch's AMP notes: backward passes do not belong inside autocast; CPU autocast is a no-op, so spy on it."""
    import contextlib

    import genlearn.train.gan as gan
    import genlearn.train.wgan as wgan
    from genlearn.models.critic import Critic, CriticConfig

    depth = {"n": 0}

    @contextlib.contextmanager
    def spy_autocast(device):
        depth["n"] += 1
        try:
            yield
        finally:
            depth["n"] -= 1

    def checked_backward(loss, opt, scaler=None):
        assert depth["n"] == 0, "backward inside autocast"
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for module in (gan, wgan):
        monkeypatch.setattr(module, "autocast", spy_autocast)
        monkeypatch.setattr(module, "backward_and_step", checked_backward)
    torch.manual_seed(0)
    cfg = DCGANConfig.tiny()
    G, D, C = DCGANGenerator(cfg), DCGANDiscriminator(cfg), Critic(CriticConfig.from_dcgan(cfg))
    x, z = torch.rand(4, 1, 16, 16) * 2 - 1, torch.randn(4, cfg.latent_dim)
    opt = lambda m: torch.optim.Adam(m.parameters())  # noqa: E731
    gan.d_step(G, D, opt(D), x, z)
    gan.g_step(G, D, opt(G), z)
    wgan.critic_step(G, C, opt(C), x, z)
    wgan.generator_step(G, C, opt(G), z)


def test_one_setup_checkpoints_the_step_counter_for_lazy_regularizers(tmp_path):
    from genlearn.train import load_checkpoint
    from genlearn.train.gan import GANConfig, train_gan

    torch.manual_seed(0)
    cfg = DCGANConfig.tiny()
    ckpt = tmp_path / "run.pt"
    train_gan(DCGANGenerator(cfg), DCGANDiscriminator(cfg), torch.rand(16, 1, 16, 16) * 2 - 1, config=GANConfig(batch_size=8, r1_gamma=1.0, r1_every=3),
              steps=5, checkpoint=ckpt, progress=False)  # fmt: skip
    payload = load_checkpoint(ckpt)
    assert int(payload["modules"]["steps"]["count"]) == 5
    assert set(payload["optimizers"]) == {"G", "D", "G_lr", "D_lr"}


OLD_PATHS = {  # module -> names readers of the first edition import from it
    "genlearn.elbo": ["elbo", "kl_divergence", "iw_log_likelihood"],
    "genlearn.ema": ["EMA"],
    "genlearn.augment": ["diff_augment"],
    "genlearn.toy": ["train_toy_gan", "ToyGANConfig", "PackedDiscriminator"],
    "genlearn.train.dcgan": ["digits_train_config", "model_config"],
}


@pytest.mark.parametrize("old", sorted(OLD_PATHS))
def test_old_import_paths_still_work_with_a_deprecation_warning(old):
    import sys

    sys.modules.pop(old, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
        for name in OLD_PATHS[old]:
            assert callable(getattr(module, name)), name
    assert any(issubclass(w.category, DeprecationWarning) and "moved" in str(w.message) for w in caught)


def test_first_edition_names_are_the_new_classes():
    from genlearn.models.dcgan import Discriminator, Generator
    from genlearn.models.dcgan import count_parameters as old_count
    from genlearn.models.layers import count_parameters
    from genlearn.train.gan import GANConfig, TrainConfig, digits_train_config

    assert Generator is DCGANGenerator and Discriminator is DCGANDiscriminator and old_count is count_parameters
    assert TrainConfig is GANConfig and digits_train_config() == GANConfig.digits()


def test_library_code_never_reads_the_profile():
    """Only genlearn.recipes (the command line) may turn $GENLEARN_PROFILE into sizes."""
    import ast
    from pathlib import Path

    root = Path(genlearn.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("recipes/") or rel in ("runtime.py", "cli.py", "train/dcgan.py"):
            continue  # runtime defines the profile; train/dcgan.py is the deprecated alias of the presets
        tree = ast.parse(path.read_text())
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
        if {"pick", "get_profile"} & (names | imported) or "GENLEARN_PROFILE" in path.read_text():
            offenders.append(rel)
    assert offenders == []


def test_the_digits_metric_is_the_shipped_classifier(classifier):
    """The book's digits numbers are defined by these weights: pin their hash and the floor they give."""
    from genlearn.metrics.digits import WEIGHTS, WEIGHTS_SHA256, digits_fd_floor, file_sha256, heldout_accuracy

    assert WEIGHTS_SHA256 == "3c601f85e5a6d3124dc1c243648594033a24bc7a6f542d5f014da00173d5cbb1"
    assert file_sha256(WEIGHTS) == WEIGHTS_SHA256
    assert round(digits_fd_floor(classifier), 4) == 1.0383  # the floor every chapter prints
    assert heldout_accuracy(classifier) == 1.0


def test_damaged_classifier_weights_are_refused(tmp_path):
    from genlearn.metrics.digits import WEIGHTS, ClassifierWeightsError, load_classifier

    bad = tmp_path / "w.pt"
    data = WEIGHTS.read_bytes()
    bad.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # one bit flipped
    with pytest.raises(ClassifierWeightsError, match="SHA-256 differs"):
        load_classifier(bad)
    with pytest.raises(ClassifierWeightsError, match="missing"):
        load_classifier(tmp_path / "none.pt")


def test_retraining_the_classifier_repeats_the_shipped_weights(tmp_path):
    """``python -m genlearn train classifier`` is the command that made the shipped file (one thread, seed 0)."""
    from genlearn.cli import main
    from genlearn.metrics.digits import WEIGHTS_SHA256, file_sha256
    from genlearn.train.classifier import TRAIN_STEPS

    assert main(["train", "classifier", "--steps", str(TRAIN_STEPS), "--out", str(tmp_path)]) == 0
    assert file_sha256(tmp_path / "digits_classifier.pt") == WEIGHTS_SHA256
