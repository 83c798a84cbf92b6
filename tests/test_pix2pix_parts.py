"""pix2pix's networks: the U-Net (reference count, shapes, skips, dropout) and the conditional PatchGAN."""

import pytest
import torch
from torch import nn

from genlearn.models.cyclegan import receptive_field
from genlearn.models.layers import count_parameters
from genlearn.models.pix2pix import ConditionalPatchDiscriminator, Pix2Pix, Pix2PixConfig, UnetGenerator


def conv(cin, cout, k=4, bias=True):
    return k * k * cin * cout + (cout if bias else 0)


def bn(c):
    return 2 * c


def unet_count(cin=3, cout=3, ngf=64):
    """Isola et al. 2017, Appendix 6.1.1, counted layer by layer: encoder C64-C128-C256-C512 x 5 (4x4 convolutions
    without bias, batch norm except on the first and the 1x1 bottleneck), decoder mirrored with skip concatenation."""
    enc = [ngf, 2 * ngf, 4 * ngf] + [8 * ngf] * 5  # 64 128 256 512 512 512 512 512
    g = conv(cin, enc[0], bias=False)
    g += sum(conv(enc[i - 1], enc[i], bias=False) + bn(enc[i]) for i in range(1, 7))
    g += conv(enc[6], enc[7], bias=False)  # the bottleneck: no norm
    g += conv(enc[7], enc[6], bias=False) + bn(enc[6])  # innermost decoder layer: no skip yet
    g += sum(conv(2 * enc[i], enc[i - 1], bias=False) + bn(enc[i - 1]) for i in range(6, 0, -1))
    g += conv(2 * enc[0], cout)  # to the output, with bias, then tanh
    return g


def test_reference_unet_and_discriminator_counts_match_an_independent_count():
    ref = Pix2PixConfig.reference()
    G = UnetGenerator(ref.in_channels, ref.out_channels, ref.g_width, ref.depth, ref.dropout)
    assert count_parameters(G) == unet_count() == 54_413_955  # the authors' code prints 54.414 M
    D = ConditionalPatchDiscriminator(3, 3, 64, 3)
    d = conv(6, 64) + conv(64, 128) + conv(128, 256) + conv(256, 512) + conv(512, 1)  # instance norm without affine parameters
    assert count_parameters(D) == d == 2_767_809
    assert receptive_field(D) == 70


@pytest.mark.parametrize("depth, size, cin, cout", [(2, 8, 1, 1), (3, 16, 3, 3), (4, 32, 3, 1), (5, 64, 1, 3)])
def test_unet_shapes_for_several_depths(depth, size, cin, cout):
    G = UnetGenerator(cin, cout, width=4, depth=depth).eval()
    y = G(torch.randn(2, cin, size, size))
    assert y.shape == (2, cout, size, size) and y.abs().max() <= 1
    assert G(torch.randn(1, cin, 2 * size, size)).shape == (1, cout, 2 * size, size)  # any multiple of 2^depth


def test_skips_carry_an_input_pattern_past_a_zeroed_bottleneck():
    torch.manual_seed(0)
    G = UnetGenerator(1, 1, width=8, depth=4, dropout=0.0).eval()
    x0 = torch.zeros(1, 1, 32, 32)
    x1 = x0.clone()
    x1[..., 8:12, 20:24] = 1.0  # a small square
    d0, d1 = G(x0, bottleneck_scale=0.0), G(x1, bottleneck_scale=0.0)
    change = (d1 - d0).abs()[0, 0]  # (32, 32)
    assert change.max() > 1e-3  # the pattern reaches the output through the skips alone
    assert change[4:16, 16:28].mean() > 3 * change.mean()  # and where it was


def test_dropout_sits_in_the_first_three_decoder_layers_and_is_the_noise_source():
    G = UnetGenerator(3, 3, width=4, depth=6, dropout=0.5)
    has_dropout = [any(isinstance(m, nn.Dropout) for m in layer.modules()) for layer in G.up]
    assert has_dropout == [True, True, True, False, False, False]
    x = torch.randn(2, 3, 64, 64)
    G.train()
    assert not torch.equal(G(x), G(x))  # training mode: each pass draws new dropout masks
    G.eval()
    assert torch.equal(G(x), G(x))
    assert not any(isinstance(m, nn.Dropout) for m in UnetGenerator(3, 3, 4, 6, dropout=0.0).modules())


