"""StyleGAN / StyleGAN2: each piece against its equation, the regularizers by hand, a tiny run that trains and resumes."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from genlearn.losses import path_length_penalty, path_lengths
from genlearn.models.stylegan import (
    EqualConv2d, EqualLinear, StyleGANConfig, StyleGANDiscriminator, StyleGANGenerator, minibatch_stddev, modulated_conv2d,
)  # fmt: skip
from genlearn.train.stylegan import StyleGANTrainConfig, draw_crossover, train_stylegan


def test_path_length_penalty_of_a_linear_generator_has_its_closed_form():
    g = torch.Generator().manual_seed(0)
    n, layers, w_dim, h, w = 5, 3, 6, 4, 4
    a = torch.randn(h * w, w_dim, generator=g, dtype=torch.float64)  # g(ws) = A sum_l ws_l: J^T y = A^T y for every layer
    ws = torch.randn(n, layers, w_dim, generator=g, dtype=torch.float64, requires_grad=True)
    images = (ws.sum(1) @ a.T).reshape(n, 1, h, w)
    y = torch.randn(n, 1, h, w, generator=g, dtype=torch.float64)
    expected = (y.reshape(n, -1) @ a).norm(dim=1)  # ||A^T y|| per sample
    assert torch.allclose(path_lengths(images, ws, y), expected)
    mean = torch.tensor(0.7, dtype=torch.float64)
    penalty, new_mean = path_length_penalty(images, ws, mean, decay=0.1, y=y)
    a_new = 0.7 + 0.1 * (expected.mean() - 0.7)
    assert new_mean.item() == pytest.approx(a_new.item()) and penalty.item() == pytest.approx((expected - a_new).pow(2).mean().item())
    # with the default y ~ N(0, I) / sqrt(H W): E ||A^T y||^2 = tr(A A^T) / (H W)
    big = ws.detach()[:1].expand(4000, -1, -1).clone().requires_grad_(True)
    lengths = path_lengths((big.sum(1) @ a.T).reshape(4000, 1, h, w), big)
    assert lengths.pow(2).mean().item() == pytest.approx((a.pow(2).sum() / (h * w)).item(), rel=0.05)
    with pytest.raises(ValueError, match="requires_grad"):
        path_lengths(images.detach(), ws.detach())


def test_modulated_convolution_is_a_convolution_with_scaled_weights():
    g = torch.Generator().manual_seed(1)
    x, weight, styles = torch.randn(3, 4, 6, 6, generator=g), torch.randn(5, 4, 3, 3, generator=g), torch.rand(3, 4, generator=g) + 0.5
    plain = torch.cat([F.conv2d(x[i : i + 1], weight * styles[i][None, :, None, None], padding=1) for i in range(3)])
    assert torch.allclose(modulated_conv2d(x, weight, styles, demodulate=False), plain, atol=1e-5)
    demod = []
    for i in range(3):
        wi = weight * styles[i][None, :, None, None]
        demod.append(F.conv2d(x[i : i + 1], wi / wi.pow(2).sum(dim=(1, 2, 3), keepdim=True).add(1e-8).sqrt(), padding=1))
    assert torch.allclose(modulated_conv2d(x, weight, styles), torch.cat(demod), atol=1e-5)
    with pytest.raises(ValueError, match="one style per input channel"):
        modulated_conv2d(x, weight, styles[:, :3])


def test_a_demodulated_output_has_unit_variance():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(8, 64, 32, 32, generator=g)  # unit-variance inputs
    weight, styles = torch.randn(64, 64, 3, 3, generator=g), torch.rand(8, 64, generator=g) * 3  # any styles
    y = modulated_conv2d(x, weight, styles)
    assert y.std().item() == pytest.approx(1.0, abs=0.03)
    assert modulated_conv2d(x, weight, styles, demodulate=False).std().item() > 10  # without it the scale follows the styles


def test_equalized_learning_rate_scales_by_the_he_constant_at_run_time():
    conv, lin = EqualConv2d(6, 4, 3), EqualLinear(10, 3, lr_mul=0.01)
    x, v = torch.randn(2, 6, 5, 5), torch.randn(2, 10)
    assert torch.allclose(conv(x), F.conv2d(x, conv.weight / math.sqrt(6 * 9), conv.bias, padding=1), atol=1e-6)
    assert torch.allclose(lin(v), F.linear(v, lin.weight * 0.01 / math.sqrt(10), lin.bias * 0.01), atol=1e-6)
    assert conv.weight.std().item() == pytest.approx(1.0, abs=0.25)  # stored as N(0, 1) ...
    assert lin.weight.std().item() == pytest.approx(100.0, rel=0.4)  # ... or N(0, 1) / lr_mul
    conv(x).sum().backward()  # the stored weight's gradient is c times the effective weight's
    w_eff = (conv.weight.detach() / math.sqrt(54)).requires_grad_(True)
    F.conv2d(x, w_eff, conv.bias.detach(), padding=1).sum().backward()
    assert torch.allclose(conv.weight.grad, w_eff.grad / math.sqrt(54), atol=1e-5)


@pytest.mark.parametrize("mode", ["modulated", "adain"])
def test_shapes_truncation_and_mixing(mode):
    torch.manual_seed(0)
    cfg = StyleGANConfig.tiny(image_size=16, style_mode=mode)
    G = StyleGANGenerator(cfg)
    assert cfg.num_ws == 5 and [s[-1] for s in G.noise_shapes(1)] == [4, 8, 8, 16, 16]
    z = torch.randn(3, cfg.latent_dim)
    assert G(z).shape == (3, 1, 16, 16) and StyleGANDiscriminator(cfg)(G(z)).shape == (3,)
    G.train()
    G.mapping(z)
    assert G.w_avg.abs().sum() > 0  # training-mode mapping moved the tracked average
    avg = G.w_avg.clone()
    G.eval()
    G.sample(4, generator=torch.Generator().manual_seed(0))
    assert torch.equal(G.w_avg, avg)  # sampling never moves it
    w = G.mapping(z)
    assert torch.equal(G.truncate(w, 0.0), avg.expand_as(w)) and torch.equal(G.truncate(w, 1.0), w)
    same = G.synthesis(G.broadcast(G.truncate(w, 0.0)), noise="none")
    assert torch.allclose(same[0], same[2])  # psi = 0: every sample is the average image
    ws1, ws2 = G.broadcast(w), G.broadcast(G.mapping(torch.randn(3, cfg.latent_dim)))
    mixed = G.mix(ws1, ws2, 2)
    assert torch.equal(mixed[:, :2], ws1[:, :2]) and torch.equal(mixed[:, 2:], ws2[:, 2:])
    with pytest.raises(ValueError, match="truncation psi"):
        G.truncate(w, 1.5)
    with pytest.raises(ValueError, match="crossover"):
        G.mix(ws1, ws2, 6)
    with pytest.raises(ValueError, match="synthesis needs styles"):
        G.synthesis(w)
    assert torch.equal(G.sample(2, generator=torch.Generator().manual_seed(5)), G.sample(2, generator=torch.Generator().manual_seed(5)))


def test_the_noise_inputs_vary_only_the_details():
    torch.manual_seed(0)
    G = StyleGANGenerator(StyleGANConfig.tiny(image_size=8)).eval()
    for layer in G.layers:
        layer.noise.strength.data.fill_(0.5)
    ws = G.broadcast(G.mapping(torch.randn(1, 8)).expand(6, -1))
    images = G.synthesis(ws, G.make_noise(6, torch.Generator().manual_seed(1)))
    assert images.std(0).mean() > 0  # the same w, different noise: different pixels
    assert torch.equal(G.synthesis(ws, noise="none")[0], G.synthesis(ws, noise="none")[5])


def test_minibatch_stddev_and_crossover_draws():
    x = torch.randn(8, 3, 4, 4)
    y = minibatch_stddev(x, group=4)
    assert y.shape == (8, 4, 4, 4)
    expected = x.reshape(4, 2, 3, 4, 4).std(0, unbiased=False).mean(dim=(1, 2, 3))  # per group member position
    assert torch.allclose(y[:2, 3, 0, 0], expected, atol=1e-4)
    G = StyleGANGenerator(StyleGANConfig.tiny(image_size=16))
    g = torch.Generator().manual_seed(0)
    cuts = [draw_crossover(G, 0.5, g) for _ in range(400)]
    assert 0.4 < sum(c is None for c in cuts) / 400 < 0.6 and {c for c in cuts if c is not None} == {1, 2, 3, 4}
    assert draw_crossover(G, 0.0, g) is None


def test_a_tiny_run_trains_two_steps_and_resumes_bit_for_bit(tmp_path):
    from genlearn.data import load_digits

    x, _ = load_digits("train", size=8)
    x = x[:64]
    cfg = StyleGANConfig.tiny(image_size=8)
    config = StyleGANTrainConfig(batch_size=8, r1_gamma=0.1, r1_every=2, pl_every=2, ema_decay=0.9)
    torch.manual_seed(0)
    G, history = train_stylegan(StyleGANGenerator(cfg), StyleGANDiscriminator(cfg), x, config=config, steps=4, progress=False)
    assert set(history.keys()) >= {"d_loss", "g_loss", "r1", "pl", "pl_mean"} and all(math.isfinite(v) for v in history["g_loss"])
    torch.manual_seed(0)
    ckpt = tmp_path / "ckpt.pt"
    train_stylegan(StyleGANGenerator(cfg), StyleGANDiscriminator(cfg), x, config=config, steps=2, checkpoint=ckpt, progress=False)
    torch.manual_seed(9)
    resumed, h2 = train_stylegan(StyleGANGenerator(cfg), StyleGANDiscriminator(cfg), x, config=config, steps=4, checkpoint=ckpt, progress=False)
    assert h2["g_loss"] == history["g_loss"]
    np.testing.assert_array_equal(h2["pl_mean"], history["pl_mean"])  # NaN where a step had no PL update, in both
    assert all(torch.equal(a, b) for a, b in zip(resumed.state_dict().values(), G.state_dict().values()))


def test_the_adain_variant_trains_too():
    from genlearn.data import load_digits

    x, _ = load_digits("train", size=8)
    cfg = StyleGANConfig.tiny(image_size=8, style_mode="adain")
    torch.manual_seed(0)
    G, history = train_stylegan(StyleGANGenerator(cfg), StyleGANDiscriminator(cfg), x[:32], steps=2, progress=False,
                                config=StyleGANTrainConfig(batch_size=8, mixing_prob=1.0))  # fmt: skip
    assert history.steps == [1, 2] and all(math.isfinite(v) for v in history["d_loss"] + history["g_loss"])
    assert G.sample(3, generator=torch.Generator().manual_seed(0)).shape == (3, 1, 8, 8)


def test_bad_configs_are_refused():
    with pytest.raises(ValueError, match="power of two"):
        StyleGANConfig(image_size=12)
    with pytest.raises(ValueError, match="style_mode"):
        StyleGANConfig(style_mode="film")
    with pytest.raises(ValueError, match="mixing_prob"):
        StyleGANTrainConfig(mixing_prob=1.5)


def test_the_style_mixing_grid_takes_the_second_styles_from_the_crossover_on():
    from genlearn.viz import style_mixing_grid

    torch.manual_seed(0)
    G = StyleGANGenerator(StyleGANConfig.tiny(image_size=8)).eval()
    grid = style_mixing_grid(G, 2, 3, crossover=2, generator=torch.Generator().manual_seed(4))
    assert grid.shape == (12, 1, 8, 8) and torch.equal(grid[0], torch.ones(1, 8, 8))
    g = torch.Generator().manual_seed(4)
    w_a, w_b = G.mapping_net(G.sample_latent(2, g)), G.mapping_net(G.sample_latent(3, g))
    ws = G.broadcast(w_a[1:2]).clone()
    ws[:, 2:] = w_b[2]  # row A_1, column B_2: A's first two styles, B's from layer 2 on
    assert torch.allclose(grid[2 * 4 + 3], G.synthesis(ws, noise="none")[0], atol=1e-6)
    assert torch.allclose(grid[4], G.synthesis(G.broadcast(w_a[:1]), noise="none")[0], atol=1e-6)  # the first column: A itself
