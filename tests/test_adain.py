"""AdaIN: the decoder's shapes, the trade-off alpha, the two losses by hand, and a short run that learns and resumes."""

import pytest
import torch

from genlearn.data import RandomCropDataset, load_photo, load_texture
from genlearn.losses import adain, adain_content_loss, style_statistics_loss
from genlearn.models.adain import AdaINDecoder, AdaINDecoderConfig, AdaINStyleTransfer
from genlearn.models.efficientnet_lite import load_efficientnet_lite0
from genlearn.train.adain import AdaINTrainConfig, style_layers_up_to, train_adain


@pytest.fixture(scope="module")
def encoder():
    return load_efficientnet_lite0()


def test_decoder_mirrors_the_encoder_layer(encoder):
    cfg = AdaINDecoderConfig.for_network("EfficientNet-Lite0", width=8)
    assert (cfg.in_channels, cfg.upsamplings) == (24, 2)
    model = AdaINStyleTransfer(encoder, AdaINDecoder(cfg))
    c, s = torch.rand(2, 3, 64, 72) * 2 - 1, torch.rand(1, 3, 48, 48) * 2 - 1
    y, t = model(c, s)
    assert y.shape == c.shape and t.shape == (2, 24, 16, 18)
    assert style_layers_up_to(model) == ("stem", "block0", "block2")
    fc = model.encode(c)
    assert torch.allclose(model(c, s, alpha=0.0)[1], fc)  # alpha = 0: the content's own features
    assert torch.allclose(model(c, s, alpha=1.0)[1], adain(fc, model.encode(s)), atol=1e-6)
    with pytest.raises(ValueError, match="alpha"):
        model(c, s, alpha=1.5)
    with pytest.raises(ValueError, match="no AdaIN encoder layer"):
        AdaINDecoderConfig.for_network("ResNet-50")


def test_adain_losses_by_hand():
    f = torch.tensor([[[[1.0, 3.0]], [[2.0, 2.0]]]])  # (1, 2, 1, 2): means 2, 2; sds 1, 0
    g = torch.tensor([[[[0.0, 0.0]], [[4.0, 0.0]]]])  # means 0, 2; sds 0, 2
    assert adain_content_loss(f, g).item() == pytest.approx(((1 + 9) + (4 + 4)) / 4)
    eps = 1e-5
    sd = lambda v: (v + eps) ** 0.5  # noqa: E731
    expected = ((2 - 0) ** 2 + 0) / 2 + ((sd(1) - sd(0)) ** 2 + (sd(0) - sd(4)) ** 2) / 2  # mean errors of mu and sigma
    assert style_statistics_loss({"a": f}, {"a": g}).item() == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="lacks the output's features"):
        style_statistics_loss({"a": f}, {"b": g})


def test_a_short_run_lowers_the_loss_and_resumes_bit_for_bit(encoder, tmp_path):
    photos = [load_photo(name, 96) for name in ("chelsea", "coffee", "rocket")]
    content = torch.stack([RandomCropDataset(photos, crop=64, length=8, seed=0)[i] for i in range(8)])
    style = torch.stack([load_texture("brick", (64, 64)), load_photo("immunohistochemistry", (64, 64))])
    config = AdaINTrainConfig(batch_size=4, lr=1e-3)
    cfg = AdaINDecoderConfig.for_network("EfficientNet-Lite0", width=8)
    torch.manual_seed(0)
    model, history = train_adain(AdaINStyleTransfer(encoder, AdaINDecoder(cfg)), content, style, config=config, steps=30, progress=False)
    assert sum(history["loss"][-5:]) < 0.7 * sum(history["loss"][:5])
    out = model.stylize(content[:2], style[:1], alpha=0.5)
    assert out.shape == (2, 3, 64, 64) and out.abs().max() <= 1
    torch.manual_seed(0)
    ckpt = tmp_path / "ckpt.pt"
    train_adain(AdaINStyleTransfer(encoder, AdaINDecoder(cfg)), content, style, config=config, steps=10, checkpoint=ckpt, progress=False)
    torch.manual_seed(7)
    resumed, h2 = train_adain(AdaINStyleTransfer(encoder, AdaINDecoder(cfg)), content, style, config=config, steps=30, checkpoint=ckpt, progress=False)
    assert h2["loss"] == history["loss"]
    assert all(torch.equal(a, b) for a, b in zip(resumed.decoder.state_dict().values(), model.decoder.state_dict().values()))


