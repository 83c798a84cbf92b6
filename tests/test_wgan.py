"""WGAN / WGAN-GP: losses, the gradient penalty against independent computations, clipping, steps, CLI."""

import pytest
import torch
from torch import nn

from genlearn.losses import critic_loss_wasserstein, g_loss_wasserstein, gradient_penalty
from genlearn.models.critic import Critic, CriticConfig
from genlearn.models.dcgan import DCGANConfig, DCGANGenerator
from genlearn.models.mlp import MLPConfig, MLPDiscriminator, MLPGenerator
from genlearn.metrics.wasserstein import refine_critic, wasserstein_estimate
from genlearn.train.wgan import WGANTrainConfig, clip_weights, critic_step, digits_config, generator_step, train_wgan


def linear_critic(w: torch.Tensor) -> nn.Module:
    f = nn.Linear(w.numel(), 1)
    with torch.no_grad():
        f.weight.copy_(w.reshape(1, -1))
    return nn.Sequential(nn.Flatten(), f)


def test_wasserstein_losses_by_hand():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([[0.5], [-0.5]])
    assert critic_loss_wasserstein(real, fake).item() == pytest.approx(0.0 - 2.0)
    assert g_loss_wasserstein(fake).item() == pytest.approx(0.0)
    assert g_loss_wasserstein(torch.tensor([2.0, 4.0])).item() == pytest.approx(-3.0)
    with pytest.raises(ValueError, match="shape"):
        critic_loss_wasserstein(torch.zeros(4, 2), torch.zeros(4))


def test_gradient_penalty_linear_critic_closed_form():
    # f(x) = w.x + b has gradient w everywhere: GP = lam * (||w|| - 1)^2, and 0 for a unit-norm w
    g = torch.Generator().manual_seed(0)
    x_real, x_fake = torch.randn(8, 1, 3, 3, generator=g), torch.randn(8, 1, 3, 3, generator=g)
    w = torch.randn(9, generator=g)
    assert gradient_penalty(linear_critic(w / w.norm()), x_real, x_fake).item() == pytest.approx(0.0, abs=1e-10)
    expected = 10.0 * (w.norm().item() - 1.0) ** 2
    assert gradient_penalty(linear_critic(w), x_real, x_fake).item() == pytest.approx(expected, rel=1e-5)
    assert gradient_penalty(linear_critic(w), x_real, x_fake, lam=2.5).item() == pytest.approx(expected / 4, rel=1e-5)


def test_gradient_penalty_matches_a_per_sample_loop_on_interpolates():
    torch.manual_seed(0)
    critic = Critic(CriticConfig.tiny()).double()
    x_real, x_fake = torch.rand(5, 1, 16, 16).double() * 2 - 1, torch.rand(5, 1, 16, 16).double() * 2 - 1
    eps = torch.rand(5)
    norms = []
    for i in range(5):  # independent: one sample at a time, plain autograd
        x_hat = (eps[i] * x_real[i : i + 1] + (1 - eps[i]) * x_fake[i : i + 1]).float().requires_grad_(True)
        (grad,) = torch.autograd.grad(critic.float()(x_hat).sum(), x_hat)
        norms.append(grad.norm())
    expected = 10.0 * ((torch.stack(norms) - 1) ** 2).mean()
    got = gradient_penalty(critic, x_real, x_fake, eps=eps)
    assert got.dtype == torch.float32
    assert got.item() == pytest.approx(expected.item(), rel=1e-4)
    # not the penalty on the real samples (eps = 1), which differs
    on_real = gradient_penalty(critic, x_real, x_real)
    assert on_real.item() != pytest.approx(got.item(), rel=1e-3)


def test_gradient_penalty_reaches_critic_weights_second_order():
    torch.manual_seed(0)
    critic = Critic(CriticConfig.tiny())
    gp = gradient_penalty(critic, torch.rand(4, 1, 16, 16), torch.rand(4, 1, 16, 16))
    gp.backward()  # the penalty alone
    # every weight gets a gradient from the penalty alone; biases move grad_x f only through the
    # (piecewise-constant) LeakyReLU pattern, so theirs is zero, and the last bias is not in the graph
    for name, p in critic.named_parameters():
        if name.endswith("weight"):
            assert p.grad is not None and p.grad.abs().sum() > 0, name
    # with an MLP critic as well (the toy networks)
    mlp = MLPDiscriminator(MLPConfig(depth=3, hidden=16))
    gradient_penalty(mlp, torch.randn(8, 2), torch.randn(8, 2)).backward()
    assert all(mlp.net[i].weight.grad.abs().sum() > 0 for i in (0, 2, 4))


