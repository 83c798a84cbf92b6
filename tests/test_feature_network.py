"""The offline ImageNet feature network (EfficientNet-Lite0): architecture, real weights, named layers."""

import pytest
import torch
import torch.nn.functional as F

from genlearn.data import load_photo
from genlearn.models.efficientnet_lite import LAYERS, STAGES, EfficientNetLite0, SameConv2d, load_efficientnet_lite0
from genlearn.models.layers import count_parameters


@pytest.fixture(scope="module")
def net():
    return load_efficientnet_lite0()


def independent_count():
    """EfficientNet-Lite0 counted block by block: convolutions without bias, batch norm (2 per channel) after each."""
    conv_bn = lambda cin, cout, k=1, groups=1: k * k * cin // groups * cout + 2 * cout  # noqa: E731
    total = conv_bn(3, 32, 3)  # stem
    for repeats, k, _, e, cin, cout in STAGES:
        for r in range(repeats):
            c = cin if r == 0 else cout
            mid = c * e
            total += (conv_bn(c, mid) if e != 1 else 0) + conv_bn(mid, mid, k, groups=mid) + conv_bn(mid, cout)
    return total + conv_bn(320, 1280) + 1280 * 1000 + 1000  # head and classifier


def test_parameter_count_matches_an_independent_count():
    assert count_parameters(EfficientNetLite0()) == independent_count() == 4_652_008  # the published 4.7 M


def test_the_shipped_weights_are_imagenet_weights(net):
    """A real check that the weights loaded: scikit-image's photos get their ImageNet classes."""
    x = torch.stack([load_photo("chelsea", size=(224, 224)), load_photo("coffee", size=(224, 224))])  # (2, 3, 224, 224)
    with torch.no_grad():
        p = net(x).softmax(1)
    assert p.argmax(1).tolist() == [285, 967]  # Egyptian cat, espresso
    assert p[0, 285] > 0.5 and p[1, 967] > 0.5
    assert not any(q.requires_grad for q in net.parameters()) and not net.training  # a fixed feature network


def test_named_layers_have_the_documented_shapes(net):
    x = torch.rand(2, 3, 64, 96) * 2 - 1
    f = net.extract(x, ["stem", "block0", "block2", "block7", "block15", "head"])
    assert f["stem"].shape == (2, 32, 32, 48) and f["block0"].shape == (2, 16, 32, 48)
    assert f["block2"].shape == (2, 24, 16, 24) and f["block7"].shape == (2, 80, 4, 6)
    assert f["block15"].shape == (2, 320, 2, 3) and f["head"].shape == (2, 1280, 2, 3)
    assert len(LAYERS) == 18 and list(net.extract(x, ["block3"])) == ["block3"]
    with pytest.raises(ValueError, match="unknown layer"):
        net.extract(x, ["relu1_1"])
    with pytest.raises(ValueError, match="at least 32 pixels"):
        net.extract(torch.zeros(1, 3, 16, 64), ["stem"])


