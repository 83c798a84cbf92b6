"""Recipe ``python -m genlearn train adain``: AdaIN's decoder for any style (Huang & Belongie 2017).

Content: random crops of the 10 training photos that ship with scikit-image, scikit-learn and
matplotlib (``--data photos``, the default), or of a folder of your own (COCO in the paper).
Styles: ``--style`` takes the offline set (default, "shipped": every image that ships offline but the four
held-out content photos, ``list_styles("train")``, cropped at four scales with half the crops recoloured by
:func:`~genlearn.data.style_training_crops`; ``list_styles("unseen")``, paintings drawn by another process, are
kept out so the chapter can try styles the decoder never saw), a comma-separated list of names or files, or a
folder of paintings (WikiArt in the paper; cropped at the same four scales, not recoloured).
Encoder: VGG-19's relu4_1 where its weights are cached, else EfficientNet-Lite0's block2 (offline).
In the ``cpu`` profile: 128-pixel crops, a width-32 decoder, a 10-minute budget; Adam at 1e-3 in
every profile (the authors' code: 1e-4 for 160,000 steps; after 215 steps at 1e-4 the decoder had not yet
learned colours, and a 10-minute run has about 1,500).
``python -m genlearn stylize CONTENT STYLE --method adain --run RUN --out OUT`` applies it.
"""

from __future__ import annotations

from pathlib import Path

import torch

from genlearn.data import list_styles, load_image, load_image_folder, style_training_crops
from genlearn.models.adain import AdaINConfig, build_adain
from genlearn.models.features import load_feature_network
from genlearn.recipes import TrainRequest, UsageError, run_training
from genlearn.recipes.fast_style import DEFAULT_DATA, check_data, content_crops  # noqa: F401  (the CLI asks every recipe for both)
from genlearn.runtime import get_device, seed_everything
from genlearn.train.adain import AdaINTrainConfig, train_adain
from genlearn.train.checkpoint import run_info

LR = 1e-3  # for budgets of thousands of steps (see above)


def style_images(style: str | None, side: int) -> list[torch.Tensor]:
    """The style images (3, H, W), shorter side ``side``: the offline set, a comma-separated list, or a folder."""
    if style is None or style == "shipped":
        names: list[str] = list(list_styles("train"))
    elif Path(style).expanduser().is_dir():
        x, _ = load_image_folder(Path(style).expanduser(), side)  # (M, C, side, side)
        return list(x if x.shape[1] == 3 else x.repeat(1, 3, 1, 1))
    else:
        names = [n.strip() for n in style.split(",") if n.strip()]
    try:
        return [load_image(n, side) for n in names]
    except ValueError as e:
        raise UsageError(str(e)) from None


def style_crops(style: str | None, crop: int, n: int, seed: int) -> torch.Tensor:
    """``n`` crops (n, 3, crop, crop) of the style images at four scales; the shipped set's half recoloured."""
    shipped = style is None or style == "shipped"
    return style_training_crops(style_images(style, 3 * crop), crop, n, seed, recoloured=0.5 if shipped else 0.0)


def train(req: TrainRequest) -> Path:
    crop = req.pick(smoke=32, cpu=128, gpu=256)
    style = style_crops(req.style, crop, req.pick(smoke=8, cpu=1000, gpu=20_000), req.seed)
    content = content_crops(req.data, crop, req.pick(smoke=8, cpu=2000, gpu=20_000), req.seed)
    network = load_feature_network("auto")  # prints which
    model = AdaINConfig(network=network.name, width=req.pick(smoke=4, cpu=32, gpu=64))
    config = AdaINTrainConfig(batch_size=req.pick(smoke=2, cpu=8, gpu=8), lr=LR)
    device = get_device(req.device)

    def trainer(steps, fit):
        seed_everything(req.seed)
        return train_adain(build_adain(model), content, style, config=config, steps=steps, seed=req.seed, device=device, fit=fit)

    described = req.style or "shipped"
    run = run_info("adain", model.to_dict(), config.to_dict() | {"style": described}, req.data, req.seed)
    return run_training(req, trainer, run, default_steps=req.pick(smoke=4, cpu=5000, gpu=160_000), cpu_minutes=10.0)
