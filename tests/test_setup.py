"""The one set-up every trainer builds on (genlearn.train.setup): precision decided once and active in every trainer's
steps, float32 trainers saying why, the single-player trainers resuming bit for bit, and no trainer wiring its own."""

import ast
import contextlib
from pathlib import Path

import pytest
import torch

import genlearn.train.setup as the_setup
from genlearn.data import load_digits, load_photo, load_texture
from genlearn.models.adain import AdaINDecoder, AdaINDecoderConfig, AdaINStyleTransfer
from genlearn.models.classifier import ClassifierConfig
from genlearn.models.critic import Critic, CriticConfig
from genlearn.models.cyclegan import CycleGAN, CycleGANConfig, CycleGANDiscriminators
from genlearn.models.dcgan import DCGANConfig, DCGANDiscriminator, DCGANGenerator
from genlearn.models.efficientnet_lite import load_efficientnet_lite0
from genlearn.models.pix2pix import ConditionalPatchDiscriminator, UnetGenerator
from genlearn.models.stylegan import StyleGANConfig, StyleGANDiscriminator, StyleGANGenerator
from genlearn.models.transform_net import TransformNet, TransformNetConfig
from genlearn.models.vae import VAE, VAEConfig
from genlearn.train import FitOptions, Precision
from genlearn.train.adain import AdaINTrainConfig, train_adain
from genlearn.train.classifier import train_digits_classifier
from genlearn.train.cyclegan import CycleGANTrainConfig, train_cyclegan
from genlearn.train.fast_style import FastStyleTrainConfig, train_fast_style
from genlearn.train.gan import GANTrainConfig, train_gan
from genlearn.train.pix2pix import Pix2PixTrainConfig, train_pix2pix
from genlearn.train.precision import active_precision
from genlearn.train.stylegan import StyleGANTrainConfig, train_stylegan
from genlearn.train.vae import VAETrainConfig, train_vae
from genlearn.train.wgan import WGANTrainConfig, train_wgan

ROOT = Path(__file__).resolve().parents[1]
FIT = FitOptions(progress=False, precision=Precision(amp=True, channels_last=True))


@pytest.fixture(scope="module")
def encoder():
    return load_efficientnet_lite0()


def digits(n=16, size=16):
    return load_digits("train", size=size)[0][:n]


def photos():
    return torch.stack([load_photo(n, (32, 32)) for n in ("chelsea", "coffee", "rocket", "astronaut")])


TRAINERS = {  # name: a 2-step run of the trainer with tiny networks
    "gan": lambda enc: train_gan(DCGANGenerator(DCGANConfig.tiny()), DCGANDiscriminator(DCGANConfig.tiny()), digits(),
                                 config=GANTrainConfig(batch_size=8), steps=2, fit=FIT),
    "wgan": lambda enc: train_wgan(DCGANGenerator(DCGANConfig.tiny()), Critic(CriticConfig.tiny()), digits(),
                                   config=WGANTrainConfig.wgan_gp(batch_size=8, n_critic=1), steps=2, fit=FIT),
    "cyclegan": lambda enc: train_cyclegan(CycleGAN(CycleGANConfig.tiny(16, 1)), CycleGANDiscriminators(CycleGANConfig.tiny(16, 1)),
                                           digits(8), digits(8), config=CycleGANTrainConfig(), steps=2, fit=FIT),
    "pix2pix": lambda enc: train_pix2pix(UnetGenerator(1, 1, width=4, depth=3, dropout=0.0), ConditionalPatchDiscriminator(1, 1, width=4, n_layers=1),
                                         digits(8), -digits(8), config=Pix2PixTrainConfig(batch_size=4), steps=2, fit=FIT),
    "stylegan": lambda enc: train_stylegan(StyleGANGenerator(StyleGANConfig.tiny()), StyleGANDiscriminator(StyleGANConfig.tiny()),
                                           digits(size=8), config=StyleGANTrainConfig(batch_size=8, pl_every=1), steps=2, fit=FIT),
    "vae": lambda enc: train_vae(VAE(VAEConfig.tiny("conv", 0)), digits(size=8), config=VAETrainConfig(batch_size=8), steps=2, fit=FIT),
    "classifier": lambda enc: train_digits_classifier(2, config=ClassifierConfig.tiny(), data=load_digits("train", size=16)[:2], fit=FIT),
    "fast-style": lambda enc: train_fast_style(TransformNet(TransformNetConfig(width=4, n_blocks=1)), photos(), photos()[:1], enc,
                                               config=FastStyleTrainConfig(batch_size=2), steps=2, fit=FIT),
    "adain": lambda enc: train_adain(AdaINStyleTransfer(enc, AdaINDecoder(AdaINDecoderConfig.for_network("EfficientNet-Lite0", width=4))),
                                     photos(), photos(), config=AdaINTrainConfig(batch_size=2), steps=2, fit=FIT),
}
FLOAT32 = {"fast-style", "adain"}  # they say why (their FLOAT32.reason)


