"""The package's shape: one adversarial set-up, the sampling protocol, old names kept or removed, the fixed metric."""

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


# 0.2's names of the training configs: the chapters import them, and their notebooks run with genlearn's
# DeprecationWarnings as errors, so they stay plain aliases (no warning) until the chapters are re-executed
CONFIG_ALIASES = {
    "genlearn.train.gan": ("GANConfig", "GANTrainConfig"),
    "genlearn.train.wgan": ("WGANConfig", "WGANTrainConfig"),
    "genlearn.train.fast_style": ("FastStyleConfig", "FastStyleTrainConfig"),
    "genlearn.train.toy_gan": ("ToyGANConfig", "ToyGANTrainConfig"),
    "genlearn.train.adversarial": ("AdversarialConfig", "AdversarialTrainConfig"),
}


@pytest.mark.parametrize("module", sorted(CONFIG_ALIASES))
def test_0_2_config_names_are_the_train_configs_without_a_warning(module):
    old, new = CONFIG_ALIASES[module]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mod = importlib.import_module(module)
        assert getattr(mod, old) is getattr(mod, new)
    assert new.endswith("TrainConfig") and getattr(mod, new).__name__ == new
    assert old in mod.__all__ and new in mod.__all__  # both documented: the chapters link the old name


def test_the_0_1_import_paths_are_gone():
    """They warned through 0.2 (CHANGELOG: removed in 0.3); their new homes are genlearn.train.* and genlearn.losses.
    (Read from the package's folders: an editable install of another checkout could still serve them by import.)"""
    import pkgutil

    modules = {m.name for m in pkgutil.walk_packages(genlearn.__path__, "genlearn.")}
    assert {"genlearn.train.augment", "genlearn.train.ema", "genlearn.train.toy_gan", "genlearn.losses.elbo"} <= modules
    assert modules.isdisjoint({"genlearn.augment", "genlearn.ema", "genlearn.toy", "genlearn.elbo", "genlearn.train.dcgan"})


def test_0_1_names_that_never_warned_warn_now():
    """``TrainConfig``, ``digits_train_config``, ``dcgan.Generator`` / ``Discriminator`` were plain aliases through 0.2;
    the deprecation policy removes a name only after a release in which it warns, so 0.3 warns and 0.4 removes them."""
    import genlearn.models.dcgan as dcgan
    import genlearn.train.gan as gan

    for module, name, new in [(gan, "TrainConfig", gan.GANTrainConfig), (dcgan, "Generator", DCGANGenerator),
                              (dcgan, "Discriminator", DCGANDiscriminator)]:  # fmt: skip
        with pytest.warns(DeprecationWarning, match=f"{name} is deprecated: use {new.__name__}"):
            assert getattr(module, name) is new
        assert name not in module.__all__
    with pytest.warns(DeprecationWarning, match=r"use GANTrainConfig\.digits\(\)"):
        assert gan.digits_train_config() == gan.GANTrainConfig.digits()
    with pytest.raises(AttributeError):
        dcgan.Critic  # noqa: B018  (only the two first-edition names are served)


def test_the_0_1_shims_of_presets_and_the_digits_metric_are_gone():
    import genlearn.metrics.digits as digits
    import genlearn.recipes.presets as presets

    for module, name in [(digits, "train_digits_classifier"), (digits, "TRAIN_STEPS"), (presets, "model_config")]:
        assert not hasattr(module, name), f"{module.__name__}.{name}"


def profile_readers(root) -> list[str]:
    """The modules under ``root`` that name ``pick``, ``get_profile`` or ``cap``, or read ``$GENLEARN_PROFILE``."""
    import ast

    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text())
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
        if {"pick", "get_profile", "cap"} & (names | imported) or "GENLEARN_PROFILE" in path.read_text():
            found.append(path.relative_to(root).as_posix())
    return found


