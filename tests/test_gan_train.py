"""GAN step functions (detach discipline, determinism), DiffAugment, EMA, and the CLI round trip."""

import numpy as np
import pytest
import torch

from genlearn.train.augment import diff_augment, rand_cutout, rand_translation
from genlearn.train.ema import EMA
from genlearn.models.conditional import ConditionalConfig, ConditionalGenerator, ProjectionDiscriminator
from genlearn.models.dcgan import DCGANConfig, DCGANDiscriminator, DCGANGenerator
from genlearn.models.mlp import MLPConfig, MLPDiscriminator, MLPGenerator
from genlearn.train.gan import GANTrainConfig, d_step, g_step, train_gan


def tiny_pair(seed=0):
    torch.manual_seed(seed)
    cfg = DCGANConfig.tiny(16, 1)
    G, D = DCGANGenerator(cfg), DCGANDiscriminator(cfg)
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-3)
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3)
    x = torch.rand(8, 1, 16, 16) * 2 - 1
    z = torch.randn(8, cfg.latent_dim)
    return G, D, opt_g, opt_d, x, z


def params(m):
    return [p.detach().clone() for p in m.parameters()]


def test_d_step_leaves_generator_untouched():
    G, D, opt_g, opt_d, x, z = tiny_pair()
    g_before, d_before = params(G), params(D)
    logs = d_step(G, D, opt_d, x, z)
    assert set(logs) == {"d_loss", "d_real", "d_fake"}
    assert all(p.grad is None for p in G.parameters())  # detach: no gradient reached G
    assert all(torch.equal(a, b) for a, b in zip(g_before, params(G)))
    assert any(not torch.equal(a, b) for a, b in zip(d_before, params(D)))


def test_d_step_without_detach_would_touch_generator():
    """The check above can fail: the same computation without .detach() fills G's gradients."""
    G, D, _, _, x, z = tiny_pair()
    from genlearn.losses import d_loss_bce

    d_loss_bce(D(x), D(G(z))).backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in G.parameters())


def test_g_step_updates_only_the_generator():
    G, D, opt_g, opt_d, x, z = tiny_pair()
    g_before, d_before = params(G), params(D)
    logs = g_step(G, D, opt_g, z)
    assert set(logs) == {"g_loss"}
    assert all(torch.equal(a, b) for a, b in zip(d_before, params(D)))
    assert all(p.grad is None for p in D.parameters())  # D was frozen
    assert all(p.requires_grad for p in D.parameters())  # ... and unfrozen afterwards
    assert any(not torch.equal(a, b) for a, b in zip(g_before, params(G)))


@pytest.mark.parametrize("d_loss,g_loss", [("bce", "nonsaturating"), ("bce", "minimax"), ("hinge", "hinge")])
def test_conditional_steps_run_with_every_loss(d_loss, g_loss):
    cfg = ConditionalConfig.tiny()
    G, D = ConditionalGenerator(cfg), ProjectionDiscriminator(cfg)
    opt_g, opt_d = torch.optim.Adam(G.parameters()), torch.optim.Adam(D.parameters())
    x, y, z = torch.zeros(4, 1, 16, 16), torch.tensor([0, 3, 5, 9]), torch.randn(4, cfg.latent_dim)
    aug = lambda t: diff_augment(t, "color,translation,cutout")  # noqa: E731
    assert np.isfinite(d_step(G, D, opt_d, x, z, y=y, loss=d_loss, augment=aug)["d_loss"])
    assert np.isfinite(g_step(G, D, opt_g, z, y=y, loss=g_loss, augment=aug)["g_loss"])


def test_discriminator_overfits_one_batch():
    G, D, _, _, x, z = tiny_pair()
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-2)
    first = d_step(G, D, opt_d, x, z)["d_loss"]
    for _ in range(30):
        last = d_step(G, D, opt_d, x, z)
    assert last["d_loss"] < 0.1 * first and last["d_real"] > 0.95 and last["d_fake"] < 0.05


def run_tiny(seed):
    torch.manual_seed(seed)
    cfg = MLPConfig.tiny((1, 8, 8))
    G, D = MLPGenerator(cfg), MLPDiscriminator(cfg)
    x = torch.rand(32, 1, 8, 8) * 2 - 1
    G_sample, history = train_gan(G, D, x, config=GANTrainConfig(batch_size=8, ema_decay=0.9, diffaugment="translation"), steps=5, seed=seed, progress=False)
    assert G_sample is not G  # the EMA copy is what a run samples from
    return history, G, G_sample


