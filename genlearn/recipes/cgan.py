"""Recipe ``python -m genlearn train cgan``: class-conditional DCGAN with a projection discriminator.

``python -m genlearn sample RUN --n 1000`` writes ``images`` and the requested ``labels``
(classes 0..K-1 in turn), so anyone can score class accuracy with the digits classifier. On a
folder of your own images the classes are its subfolders.
"""

from __future__ import annotations

from pathlib import Path

from genlearn.data import get_dataset
from genlearn.models.conditional import ConditionalConfig, ConditionalGenerator, ProjectionDiscriminator
from genlearn.recipes import TrainRequest, UsageError, run_training
from genlearn.recipes.presets import SMALL_DATA, dcgan_config, image_size
from genlearn.runtime import get_device, seed_everything
from genlearn.train.checkpoint import run_info
from genlearn.train.gan import GANTrainConfig, train_gan

DEFAULT_DATA = "digits"  # --data when none is given


def train(req: TrainRequest) -> Path:
    x, y = get_dataset(req.data, split="train", size=image_size(req.data, profile=req.profile))  # (N, C, S, S), (N,)
    if int(y.max()) < 1:
        raise UsageError(f"cgan needs at least 2 classes and {req.data} has one; put the images of each class into a subfolder of their own")
    model = ConditionalConfig(dcgan=dcgan_config(req.data, x.shape[1], profile=req.profile), num_classes=int(y.max()) + 1, embed_dim=req.pick(smoke=4, cpu=16, gpu=32))
    config = GANTrainConfig.digits() if req.data in SMALL_DATA else GANTrainConfig.dcgan()
    device = get_device(req.device)

    def trainer(steps, fit):
        seed_everything(req.seed)
        G, D = ConditionalGenerator(model), ProjectionDiscriminator(model)
        return train_gan(G, D, x, y=y, config=config, steps=steps, seed=req.seed, device=device, fit=fit)

    run = run_info("cgan", model.to_dict(), config.to_dict(), req.data, req.seed)
    return run_training(req, trainer, run, default_steps=req.pick(smoke=20, cpu=2000, gpu=20000))
