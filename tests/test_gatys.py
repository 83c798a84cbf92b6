"""Style transfer by optimization: the losses fall, the image stays an image, bad input is refused."""

import pytest
import torch

from genlearn.data import load_photo
from genlearn.models.efficientnet_lite import load_efficientnet_lite0
from genlearn.models.features import softmax_smoothing
from genlearn.train.gatys import stylize_gatys


@pytest.fixture(scope="module")
def images():
    return load_photo("chelsea", size=(64, 64))[None], load_photo("immunohistochemistry", size=(64, 64))[None], load_efficientnet_lite0()


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_the_style_loss_falls_and_the_image_stays_in_range(images, optimizer):
    content, style, net = images
    out, history = stylize_gatys(content, style, net, steps=15, optimizer=optimizer, style_weight=1e6, progress=False)
    assert out.shape == content.shape and out.min() >= -1 and out.max() <= 1 and not out.requires_grad
    assert history["content"][0] == 0.0  # it starts from the content image
    assert history["style"][-1] < 0.5 * history["style"][0]
    assert history.steps == list(range(1, 16))


def test_a_transform_and_a_time_budget(images):
    content, style, net = images
    out, history = stylize_gatys(content, style, net, steps=1000, transform=softmax_smoothing, style_weight=1e12,
                                 time_budget=0.5, progress=False)  # fmt: skip
    assert len(history.steps) < 1000 and history.events["stop"][-1][1] == "budget"
    assert torch.isfinite(out).all()


def test_bad_input(images):
    content, style, net = images
    with pytest.raises(ValueError, match="optimizer"):
        stylize_gatys(content, style, net, optimizer="sgd")
    with pytest.raises(ValueError, match="steps"):
        stylize_gatys(content, style, net, steps=0)
    with pytest.raises(ValueError, match="at least 32 pixels"):
        stylize_gatys(content[..., :16, :16], style, net, steps=1, progress=False)
