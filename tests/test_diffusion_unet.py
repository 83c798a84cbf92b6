"""DDPM's U-Net (genlearn.models.diffusion_unet): the official parameter count, shapes, conditioning, init, errors."""

import inspect
import json
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from genlearn.models import diffusion_unet
from genlearn.models.ddpm import DDPMConfig
from genlearn.models.diffusion_unet import DiffusionUNet, DiffusionUNetConfig, ResBlock, SelfAttention, timestep_embedding
from genlearn.models.layers import count_parameters

TINY = DiffusionUNetConfig.tiny()


def expected_parameters(c: DiffusionUNetConfig) -> int:
    """The count written out from Appendix B's structure, layer by layer, without building anything."""

    def conv(cin, cout, k):
        return cin * cout * k * k + cout

    def linear(a, b):
        return a * b + b

    def norm(ch):
        return 2 * ch  # GroupNorm's scale and shift

    temb = 4 * c.width

    def res(cin, cout):
        return (norm(cin) + conv(cin, cout, 3) + linear(temb, cout) + norm(cout) + conv(cout, cout, 3)
                + (conv(cin, cout, 1) if cin != cout else 0))

    def attn(ch):
        return norm(ch) + 4 * conv(ch, ch, 1)  # q, k, v, proj_out

    p2 = c.patch_size**2  # a patch of p x p pixels is p^2 channels at conv_in and conv_out
    total = linear(c.width, temb) + linear(temb, temb) + conv(c.in_channels * p2, c.width, 3)
    if c.num_classes:
        total += (c.num_classes + 1) * temb
    levels = len(c.channel_mults)
    ch, skips, size = c.width, [c.width], c.image_size // c.patch_size
    for i, m in enumerate(c.channel_mults):
        for _ in range(c.num_res_blocks):
            total += res(ch, c.width * m) + (attn(c.width * m) if size in c.attention_resolutions else 0)
            ch = c.width * m
            skips.append(ch)
        if i < levels - 1:
            total += conv(ch, ch, 3)
            skips.append(ch)
            size //= 2
    total += 2 * res(ch, ch) + attn(ch)
    for i in reversed(range(levels)):
        m = c.channel_mults[i]
        for _ in range(c.num_res_blocks + 1):
            total += res(ch + skips.pop(), c.width * m) + (attn(c.width * m) if size in c.attention_resolutions else 0)
            ch = c.width * m
        if i > 0:
            total += conv(ch, ch, 3)
            size *= 2
    out = c.in_channels if c.out_channels is None else c.out_channels
    return total + norm(ch) + conv(ch, out * p2, 3)


