"""GAN models: shapes for every size, the DCGAN reference parameter counts, init, bad inputs."""

import pytest
import torch
from torch import nn

from genlearn.models.conditional import ConditionalConfig, ConditionalGenerator, ProjectionDiscriminator
from genlearn.models.dcgan import DCGANConfig, DCGANDiscriminator, DCGANGenerator, count_parameters
from genlearn.models.mlp import MLPConfig, MLPDiscriminator, MLPGenerator


def pytorch_examples_dcgan(nz=100, ngf=64, ndf=64, nc=3):
    """pytorch/examples dcgan/main.py's networks, copied layer for layer as an independent reference."""
    netG = nn.Sequential(
        nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
        nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh(),
    )  # fmt: skip
    netD = nn.Sequential(
        nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False), nn.Sigmoid(),
    )  # fmt: skip
    return netG, netD


def test_reference_parameter_counts_match_pytorch_examples():
    netG, netD = pytorch_examples_dcgan()
    G, D = DCGANGenerator(DCGANConfig.reference()), DCGANDiscriminator(DCGANConfig.reference())
    assert count_parameters(netG) == 3_576_704 == count_parameters(G)
    assert count_parameters(netD) == 2_765_568 == count_parameters(D)


def test_reference_is_the_examples_network_layer_for_layer():
    netG, netD = pytorch_examples_dcgan()
    G, D = DCGANGenerator(DCGANConfig.reference()), DCGANDiscriminator(DCGANConfig.reference())
    ours_d = [m for m in D.modules() if not isinstance(m, nn.Sequential | DCGANDiscriminator)]
    theirs_d = [m for m in netD if not isinstance(m, nn.Sigmoid)]  # D returns logits
    assert [repr(m) for m in G.main] == [repr(m) for m in netG]
    assert [repr(m) for m in ours_d] == [repr(m) for m in theirs_d]
    # same function: copy the weights over, compare outputs
    netG.load_state_dict({k.removeprefix("main."): v for k, v in G.state_dict().items()})
    G.eval(), netG.eval()
    z = torch.randn(2, 100)
    torch.testing.assert_close(G(z), netG(z[:, :, None, None]))


@pytest.mark.parametrize("size", [16, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_dcgan_shapes(size, channels):
    cfg = DCGANConfig.tiny(size, channels)
    G, D = DCGANGenerator(cfg), DCGANDiscriminator(cfg)
    x = G(torch.randn(3, cfg.latent_dim))
    assert x.shape == (3, channels, size, size)
    assert x.min() >= -1 and x.max() <= 1
    assert D(x).shape == (3,)
    assert DCGANDiscriminator(DCGANConfig(**{**cfg.to_dict(), "spectral_norm": True}))(x).shape == (3,)


@pytest.mark.parametrize("size", [16, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_conditional_shapes(size, channels):
    cfg = ConditionalConfig.tiny(size, channels)
    G, D = ConditionalGenerator(cfg), ProjectionDiscriminator(cfg)
    y = torch.tensor([0, 4, 9])
    x = G(torch.randn(3, cfg.latent_dim), y)
    assert x.shape == (3, channels, size, size)
    assert D(x, y).shape == (3,)


def test_labels_change_conditional_outputs():
    cfg = ConditionalConfig.tiny()
    G, D = ConditionalGenerator(cfg).eval(), ProjectionDiscriminator(cfg).eval()
    z = torch.randn(1, cfg.latent_dim).repeat(2, 1)
    x = G(z, torch.tensor([1, 2]))
    assert not torch.allclose(x[0], x[1])
    with torch.no_grad():
        D.embed.weight.normal_()
    logits = D(x[:1].repeat(2, 1, 1, 1), torch.tensor([1, 2]))
    assert not torch.allclose(logits[0], logits[1])


def test_dcgan_init_statistics():
    G = DCGANGenerator(DCGANConfig.reference())
    w = G.main[3].weight  # (512, 256, 4, 4): 2M draws
    assert abs(w.mean().item()) < 1e-3 and w.std().item() == pytest.approx(0.02, rel=0.01)
    bn = G.main[1]
    assert bn.weight.mean().item() == pytest.approx(1.0, abs=0.01) and bn.weight.std().item() == pytest.approx(0.02, rel=0.2)
    assert torch.all(bn.bias == 0)


@pytest.mark.parametrize("data_shape", [(2,), (1, 8, 8)])
def test_mlp_shapes(data_shape):
    cfg = MLPConfig.tiny(data_shape)
    G, D = MLPGenerator(cfg), MLPDiscriminator(cfg)
    x = G(torch.randn(5, cfg.latent_dim))
    assert x.shape == (5, *data_shape) and D(x).shape == (5,)
    assert MLPConfig.from_dict(cfg.to_dict()) == cfg
    img = MLPGenerator(MLPConfig.images()).sample(4)
    assert img.shape == (4, 1, 8, 8) and img.abs().max() <= 1


def test_configs_round_trip():
    for cfg in (DCGANConfig.digits(), DCGANConfig.reference()):
        assert DCGANConfig.from_dict(cfg.to_dict()) == cfg
    cfg = ConditionalConfig.tiny()
    assert ConditionalConfig.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize("size", [8, 24, 48, 15, 0])
def test_impossible_image_size_raises(size):
    with pytest.raises(ValueError, match="power of two >= 16"):
        DCGANConfig(image_size=size)


def test_bad_inputs_raise_clear_errors():
    cfg = DCGANConfig.tiny(16, 1)
    G, D = DCGANGenerator(cfg), DCGANDiscriminator(cfg)
    with pytest.raises(ValueError, match=r"z must have shape \(N, 8\)"):
        G(torch.randn(2, 9))
    with pytest.raises(ValueError, match="1 channel"):
        D(torch.randn(2, 3, 16, 16))
    with pytest.raises(ValueError, match="16x16"):
        D(torch.randn(2, 1, 32, 32))
    ccfg = ConditionalConfig.tiny()
    CG, CD = ConditionalGenerator(ccfg), ProjectionDiscriminator(ccfg)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 9\]"):
        CG(torch.randn(2, ccfg.latent_dim), torch.tensor([3, 10]))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 9\]"):
        CD(torch.zeros(2, 1, 16, 16), torch.tensor([-1, 0]))
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        CG(torch.randn(2, ccfg.latent_dim), torch.tensor([1, 2, 3]))
    with pytest.raises(TypeError, match="integer"):
        CG(torch.randn(2, ccfg.latent_dim), torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="z must have shape"):
        CG(torch.randn(2, ccfg.latent_dim + 1), torch.tensor([1, 2]))