def test_gradient_penalty_bad_inputs():
    critic = linear_critic(torch.ones(4))
    with pytest.raises(ValueError, match="same shape"):
        gradient_penalty(critic, torch.zeros(3, 4), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="eps"):
        gradient_penalty(critic, torch.zeros(3, 4), torch.zeros(3, 4), eps=torch.rand(2))
    with pytest.raises(ValueError, match="lam"):
        gradient_penalty(critic, torch.zeros(3, 4), torch.zeros(3, 4), lam=-1.0)


def test_critic_shapes_norms_and_no_sigmoid():
    for norm, n_norm in (("layer", 1), ("none", 0), ("batch", 1)):
        critic = Critic(CriticConfig.tiny(image_size=32, norm=norm))
        scores = critic(torch.randn(3, 1, 32, 32) * 50)
        assert scores.shape == (3,)
        n = sum(isinstance(m, (nn.GroupNorm, nn.BatchNorm2d)) for m in critic.modules())
        assert n == 2 * n_norm  # two normalized stages at 32x32 (16 -> 8 -> 4)
    assert not any(isinstance(m, nn.Sigmoid) for m in Critic(CriticConfig.tiny()).modules())
    with pytest.raises(ValueError, match="norm"):
        CriticConfig(norm="instance")
    with pytest.raises(ValueError, match="power of two"):
        CriticConfig(image_size=28)
    with pytest.raises(ValueError, match="channel"):
        Critic(CriticConfig.tiny())(torch.zeros(2, 3, 16, 16))
    # the layer-norm critic scores each sample independently of its batch
    critic = Critic(CriticConfig.tiny(norm="layer"))
    x = torch.randn(4, 1, 16, 16)
    torch.testing.assert_close(critic(x)[:1], critic(x[:1]))


def test_clipping_keeps_every_weight_in_range():
    torch.manual_seed(0)
    cfg = DCGANConfig.tiny()
    G, critic = DCGANGenerator(cfg), Critic(CriticConfig.from_dcgan(cfg))
    for p in critic.parameters():
        p.data.normal_(0, 1)
    opt = torch.optim.RMSprop(critic.parameters(), lr=5e-2)
    critic_step(G, critic, opt, torch.rand(4, 1, 16, 16) * 2 - 1, torch.randn(4, cfg.latent_dim), constraint="clip", clip=0.01)
    for p in critic.parameters():
        assert p.abs().max() <= 0.01
    assert any((p.abs() == 0.01).any() for p in critic.parameters())  # weights pile up at +-c
    with pytest.raises(ValueError, match="c must be > 0"):
        clip_weights(critic, 0.0)


