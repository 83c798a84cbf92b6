"""Trains every family that the command line distributes (besides the GANs, WGANs and VAEs of test_distributed.py)
for a few steps with tiny models, in one process or under torchrun, and saves each process's weights.

    python tests/distributed_families.py OUT          # one process: OUT.0
    torchrun --nproc_per_node 2 tests/distributed_families.py OUT   # OUT.0 and OUT.1

Each family gets the same global batch in both cases; tests/test_distributed.py compares the files.
"""

import sys

import torch
import torch.distributed as dist

from genlearn.data import RandomCropDataset, get_unpaired, load_photo, load_texture
from genlearn.models.adain import AdaINDecoder, AdaINDecoderConfig, AdaINStyleTransfer
from genlearn.models.classifier import ClassifierConfig, DigitsClassifier
from genlearn.models.cyclegan import CycleGAN, CycleGANConfig, CycleGANDiscriminators
from genlearn.models.ddpm import DDPM, DDPMConfig
from genlearn.models.efficientnet_lite import load_efficientnet_lite0
from genlearn.models.pix2pix import ConditionalPatchDiscriminator, UnetGenerator
from genlearn.models.stylegan import StyleGANConfig, StyleGANDiscriminator, StyleGANGenerator
from genlearn.models.transform_net import TransformNet, TransformNetConfig
from genlearn.train.adain import AdaINTrainConfig, train_adain
from genlearn.train.classifier import train_digits_classifier
from genlearn.train.cyclegan import CycleGANTrainConfig, train_cyclegan
from genlearn.train.ddpm import DDPMTrainConfig, train_ddpm
from genlearn.train.distributed import from_environment, init_process_group
from genlearn.train.loop import FitOptions
from genlearn.train.fast_style import FastStyleTrainConfig, train_fast_style
from genlearn.train.pix2pix import Pix2PixTrainConfig, train_pix2pix
from genlearn.train.stylegan import StyleGANTrainConfig, train_stylegan

STEPS = 3


def weights(*modules: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The parameters (not the buffers: batch norm's running statistics are each process's own)."""
    return {f"{i}.{k}": v.detach().clone() for i, m in enumerate(modules) for k, v in m.named_parameters()}


@torch.no_grad()
def outputs(f, x: torch.Tensor) -> torch.Tensor:
    """What a trained network computes on fixed inputs: a bias that instance norm cancels has no gradient but for rounding, and
    Adam turns rounding into steps of the learning rate, so runs are compared by what they compute, not weight by weight."""
    return f(x).detach().clone()


def main(out: str) -> None:
    info = from_environment()
    init_process_group(info, torch.device("cpu"))
    kw = dict(steps=STEPS, progress=False, distributed=info)
    results = {}
    photos = [load_photo(name, 96) for name in ("chelsea", "coffee", "rocket")]
    crops = torch.stack([RandomCropDataset(photos, crop=32, length=8, seed=0)[i] for i in range(8)])  # (8, 3, 32, 32)
    encoder = load_efficientnet_lite0()

    x_a, _, x_b, _ = get_unpaired("digits-typeset", "train", 16)
    cfg = CycleGANConfig.tiny(16, 1)
    torch.manual_seed(0)
    G, D = CycleGAN(cfg), CycleGANDiscriminators(cfg)  # pool 0: no per-process history, so one process's run is the reference
    before, start = outputs(G.G_AB, x_a[32:40]), weights(G, D)
    train_cyclegan(G, D, x_a[:32], x_b[:32], config=CycleGANTrainConfig(batch_size=4, lr_g=2e-3, lr_d=2e-3, pool_size=0), **kw)
    results["cyclegan"] = {"weights": weights(G, D), "start": start, "out": outputs(G.G_AB, x_a[32:40]), "before": before}

    torch.manual_seed(0)
    G, D = UnetGenerator(1, 1, width=4, depth=3, dropout=0.5), ConditionalPatchDiscriminator(1, 1, width=4, n_layers=1)
    x, y = x_a[:32], x_b[:32]
    start = weights(G, D)
    train_pix2pix(G, D, x, y, config=Pix2PixTrainConfig(batch_size=4), **kw)
    results["pix2pix"] = {"weights": weights(G, D), "start": start}

    torch.manual_seed(0)
    scfg = StyleGANConfig.tiny()
    G, D = StyleGANGenerator(scfg), StyleGANDiscriminator(scfg)
    start = weights(G, D)
    x_s = torch.rand(32, scfg.channels, scfg.image_size, scfg.image_size) * 2 - 1
    config = StyleGANTrainConfig(batch_size=4, mixing_prob=1.0, r1_gamma=1.0, r1_every=2, pl_every=2)  # step 0 runs R1 and PL
    history = train_stylegan(G, D, x_s, config=config, **kw).history
    results["stylegan"] = {"weights": weights(G, D), "start": start, "pl": torch.tensor(history["pl"])}

    torch.manual_seed(0)
    net = TransformNet(TransformNetConfig(width=8, n_blocks=1))
    before, start = outputs(net.eval(), crops[:2]), weights(net)
    train_fast_style(net, crops, load_photo("immunohistochemistry", (32, 32))[None], encoder, config=FastStyleTrainConfig(batch_size=4, lr=1e-3), **kw)
    results["fast-style"] = {"weights": weights(net), "start": start, "out": outputs(net.eval(), crops[:2]), "before": before}

    torch.manual_seed(0)
    model = AdaINStyleTransfer(encoder, AdaINDecoder(AdaINDecoderConfig.for_network("EfficientNet-Lite0", width=8)))
    style = torch.stack([load_texture("brick", (32, 32)), load_photo("immunohistochemistry", (32, 32)), load_texture("grass", (32, 32)),
                         load_photo("astronaut", (32, 32))])  # fmt: skip
    before, start = outputs(lambda c: model(c, style[:2])[0], crops[:2]), weights(model.decoder)
    train_adain(model, crops, style, config=AdaINTrainConfig(batch_size=4, lr=1e-3), **kw)
    results["adain"] = {"weights": weights(model.decoder), "start": start, "out": outputs(lambda c: model(c, style[:2])[0], crops[:2]), "before": before}

    torch.manual_seed(0)
    ddpm = DDPM(DDPMConfig.tiny())
    start = weights(ddpm)
    x8 = x_a[:32, :, ::2, ::2]  # (32, 1, 8, 8): the tiny U-Net's size
    train_ddpm(ddpm, x8, config=DDPMTrainConfig(batch_size=4, lr=1e-3, warmup=1), steps=STEPS, fit=FitOptions(progress=False, distributed=info))
    results["ddpm"] = {"weights": weights(ddpm), "start": start}

    torch.manual_seed(0)  # the seed train_digits_classifier starts from
    start = weights(DigitsClassifier(ClassifierConfig()))
    results["classifier"] = {"weights": weights(train_digits_classifier(STEPS, progress=False, distributed=info).model), "start": start}

    torch.save(results, f"{out}.{info.rank}")
    if info.active:
        dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