def test_bad_inputs_raise_clear_errors():
    G = UnetGenerator(3, 3, width=4, depth=3)
    with pytest.raises(ValueError, match="multiples of 8"):
        G(torch.zeros(1, 3, 12, 16))
    with pytest.raises(ValueError, match="channel"):
        G(torch.zeros(1, 1, 16, 16))
    D = ConditionalPatchDiscriminator(3, 1, width=4, n_layers=1)
    with pytest.raises(ValueError, match="same batch and size"):
        D(torch.zeros(1, 3, 16, 16), torch.zeros(1, 1, 32, 32))
    with pytest.raises(ValueError, match="channel"):
        D(torch.zeros(1, 3, 16, 16), torch.zeros(1, 3, 16, 16))
    assert D(torch.zeros(2, 3, 16, 16), torch.zeros(2, 1, 16, 16)).shape == (2, 1, 6, 6)
    with pytest.raises(ValueError, match="multiple of 2 \\*\\* depth"):
        Pix2PixConfig(image_size=100)
    with pytest.raises(ValueError, match="dropout"):
        Pix2PixConfig(dropout=1.0)
    assert Pix2PixConfig.from_dict(Pix2PixConfig.tiny().to_dict()) == Pix2PixConfig.tiny()


# ---- the objective and the training steps -------------------------------------------------------

from genlearn.losses import d_loss_patch_bce, g_loss_patch_bce, l1_reconstruction_loss  # noqa: E402
from genlearn.train.pix2pix import Pix2PixTrainConfig, discriminator_step, generator_step, train_pix2pix  # noqa: E402


def test_pix2pix_losses_against_a_hand_computation():
    real = torch.tensor([0.0, 2.0]).view(1, 1, 1, 2)  # two patches
    fake = torch.tensor([-1.0, 0.5]).view(1, 1, 1, 2)
    sig = torch.sigmoid
    d_hand = 0.5 * (-(torch.log(sig(real))).mean() - torch.log(1 - sig(fake)).mean())
    assert d_loss_patch_bce(real, fake).item() == pytest.approx(d_hand.item(), rel=1e-6)
    assert g_loss_patch_bce(fake).item() == pytest.approx(-torch.log(sig(fake)).mean().item(), rel=1e-6)
    y, y_fake = torch.zeros(1, 1, 2, 2), torch.tensor([[[[0.1, -0.1], [0.3, 0.0]]]])
    assert l1_reconstruction_loss(y_fake, y).item() == pytest.approx(100 * 0.125)
    with pytest.raises(ValueError, match="PatchGAN map"):
        g_loss_patch_bce(torch.zeros(4))
    with pytest.raises(ValueError, match="same shape"):
        l1_reconstruction_loss(y_fake, torch.zeros(1, 1, 4, 4))


def tiny_p2p(seed=0):
    torch.manual_seed(seed)
    return UnetGenerator(1, 1, width=4, depth=3, dropout=0.0), ConditionalPatchDiscriminator(1, 1, width=4, n_layers=1)


def params(m):
    return [p.detach().clone() for p in m.parameters()]


def test_generator_step_leaves_d_alone_and_discriminator_step_leaves_g_alone():
    G, D = tiny_p2p()
    x, y = torch.rand(2, 1, 16, 16) * 2 - 1, torch.rand(2, 1, 16, 16) * 2 - 1
    opt_g, opt_d = torch.optim.Adam(G.parameters(), 1e-3), torch.optim.Adam(D.parameters(), 1e-3)
    g0, d0 = params(G), params(D)
    logs, fake = generator_step(G, D, opt_g, x, y)
    assert all(torch.equal(p, q) for p, q in zip(d0, D.parameters())) and all(p.grad is None for p in D.parameters())
    assert any(not torch.equal(p, q) for p, q in zip(g0, G.parameters()))
    assert not fake.requires_grad and logs["g_loss"] == pytest.approx(logs["g_gan"] + logs["l1"], rel=1e-5)
    g1 = params(G)
    discriminator_step(D, opt_d, x, y, fake)
    assert all(torch.equal(p, q) for p, q in zip(g1, G.parameters()))
    assert any(not torch.equal(p, q) for p, q in zip(d0, D.parameters()))
    G.zero_grad(set_to_none=True)
    discriminator_step(D, opt_d, x, y, G(x))  # even a live fake: D's step detaches it
    assert all(p.grad is None for p in G.parameters())
    logs, _ = generator_step(G, D, opt_g, x, y, lambda_gan=0.0)  # the L1-only baseline
    assert logs["g_gan"] == 0 and logs["g_loss"] == pytest.approx(logs["l1"])