@pytest.mark.parametrize("constraint", ["clip", "gp"])
def test_critic_step_leaves_generator_untouched(constraint):
    torch.manual_seed(0)
    cfg = DCGANConfig.tiny()
    G, critic = DCGANGenerator(cfg), Critic(CriticConfig.from_dcgan(cfg))
    before = [p.clone() for p in G.parameters()]
    opt = torch.optim.Adam(critic.parameters(), lr=1e-3)
    w_before = critic.head.weight.clone()
    logs = critic_step(G, critic, opt, torch.rand(4, 1, 16, 16) * 2 - 1, torch.randn(4, cfg.latent_dim), constraint=constraint)
    assert set(logs) == {"c_loss", "w_estimate", "gp"}
    assert (logs["gp"] > 0) == (constraint == "gp")
    assert all(p.grad is None for p in G.parameters())
    assert all(torch.equal(a, b) for a, b in zip(before, G.parameters()))
    assert not torch.equal(w_before, critic.head.weight)
    # and the generator step leaves the critic untouched
    c_before = [p.clone() for p in critic.parameters()]
    generator_step(G, critic, torch.optim.Adam(G.parameters(), lr=1e-3), torch.randn(4, cfg.latent_dim))
    assert all(torch.equal(a, b) for a, b in zip(c_before, critic.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(before, G.parameters()))


def test_train_wgan_toy_and_config_errors(tmp_path):
    from genlearn.train import load_checkpoint

    torch.manual_seed(0)
    cfg = MLPConfig(latent_dim=2, hidden=16, depth=2)
    x = torch.randn(64, 2) * 0.1 + 2
    _, history = train_wgan(MLPGenerator(cfg), MLPDiscriminator(cfg), x, config=WGANTrainConfig.wgan_gp(batch_size=16), steps=3, progress=False)
    assert history.steps == [1, 2, 3] and set(history.keys()) == {"c_loss", "w_estimate", "gp", "g_loss"}
    # the learning-rate schedules go into the checkpoint, so a resumed run continues the decay
    ckpt = tmp_path / "wgan.pt"
    train_wgan(MLPGenerator(cfg), MLPDiscriminator(cfg), x, config=WGANTrainConfig.wgan_gp(batch_size=16, n_critic=1, lr_decay=1.0),
               steps=4, checkpoint=ckpt, progress=False)  # fmt: skip
    schedules = load_checkpoint(ckpt)["optimizers"]
    assert schedules["G_lr"]["last_epoch"] == 4 and schedules["critic_lr"]["_last_lr"] == [0.0]
    with pytest.raises(ValueError, match="batch norm"):
        dc = DCGANConfig.tiny()
        train_wgan(DCGANGenerator(dc), Critic(CriticConfig.from_dcgan(dc, norm="batch")), torch.zeros(8, 1, 16, 16), steps=1)
    with pytest.raises(ValueError, match="constraint"):
        WGANTrainConfig(constraint="spectral")
    with pytest.raises(ValueError, match="optimizer"):
        WGANTrainConfig(optimizer="sgd")
    with pytest.raises(ValueError, match="n_critic"):
        WGANTrainConfig(n_critic=0)
    with pytest.raises(ValueError, match="lr_decay"):
        WGANTrainConfig(lr_decay=-0.5)
    assert WGANTrainConfig.wgan().optimizer == "rmsprop" and WGANTrainConfig.wgan().lr_d == 5e-5
    assert (WGANTrainConfig.wgan_gp().beta1, WGANTrainConfig.wgan_gp().beta2, WGANTrainConfig.wgan_gp().gp_lambda) == (0.0, 0.9, 10.0)


def test_lazy_gradient_penalty_schedule_and_bit_identical_resume(tmp_path, ctrl_c_at):
    import numpy as np

    # n_critic = 2, gp_every = 3: critic updates 0, 3, 6, 9 of 12 carry the penalty (weight 3 lambda)
    cfg = WGANTrainConfig.wgan_gp(n_critic=2, gp_every=3, batch_size=8, lr_decay=0.5, diffaugment="translation")

    def run(seed=0, checkpoint=None, callbacks=()):
        torch.manual_seed(seed)
        dc = DCGANConfig.tiny(16, 1)
        G, critic = DCGANGenerator(dc), Critic(CriticConfig.from_dcgan(dc))
        x = torch.rand(16, 1, 16, 16, generator=torch.Generator().manual_seed(1)) * 2 - 1
        _, history = train_wgan(G, critic, x, config=cfg, steps=6, checkpoint=checkpoint, checkpoint_every=1000,
                                callbacks=callbacks, progress=False)  # fmt: skip
        return history, G

    full, G_full = run()
    assert [v > 0 for v in full["gp"]] == [True, True, False, True, True, False]
    ckpt = tmp_path / "wgan.pt"
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C after 3 of 6 steps: checkpointed
        run(checkpoint=ckpt, callbacks=[ctrl_c_at(3)])
    resumed, G_resumed = run(seed=99, checkpoint=ckpt)  # the lazy schedule resumes at update 6
    np.testing.assert_equal(resumed.logs, full.logs)
    assert all(torch.equal(a, b) for a, b in zip(G_full.parameters(), G_resumed.parameters()))
    with pytest.raises(ValueError, match="gp_every"):
        WGANTrainConfig(gp_every=0)
    with pytest.raises(ValueError, match="'wgan' and 'wgan-gp'"):
        digits_config("dcgan")


def test_critic_step_without_penalty_weight_skips_it(monkeypatch):
    import genlearn.train.wgan as wgan

    def no_double_backward(*args, **kwargs):
        raise AssertionError("gradient_penalty was computed on a step with lambda = 0")

    torch.manual_seed(0)
    dc = DCGANConfig.tiny()
    G, critic = DCGANGenerator(dc), Critic(CriticConfig.from_dcgan(dc))
    opt = torch.optim.Adam(critic.parameters(), lr=1e-3)
    x, z = torch.rand(4, 1, 16, 16) * 2 - 1, torch.randn(4, dc.latent_dim)
    monkeypatch.setattr(wgan, "gradient_penalty", no_double_backward)  # a lazy step must not pay for the penalty
    logs = critic_step(G, critic, opt, x, z, constraint="gp", gp_lambda=0.0)
    assert logs["gp"] == 0.0 and logs["c_loss"] == -logs["w_estimate"]
    with pytest.raises(AssertionError, match="lambda = 0"):  # and the patch does intercept a penalty step
        critic_step(G, critic, opt, x, z, constraint="gp", gp_lambda=1.0)


def test_refined_critic_reads_the_closed_form_distance_and_leaves_the_original():
    # P_r = N(0, I), P_g = N((3, 0), I) in 2-D: a translation, so W_1 = 3 exactly (f(x) = -x_1 attains it).
    torch.manual_seed(0)
    shift = torch.tensor([3.0, 0.0])
    x_real = torch.randn(4096, 2)
    sample_fake = lambda n, gen: torch.randn(n, 2, generator=gen) + shift  # noqa: E731
    critic = MLPDiscriminator(MLPConfig(data_shape=(2,), hidden=64, depth=2))
    before = [p.detach().clone() for p in critic.parameters()]
    x_eval_real, x_eval_fake = torch.randn(8192, 2), torch.randn(8192, 2) + shift
    untrained = wasserstein_estimate(critic, x_eval_real, x_eval_fake)
    refined = refine_critic(critic, x_real, sample_fake, steps=400, lr=2e-3, seed=1)
    w = wasserstein_estimate(refined, x_eval_real, x_eval_fake)
    # A soft penalty lets ||grad f|| exceed 1 a little: max_g 3 g - 10 (g - 1)^2 is at g = 1.15, so the
    # reading may overshoot W_1 = 3 by up to 15%; an untrained critic reads about 0.
    assert abs(untrained) < 1.0 and 2.7 < w < 3.45, (untrained, w)
    for p, b in zip(critic.parameters(), before):
        assert torch.equal(p, b)  # the training critic is not touched
    again = refine_critic(critic, x_real, sample_fake, steps=400, lr=2e-3, seed=1)
    assert wasserstein_estimate(again, x_eval_real, x_eval_fake) == w  # a reading is repeatable
    with pytest.raises(ValueError, match="batch norm"):
        refine_critic(Critic(CriticConfig.tiny(norm="batch")), torch.rand(4, 1, 16, 16), sample_fake)


def test_chapter_5_imports_the_estimators_from_train_wgan_without_a_warning():
    import subprocess
    import sys
    from pathlib import Path

    import genlearn.train.wgan as wgan

    assert wgan.refine_critic is refine_critic and wgan.wasserstein_estimate is wasserstein_estimate
    assert refine_critic.__module__ == wasserstein_estimate.__module__ == "genlearn.metrics.wasserstein"
    code = (  # a fresh interpreter, so the import is a first one: any warning that names genlearn is printed
        "import warnings\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    from genlearn.train.wgan import refine_critic, wasserstein_estimate\n"
        "print([str(w.message) for w in caught if 'genlearn' in w.filename + str(w.message)])\n"
    )
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stdout + result.stderr[-2000:]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="mixed precision needs a CUDA GPU")
def test_gradient_penalty_under_autocast_matches_float32():
    torch.manual_seed(0)
    critic = Critic(CriticConfig.tiny()).cuda()
    x_real, x_fake, eps = torch.rand(8, 1, 16, 16).cuda(), torch.rand(8, 1, 16, 16).cuda(), torch.rand(8).cuda()
    ref = gradient_penalty(critic, x_real, x_fake, eps=eps)
    ref_grads = torch.autograd.grad(ref, list(critic.parameters()))
    with torch.autocast("cuda", dtype=torch.float16):
        amp = gradient_penalty(critic, x_real.half(), x_fake.half(), eps=eps)
    amp_grads = torch.autograd.grad(amp, list(critic.parameters()))
    assert amp.dtype == torch.float32
    torch.testing.assert_close(amp, ref, rtol=1e-3, atol=1e-3)
    for a, b in zip(amp_grads, ref_grads):
        torch.testing.assert_close(a, b, rtol=1e-2, atol=1e-3)