@pytest.mark.parametrize("name", sorted(TRAINERS))
def test_every_trainer_runs_its_steps_under_the_precision_its_set_up_decided(name, encoder, monkeypatch):
    activated, autocasts = [], []
    real_using = the_setup.using

    @contextlib.contextmanager
    def spy_using(precision):
        activated.append(precision)
        with real_using(precision):
            yield precision

    def spy_autocast(device, enabled=None):  # every module's own name for it: the step functions' calls land here
        autocasts.append(active_precision())
        return contextlib.nullcontext()

    monkeypatch.setattr(the_setup, "using", spy_using)
    for module in ("gan", "wgan", "cyclegan", "pix2pix", "vae", "classifier"):
        monkeypatch.setattr(f"genlearn.train.{module}.autocast", spy_autocast)
    TRAINERS[name](encoder)
    assert len(activated) == 1  # decided once, for the whole run
    if name in FLOAT32:
        assert activated[0].reason and not activated[0].amp and not autocasts  # float32, with its reason
    else:
        assert activated[0] == FIT.precision.on("cpu") and not activated[0].reason
        assert autocasts and all(p == activated[0] for p in autocasts)  # every step's forward under that precision


@pytest.mark.parametrize("name", ["vae", "classifier"])
def test_the_single_player_trainers_resume_bit_for_bit(name, tmp_path):
    x, y = load_digits("train", size=16)
    x8 = load_digits("train", size=8)[0]

    def run(steps, **fit):
        torch.manual_seed(0)
        options = FitOptions(progress=False, **fit)
        if name == "vae":
            return train_vae(VAE(VAEConfig.tiny("conv", 10)), x8[:64], y[:64], config=VAETrainConfig(batch_size=16), steps=steps, fit=options)
        return train_digits_classifier(steps, config=ClassifierConfig.tiny(), data=(x[:64], y[:64]), fit=options)

    whole, history = run(12)
    ckpt = tmp_path / "run.pt"

    def stop(step, h):
        if step == 5:
            raise KeyboardInterrupt

    from genlearn.train import Every

    with pytest.raises(KeyboardInterrupt):
        run(12, checkpoint=ckpt, callbacks=[Every(1, stop)])
    resumed, h2 = run(12, checkpoint=ckpt)
    assert h2.steps == history.steps and h2.logs == history.logs
    assert all(torch.equal(a, b) for a, b in zip(resumed.state_dict().values(), whole.state_dict().values()))


def test_no_trainer_builds_its_own_optimizer_or_ddp_wrapper():
    allowed = {"make_optimizer"}  # a config's optimizer factory (handed to the set-up)
    offenders = []
    for path in sorted((ROOT / "genlearn" / "train").glob("*.py")):
        if path.name in ("setup.py", "distributed.py", "gatys.py"):  # the set-up itself; DDP itself; Gatys optimizes pixels
            continue
        for fn in ast.walk(ast.parse(path.read_text())):
            if not isinstance(fn, ast.FunctionDef) or fn.name in allowed:
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Call):
                    text = ast.unparse(node.func)
                    if (text.startswith("torch.optim.") and "lr_scheduler" not in text) or text in ("wrap", "DistributedDataParallel"):
                        offenders.append(f"{path.name}:{fn.name}: {text}")
    assert offenders == []