def test_pix2pix_fits_a_few_pairs_and_resumes_bit_identically(tmp_path, ctrl_c_at):
    import numpy as np

    g = torch.Generator().manual_seed(0)
    x = torch.rand(8, 1, 16, 16, generator=g) * 2 - 1
    y = -x  # a deterministic, local mapping (inversion) the skips can carry
    cfg = Pix2PixTrainConfig(batch_size=4, lr_g=2e-3, lr_d=2e-3)

    def run(checkpoint=None, callbacks=(), seed=0):
        G, D = tiny_p2p(seed)
        return train_pix2pix(G, D, x, y, config=cfg, steps=100, checkpoint=checkpoint, checkpoint_every=1000, callbacks=callbacks, progress=False)

    full = run()
    l1 = full.history["l1"]
    assert np.mean(l1[-5:]) < 0.6 * np.mean(l1[:5])  # 54 -> 27 here
    ckpt = tmp_path / "p2p.pt"
    with pytest.raises(KeyboardInterrupt):
        run(checkpoint=ckpt, callbacks=[ctrl_c_at(37)])
    resumed = run(checkpoint=ckpt, seed=3)
    np.testing.assert_equal(resumed.history.logs, full.history.logs)
    assert all(torch.equal(p, q) for p, q in zip(full.model.parameters(), resumed.model.parameters()))
    with pytest.raises(ValueError, match="same count and size"):
        train_pix2pix(*tiny_p2p(), x, y[:4], steps=1, progress=False)
    with pytest.raises(ValueError, match="lambda_l1"):
        Pix2PixTrainConfig(lambda_l1=-1)


def test_the_l1_only_baseline_trains_without_touching_d_or_warning():
    import warnings

    G, D = tiny_p2p()
    d0 = params(D)
    x = torch.rand(8, 1, 16, 16) * 2 - 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "lr_scheduler.step() before optimizer.step()"
        trained = train_pix2pix(G, D, x, -x, config=Pix2PixTrainConfig(batch_size=4, lambda_gan=0.0, lr_decay=0.5), steps=6, progress=False)
    assert all(torch.equal(p, q) for p, q in zip(d0, D.parameters()))
    assert "d_loss" not in trained.history.keys() and len(trained.history["l1"]) == 6


def test_pix2pix_answers_the_translation_protocol():
    from genlearn.models.pix2pix import Pix2Pix

    model = Pix2Pix(Pix2PixConfig.tiny(image_size=16, channels=3)).eval()
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    y = model.translate(x, "AtoB")
    assert y.shape == (2, 3, 16, 16) and not y.requires_grad and torch.equal(y, model.G(x))
    with pytest.raises(ValueError, match="one direction"):
        model.translate(x, "BtoA")
    D = model.discriminator()
    assert D(x, y).shape == (2, 1, 6, 6) and count_parameters(D) > 0
    rebuilt = Pix2Pix(Pix2PixConfig.from_dict(model.config.to_dict()))
    rebuilt.load_state_dict(model.state_dict())
    assert torch.equal(rebuilt.eval().translate(x), y)  # the config and the weights are the whole model


def test_translate_pads_any_size_and_crops_back():
    from genlearn.models.pix2pix import Pix2Pix

    torch.manual_seed(0)
    model = Pix2Pix(Pix2PixConfig.tiny(image_size=16)).eval()  # depth 3: sides must be multiples of 8
    x = torch.rand(2, 3, 16, 24) * 2 - 1
    assert torch.equal(model.translate(x), model.G(x))  # a multiple already: no padding
    odd = torch.rand(1, 3, 13, 21) * 2 - 1
    y = model.translate(odd)
    padded = torch.cat([odd, odd.flip(-2)[..., 1:4, :]], dim=-2)  # mirrored, edge row not repeated: 13 -> 16
    padded = torch.cat([padded, padded.flip(-1)[..., 1:4]], dim=-1)  # 21 -> 24
    assert y.shape == (1, 3, 13, 21) and torch.allclose(y, model.G(padded)[..., :13, :21], atol=1e-6)
    tiny = torch.rand(1, 3, 3, 5) * 2 - 1  # smaller than the pad: edges repeated instead
    assert model.translate(tiny).shape == (1, 3, 3, 5)
    with pytest.raises(ValueError, match="one direction"):
        model.translate(x, "BtoA")


def test_residual_unet_adds_its_correction_to_the_input():
    torch.manual_seed(0)
    plain = UnetGenerator(3, 3, width=4, depth=3, dropout=0.0).eval()
    residual = UnetGenerator(3, 3, width=4, depth=3, dropout=0.0, residual=True).eval()
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    assert torch.equal(residual(x), x)  # it starts as the identity (a zeroed last layer), then learns corrections
    residual.load_state_dict(plain.state_dict())
    assert torch.allclose(residual(x), (x + plain(x)).clamp(-1, 1))
    grey = UnetGenerator(1, 3, width=4, depth=3, dropout=0.0, residual=True).eval()  # colourization: grey + a colour correction
    grey_plain = UnetGenerator(1, 3, width=4, depth=3, dropout=0.0).eval()
    grey_plain.load_state_dict(grey.state_dict())
    g = x[:, :1]  # (2, 1, 16, 16)
    assert torch.allclose(grey(g), (g.repeat(1, 3, 1, 1) + grey_plain(g)).clamp(-1, 1))  # the grey value added to R, G and B
    with pytest.raises(ValueError, match="in_channels must be 1 or out_channels"):
        UnetGenerator(3, 1, residual=True)
    with pytest.raises(ValueError, match="in_channels must be 1 or out_channels"):
        Pix2PixConfig(in_channels=2, out_channels=3, residual=True)


