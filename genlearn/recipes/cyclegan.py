"""Recipe ``python -m genlearn train cyclegan``: unpaired translation between two domains (Zhu et al. 2017).

``--data digits-typeset`` (A = handwritten digits, B = typeset digits; the default), ``digits-mnist``,
or a folder with ``trainA/`` and ``trainB/``. About 10 minutes in the ``cpu`` profile.
``python -m genlearn translate RUN --direction AtoB --input IN --out OUT`` applies a trained run.
"""

from __future__ import annotations

from pathlib import Path

from genlearn.data import UNPAIRED_DATASETS, get_unpaired
from genlearn.models.cyclegan import CycleGAN, CycleGANConfig, CycleGANDiscriminators
from genlearn.recipes import run_training
from genlearn.runtime import get_device, pick, seed_everything
from genlearn.train.checkpoint import run_info
from genlearn.train.cyclegan import CycleGANTrainConfig, train_cyclegan

DEFAULT_DATA = "digits-typeset"


def check_data(name: str) -> str:
    """An unpaired dataset name or a folder (with trainA/ and trainB/), else ValueError saying what is expected."""
    if name in UNPAIRED_DATASETS or name == "digits" or Path(name).is_dir():  # "digits" (the CLI's default): the digits pair
        return name
    raise ValueError(f"cyclegan trains on two unpaired domains: --data {' or '.join(UNPAIRED_DATASETS)}, or a folder with trainA/ and trainB/; got {name!r}")


def image_size(data: str) -> int:
    return 16 if data in UNPAIRED_DATASETS else pick(smoke=16, cpu=32, gpu=256)


def train(args) -> Path:
    if args.data == "digits":  # the command line's default dataset: the digits pair
        args.data = DEFAULT_DATA
    size = image_size(args.data)
    x_a, _, x_b, _ = get_unpaired(args.data, "train", size)  # (N_A, C_A, S, S), (N_B, C_B, S, S)
    model = CycleGANConfig(channels_a=x_a.shape[1], channels_b=x_b.shape[1], image_size=size, g_width=pick(smoke=4, cpu=16, gpu=64),
                           n_blocks=pick(smoke=1, cpu=3, gpu=9), d_width=pick(smoke=4, cpu=16, gpu=64), d_layers=pick(smoke=2, cpu=2, gpu=3))  # fmt: skip
    config = CycleGANTrainConfig(batch_size=pick(smoke=4, cpu=16, gpu=1), lambda_identity=0.5 if x_a.shape[1] == x_b.shape[1] else 0.0)
    device = get_device(args.device)

    def trainer(steps, **fit):
        seed_everything(args.seed)
        return train_cyclegan(CycleGAN(model), CycleGANDiscriminators(model), x_a, x_b, config=config, steps=steps, seed=args.seed,
                              device=device, desc="cyclegan", **fit)  # fmt: skip

    run = run_info("cyclegan", model.to_dict(), config.to_dict(), args.data, args.seed)
    return run_training(args, trainer, run, default_steps=pick(smoke=10, cpu=6000, gpu=100_000), cpu_minutes=10.0)
