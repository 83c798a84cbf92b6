"""CycleGAN's parts: the ResNet generator, the PatchGAN, its receptive field, LSGAN, cycle and identity losses, the pool."""

import pytest
import torch
from torch import nn

from genlearn.losses import cycle_consistency_loss, d_loss_lsgan, g_loss_lsgan, identity_loss
from genlearn.models.cyclegan import CycleGANConfig, PatchDiscriminator, ResnetGenerator, receptive_field
from genlearn.models.layers import count_parameters
from genlearn.train.image_pool import ImagePool


def conv(cin, cout, k):  # weights and bias of a k x k convolution
    return k * k * cin * cout + cout


def reference_counts(ngf=64, ndf=64, blocks=9, c=3):
    """The paper's networks counted layer by layer from their description (Zhu et al. 2017, Appendix 7.2)."""
    g = conv(c, ngf, 7) + conv(ngf, 2 * ngf, 3) + conv(2 * ngf, 4 * ngf, 3)  # c7s1-64, d128, d256
    g += blocks * 2 * conv(4 * ngf, 4 * ngf, 3)  # R256 x blocks: two 3x3 convolutions each
    g += conv(4 * ngf, 2 * ngf, 3) + conv(2 * ngf, ngf, 3) + conv(ngf, c, 7)  # u128, u64, c7s1-3
    d = conv(c, ndf, 4) + conv(ndf, 2 * ndf, 4) + conv(2 * ndf, 4 * ndf, 4) + conv(4 * ndf, 8 * ndf, 4) + conv(8 * ndf, 1, 4)  # C64-C128-C256-C512, 1
    return g, d


def test_reference_parameter_counts_match_an_independent_count():
    ref = CycleGANConfig.reference()
    G = ResnetGenerator(ref.channels_a, ref.channels_b, ref.g_width, ref.n_blocks)
    D = PatchDiscriminator(ref.channels_b, ref.d_width, ref.d_layers)
    g, d = reference_counts()
    assert (count_parameters(G), count_parameters(D)) == (g, d) == (11_378_179, 2_764_737)  # the authors' code prints 11.378 M, 2.765 M
    assert not any(isinstance(m, nn.BatchNorm2d) for m in G.modules())


@pytest.mark.parametrize("blocks", [0, 1, 6])
@pytest.mark.parametrize("size,cin,cout", [(16, 1, 1), (32, 1, 3), (64, 3, 3)])
def test_generator_shapes(blocks, size, cin, cout):
    G = ResnetGenerator(cin, cout, width=4, n_blocks=blocks)
    y = G(torch.rand(2, cin, size, size) * 2 - 1)
    assert y.shape == (2, cout, size, size) and y.abs().max() <= 1


@pytest.mark.parametrize("layers,field,side", [(1, 16, 30), (2, 34, 14), (3, 70, 6), (4, 142, 2)])
def test_patchgan_receptive_field_and_output_shape(layers, field, side):
    D = PatchDiscriminator(3, width=4, n_layers=layers)
    assert receptive_field(D) == field
    assert D(torch.zeros(2, 3, 64, 64)).shape == (2, 1, side, side)
    assert receptive_field(PatchDiscriminator(3, 64, 3)) == 70
    assert D(torch.zeros(1, 3, 256, 256)).shape[-1] == {1: 126, 2: 62, 3: 30, 4: 14}[layers]


def test_receptive_field_of_a_hand_made_chain():
    chain = nn.Sequential(nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3, stride=2), nn.Conv2d(1, 1, 3))  # 1 -> 3 -> 5 -> 9
    assert receptive_field(chain) == 9


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="1 channel"):
        ResnetGenerator(1, 3, width=4, n_blocks=1)(torch.zeros(1, 3, 16, 16))
    with pytest.raises(ValueError, match="multiples of 4"):
        ResnetGenerator(1, 1, width=4, n_blocks=1)(torch.zeros(1, 1, 18, 18))
    with pytest.raises(ValueError, match="3 channel"):
        PatchDiscriminator(3, width=4)(torch.zeros(1, 1, 32, 32))
    with pytest.raises(ValueError, match="multiple of 4"):
        CycleGANConfig(image_size=30)