def test_library_code_never_reads_the_profile():
    """Only genlearn.recipes (the command line) may turn $GENLEARN_PROFILE into sizes: profile.py defines the profile,
    runtime.py re-exports it for the chapters and stamps it, and cli.py passes --profile on."""
    from pathlib import Path

    allowed = ("profile.py", "runtime.py", "cli.py")
    readers = profile_readers(Path(genlearn.__file__).parent)
    assert {"profile.py", "runtime.py"} <= set(readers)  # the check sees the modules that do read it
    assert [rel for rel in readers if not rel.startswith("recipes/") and rel not in allowed] == []


def test_the_profile_check_finds_a_library_module_that_reads_the_profile(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "net.py").write_text("from genlearn.profile import cap\nwidth = cap(64)\n")
    (tmp_path / "models" / "other.py").write_text("width = 64\n")
    assert profile_readers(tmp_path) == ["models/net.py"]


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
    """``python -m genlearn train classifier`` is the command that made the shipped file (one thread, seed 0).

    Bit for bit where the CPU does float arithmetic as the machine that made it did. CPUs of another make or
    instruction set (an AVX-512 AMD EPYC against the AVX2 machines the file was made and CI ran on) round matrix
    products differently and 500 steps of SGD carry the difference into every weight, so there the test asks for
    the same classifier in behaviour: the same predictions on the 360 held-out digits but for a few, the same
    accuracy within a point, and bit-for-bit repetition on this machine."""
    from genlearn.cli import main
    from genlearn.data import get_held_out
    from genlearn.metrics.digits import WEIGHTS_SHA256, classify_digits, file_sha256, heldout_accuracy, load_classifier
    from genlearn.train.classifier import TRAIN_STEPS

    assert main(["train", "classifier", "--steps", str(TRAIN_STEPS), "--out", str(tmp_path / "a")]) == 0
    if file_sha256(tmp_path / "a" / "digits_classifier.pt") == WEIGHTS_SHA256:
        return
    assert main(["train", "classifier", "--steps", str(TRAIN_STEPS), "--out", str(tmp_path / "b")]) == 0
    assert file_sha256(tmp_path / "a" / "digits_classifier.pt") == file_sha256(tmp_path / "b" / "digits_classifier.pt")
    shipped, retrained = load_classifier(), load_classifier(tmp_path / "a" / "digits_classifier.pt", sha256=None)
    x = get_held_out("digits-test")  # (360, 1, 16, 16)
    assert (classify_digits(x, shipped) == classify_digits(x, retrained)).float().mean() >= 0.98
    assert abs(heldout_accuracy(shipped) - heldout_accuracy(retrained)) <= 0.01


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    """Checkpoints of three kinds of model (generative, translation, stylize with a fixed encoder), written by the one
    writer without any training: model name -> checkpoint path."""
    from genlearn.checkpoint import run_info, save_checkpoint
    from genlearn.models.adain import AdaINConfig, build_adain
    from genlearn.models.cyclegan import CycleGAN, CycleGANConfig

    root = tmp_path_factory.mktemp("tiny-runs")
    torch.manual_seed(0)
    dcgan, cyclegan, adain = DCGANConfig.tiny(), CycleGANConfig.tiny(), AdaINConfig(width=4)
    modules = {"dcgan": ("G", DCGANGenerator(dcgan), dcgan), "cyclegan": ("G", CycleGAN(cyclegan), cyclegan),
               "adain": ("decoder", build_adain(adain).decoder, adain)}  # fmt: skip
    return {name: save_checkpoint(root / name / "checkpoint.pt", modules={key: net}, run=run_info(name, cfg.to_dict()))
            for name, (key, net, cfg) in modules.items()}  # fmt: skip


LOAD_AND_LIST_MODULES = """
import sys, genlearn
from genlearn.models.efficientnet_lite import shipped_weights_path
for path in sys.argv[1:]:
    genlearn.load(path)
genlearn.load(sys.argv[-1], encoder_weights=shipped_weights_path())  # the adain run, its encoder from a file
print(" ".join(sorted(m for m in sys.modules if m.split(".")[:2] in (["genlearn", "train"], ["genlearn", "recipes"], ["genlearn", "cli"]))))
"""