# ---- the ablation options of chapter 8: PixelGAN, unconditional D, encoder-decoder, update order ----------------


def encoder_decoder_count(cin=3, cout=3, ngf=64):
    """Isola et al. 2017, Appendix 6.1.1, the encoder-decoder: the U-Net's encoder, decoder CD512-CD512-CD512-C512-C256-
    C128-C64 (no concatenation, so each layer takes the previous one's width), then the output layer."""
    enc = [ngf, 2 * ngf, 4 * ngf] + [8 * ngf] * 5
    g = conv(cin, enc[0], bias=False) + sum(conv(enc[i - 1], enc[i], bias=False) + bn(enc[i]) for i in range(1, 7)) + conv(enc[6], enc[7], bias=False)
    dec = [8 * ngf] * 4 + [4 * ngf, 2 * ngf, ngf]  # 512 512 512 512 256 128 64
    prev = enc[7]
    for w in dec:
        g += conv(prev, w, bias=False) + bn(w)
        prev = w
    return g + conv(prev, cout)


def test_the_encoder_decoder_is_the_unet_without_its_skips():
    ed = UnetGenerator(3, 3, 64, 8, skips=False)
    assert count_parameters(ed) == encoder_decoder_count() == 39_075_459
    assert count_parameters(ed) < count_parameters(UnetGenerator(3, 3, 64, 8))  # the concatenations widen the U-Net's decoder
    assert Pix2Pix(Pix2PixConfig(skips=False)).G.skips is False
    torch.manual_seed(0)
    G = UnetGenerator(1, 1, width=8, depth=4, dropout=0.0, skips=False).eval()
    x0, x1 = torch.zeros(1, 1, 32, 32), torch.rand(1, 1, 32, 32)
    assert G(x0).shape == (1, 1, 32, 32) and not torch.equal(G(x0), G(x1))
    assert torch.equal(G(x0, bottleneck_scale=0.0), G(x1, bottleneck_scale=0.0))  # nothing passes but through the bottleneck
    R = UnetGenerator(1, 1, width=8, depth=4, dropout=0.0, skips=False, residual=True).eval()
    torch.nn.init.normal_(R.up[-1][1].weight)
    assert torch.allclose(R(x1, bottleneck_scale=0.0) - R(x0, bottleneck_scale=0.0), x1, atol=1e-6)  # only the input itself, where nothing clamps
    with pytest.raises(ValueError, match="d_layers must be >= 0"):
        Pix2PixConfig(d_layers=-1)


def test_the_pixelgan_judges_each_pixel_alone():
    D = ConditionalPatchDiscriminator(3, 3, 64, 0)  # the authors' PixelDiscriminator with instance norm (and so with biases)
    assert count_parameters(D) == conv(6, 64, k=1) + conv(64, 128, k=1) + conv(128, 1, k=1) == 8_897
    assert receptive_field(D) == 1
    x, y = torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8)
    torch.manual_seed(0)
    D = ConditionalPatchDiscriminator(3, 3, 4, 0).eval()
    out = D(x, y)
    assert out.shape == (2, 1, 8, 8)  # one logit per pixel
    D.patch.model[3] = nn.Identity()  # without the instance norm's per-image statistics, each logit sees its own pixel only
    y2 = y.clone()
    y2[0, :, 2, 5] += 1
    changed = (D(x, y2) - D(x, y)).abs()[0, 0] > 0
    assert changed[2, 5] and changed.sum() == 1
    assert Pix2Pix(Pix2PixConfig.tiny()).config.d_layers == 1 and Pix2PixConfig(d_layers=0).d_layers == 0
    from genlearn.models.cyclegan import PatchDiscriminator

    with pytest.raises(ValueError, match="n_layers must be >= 0"):
        PatchDiscriminator(3, 4, -1)


def test_the_unconditional_discriminator_ignores_the_input():
    D = ConditionalPatchDiscriminator(3, 3, 64, 3, conditional=False)
    assert count_parameters(D) == 2_764_737  # the PatchGAN on 3 channels: CycleGAN's reference D
    torch.manual_seed(0)
    cond, uncond = ConditionalPatchDiscriminator(3, 3, 4, 1), ConditionalPatchDiscriminator(3, 3, 4, 1, conditional=False)
    x1, x2, y = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    assert torch.equal(uncond(x1, y), uncond(x2, y)) and not torch.equal(cond(x1, y), cond(x2, y))
    with pytest.raises(ValueError, match="channel"):
        uncond(torch.rand(2, 1, 16, 16), y)  # x is still checked
    model = Pix2Pix(Pix2PixConfig.tiny(channels=3))
    assert model.discriminator().conditional and not Pix2Pix(Pix2PixConfig(**{**Pix2PixConfig.tiny().to_dict(), "conditional": False})).discriminator().conditional


