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
    assert (cfg.in_channels, cfg.upsamplings) == (40, 3)
    model = AdaINStyleTransfer(encoder, AdaINDecoder(cfg))
    c, s = torch.rand(2, 3, 64, 72) * 2 - 1, torch.rand(1, 3, 48, 48) * 2 - 1
    y, t = model(c, s)
    assert y.shape == c.shape and t.shape == (2, 40, 8, 9)
    assert style_layers_up_to(model) == ("stem", "block0", "block2", "block4")
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