def test_same_padding_puts_the_odd_pixel_at_the_end():
    torch.manual_seed(0)
    conv = SameConv2d(1, 1, 3, stride=2, bias=False)
    for size in (5, 6, 7, 8):
        x = torch.randn(1, 1, size, size)
        total = max((-(-size // 2) - 1) * 2 + 3 - size, 0)  # TensorFlow's rule
        expected = F.conv2d(F.pad(x, (total // 2, total - total // 2) * 2), conv.weight, stride=2)
        y = conv(x)
        assert y.shape[-1] == -(-size // 2) and torch.allclose(y, expected)


def test_weights_load_from_a_path_in_either_naming(tmp_path, net):
    torch.manual_seed(1)
    other = EfficientNetLite0()
    torch.save(other.state_dict(), tmp_path / "ours.pth")  # a file the test writes, in genlearn's names
    loaded = load_efficientnet_lite0(tmp_path / "ours.pth")
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), other.state_dict().values()))
    assert not torch.equal(loaded.stem[0].weight, net.stem[0].weight)
    with pytest.raises(FileNotFoundError, match="no EfficientNet-Lite0 weights"):
        load_efficientnet_lite0(tmp_path / "missing.pth")


def test_vgg19_named_layers_and_weights_from_a_generated_file(tmp_path, monkeypatch, capsys):
    from torchvision.models import vgg19

    from genlearn.models.features import VGG19_LAYERS, load_feature_network, load_vgg19

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))  # no cached weights: tests never download
    torch.manual_seed(3)
    reference = vgg19(weights=None)
    state = {k: v for k, v in reference.state_dict().items() if k.startswith("features.")}  # the convolutional part
    torch.save(state, tmp_path / "vgg19.pth")
    net = load_vgg19(tmp_path / "vgg19.pth")
    assert torch.equal(net.features[0].weight, reference.features[0].weight) and not net.training
    x = torch.rand(1, 3, 32, 48) * 2 - 1
    f = net.extract(x, ["relu1_1", "relu2_1", "relu3_1", "relu4_2", "relu5_1"])
    assert f["relu1_1"].shape == (1, 64, 32, 48) and f["relu2_1"].shape == (1, 128, 16, 24)
    assert f["relu3_1"].shape == (1, 256, 8, 12) and f["relu4_2"].shape == (1, 512, 4, 6) and f["relu5_1"].shape == (1, 512, 2, 3)
    with torch.no_grad():  # the same numbers as torchvision's own network on ImageNet-normalized input
        u = ((x + 1) / 2 - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)) / torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
        assert torch.allclose(f["relu3_1"], reference.features[: VGG19_LAYERS["relu3_1"] + 1](u), atol=1e-5)
    with pytest.raises(FileNotFoundError, match="weights=PATH"):
        load_vgg19()  # nothing cached, no path: one sentence naming the way out
    assert load_feature_network("auto").name == "EfficientNet-Lite0"  # offline default
    assert "feature network: EfficientNet-Lite0 with ImageNet weights from" in capsys.readouterr().out
    assert load_feature_network("auto", weights=tmp_path / "vgg19.pth").name == "VGG-19"
    with pytest.raises(ValueError, match="unknown feature network"):
        load_feature_network("resnet50")


def test_softmax_smoothing_spreads_peaky_activations():
    from genlearn.models.features import softmax_smoothing

    f = torch.zeros(2, 3, 4, 4)
    f[0, 0, 0, 0] = 10.0  # one peak
    s = softmax_smoothing(f, temperature=1.0)
    assert torch.allclose(s.flatten(1).mean(1), torch.ones(2))  # C H W times a distribution over the layer's activations
    assert torch.allclose(s[1], torch.ones(3, 4, 4))  # flat in, flat out
    assert s[0, 0, 0, 0] / s[0, 1, 1, 1] == pytest.approx(torch.e**10, rel=1e-4)
    assert softmax_smoothing(f, temperature=10.0)[0, 0, 0, 0] < s[0, 0, 0, 0]  # a higher temperature smooths more
    sd = f[0].std()
    assert torch.allclose(softmax_smoothing(f)[0], softmax_smoothing(f[:1], temperature=sd.item())[0])  # "std": T = the image's sd
    with pytest.raises(ValueError, match="temperature"):
        softmax_smoothing(f, temperature=0.0)
    # the entropy that says how peaky a layer is: 1 for flat activations, near 0 for one peak among many
    from genlearn.models.features import activation_entropy

    peak = torch.zeros(1, 8, 16, 16)
    peak[0, 0, 0, 0] = 50.0
    h = activation_entropy(torch.cat([torch.zeros(1, 8, 16, 16), peak]))
    assert h[0].item() == pytest.approx(1.0) and h[1].item() < 0.01
    p = torch.softmax(peak.flatten() / 25.0, 0).double()  # by hand at T = 25
    assert activation_entropy(peak, 25.0).item() == pytest.approx((-(p * p.log()).sum() / torch.log(torch.tensor(2048.0))).item(), rel=1e-5)
    assert activation_entropy(peak, "std").item() == pytest.approx(activation_entropy(peak, peak.std().item()).item(), rel=1e-5)


def test_random_multiscale_features_are_seeded_and_strided(capsys):
    from genlearn.models.features import load_feature_network
    from genlearn.models.random_features import RandomMultiScaleFeatures

    net = load_feature_network("random")
    assert "random multi-scale" in capsys.readouterr().out
    x = torch.rand(2, 3, 64, 48) * 2 - 1
    f = net.extract(x, net.style_layers)
    assert {k: tuple(v.shape) for k, v in f.items()} == {
        "scale3": (2, 64, 62, 46), "scale5": (2, 64, 60, 44), "scale7": (2, 64, 58, 42),
        "scale11": (2, 64, 27, 19), "scale15": (2, 64, 25, 17), "scale23": (2, 64, 14, 9),
    }  # fmt: skip
    assert min(v.min().item() for v in f.values()) >= 0  # ReLU outputs
    same, other = RandomMultiScaleFeatures(seed=0), RandomMultiScaleFeatures(seed=1)
    assert torch.equal(same.extract(x, ["scale7"])["scale7"], f["scale7"])
    assert not torch.equal(other.extract(x, ["scale7"])["scale7"], f["scale7"])
    h = ((x + 1) / 2 - net.mean) / net.std
    assert torch.allclose(f["scale11"], F.relu(F.conv2d(h, net.w11, stride=2)), atol=1e-5)
    with pytest.raises(ValueError, match="at least 23 pixels"):
        net.extract(x[..., :20, :20], ["scale3"])
    with pytest.raises(ValueError, match="no weights file"):
        load_feature_network("random", weights="x.pth")
