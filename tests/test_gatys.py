"""Style transfer by optimization: the losses fall, the image stays an image, bad input is refused."""

import pytest
import torch

from genlearn.data import load_photo, load_texture
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
    out, history = stylize_gatys(content, style, net, steps=1000, transform=softmax_smoothing, style_weight=1e6,
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


def test_init_from_noise_is_seeded_and_the_scores_match_the_logged_losses(images):
    from genlearn.metrics.style import content_distance, style_distance

    content, style, net = images
    a, ha = stylize_gatys(content, style, net, steps=1, init="noise", seed=3, style_weight=1e6, progress=False)
    b, hb = stylize_gatys(content, style, net, steps=1, init="noise", seed=3, style_weight=1e6, progress=False)
    assert torch.equal(a, b) and ha["content"][0] > 0  # from noise the content loss is not 0
    start = (torch.rand(content.shape, generator=torch.Generator().manual_seed(3)) * 2 - 1)
    # the logs are taken before each step's update, so step 1's losses are those of the start image
    assert style_distance(start, style, net).item() == pytest.approx(ha["style"][0], rel=1e-4)
    assert content_distance(start, content, net).item() == pytest.approx(ha["content"][0], rel=1e-4)
    assert style_distance(style, style, net).item() == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="init must"):
        stylize_gatys(content, style, net, init="zeros")
    with pytest.raises(ValueError, match="content's shape"):
        stylize_gatys(content, style, net, init=style[..., :32, :32])


def test_colour_distance_of_a_shift_is_its_squared_length():
    from genlearn.metrics.style import colour_distance

    x = load_photo("chelsea", (32, 32))[None] * 0.5  # inside [-0.5, 0.5]: a shift of 0.1 stays an image
    shifted = x + torch.tensor([0.1, -0.2, 0.0]).view(1, 3, 1, 1)
    assert colour_distance(x, x).item() == pytest.approx(0.0, abs=1e-9)
    assert colour_distance(shifted, x).item() == pytest.approx(0.01 + 0.04, rel=1e-6)  # same covariance, mean moved
    p = x.reshape(3, -1).double()
    scaled = 0.25 * (p.mean(1).square().sum() + p.var(1, unbiased=False).sum())  # |mu / 2|^2 + tr(C / 4 + C - 2 C / 2)
    assert colour_distance(x * 0.5, x).item() == pytest.approx(scaled.item(), rel=1e-5)


def test_a_non_contiguous_photo_is_fine(images):
    """A photo read as (H, W, C) and permuted has strides L-BFGS's flat gradient view cannot take (found by the gpu
    profile's dry run of chapter 10, where the 512-pixel photos are used as read)."""
    content, style, net = images
    permuted = content[0].permute(1, 2, 0).contiguous().permute(2, 0, 1)[None]  # same values, channels last in memory
    assert not permuted.is_contiguous()
    out, history = stylize_gatys(permuted, style, net, steps=2, progress=False)
    assert out.shape == content.shape and len(history.steps) == 2


def test_transform_content_puts_the_content_loss_on_transformed_features_too(images):
    """SWAG (Wang et al. 2021) compares softmax-smoothed features in the content loss as well; the default does not."""
    from genlearn.losses.style import content_loss
    from genlearn.metrics.style import content_distance

    content, style, net = images
    kwargs = dict(steps=1, init="noise", seed=3, transform=softmax_smoothing, style_weight=1e6, progress=False)
    _, raw = stylize_gatys(content, style, net, **kwargs)
    _, swag = stylize_gatys(content, style, net, transform_content=True, **kwargs)
    start = torch.rand(content.shape, generator=torch.Generator().manual_seed(3)) * 2 - 1  # the noise start, logged at step 1
    layer = net.content_layer
    f, p = net.extract(start, [layer])[layer], net.extract(content, [layer])[layer]
    by_hand = 0.5 * (softmax_smoothing(f) - softmax_smoothing(p)).pow(2).sum()  # 1/2 sum (s(F) - s(P))^2, batch of 1
    assert swag["content"][0] == pytest.approx(by_hand.item(), rel=1e-4)
    assert swag["content"][0] == pytest.approx(content_loss(softmax_smoothing(f), softmax_smoothing(p)).item(), rel=1e-4)
    assert raw["content"][0] == pytest.approx(content_distance(start, content, net).item(), rel=1e-4)  # raw features
    assert swag["content"][0] != pytest.approx(raw["content"][0], rel=1e-2)
    assert swag["style"][0] == pytest.approx(raw["style"][0], rel=1e-6)  # the style loss is the same either way
    with pytest.raises(ValueError, match="transform_content"):
        stylize_gatys(content, style, net, transform_content=True, steps=1, progress=False)


def test_random_style_distance_is_a_fixed_untrained_judge():
    from genlearn.metrics.style import random_style_distance, style_distance
    from genlearn.models.random_features import RandomMultiScaleFeatures

    brick = load_texture("brick", (96, 96))[None]
    painting, other_crop = brick[..., :48, :48], brick[..., 48:, 48:]  # two crops of one texture
    cat = load_photo("chelsea", (48, 48))[None]
    images = torch.cat([other_crop, cat, painting])
    d = random_style_distance(images, painting)
    assert d.shape == (3,) and d[2].item() == pytest.approx(0.0, abs=1e-9)  # the style itself is at distance 0
    assert d[0] < d[1]  # another crop of the same texture is closer in style than a cat photo
    assert torch.equal(d, style_distance(images, painting, RandomMultiScaleFeatures(seed=0)))  # the definition
    assert torch.equal(random_style_distance(images, painting), d)  # fixed filters: the same score every call
    assert not torch.allclose(random_style_distance(images, painting, seed=1), d)  # another draw of filters
    with pytest.raises(ValueError, match="at least 23 pixels"):
        random_style_distance(images[..., :16, :16], painting)