def test_configs_saved_before_the_ablation_options_still_load():
    old = Pix2PixConfig.tiny().to_dict()
    for key in ("skips", "conditional", "blend"):
        old.pop(key)
    assert Pix2PixConfig.from_dict(old) == Pix2PixConfig.tiny()
    old_train = Pix2PixTrainConfig().to_dict()
    old_train.pop("d_first")
    assert Pix2PixTrainConfig.from_dict(old_train).d_first is False  # 0.2 trained G first
    assert Pix2PixTrainConfig.from_dict(Pix2PixTrainConfig().to_dict()) == Pix2PixTrainConfig()


def test_the_update_order_is_d_then_g_as_in_the_paper_or_g_then_d(monkeypatch):
    import genlearn.train.pix2pix as p2p

    calls = []
    d_step, g_step = p2p.discriminator_step, p2p.generator_step

    def d_spy(D, opt, x, y, fake, **kw):
        calls.append(("D", fake.data_ptr()))
        return d_step(D, opt, x, y, fake, **kw)

    def g_spy(*args, fake=None, **kw):
        logs, out = g_step(*args, fake=fake, **kw)
        calls.append(("G", out.data_ptr()))
        return logs, out

    monkeypatch.setattr(p2p, "discriminator_step", d_spy)
    monkeypatch.setattr(p2p, "generator_step", g_spy)
    x = torch.rand(4, 1, 16, 16) * 2 - 1
    final = {}
    for d_first in (True, False):
        calls.clear()
        G, D = tiny_p2p()
        forwards = []
        G.register_forward_hook(lambda *_: forwards.append(1))
        final[d_first] = train_pix2pix(G, D, x, -x, config=Pix2PixTrainConfig(batch_size=4, d_first=d_first), steps=2, progress=False).model
        assert [who for who, _ in calls] == (["D", "G"] * 2 if d_first else ["G", "D"] * 2)
        assert calls[0][1] == calls[1][1]  # both players' steps on the same G(x)
        assert len(forwards) == 2  # one forward pass of G per step, in either order
    assert not all(torch.equal(p, q) for p, q in zip(final[True].parameters(), final[False].parameters()))  # G saw another D
    assert Pix2PixTrainConfig().d_first  # the paper's order is the default


def test_without_the_gan_term_the_order_makes_no_difference():
    x = torch.rand(8, 1, 16, 16) * 2 - 1
    runs = []
    for d_first in (True, False):
        G, D = tiny_p2p()
        cfg = Pix2PixTrainConfig(batch_size=4, lambda_gan=0.0, d_first=d_first)
        runs.append(train_pix2pix(G, D, x, -x, config=cfg, steps=4, progress=False).model)
    assert all(torch.equal(p, q) for p, q in zip(*(r.parameters() for r in runs)))


def test_the_blend_head_repaints_only_where_its_weight_says():
    """blend: (1 - m) x + m c, with m and c from a full-resolution head that sees the input pixels."""
    torch.manual_seed(0)
    g = UnetGenerator(3, 3, width=4, depth=3, dropout=0.0, blend=True).eval()
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    out = g(x)
    assert out.shape == x.shape and (out - x).abs().max() < 0.01  # m starts at sigmoid(-6): about the identity
    with torch.no_grad():  # by hand: m and c from the head's last layer
        last = g.head[-1]
        last.bias[3:] = 20.0  # m = 1 everywhere: the output is c alone
        c_only = g(x)
        assert c_only.abs().max() <= 1 and not torch.allclose(c_only, x, atol=0.1)
        last.weight.zero_()
        last.bias[:3] = torch.tensor([0.5, -0.5, 0.0])
        last.bias[3:] = 0.0  # m = 1/2, c = tanh(bias): the output is the midpoint, pixel by pixel
        c = torch.tanh(torch.tensor([0.5, -0.5, 0.0])).view(1, 3, 1, 1)
        assert torch.allclose(g(x), 0.5 * x + 0.5 * c, atol=1e-6)
        last.bias[3:] = -60.0  # m = 0: clean pixels pass through exactly
        assert torch.allclose(g(x), x, atol=1e-12)
    model = Pix2Pix(Pix2PixConfig(image_size=16, g_width=4, depth=3, d_width=4, d_layers=1, blend=True))
    assert Pix2PixConfig.from_dict(model.config.to_dict()).blend  # saved with the run
    with pytest.raises(ValueError, match="blend"):
        Pix2PixConfig(blend=True, residual=True)
    with pytest.raises(ValueError, match="blend"):
        UnetGenerator(1, 3, blend=True)