def test_mixing_styles_follows_eq_15_at_any_size(encoder):
    torch.manual_seed(0)
    model = AdaINStyleTransfer(encoder, AdaINDecoder(AdaINDecoderConfig.for_network("EfficientNet-Lite0", width=4))).eval()
    c = torch.rand(1, 3, 37, 45) * 2 - 1  # not multiples of 4: padded, then cropped back
    s1, s2 = load_texture("brick", (40, 40))[None], load_photo("immunohistochemistry", (56, 48))[None]
    out = model.mix(c, [s1, s2], [0.25, 0.75], alpha=0.8)
    assert out.shape == c.shape and out.abs().max() <= 1
    assert torch.equal(model.mix(c, [s1, s2], [1.0, 0.0]), model.stylize(c, s1))
    # by hand: pad, mix the two AdaIN targets, blend with the content features, decode, crop
    x = torch.nn.functional.pad(c, (0, 3, 0, 3), mode="reflect")
    fc = model.encode(x)
    t = 0.25 * adain(fc, model.encode(s1)) + 0.75 * adain(fc, model.encode(s2))
    with torch.no_grad():
        expected = model.decoder(0.2 * fc + 0.8 * t)[..., :37, :45].clamp(-1, 1)
    assert torch.allclose(out, expected, atol=1e-6)
    with pytest.raises(ValueError, match="summing to 1"):
        model.mix(c, [s1, s2], [0.5, 0.6])
    with pytest.raises(ValueError, match="one weight"):
        model.mix(c, [s1, s2], [1.0])


def test_the_config_rebuilds_the_same_shapes(encoder):
    from genlearn.models.adain import AdaINConfig, build_adain

    model = AdaINStyleTransfer(encoder, AdaINDecoder(AdaINDecoderConfig.for_network("EfficientNet-Lite0", width=4)))
    again = build_adain(AdaINConfig.from_dict(model.config.to_dict()))
    assert again.config == model.config == AdaINConfig("EfficientNet-Lite0", 4)
    assert {k: v.shape for k, v in again.decoder.state_dict().items()} == {k: v.shape for k, v in model.decoder.state_dict().items()}
    assert all(torch.equal(a, b) for a, b in zip(again.encoder.state_dict().values(), encoder.state_dict().values()))
    with pytest.raises(ValueError, match="no AdaIN encoder layer"):
        AdaINConfig(network="ResNet-50")


def test_the_recipe_keeps_the_unseen_styles_and_the_test_photos_out():
    from genlearn.data import list_photos, list_styles
    from genlearn.recipes.adain import style_crops, style_images

    assert not set(list_styles("train")) & set(list_styles("unseen")) and len(list_styles()) == 13 + 8
    assert not set(list_styles("train")) & set(list_photos("test"))  # the content test photos are no style
    assert set(list_photos("train")) < set(list_styles("train"))  # every other shipped image is
    assert len(style_images(None, 32)) == len(list_styles("train"))
    assert [tuple(x.shape) for x in style_images("gravel, coffee", 32)] == [(3, 32, 32), (3, 32, 48)]
    assert style_crops("gravel", 16, 5, seed=0).shape == (5, 3, 16, 16)
    from genlearn.data import image_crops

    photos = [load_photo("coffee", 40), load_texture("brick", 32)]
    a, b = image_crops(photos, 16, 6, seed=2), image_crops(photos, 16, 6, seed=3)
    assert torch.equal(a, image_crops(photos, 16, 6, seed=2)) and not torch.equal(a, b)
    assert all(any((p[:, i : i + 16, j : j + 16] == c).all() or (p[:, i : i + 16, j : j + 16].flip(-1) == c).all()
                   for p in photos for i in range(p.shape[1] - 15) for j in range(p.shape[2] - 15)) for c in a)  # real crops
