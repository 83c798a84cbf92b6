"""Recipe ``python -m genlearn train cgan``: class-conditional DCGAN with a projection discriminator.

``python -m genlearn sample RUN --n 1000`` writes ``images`` and the requested ``labels``
(classes 0..K-1 in turn), so anyone can score class accuracy with the digits classifier. On a
folder of your own images the classes are its subfolders.
"""

from __future__ import annotations

from pathlib import Path

from genlearn.data import get_dataset
from genlearn.models.conditional import ConditionalConfig, ConditionalGenerator, ProjectionDiscriminator
from genlearn.recipes import UsageError, run_training
from genlearn.recipes.presets import SMALL_DATA, dcgan_config, image_size
from genlearn.runtime import get_device, pick, seed_everything
from genlearn.train.checkpoint import run_info
from genlearn.train.gan import GANTrainConfig, train_gan


def train(args) -> Path:
    x, y = get_dataset(args.data, split="train", size=image_size(args.data))  # (N, C, S, S), (N,)
    if int(y.max()) < 1:
        raise UsageError(f"cgan needs at least 2 classes and {args.data} has one; put the images of each class into a subfolder of their own")
    model = ConditionalConfig(dcgan=dcgan_config(args.data, x.shape[1]), num_classes=int(y.max()) + 1, embed_dim=pick(smoke=4, cpu=16, gpu=32))
    config = GANTrainConfig.digits() if args.data in SMALL_DATA else GANTrainConfig.dcgan()
    device = get_device(args.device)

    def trainer(steps, fit):
        seed_everything(args.seed)
        G, D = ConditionalGenerator(model), ProjectionDiscriminator(model)
        return train_gan(G, D, x, y=y, config=config, steps=steps, seed=args.seed, device=device, fit=fit)

    run = run_info("cgan", model.to_dict(), config.to_dict(), args.data, args.seed)
    return run_training(args, trainer, run, default_steps=pick(smoke=20, cpu=2000, gpu=20000))