def test_the_gate_threshold_passes_weak_weights_through_exactly_in_eval_mode_only():
    torch.manual_seed(0)
    g = UnetGenerator(3, 3, width=4, depth=3, dropout=0.0, blend=True, gate_bias=0.0, gate_threshold=0.5)
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    with torch.no_grad():
        g.head[-1].weight.zero_()
        g.head[-1].bias[:3] = 0.0
        g.head[-1].bias[3:] = torch.tensor([-0.1, 0.1, 2.0])  # m = 0.475 (below), 0.525 and 0.88 (above)
        g.eval()
        out, logits = g(x, with_gate=True)
        assert torch.allclose(logits[:, 0], torch.full_like(logits[:, 0], -0.1))
        assert torch.equal(out[:, 0], x[:, 0])  # below the threshold: the input, bit for bit
        assert not torch.allclose(out[:, 1:], x[:, 1:], atol=1e-3)
        g.train()  # training blends everywhere: the threshold has no gradient
        assert not torch.allclose(g(x)[:, 0], x[:, 0], atol=1e-3)
    assert torch.allclose(g.head[-1].bias[3:], torch.tensor([-0.1, 0.1, 2.0]))
    fresh = UnetGenerator(3, 3, width=4, depth=3, blend=True, gate_bias=-2.0)
    assert torch.allclose(fresh.head[-1].bias[3:], torch.full((3,), -2.0))  # the gate's starting logit
    with pytest.raises(ValueError, match="gate_threshold"):
        Pix2PixConfig(blend=True, gate_threshold=1.0)
    with pytest.raises(ValueError, match="blend=False"):
        UnetGenerator(3, 3, width=4, depth=3)(x, with_gate=True)
    cfg = Pix2PixConfig(image_size=16, g_width=4, depth=3, d_width=4, d_layers=1, blend=True, gate_threshold=0.3)
    assert Pix2Pix(Pix2PixConfig.from_dict(cfg.to_dict())).G.gate_threshold == 0.3  # saved with the run


def test_the_unblend_head_recovers_the_photo_under_a_semi_transparent_mark_from_its_own_pixels():
    """x = (1 - a) y + a k: with s = a / (1 - a) and b = -s k where the gate opens, x + g (s x + b) is y."""
    torch.manual_seed(0)
    g = UnetGenerator(3, 3, width=4, depth=3, dropout=0.0, blend=True, unblend=True, gate_threshold=0.7)
    y = torch.rand(2, 3, 16, 16) * 1.6 - 0.8  # the photo
    a, k = torch.rand(2, 1, 16, 16) * 0.8 + 0.1, torch.rand(2, 3, 16, 16) * 2 - 1  # the mark's opacity and colour
    marked = torch.zeros(2, 1, 16, 16, dtype=torch.bool)
    marked[:, :, 4:12, 2:14] = True  # where the mark lies
    a = a * marked
    x = (1 - a) * y + a * k  # alpha compositing, as watermark_pairs draws it
    s = a / (1 - a)
    logit = torch.where(marked, torch.tensor(0.9), torch.tensor(0.8))  # sigmoid: 0.71 (opens) and 0.69 (shut)

    class Known(nn.Module):  # the head's three outputs, as a trained remover would predict them
        def forward(self, features):
            return torch.cat([-s * k, s, logit], dim=1)  # b (N, 3, S, S), s and the gate's logit (N, 1, S, S)

    g.head = Known()
    g.eval()
    with torch.no_grad():
        out, gate_logits = g(x, with_gate=True)
    assert torch.allclose(out, y, atol=1e-5)  # under the mark: the photo itself, read through the mark
    assert torch.equal(out[~marked.expand_as(x)], x[~marked.expand_as(x)])  # gate below 0.7: the input, bit for bit
    assert gate_logits.shape == x.shape and torch.equal(gate_logits[:, 0], logit[:, 0])
    g.train()  # training: the soft gate (sigmoid 0.71) undoes only part of the mark
    with torch.no_grad():
        soft = g(x)
    assert not torch.allclose(soft, y, atol=1e-2)
    with pytest.raises(ValueError, match="unblend"):
        Pix2PixConfig(unblend=True)
    with pytest.raises(ValueError, match="unblend"):
        UnetGenerator(3, 3, unblend=True)
    cfg = Pix2PixConfig.remover(image_size=64, width=4, depth=3)
    assert cfg.unblend and cfg.gate_threshold == 0.5 and cfg.gate_views == 8
    model = Pix2Pix(Pix2PixConfig.from_dict(cfg.to_dict()))  # saved with the run
    assert model.G.unblend and model.G.head[-1].out_channels == 5  # b (3), s, gate