def test_min_progress_stops_a_run_once_the_loss_stops_falling(images):
    from genlearn.train.gatys import _stalled

    assert not _stalled([10.0, 9.0, 8.0], window=3, min_progress=0.1)  # not yet a window's worth of steps before
    assert _stalled([10.0, 5.0, 4.9, 4.95], window=2, min_progress=0.1)  # 5.0 -> 4.9: 0.1 < 0.1 * 10
    assert not _stalled([10.0, 5.0, 3.0, 4.0], window=2, min_progress=0.1)  # 5.0 -> 3.0 (the lowest, not the last)
    content, style, net = images
    kwargs = dict(init="noise", style_weight=0.0, content_layer=net.style_layers[0], progress=False)
    _, capped = stylize_gatys(content, style, net, steps=30, **kwargs)
    _, stopped = stylize_gatys(content, style, net, steps=30, min_progress=0.5, window=5, **kwargs)
    assert len(capped.steps) == 30 and "stop" not in capped.events
    assert 5 < len(stopped.steps) < 30 and stopped.events["stop"][-1] == (stopped.steps[-1], "converged")
    assert stopped["loss"] == capped["loss"][: len(stopped.steps)]  # the same run, cut short
    with pytest.raises(ValueError, match="min_progress"):
        stylize_gatys(content, style, net, min_progress=-1.0)


def test_content_distance_with_a_transform(images):
    from genlearn.losses.style import content_loss
    from genlearn.metrics.style import content_distance

    content, style, net = images
    layer = net.content_layer
    f, p = net.extract(style, [layer])[layer], net.extract(content, [layer])[layer]
    by_hand = content_loss(softmax_smoothing(f), softmax_smoothing(p))
    assert content_distance(style, content, net, transform=softmax_smoothing).item() == pytest.approx(by_hand.item(), rel=1e-5)
    assert content_distance(style, content, net, transform=lambda v: v).item() == pytest.approx(content_distance(style, content, net).item(), rel=1e-6)


def test_chroma_histogram_distance_sees_hue_and_chroma_not_lightness():
    from genlearn.metrics.style import chroma_histogram, chroma_histogram_distance

    def flat(rgb, size=(16, 16)):  # one colour, rgb in [-1, 1]
        return torch.tensor(rgb, dtype=torch.float32).view(1, 3, 1, 1).expand(1, 3, *size).clone()

    grey, dark, red, green = flat([0.2] * 3), flat([-0.6] * 3), flat([0.8, -0.8, -0.8]), flat([-0.8, 0.8, -0.8])
    h = chroma_histogram(red[0])
    assert h.shape == (21, 21) and h.sum() == pytest.approx(1.0) and h.max() == 1.0
    assert chroma_histogram(grey[0])[10, 10] == 1.0  # greys sit in the middle bin
    assert chroma_histogram_distance(dark, grey).item() == pytest.approx(0.0)  # lightness is left out
    assert chroma_histogram_distance(red, green).item() == pytest.approx(1.0)  # no colour in common
    half = torch.cat([red[..., :8, :], grey[..., 8:, :]], dim=2)  # half red, half grey
    assert chroma_histogram_distance(torch.cat([half, grey]), red).tolist() == pytest.approx([0.5, 1.0])
    x = load_photo("chelsea", (32, 32))[None]
    assert chroma_histogram_distance(x, x).item() == 0.0


def test_chroma_histogram_distance_is_independent_of_the_rgb_statistics_match_colour_equalizes():
    """Two images with the same RGB mean and covariance (colour_distance about 0) can have different colours."""
    from genlearn.data import match_colour
    from genlearn.metrics.style import chroma_histogram_distance, colour_distance

    photo = load_photo("coffee", (48, 48))[None] * 0.5
    g = torch.Generator().manual_seed(0)
    two_colours = torch.where(torch.rand(1, 1, 48, 48, generator=g) < 0.5, 1.0, -1.0) * torch.tensor([0.5, -0.5, 0.5]).view(1, 3, 1, 1)
    two_colours = two_colours + 0.05 * torch.randn(two_colours.shape, generator=g)  # magenta and green, a little noise
    recoloured = match_colour(two_colours[0], photo[0], clamp=False)[None]
    assert recoloured.abs().max() <= 1  # still an image, so the statistics are matched exactly
    assert colour_distance(recoloured, photo).item() < 1e-6
    noisy = photo + 0.02 * torch.randn(photo.shape, generator=g)  # the same colours, a little grain
    assert chroma_histogram_distance(recoloured, photo).item() > 2 * chroma_histogram_distance(noisy, photo).item()
    assert chroma_histogram_distance(recoloured, photo).item() > 0.25  # about 0.3: a quarter of the pixels in other bins
    with pytest.raises(ValueError, match="3 channel"):
        chroma_histogram_distance(photo[:, :1], photo)
