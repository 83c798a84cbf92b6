"""Recipe ``python -m genlearn train pix2pix``: paired image-to-image translation (Isola et al. 2017).

``--data watermarks`` (the default) trains a watermark remover for the marks users meet: "broad" marks on crops of
57 varied backgrounds (photos, recolourings, textures, paintings, dead leaves), half of them unmarked
(:func:`~genlearn.data.watermarks.remover_pairs`), the U-Net whose head undoes the compositing, its predictions
averaged at test time over the image's eight quarter turns and mirror images, and whose pixels with an averaged gate
below 0.5 pass through exactly, as does an image whose gate opens on fewer than 200 pixels
(:meth:`Pix2PixConfig.remover`) and L1 with the gate's mask loss (:meth:`Pix2PixTrainConfig.remover`); 1,500 crops of 128x128, the scale it is used
at, batch 4, a time budget of 8 minutes in the cpu profile. Chapter 8 measures it over three seeds on marks drawn by
another procedure and on clean photos.
``colorize`` (grayscale -> colour): the residual U-Net of chapter 8, 4,000 steps (3 min 20 s on 2 cores). An
official archive (``facades``, ``maps``, ...: downloaded once) or a folder in the pix2pix layout
(``PATH/train/*.jpg``, A|B side by side): ``gpu``, the paper's 256x256 U-Net and 70x70 PatchGAN, batch 1, 200
epochs (100 at the full rate, 100 decaying).
``python -m genlearn translate RUN --input IN --out OUT`` applies a trained run.
"""

from __future__ import annotations

from pathlib import Path

from genlearn.data import PIX2PIX_DATASETS, get_paired
from genlearn.data.paired import PAIRED_DATASETS, check_paired
from genlearn.data.watermarks import remover_pairs
from genlearn.models.pix2pix import Pix2Pix, Pix2PixConfig
from genlearn.recipes import TrainRequest, run_training
from genlearn.recipes.cyclegan import patch_layers
from genlearn.runtime import cap, get_device, pick, seed_everything
from genlearn.train.checkpoint import run_info
from genlearn.train.pix2pix import Pix2PixTrainConfig, train_pix2pix

DEFAULT_DATA = "watermarks"
CPU_STEPS = 4000  # colorize: 3 min 20 s on 2 cores
REMOVER_STEPS = 20_000  # more than fit its cpu budget: the budget decides
REMOVER_MINUTES = 8.0
LR_DECAY = 0.5  # the last half of the run decays linearly to 0 (the authors' 100 + 100 epochs)


def check_data(name: str) -> str:
    """Paired data (see :func:`genlearn.data.get_paired`); the command line's default "digits" means watermarks."""
    return name if name == "digits" else check_paired(name)


def image_size(data: str, *, profile: str | None = None) -> int:
    """Crop side: 64 for the offline sets in the cpu profile, 256 (the paper's) for archives and folders on a GPU."""
    return pick(profile=profile, smoke=16, cpu=64, gpu=128 if data in PAIRED_DATASETS else 256)


def model_config(data: str, in_channels: int, out_channels: int, size: int, *, profile: str | None = None) -> Pix2PixConfig:
    """The profile's networks: the paper's for archives and folders; residual for the offline sets (chapter 8 measures why)."""
    depth = pick(profile=profile, smoke=3, cpu=6, gpu=8 if size >= 256 else 7)
    width = pick(profile=profile, smoke=4, cpu=16, gpu=64)
    return Pix2PixConfig(in_channels=in_channels, out_channels=out_channels, image_size=size, g_width=width, depth=depth,
                         d_width=width, d_layers=patch_layers(size), residual=data in PAIRED_DATASETS)  # fmt: skip


def train(req: TrainRequest) -> Path:
    data = DEFAULT_DATA if req.data in (None, "digits") else req.data  # "digits" here means the watermarks
    size = image_size(data, profile=req.profile)
    offline = data in PAIRED_DATASETS
    if data == "watermarks":
        size = req.pick(smoke=16, cpu=128, gpu=128)  # trained at the scale it is used at
        x, y = remover_pairs(cap(req.pick(smoke=64, cpu=1500, gpu=6000), at_least=64), size)  # (N, 3, S, S) each: marked, clean
        base = model_config(data, 3, 3, size, profile=req.profile)
        model = Pix2PixConfig.remover(size, base.g_width, base.depth, base.d_layers)
        config = Pix2PixTrainConfig.remover(batch_size=req.pick(smoke=4, cpu=4, gpu=16))
    else:
        x, y = get_paired(data, "train", size, n=req.pick(smoke=64, cpu=None, gpu=None))  # (N, C_in, S, S), (N, C_out, S, S)
        model = model_config(data, x.shape[1], y.shape[1], size, profile=req.profile)
        config = Pix2PixTrainConfig(batch_size=req.pick(smoke=4, cpu=16, gpu=16 if offline else 1), lr_decay=LR_DECAY)
    device = get_device(req.device)

    def trainer(steps, fit):
        seed_everything(req.seed)
        net = Pix2Pix(model)
        return train_pix2pix(net, net.discriminator(), x, y, config=config, steps=steps, seed=req.seed, device=device, fit=fit)

    run = run_info("pix2pix", model.to_dict(), config.to_dict(), data, req.seed)
    epochs_200 = 200 * len(x) // config.batch_size  # the paper's facades schedule
    default_steps = req.pick(smoke=10, cpu=REMOVER_STEPS if data == "watermarks" else CPU_STEPS, gpu=20_000 if offline else epochs_200)
    return run_training(req, trainer, run, default_steps=default_steps, cpu_minutes=REMOVER_MINUTES if data == "watermarks" else 5.0)