def test_an_image_whose_gate_opens_on_fewer_pixels_than_min_mark_pixels_passes_through_whole():
    torch.manual_seed(0)
    g = UnetGenerator(3, 3, width=4, depth=3, dropout=0.0, blend=True, unblend=True, gate_threshold=0.7, min_mark_pixels=10)
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    open_pixels = torch.zeros(2, 1, 16, 16, dtype=torch.bool)
    open_pixels[0, :, 2:4, 2:7] = True  # image 0: 10 pixels open (a mark's size)
    open_pixels[1, :, 9:12, 9:12] = True  # image 1: 9 pixels open (a false alarm)
    logit = torch.where(open_pixels, torch.tensor(3.0), torch.tensor(-3.0))  # sigmoid 0.95 and 0.05

    class Known(nn.Module):  # b = 0.3, s = 0 and the gate above
        def forward(self, features):
            return torch.cat([torch.full_like(x, 0.3), torch.zeros_like(logit), logit], dim=1)

    g.head = Known()
    g.eval()
    with torch.no_grad():
        out = g(x)
        assert torch.equal(out[1], x[1])  # 9 < 10: untouched, bit for bit
        changed = (out[0] != x[0]).any(0)
        assert torch.equal(changed, open_pixels[0, 0] & (x[0] < 0.7).any(0)) and changed.sum() > 0  # where the gate opened
        g.min_mark_pixels = 0  # no rule: both images change
        assert not torch.equal(g(x)[1], x[1])
        g.train()  # training: soft gates, no threshold, no rule
        g.min_mark_pixels = 10
        assert not torch.equal(g(x)[1], x[1])
    with pytest.raises(ValueError, match="min_mark_pixels"):
        Pix2PixConfig(blend=True, unblend=True, min_mark_pixels=5)  # no gate_threshold
    with pytest.raises(ValueError, match="min_mark_pixels"):
        Pix2PixConfig(blend=True, unblend=True, gate_threshold=0.7, min_mark_pixels=-1)
    with pytest.raises(ValueError, match="min_mark_pixels"):
        UnetGenerator(3, 3, blend=True, min_mark_pixels=5)
    with pytest.raises(ValueError, match="min_mark_pixels must be >= 0"):
        UnetGenerator(3, 3, blend=True, unblend=True, gate_threshold=0.7, min_mark_pixels=-1)
    cfg = Pix2PixConfig(image_size=16, g_width=4, depth=3, d_width=4, d_layers=1, blend=True, unblend=True, gate_threshold=0.7, min_mark_pixels=12)
    assert Pix2Pix(Pix2PixConfig.from_dict(cfg.to_dict())).G.min_mark_pixels == 12  # saved with the run


def test_the_removers_minimum_mark_is_the_same_share_of_the_crop_at_every_size():
    from genlearn.models.pix2pix import MIN_MARK_PIXELS_128

    assert Pix2PixConfig.remover(image_size=128).min_mark_pixels == MIN_MARK_PIXELS_128 > 0
    for size in (64, 256):  # marks are drawn to the crop's scale, so their area goes with the square of the side
        share = Pix2PixConfig.remover(image_size=size, depth=6).min_mark_pixels / size**2
        assert share == pytest.approx(MIN_MARK_PIXELS_128 / 128**2, rel=0.01)
    assert Pix2PixConfig.remover(image_size=16, width=4, depth=3).min_mark_pixels >= 1  # the smoke profile's crops keep a rule


def test_the_mark_mask_loss_is_the_gates_bce_against_the_pixels_a_mark_changed():
    from genlearn.losses import mark_mask_loss

    y = torch.zeros(1, 3, 2, 2)
    x = y.clone()
    x[0, 1, 0, 0] = 0.5  # one channel of one pixel marked
    x[0, 2, 1, 1] = 0.01  # below the threshold: not a mark
    logits = torch.tensor([1.0, -2.0, 0.5, 3.0]).view(1, 1, 2, 2).expand(1, 3, 2, 2).contiguous()
    target = torch.tensor([1.0, 0.0, 0.0, 0.0])  # the marked pixel, in every channel
    p = torch.sigmoid(torch.tensor([1.0, -2.0, 0.5, 3.0]))
    by_hand = -(target * torch.log(p) + (1 - target) * torch.log(1 - p)).mean()
    assert mark_mask_loss(logits, x, y).item() == pytest.approx(by_hand.item(), rel=1e-6)
    target = torch.tensor([1.0, 0.0, 0.0, 1.0])  # a lower threshold counts (1, 1) as marked too
    lower = -(target * torch.log(p) + (1 - target) * torch.log(1 - p)).mean()
    assert mark_mask_loss(logits, x, y, threshold=0.001).item() == pytest.approx(lower.item(), rel=1e-6)
    w = target + 3.0 * (1 - target)  # unmarked pixels weigh 3, then the mean is divided by (1 + 3) / 2
    weighted = (w * -(target * torch.log(p) + (1 - target) * torch.log(1 - p))).mean() / 2.0
    assert mark_mask_loss(logits, x, y, threshold=0.001, negative_weight=3.0).item() == pytest.approx(weighted.item(), rel=1e-6)
    with pytest.raises(ValueError, match="one shape"):
        mark_mask_loss(logits[:, :1], x, y)
    with pytest.raises(ValueError, match="negative_weight"):
        mark_mask_loss(logits, x, y, negative_weight=0.0)


