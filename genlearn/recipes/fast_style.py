"""Recipe ``python -m genlearn train fast-style --style STYLE``: a feed-forward network for one style (Johnson et al. 2016).

Content: random crops of the 10 training photos that ship with scikit-image, scikit-learn and
matplotlib (``--data photos``, the default), or of a folder of your own images (``--data PATH``).
Style: ``--style`` takes a shipped photo or texture by name, an image file or a URL (default
"immunohistochemistry"). Features: VGG-19 where its weights are cached, else EfficientNet-Lite0 (offline).
In the ``cpu`` profile: 128-pixel crops, the reference network, a 10-minute budget.
``python -m genlearn stylize CONTENT --method fast --run RUN --out OUT`` applies it.
"""

from __future__ import annotations

from pathlib import Path

import torch

from genlearn.data import image_crops, list_photos, load_image, load_image_folder, load_photo
from genlearn.models.features import load_feature_network
from genlearn.models.transform_net import TransformNet, TransformNetConfig
from genlearn.recipes import TrainRequest, UsageError, run_training
from genlearn.runtime import get_device, seed_everything
from genlearn.train.checkpoint import run_info
from genlearn.train.fast_style import FastStyleTrainConfig, train_fast_style

DEFAULT_DATA = "photos"  # --data when none is given ("digits" is read as the same, for 0.2's command lines)
DEFAULT_STYLE = "immunohistochemistry"
CPU_STEPS = 2000
STYLE_WEIGHT = 1e4  # beta for content weight 1: at 1e6 (Gatys's weight here) the network forgot the content and painted texture


def check_data(name: str) -> str:
    """"photos" (or the command line's default "digits": the same) or a folder of content images."""
    if name in ("photos", "digits") or Path(name).is_dir():
        return name
    raise ValueError(f"style transfer trains on content photos: --data photos (offline, the default) or a folder of your images; got {name!r}")


def content_crops(data: str, crop: int, n: int, seed: int) -> torch.Tensor:
    """``n`` random ``crop`` x ``crop`` crops (N, 3, crop, crop) of the training photos or of a folder's images."""
    if data in ("photos", "digits"):
        images = [load_photo(name, 2 * crop) for name in list_photos("train")]
    else:
        x, _ = load_image_folder(data, 2 * crop)  # (M, C, 2 crop, 2 crop)
        images = list(x if x.shape[1] == 3 else x.repeat(1, 3, 1, 1))
    return image_crops(images, crop, n, seed)


def train(req: TrainRequest) -> Path:
    style_name = req.style or DEFAULT_STYLE
    crop = req.pick(smoke=32, cpu=128, gpu=256)
    try:
        style = load_image(style_name, crop)[None]  # (1, 3, H, W), the shorter side at the crop size
    except ValueError as e:
        raise UsageError(str(e)) from None
    content = content_crops(req.data, crop, req.pick(smoke=8, cpu=2000, gpu=20_000), req.seed)
    features = load_feature_network("auto")
    model = req.pick(smoke=TransformNetConfig.tiny(), cpu=TransformNetConfig.reference(), gpu=TransformNetConfig.reference())
    config = FastStyleTrainConfig(batch_size=req.pick(smoke=2, cpu=4, gpu=4), style_weight=STYLE_WEIGHT)
    device = get_device(req.device)

    def trainer(steps, fit):
        seed_everything(req.seed)
        return train_fast_style(TransformNet(model), content, style, features, config=config, steps=steps, seed=req.seed,
                                device=device, fit=fit)  # fmt: skip

    run = run_info("fast-style", model.to_dict(), config.to_dict() | {"style": style_name, "features": features.name}, req.data, req.seed)
    return run_training(req, trainer, run, default_steps=req.pick(smoke=4, cpu=CPU_STEPS, gpu=40_000), cpu_minutes=10.0)
