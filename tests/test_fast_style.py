"""Feed-forward style transfer: the reference network's size, shapes, and a short run that learns and resumes."""

import pytest
import torch

from genlearn.data import RandomCropDataset, load_photo
from genlearn.models.efficientnet_lite import load_efficientnet_lite0
from genlearn.models.layers import count_parameters
from genlearn.models.transform_net import TransformNet, TransformNetConfig
from genlearn.train.fast_style import FastStyleTrainConfig, train_fast_style


def test_reference_transform_net_matches_a_layer_by_layer_count():
    conv = lambda cin, cout, k: k * k * cin * cout + cout  # noqa: E731  (with bias)
    norm = lambda c: 2 * c  # noqa: E731  (affine instance norm)
    expected = conv(3, 32, 9) + norm(32) + conv(32, 64, 3) + norm(64) + conv(64, 128, 3) + norm(128)
    expected += 5 * 2 * (conv(128, 128, 3) + norm(128))  # residual blocks
    expected += conv(128, 64, 3) + norm(64) + conv(64, 32, 3) + norm(32) + conv(32, 3, 9)
    assert count_parameters(TransformNet(TransformNetConfig.reference())) == expected == 1_679_235


def test_any_size_in_same_size_out():
    net = TransformNet(TransformNetConfig.tiny()).eval()
    for h, w in ((32, 32), (30, 37), (9, 8)):
        y = net(torch.rand(2, 3, h, w) * 2 - 1)
        assert y.shape == (2, 3, h, w) and y.abs().max() <= 1
    with pytest.raises(ValueError, match="at least 8 pixels"):
        net(torch.zeros(1, 3, 5, 20))


@pytest.fixture(scope="module")
def crops():
    photos = [load_photo(name, 128) for name in ("chelsea", "coffee", "rocket")]
    return torch.stack([RandomCropDataset(photos, crop=64, length=8, seed=0)[i] for i in range(8)]), load_photo("immunohistochemistry", (64, 64))[None]


def test_a_short_run_lowers_the_style_loss_and_resumes_bit_for_bit(crops, tmp_path):
    content, style = crops
    features = load_efficientnet_lite0()
    config = FastStyleTrainConfig(batch_size=4, lr=1e-2)
    torch.manual_seed(0)
    small = TransformNetConfig(width=8, n_blocks=1)
    net, history = train_fast_style(TransformNet(small), content, style, features, config=config, steps=40, progress=False)
    assert sum(history["style"][-5:]) < 0.6 * sum(history["style"][:5])  # measured: about 0.45
    assert net.stylize(content[:2]).shape == (2, 3, 64, 64) and not net.training
    torch.manual_seed(0)
    ckpt = tmp_path / "ckpt.pt"
    train_fast_style(TransformNet(small), content, style, features, config=config, steps=15, checkpoint=ckpt, progress=False)
    torch.manual_seed(123)  # a resumed run restores everything it needs from the checkpoint
    resumed, h2 = train_fast_style(TransformNet(small), content, style, features, config=config, steps=40, checkpoint=ckpt, progress=False)
    assert h2["style"] == history["style"]
    assert all(torch.equal(a, b) for a, b in zip(resumed.state_dict().values(), net.state_dict().values()))


def test_bad_config():
    with pytest.raises(ValueError, match="batch_size"):
        FastStyleTrainConfig(batch_size=0)