def test_the_mask_loss_opens_the_gate_on_marks_and_needs_a_blend_unet():
    torch.manual_seed(0)
    y = torch.rand(8, 3, 16, 16) * 2 - 1
    x = y.clone()
    x[:, :, 4:8, :] = 0.9  # a bright band: the "mark"
    cfg = Pix2PixTrainConfig(batch_size=4, lr_g=2e-3, lambda_gan=0.0, lambda_l1=1.0, lambda_mask=1.0)
    G = UnetGenerator(3, 3, width=4, depth=3, dropout=0.0, blend=True, gate_bias=-2.0)
    D = ConditionalPatchDiscriminator(3, 3, width=4, n_layers=1)
    trained = train_pix2pix(G, D, x, y, config=cfg, steps=60, progress=False)
    mask = trained.history["mask"]
    assert len(mask) == 60 and sum(mask[-5:]) < 0.5 * sum(mask[:5])
    with torch.no_grad():
        _, logits = trained.model(x, with_gate=True)
    m = torch.sigmoid(logits)
    assert m[:, :, 4:8].mean() > 0.5 > m[:, :, 10:].mean()  # open on the band, shut elsewhere
    with pytest.raises(ValueError, match="blend U-Net"):
        train_pix2pix(*tiny_p2p(), x[:, :1], y[:, :1], config=cfg, steps=1, progress=False)
    with pytest.raises(ValueError, match="lambda_mask"):
        Pix2PixTrainConfig(lambda_mask=-1.0)



def _unblend_unet(views, threshold=0.5, seed=0):
    torch.manual_seed(seed)
    g = UnetGenerator(3, 3, width=4, depth=3, dropout=0.0, blend=True, unblend=True, gate_bias=0.0, gate_threshold=threshold, gate_views=views)
    return g.eval()


def test_a_gate_averaged_over_the_squares_eight_symmetries_makes_the_remover_commute_with_them():
    x = torch.rand(2, 3, 16, 24) * 2 - 1  # not square: a quarter turn swaps height and width
    turn = lambda t: torch.rot90(t, 1, (2, 3))  # noqa: E731
    mirror = lambda t: t.flip(3)  # noqa: E731
    with torch.no_grad():
        for views, commutes_with in ((8, (turn, mirror)), (2, (mirror,)), (1, ())):
            g = _unblend_unet(views)
            y = g(x)
            for op in (turn, mirror):
                gap = (op(y) - g(op(x))).abs().max().item()
                assert (gap < 1e-5) == (op in commutes_with), (views, op, gap)


def test_the_averaged_gate_is_the_mean_of_the_views_gate_probabilities_each_turned_back():
    x = torch.rand(3, 3, 16, 16) * 2 - 1
    one = _unblend_unet(1, threshold=0.0)
    four = _unblend_unet(4)
    four.load_state_dict(one.state_dict())
    with torch.no_grad():
        p = lambda t: torch.sigmoid(one(t, with_gate=True)[1])  # noqa: E731
        views = [p(x), p(x.flip(3)).flip(3), p(x.flip(2, 3)).flip(2, 3), p(x.flip(3).flip(2, 3)).flip(2, 3).flip(3)]  # written out by hand
        expected = torch.stack(views).mean(0)
        got = torch.sigmoid(four(x, with_gate=True)[1])
    assert torch.allclose(got, expected, atol=1e-5)
    assert not torch.allclose(got, views[0], atol=1e-3)  # the views disagree: the average is not the input's gate


def test_gate_views_apply_in_eval_mode_only_are_saved_with_the_run_and_reject_other_counts():
    x = torch.rand(4, 3, 16, 16) * 2 - 1
    one, eight = _unblend_unet(1), _unblend_unet(8)
    eight.load_state_dict(one.state_dict())
    one.train(), eight.train()
    with torch.no_grad():
        assert torch.equal(one(x), eight(x))  # training: one pass, soft gate
        one.eval(), eight.eval()
        assert not torch.equal(one(x), eight(x))
    cfg = Pix2PixConfig(image_size=16, g_width=4, depth=3, d_width=4, d_layers=1, blend=True, unblend=True, gate_threshold=0.5, gate_views=8)
    assert Pix2Pix(Pix2PixConfig.from_dict(cfg.to_dict())).G.gate_views == 8
    saved = cfg.to_dict()
    saved.pop("gate_views")  # a run saved before gate_views existed: one view, as it was evaluated
    assert Pix2Pix(Pix2PixConfig.from_dict(saved)).G.gate_views == 1
    for bad in (0, 3, 16, True, 2.0):
        with pytest.raises(ValueError, match="gate_views"):
            Pix2PixConfig(blend=True, unblend=True, gate_threshold=0.5, gate_views=bad)
    with pytest.raises(ValueError, match="unblend=True"):
        Pix2PixConfig(blend=True, gate_views=4)
    with pytest.raises(ValueError, match="gate_views"):
        UnetGenerator(3, 3, blend=True, unblend=True, gate_views=5)