def test_lsgan_losses_against_a_hand_computation():
    real, fake = torch.tensor([1.0, 0.5, 2.0]), torch.tensor([[0.0, 1.0], [-1.0, 0.5]])
    assert torch.isclose(d_loss_lsgan(real, fake), torch.tensor(0.5 * ((0 + 0.25 + 1) / 3 + (0 + 1 + 1 + 0.25) / 4)))
    assert torch.isclose(g_loss_lsgan(fake), torch.tensor((1 + 0 + 4 + 0.25) / 4))
    assert d_loss_lsgan(torch.ones(4), torch.zeros(4)) == 0 and g_loss_lsgan(torch.ones(2, 1, 3, 3)) == 0


def test_cycle_and_identity_losses():
    x = torch.zeros(2, 1, 4, 4)
    assert cycle_consistency_loss(x, x + 0.5) == pytest.approx(5.0)  # 10 * mean |0.5|
    with pytest.raises(ValueError, match="same shape"):
        cycle_consistency_loss(x, torch.zeros(2, 3, 4, 4))
    seen = []

    def G_ab(t):  # records its input; adds 1 to every pixel
        seen.append(t)
        return t + 1

    b = torch.full((2, 1, 4, 4), 0.25)
    assert identity_loss(G_ab, b, weight=5.0) == pytest.approx(5.0)
    assert seen[0] is b  # the identity loss feeds G_AB an image of B, its own target domain


def test_pool_returns_stored_images_half_the_time_once_full_and_never_grows():
    pool = ImagePool(size=4, seed=0)
    first = torch.arange(4.0).view(4, 1, 1, 1)
    assert torch.equal(pool.query(first), first) and len(pool.images) == 4  # filling: returned as they are
    stored_returned, n = 0, 2000
    for i in range(n):
        new = torch.full((1, 1, 1, 1), 100.0 + i)
        out = pool.query(new)
        stored_returned += int(out.item() != new.item())
        assert len(pool.images) == 4
    assert 0.45 < stored_returned / n < 0.55
    again = ImagePool(size=4, seed=0)
    again.load_state_dict(pool.state_dict())
    probe = torch.full((8, 1, 1, 1), -1.0)
    assert torch.equal(pool.query(probe), again.query(probe.clone()))  # the state (and the coin) resumes
    assert torch.equal(ImagePool(size=0).query(probe), probe)


# --- the training steps and the trainer -------------------------------------------------------------

from genlearn.models.cyclegan import CycleGAN, CycleGANDiscriminators  # noqa: E402
from genlearn.train.cyclegan import CycleGANTrainConfig, discriminator_step, generator_step, train_cyclegan  # noqa: E402


def tiny_pair(seed=0):
    torch.manual_seed(seed)
    c = CycleGANConfig.tiny(16, 1)
    return CycleGAN(c), CycleGANDiscriminators(c)


def params(m):
    return [p.detach().clone() for p in m.parameters()]


def test_generator_step_updates_only_the_generators_and_discriminator_step_only_the_discriminators():
    G, D = tiny_pair()
    a, b = torch.rand(4, 1, 16, 16) * 2 - 1, torch.rand(4, 1, 16, 16) * 2 - 1
    opt_g, opt_d = torch.optim.Adam(G.parameters(), 1e-3), torch.optim.Adam(D.parameters(), 1e-3)
    g0, d0 = params(G), params(D)
    logs, fake_a, fake_b = generator_step(G, D, opt_g, a, b)
    assert all(torch.equal(p, q) for p, q in zip(d0, D.parameters())) and all(p.grad is None for p in D.parameters())
    assert any(not torch.equal(p, q) for p, q in zip(g0, G.parameters()))
    assert not fake_a.requires_grad and fake_a.shape == a.shape and logs["g_loss"] == pytest.approx(logs["g_gan"] + logs["cycle"] + logs["identity"], rel=1e-5)
    g1 = params(G)
    discriminator_step(D, opt_d, a, b, fake_a, fake_b)
    assert all(torch.equal(p, q) for p, q in zip(g1, G.parameters()))
    assert any(not torch.equal(p, q) for p, q in zip(d0, D.parameters()))