def test_loading_a_run_imports_no_training_code(tiny_runs):
    """genlearn.load reads the schema in genlearn.checkpoint, below genlearn.train: reloading a model for inference
    runs no import up into the training code, the recipes or the command line (a fresh interpreter, so nothing else
    imported them first)."""
    import subprocess
    import sys

    paths = [str(tiny_runs[name]) for name in ("dcgan", "cyclegan", "adain")]
    done = subprocess.run([sys.executable, "-c", LOAD_AND_LIST_MODULES, *paths], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == []


def test_an_adain_run_loads_its_encoder_from_a_weights_file(tiny_runs, tmp_path):
    """encoder_weights rebuilds the fixed part a run does not save; the decoder comes from the checkpoint either way."""
    from genlearn.models.efficientnet_lite import shipped_weights_path

    weights = tmp_path / "encoder.pth"
    weights.write_bytes(shipped_weights_path().read_bytes())
    default, from_file = genlearn.load(tiny_runs["adain"]), genlearn.load(tiny_runs["adain"], encoder_weights=weights)
    assert list(default.state_dict()) == list(from_file.state_dict())
    assert all(torch.equal(v, from_file.state_dict()[k]) for k, v in default.state_dict().items())
    with pytest.raises(FileNotFoundError, match="none.pth"):
        genlearn.load(tiny_runs["adain"], encoder_weights=tmp_path / "none.pth")
    torch.save({"_not_a_layer.weight": torch.zeros(1)}, tmp_path / "bad.pth")  # not EfficientNet-Lite0's keys
    with pytest.raises(ValueError, match="cannot rebuild its 'adain' model with the encoder weights"):
        genlearn.load(tiny_runs["adain"], encoder_weights=tmp_path / "bad.pth")
    with pytest.raises(ValueError, match="saves all of its weights"):
        genlearn.load(tiny_runs["dcgan"], encoder_weights=weights)


def test_the_training_package_re_exports_the_one_schema():
    """genlearn.train.checkpoint is the schema's old home and stays public: the same objects, no second copy."""
    import genlearn.checkpoint as schema
    import genlearn.train.checkpoint as old

    for name in [*schema.__all__, "rng_state", "set_rng_state"]:
        assert getattr(old, name) is getattr(schema, name), name
    assert old.__all__ == schema.__all__


def test_unwrap_takes_the_model_out_of_a_replica_without_importing_it():
    from genlearn.checkpoint import unwrap
    from genlearn.train.distributed import Replica

    model = torch.nn.Linear(3, 2)
    assert unwrap(Replica(model, ddp=None)) is model  # only the class's marker is read, never the DDP wrapper

    class Holder(torch.nn.Module):  # a model that happens to have a part named "module" is not a wrapper
        def __init__(self):
            super().__init__()
            self.module = torch.nn.Linear(3, 2)

    holder = Holder()
    assert unwrap(holder) is holder


def test_no_import_cycles_even_through_imports_inside_functions():
    """The modules import each other in one direction only. A late import inside a function dodges Python's
    circular-import error but still ties two modules together, so imports anywhere in a file count (as in
    the architecture review's import_cycles.py); a package importing its own submodules (re-exports) does not."""
    import ast
    from pathlib import Path

    root = Path(genlearn.__file__).parent
    modules = {}
    for path in root.rglob("*.py"):
        parts = ("genlearn", *path.relative_to(root).with_suffix("").parts)
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path

    def imported(name: str, path: Path) -> set[str]:
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = ".".join(package[: len(package) - node.level + 1] + [node.module or ""]).strip(".") if node.level else node.module
                found |= {base} | {f"{base}.{a.name}" for a in node.names}
        return {m for m in found if m in modules and m != name and not m.startswith(name + ".")}

    graph = {name: imported(name, path) for name, path in modules.items()}
    cycles, done = [], set()

    def visit(name: str, stack: list[str]) -> None:
        if name in stack:
            cycles.append(" -> ".join(stack[stack.index(name):] + [name]))
        elif name not in done:
            for other in sorted(graph[name]):
                visit(other, stack + [name])
            done.add(name)

    for name in sorted(graph):
        visit(name, [])
    assert cycles == []