def test_training_is_deterministic_under_a_seed():
    h1, g1, e1 = run_tiny(3)
    h2, g2, e2 = run_tiny(3)
    h3, _, _ = run_tiny(4)
    assert h1.logs == h2.logs and h1.logs != h3.logs
    assert all(torch.equal(a, b) for a, b in zip(g1.parameters(), g2.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(e1.parameters(), e2.parameters()))


def test_ema_follows_the_paper_rule():
    m = torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        m.weight.fill_(0.0)
    ema = EMA(m, decay=0.9, warmup=False)
    with torch.no_grad():
        m.weight.fill_(1.0)
    ema.update(m)
    ema.update(m)
    # theta_ema = 0.9 * (0.9 * 0 + 0.1 * 1) + 0.1 * 1 = 0.19
    torch.testing.assert_close(ema.model.weight, torch.full((1, 2), 0.19))
    assert int(ema.updates) == 2 and not ema.model.weight.requires_grad


def test_ema_warmup_counts_on_after_a_checkpoint_round_trip():
    """The warmup's beta = min(decay, (1 + t) / (10 + t)) reads the update count t, which is kept on the host between
    updates: a loaded state (the count of the run it came from) must move the average exactly as the run would have."""
    m = torch.nn.Linear(3, 2)
    reference, resumed = EMA(m, decay=0.999), EMA(m, decay=0.999)
    expected = [p.detach().clone() for p in m.parameters()]
    for t in range(1, 8):
        with torch.no_grad():
            for p in m.parameters():
                p.add_(0.5)
        beta = min(0.999, (1 + t) / (10 + t))
        expected = [beta * e + (1 - beta) * p.detach() for e, p in zip(expected, m.parameters())]  # by hand
        reference.update(m)
        if t == 4:  # a run stopped after 4 updates: a fresh EMA loads its state and goes on
            resumed = EMA(torch.nn.Linear(3, 2), decay=0.999)
            resumed.load_state_dict(reference.state_dict())
        elif t > 4:
            resumed.update(m)
    for e, r, c in zip(expected, reference.model.parameters(), resumed.model.parameters()):
        torch.testing.assert_close(r, e)
        torch.testing.assert_close(c, e)
    assert int(reference.updates) == int(resumed.updates) == 7


def test_ema_of_another_network_is_a_clear_error():
    ema = EMA(torch.nn.Linear(3, 2))
    with pytest.raises(ValueError, match="averages a network of 2 parameters; this one has 1"):
        ema.update(torch.nn.Linear(3, 2, bias=False))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA: on a CPU nothing is asynchronous")
def test_ema_update_does_not_wait_for_the_gpu():
    """A read of a GPU tensor in the update would stall the host every training step (chapter 13's bench)."""
    m = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.BatchNorm1d(8)).cuda()
    ema = EMA(m)
    ema.update(m)  # the first update of a fresh EMA knows its count; a loaded one reads it once
    torch.cuda.set_sync_debug_mode("error")
    try:
        for _ in range(3):
            ema.update(m)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert int(ema.updates) == 4


def test_diffaugment_is_differentiable_and_shape_preserving():
    x = torch.randn(4, 3, 16, 16, dtype=torch.float64, requires_grad=True)
    g = torch.Generator().manual_seed(0)
    y = diff_augment(x, "color,translation,cutout", generator=g)
    assert y.shape == x.shape
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    # cutout zeroes a half-side square: a quarter of the pixels (fewer at the borders)
    c = rand_cutout(torch.ones(64, 1, 16, 16), generator=g)
    zero = (c == 0).float().mean().item()
    assert 0.1 < zero <= 0.25
    # translation moves content: the sum of a shifted all-ones image drops by the zero-filled border
    t = rand_translation(torch.ones(64, 1, 16, 16), generator=g)
    assert (t.sum((1, 2, 3)) < 256).any() and t.max() == 1
    with pytest.raises(ValueError, match="unknown DiffAugment"):
        diff_augment(x, "rotate")


def test_bad_train_config_raises():
    with pytest.raises(ValueError, match="d_loss"):
        GANTrainConfig(d_loss="wasserstein")
    with pytest.raises(ValueError, match="ema_decay"):
        GANTrainConfig(ema_decay=1.0)
    with pytest.raises(ValueError, match="DiffAugment"):
        GANTrainConfig(diffaugment="flip")
    with pytest.raises(ValueError, match="r1_gamma"):
        GANTrainConfig(r1_gamma=-0.1)
    with pytest.raises(ValueError, match="lr_decay"):
        GANTrainConfig(lr_decay=2.0)


def test_linear_decay_schedule():
    from genlearn.train import linear_decay

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    schedule = linear_decay(opt, steps=10, fraction=0.5)
    lrs = []
    for _ in range(10):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        schedule.step()
    assert lrs == pytest.approx([1, 1, 1, 1, 1, 1.0, 0.8, 0.6, 0.4, 0.2])
    assert opt.param_groups[0]["lr"] == 0.0
    with pytest.raises(ValueError, match="fraction"):
        linear_decay(opt, steps=10, fraction=1.5)


def test_r1_and_lr_decay_run_and_resume_bit_identically(tmp_path, ctrl_c_at):
    cfg = GANTrainConfig(batch_size=8, r1_gamma=1.0, r1_every=2, lr_decay=0.5, diffaugment="translation")

    def run(seed=0, checkpoint=None, callbacks=()):
        torch.manual_seed(seed)
        G, D = DCGANGenerator(DCGANConfig.tiny(16, 1)), DCGANDiscriminator(DCGANConfig.tiny(16, 1))
        x = torch.rand(16, 1, 16, 16, generator=torch.Generator().manual_seed(1)) * 2 - 1
        _, history = train_gan(G, D, x, config=cfg, steps=6, seed=0, checkpoint=checkpoint, checkpoint_every=1000,
                               callbacks=callbacks, progress=False)  # fmt: skip
        return history, G

    full, G_full = run()
    r1 = full["r1"]
    assert all(v > 0 for v in r1[0::2]) and all(np.isnan(v) for v in r1[1::2])  # lazy: every 2nd step
    ckpt = tmp_path / "run.pt"
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C after 3 of 6 steps: checkpointed
        run(checkpoint=ckpt, callbacks=[ctrl_c_at(3)])
    resumed, G_resumed = run(seed=99, checkpoint=ckpt)  # a new process; the schedule resumes too
    np.testing.assert_equal(resumed.logs, full.logs)  # bit-identical (NaN where R1 was skipped)
    assert all(torch.equal(a, b) for a, b in zip(G_full.parameters(), G_resumed.parameters()))