def test_identity_term_feeds_each_generator_its_own_target_domain(monkeypatch):
    import genlearn.train.cyclegan as cg

    G, D = tiny_pair()
    a, b = torch.full((2, 1, 16, 16), -0.5), torch.full((2, 1, 16, 16), 0.5)
    calls = []
    real = cg.identity_loss

    def spy(gen, y, weight):
        calls.append((gen, y))
        return real(gen, y, weight)

    monkeypatch.setattr(cg, "identity_loss", spy)
    generator_step(G, D, torch.optim.Adam(G.parameters()), a, b)
    assert calls[0][0] is G.G_AB and calls[0][1] is b and calls[1][0] is G.G_BA and calls[1][1] is a
    logs, _, _ = generator_step(G, D, torch.optim.Adam(G.parameters()), a, b, lambda_identity=0.0)
    assert logs["identity"] == 0 and len(calls) == 2


def test_cyclegan_learns_to_reconstruct_and_resumes_bit_identically(tmp_path, ctrl_c_at):
    import numpy as np

    from genlearn.data import get_unpaired

    x_a, _, x_b, _ = get_unpaired("digits-typeset", "train", 16)
    x_a, x_b = x_a[:64], x_b[:64]
    cfg = CycleGANTrainConfig(batch_size=8, lr_g=2e-3, lr_d=2e-3, pool_size=4)

    def run(checkpoint=None, callbacks=(), steps=40, seed=0):
        G, D = tiny_pair(seed)
        return train_cyclegan(G, D, x_a, x_b, config=cfg, steps=steps, checkpoint=checkpoint, checkpoint_every=1000,
                              callbacks=callbacks, progress=False)  # fmt: skip

    full = run()
    cycle = full.history["cycle"]
    assert np.mean(cycle[-5:]) < 0.6 * np.mean(cycle[:5])  # the round trips get closer to the inputs
    ckpt = tmp_path / "cg.pt"
    with pytest.raises(KeyboardInterrupt):
        run(checkpoint=ckpt, callbacks=[ctrl_c_at(17)])
    resumed = run(checkpoint=ckpt, seed=5)  # other initial weights: everything comes from the checkpoint, pools too
    np.testing.assert_equal(resumed.history.logs, full.history.logs)
    assert all(torch.equal(p, q) for p, q in zip(full.model.parameters(), resumed.model.parameters()))


def test_cyclegan_config_and_data_errors(tmp_path):
    from PIL import Image

    from genlearn.data import ImageFolderError, get_unpaired

    G = CycleGAN(CycleGANConfig(channels_a=1, channels_b=3, image_size=16, g_width=4, n_blocks=1, d_width=4, d_layers=2))
    D = CycleGANDiscriminators(G.config)
    with pytest.raises(ValueError, match="same\nchannels|same channels"):
        train_cyclegan(G, D, torch.zeros(4, 1, 16, 16), torch.zeros(4, 3, 16, 16), steps=1, progress=False)
    with pytest.raises(ValueError, match="lambda_cycle"):
        CycleGANTrainConfig(lambda_cycle=-1)
    root = tmp_path / "pairs"
    (root / "trainA").mkdir(parents=True)
    Image.new("RGB", (20, 12), (255, 0, 0)).save(root / "trainA" / "red.png")
    with pytest.raises(ImageFolderError, match="no trainB/"):
        get_unpaired(str(root), "train", 8)
    (root / "trainB").mkdir()
    with pytest.raises(ImageFolderError, match="no readable images"):
        get_unpaired(str(root), "train", 8)
    Image.new("L", (9, 9), 128).save(root / "trainB" / "grey.png")
    x_a, _, x_b, _ = get_unpaired(str(root), "train", 8)
    assert x_a.shape == (1, 3, 8, 8) and x_b.shape == (1, 1, 8, 8)
    with pytest.raises(ValueError, match="unknown unpaired dataset"):
        get_unpaired("zebras", "train", 8)