def randomize_zero_init(net: nn.Module, seed: int = 1) -> nn.Module:
    """Give the zero-initialized convolutions (conv2, proj_out, conv_out) random weights, so every path matters."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.Conv2d) and not m.weight.any():
                m.weight.copy_(0.2 * torch.randn(m.weight.shape, generator=g))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=g))
    return net


def inputs(n: int = 2, c: DiffusionUNetConfig = TINY, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c.in_channels, c.image_size, c.image_size, generator=g)
    t = torch.randint(0, 1000, (n,), generator=g)
    return x, t


def test_cifar10_net_has_the_official_parameter_count():
    c = DiffusionUNetConfig.ddpm_cifar10()
    assert expected_parameters(c) == 35_746_307
    assert count_parameters(DiffusionUNet(c)) == 35_746_307


PATCHED = replace(TINY, image_size=16, patch_size=2)  # levels of 8 and 4 pixels, like TINY's


@pytest.mark.parametrize("c", [TINY, DiffusionUNetConfig.tiny(num_classes=3), replace(TINY, out_channels=2, num_res_blocks=2),
                               PATCHED, replace(PATCHED, in_channels=3, out_channels=2, patch_size=4, image_size=32),
                               DDPMConfig.digits(width=32).unet],
                         ids=["tiny", "conditional", "two-blocks", "patches-of-2", "patches-of-4-rgb", "chapter-13-digits"])
def test_parameter_count_follows_the_structure(c):
    assert count_parameters(DiffusionUNet(c)) == expected_parameters(c)


def test_tiny_net_is_small():
    assert count_parameters(DiffusionUNet(TINY)) == 44_969


@pytest.mark.parametrize("n", [1, 2, 5])
def test_output_has_the_input_shape(n):
    net = DiffusionUNet(TINY)
    x, t = inputs(n)
    assert net(x, t).shape == (n, 1, 8, 8)
    assert net(x, t.float() + 0.5).shape == (n, 1, 8, 8)  # fractional timesteps


def test_patches_keep_the_image_shape_and_halve_the_levels():
    net = DiffusionUNet(PATCHED)
    assert PATCHED.resolutions == [8, 4] and PATCHED.resolutions == TINY.resolutions
    x, t = inputs(3, PATCHED)
    assert net(x, t).shape == (3, 1, 16, 16)
    sides = []
    hook = net.down[0].blocks[0].register_forward_hook(lambda m, i, o: sides.append(o.shape[-1]))
    net(x, t)
    hook.remove()
    assert sides == [8]  # the first block already works at S / p


def test_a_config_saved_before_patches_loads_without_them():
    d = TINY.to_dict()
    del d["patch_size"]  # checkpoints written before the option
    assert DiffusionUNetConfig.from_dict(d) == TINY and TINY.patch_size == 1


def test_out_channels_sets_the_output_channels():
    net = DiffusionUNet(replace(TINY, out_channels=2))
    assert net(*inputs(3)).shape == (3, 2, 8, 8)


@pytest.mark.parametrize("x_shape, t_shape, match", [
    ((2, 1, 8, 8), (3,), r"t must have shape \(N,\) = \(2,\), .* got \(3,\)"),
    ((2, 1, 8, 8), (2, 1), r"t must have shape \(N,\) = \(2,\), .* got \(2, 1\)"),
    ((2, 1, 16, 16), (2,), r"x must have shape \(N, 1, 8, 8\), got \(2, 1, 16, 16\)"),
    ((2, 3, 8, 8), (2,), r"x must have shape \(N, 1, 8, 8\), got \(2, 3, 8, 8\)"),
    ((1, 8, 8), (1,), r"x must have shape \(N, 1, 8, 8\), got \(1, 8, 8\)"),
])
def test_bad_inputs_name_the_expected_shape(x_shape, t_shape, match):
    net = DiffusionUNet(TINY)
    with pytest.raises(ValueError, match=match):
        net(torch.zeros(x_shape), torch.zeros(t_shape))


def test_timestep_embedding_is_half_sines_half_cosines():
    t = torch.tensor([0, 1, 2, 999])
    e = timestep_embedding(t, 16)
    assert e.shape == (4, 16) and e.dtype == torch.float32
    assert torch.equal(e[0, :8], torch.zeros(8)) and torch.equal(e[0, 8:], torch.ones(8))
    freqs = torch.exp(-torch.log(torch.tensor(10000.0)) * torch.arange(8) / 7)  # 1 down to 1/10000
    torch.testing.assert_close(e[3], torch.cat([torch.sin(999 * freqs), torch.cos(999 * freqs)]))
    assert torch.cdist(e, e).add(torch.eye(4)).min() > 0.1  # every pair of timesteps differs
    assert not torch.allclose(timestep_embedding(torch.tensor([2.5]), 16), e[2:3])  # fractional t
    assert timestep_embedding(torch.tensor([3.0], dtype=torch.float64), 4).dtype == torch.float64


@pytest.mark.parametrize("dim", [7, 0])
def test_timestep_embedding_needs_an_even_dim(dim):
    with pytest.raises(ValueError, match="even"):
        timestep_embedding(torch.arange(3), dim)


def test_timestep_embedding_needs_one_dimensional_t():
    with pytest.raises(ValueError, match=r"shape \(N,\)"):
        timestep_embedding(torch.zeros(2, 1), 8)


@pytest.mark.parametrize("c", [TINY, DiffusionUNetConfig.ddpm_cifar10(), replace(TINY, num_classes=10, out_channels=2), PATCHED],
                         ids=["tiny", "cifar10", "conditional", "patched"])
def test_config_round_trips_through_json(c):
    d = json.loads(json.dumps(c.to_dict()))
    assert isinstance(d["channel_mults"], list)
    back = DiffusionUNetConfig.from_dict(d)
    assert back == c and isinstance(back.channel_mults, tuple) and isinstance(back.attention_resolutions, tuple)


@pytest.mark.parametrize("changes, match", [
    (dict(dropout=1.0), r"dropout must be in \[0, 1\)"),
    (dict(dropout=-0.1), r"dropout must be in \[0, 1\)"),
    (dict(image_size=7), r"image_size must be divisible by .* 2"),
    (dict(patch_size=3), r"image_size must be divisible by patch_size \* 2 \*\* \(len\(channel_mults\) - 1\) = 6 .* got 8"),
    (dict(patch_size=0), "patch_size must be >= 1"),
    (dict(image_size=16, patch_size=2, attention_resolutions=(16,)), r"attention_resolutions \[16\] are never reached.*\[8, 4\]"),
    (dict(norm_groups=3), r"norm_groups=3 does not divide the 8 channels"),
    (dict(attention_resolutions=(2,)), r"attention_resolutions \[2\] are never reached.*\[8, 4\]"),
    (dict(width=7), "width must be even"),
    (dict(channel_mults=()), "channel_mults must be a non-empty"),
    (dict(num_res_blocks=0), "num_res_blocks must be >= 1"),
    (dict(num_classes=-1), "num_classes must be >= 0"),
])
def test_bad_configs_raise(changes, match):
    with pytest.raises(ValueError, match=match):
        replace(TINY, **changes)


def test_cifar10_config_is_the_papers():
    c = DiffusionUNetConfig.ddpm_cifar10()
    assert (c.image_size, c.in_channels, c.width, c.channel_mults, c.num_res_blocks) == (32, 3, 128, (1, 2, 2, 2), 2)
    assert (c.attention_resolutions, c.dropout, c.resolutions, c.output_channels) == ((16,), 0.1, [32, 16, 8, 4], 3)


def test_class_labels_condition_the_output():
    torch.manual_seed(0)
    net = randomize_zero_init(DiffusionUNet(DiffusionUNetConfig.tiny(num_classes=3))).eval()
    x, t = inputs(3)
    out0, out1 = net(x, t, torch.tensor([0, 0, 0])), net(x, t, torch.tensor([1, 1, 1]))
    assert (out0 - out1).abs().amax() > 1e-3
    torch.testing.assert_close(net(x, t), net(x, t, torch.full((3,), 3)), rtol=0, atol=0)  # None is the null token
    mixed = net(x, t, torch.tensor([0, 3, 1]))  # a batch may mix labels and the null token
    torch.testing.assert_close(mixed[0], out0[0])
    torch.testing.assert_close(mixed[2], out1[2])


@pytest.mark.parametrize("y", [torch.tensor([0, 4]), torch.tensor([-1, 0])])
def test_labels_out_of_range_raise(y):
    net = DiffusionUNet(DiffusionUNetConfig.tiny(num_classes=3))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 2\], or 3 for 'no label'"):
        net(*inputs(2), y)


def test_labels_must_be_integers_of_shape_n():
    net = DiffusionUNet(DiffusionUNetConfig.tiny(num_classes=3))
    with pytest.raises(ValueError, match=r"y must be integer labels of shape \(N,\) = \(2,\)"):
        net(*inputs(2), torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"y must be integer labels of shape \(N,\) = \(2,\)"):
        net(*inputs(2), torch.tensor([0, 1, 2]))


def test_labels_to_an_unconditional_net_raise():
    with pytest.raises(ValueError, match="unconditional"):
        DiffusionUNet(TINY)(*inputs(2), torch.tensor([0, 1]))


def test_fresh_net_outputs_zero_until_a_step_trains_conv_out():
    torch.manual_seed(0)
    net = DiffusionUNet(TINY)
    x, t = inputs(4)
    out = net(x, t)
    assert torch.equal(out, torch.zeros_like(out))
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    F.mse_loss(out, torch.randn_like(x)).backward()
    opt.step()
    assert net(x, t).abs().amax() > 0


def test_self_attention_equals_scaled_dot_product_attention():
    torch.manual_seed(0)
    attn = randomize_zero_init(SelfAttention(8, norm_groups=4))
    x = torch.randn(2, 8, 4, 3)
    n, c, h, w = x.shape
    normed = attn.norm(x)
    q, k, v = (conv(normed).flatten(2).transpose(1, 2)[:, None] for conv in (attn.q, attn.k, attn.v))  # (N, 1, HW, C)
    a = F.scaled_dot_product_attention(q, k, v)[:, 0]  # (N, HW, C)
    expected = x + attn.proj_out(a.transpose(1, 2).reshape(n, c, h, w))
    torch.testing.assert_close(attn(x), expected)


def test_fresh_attention_and_blocks_are_identities():
    x, temb = torch.randn(2, 8, 4, 4), torch.randn(2, 32)
    torch.testing.assert_close(SelfAttention(8, norm_groups=4)(x), x, rtol=0, atol=0)
    torch.testing.assert_close(ResBlock(8, 8, 32, norm_groups=4)(x, temb), x, rtol=0, atol=0)  # conv2 starts at zero
    wider = ResBlock(8, 16, 32, norm_groups=4)
    torch.testing.assert_close(wider(x, temb), wider.shortcut(x), rtol=0, atol=0)  # the 1x1 shortcut


def test_timestep_conditions_the_output():
    torch.manual_seed(0)
    net = randomize_zero_init(DiffusionUNet(TINY)).eval()
    x, _ = inputs(2)
    early, late = net(x, torch.tensor([10, 10])), net(x, torch.tensor([500, 500]))
    assert (early - late).abs().amax() > 1e-3
    torch.testing.assert_close(net(x, torch.tensor([10.0, 10.0])), early)  # an index and its float agree


def test_same_seed_builds_the_same_weights():
    torch.manual_seed(3)
    a = DiffusionUNet(TINY).state_dict()
    torch.manual_seed(3)
    b = DiffusionUNet(TINY).state_dict()
    torch.manual_seed(4)
    c = DiffusionUNet(TINY).state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_channels_last_gives_the_same_output():
    torch.manual_seed(0)
    net = randomize_zero_init(DiffusionUNet(TINY)).eval()
    x, t = inputs(3)
    expected = net(x, t)
    net = net.to(memory_format=torch.channels_last)
    torch.testing.assert_close(net(x.contiguous(memory_format=torch.channels_last), t), expected, rtol=1e-4, atol=1e-5)


def test_runs_under_autocast():
    torch.manual_seed(0)
    net = randomize_zero_init(DiffusionUNet(DiffusionUNetConfig.tiny(num_classes=3))).eval()
    x, t = inputs(2)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = net(x, t, torch.tensor([0, 2]))
    assert out.shape == (2, 1, 8, 8) and torch.isfinite(out).all()
    torch.testing.assert_close(out.float(), net(x, t, torch.tensor([0, 2])), rtol=0.1, atol=0.1)


def test_overfits_one_batch_of_noise():
    torch.manual_seed(0)
    net = DiffusionUNet(TINY)
    x0 = torch.rand(4, 1, 8, 8) * 2 - 1
    eps = torch.randn_like(x0)
    t = torch.tensor([50, 300, 600, 900])
    alpha_bar = torch.cos(t / 1000 * torch.pi / 2)[:, None, None, None] ** 2
    x_t = alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * eps
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    first = F.mse_loss(net(x_t, t), eps).item()
    for _ in range(100):  # 10x takes about 25 steps
        loss = F.mse_loss(net(x_t, t), eps)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < first / 10, (first, loss.item())


@pytest.mark.parametrize("name", diffusion_unet.__all__)
def test_public_docstrings_name_chapter_13(name):
    obj = getattr(diffusion_unet, name)
    assert inspect.getdoc(obj).endswith("Chapter 13.")
    assert "Ho, Jain & Abbeel 2020, Appendix B" in inspect.getdoc(obj)