def test_the_digits_recipes_are_classmethods_and_keep_0_2s_settings():
    """``WGANTrainConfig.digits_wgan()`` / ``.digits_wgan_gp()`` are chapters 4 and 5's recipes; ``digits_config(name)``
    (chapter 4 imports it) returns the same objects, field for field the settings of genlearn 0.2."""
    shared = {"diffaugment": "translation", "ema_decay": 0.999, "beta1": 0.0, "beta2": 0.9, "clip": 0.01}
    wgan = {"batch_size": 64, "optimizer": "rmsprop", "lr_g": 5e-05, "lr_d": 5e-05, "lr_decay": 0.0, "constraint": "clip",
            "n_critic": 5, "gp_lambda": 10.0, "gp_every": 1, **shared}  # fmt: skip
    wgan_gp = {"batch_size": 128, "optimizer": "adam", "lr_g": 5e-4, "lr_d": 5e-4, "lr_decay": 0.75, "constraint": "gp",
               "n_critic": 1, "gp_lambda": 1.0, "gp_every": 4, **shared}  # fmt: skip
    assert WGANTrainConfig.digits_wgan().to_dict() == wgan
    assert WGANTrainConfig.digits_wgan_gp().to_dict() == wgan_gp
    assert digits_config("wgan") == WGANTrainConfig.digits_wgan() and digits_config("wgan-gp") == WGANTrainConfig.digits_wgan_gp()
    assert type(digits_config("wgan")) is WGANTrainConfig
