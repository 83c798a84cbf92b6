"""Recipe ``python -m genlearn train cyclegan``: unpaired translation between two domains (Zhu et al. 2017).

``--data digits-typeset`` (A = handwritten digits, B = typeset digits; the default), ``digits-mnist``,
or a folder with ``trainA/`` and ``trainB/``. In the ``cpu`` profile: 3,000 steps within a 10-minute budget
(7 min 44 s on 2 cores for the digits pair, keeping 96.9% / 95.8% of the held-out labels).
``python -m genlearn translate RUN --direction AtoB --input IN --out OUT`` applies a trained run.
"""

from __future__ import annotations

from pathlib import Path

from genlearn.data import UNPAIRED_DATASETS, get_unpaired
from genlearn.models.cyclegan import CycleGAN, CycleGANConfig, CycleGANDiscriminators
from genlearn.recipes import TrainRequest, run_training
from genlearn.runtime import get_device, pick, seed_everything
from genlearn.train.checkpoint import run_info
from genlearn.train.cyclegan import CycleGANTrainConfig, train_cyclegan

DEFAULT_DATA = "digits-typeset"
CPU_STEPS = 3000  # about 8 minutes of a 2-core machine at 32x32
LAMBDA_IDENTITY = 0.5  # as a fraction of lambda_cycle: the paper's 0.5


def check_data(name: str) -> str:
    """An unpaired dataset name or a folder (with trainA/ and trainB/), else ValueError saying what is expected."""
    if name in UNPAIRED_DATASETS or name == "digits" or Path(name).is_dir():  # "digits" (the CLI's default): the digits pair
        return name
    raise ValueError(f"cyclegan trains on two unpaired domains: --data {' or '.join(UNPAIRED_DATASETS)}, or a folder with trainA/ and trainB/; got {name!r}")


def image_size(data: str, *, profile: str | None = None) -> int:
    """32 for the digit pairs (chapter 7: at 16x16 the generator's 4x4 bottleneck keeps fewer labels), else the profile's."""
    return pick(profile=profile, smoke=16, cpu=32, gpu=32) if data in UNPAIRED_DATASETS else pick(profile=profile, smoke=16, cpu=32, gpu=256)


def patch_layers(size: int) -> int:
    """PatchGAN depth for a side: 3 (70x70 patches, the paper's) from 128 pixels up, 2 (34) at 64, else 1 (16).

    The paper's patches are about a quarter of a 256-pixel side; on the 32x32 digits even two layers'
    34-pixel patches see the whole image (chapter 7 measures what that costs).
    """
    return 3 if size >= 128 else 2 if size >= 64 else 1


def train(req: TrainRequest) -> Path:
    data = DEFAULT_DATA if req.data in (None, "digits") else req.data  # "digits" here means the digits pair
    size = image_size(data, profile=req.profile)
    x_a, _, x_b, _ = get_unpaired(data, "train", size)  # (N_A, C_A, S, S), (N_B, C_B, S, S)
    model = CycleGANConfig(channels_a=x_a.shape[1], channels_b=x_b.shape[1], image_size=size, g_width=req.pick(smoke=4, cpu=16, gpu=64),
                           n_blocks=req.pick(smoke=1, cpu=3, gpu=9), d_width=req.pick(smoke=4, cpu=16, gpu=64), d_layers=patch_layers(size))  # fmt: skip
    digits = data in UNPAIRED_DATASETS
    config = CycleGANTrainConfig(batch_size=req.pick(smoke=4, cpu=16, gpu=16 if digits else 1),  # the paper: batch 1
                                 lambda_identity=LAMBDA_IDENTITY if x_a.shape[1] == x_b.shape[1] else 0.0)  # fmt: skip
    device = get_device(req.device)

    def trainer(steps, fit):
        seed_everything(req.seed)
        return train_cyclegan(CycleGAN(model), CycleGANDiscriminators(model), x_a, x_b, config=config, steps=steps, seed=req.seed,
                              device=device, fit=fit)  # fmt: skip

    run = run_info("cyclegan", model.to_dict(), config.to_dict(), data, req.seed)
    epochs_200 = 200 * max(len(x_a), len(x_b)) // config.batch_size  # the paper's 100 + 100 epochs
    return run_training(req, trainer, run, default_steps=req.pick(smoke=10, cpu=CPU_STEPS, gpu=20_000 if digits else epochs_200), cpu_minutes=10.0)
