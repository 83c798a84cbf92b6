"""Chapter 13's model, step and trainer: DDPM's config round trip, its samplers through ``sample``, Algorithm 1 against a
hand computation, overfitting, resume bit for bit, the command line, and a learned score against the analytic one."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from genlearn.diffusion import NoiseSchedule, q_sample
from genlearn.models.ddpm import DDPM, DDPMConfig
from genlearn.models.diffusion_unet import DiffusionUNetConfig
from genlearn.train import FitOptions, load_checkpoint
from genlearn.train.ddpm import DDPMTrainConfig, ddpm_step, train_ddpm

ROOT = Path(__file__).resolve().parents[1]


def tiny_model(seed: int = 0, **changes) -> DDPM:
    torch.manual_seed(seed)
    return DDPM(DDPMConfig(**{"unet": DiffusionUNetConfig.tiny(), "timesteps": 50, **changes}))


def perturbed(model: DDPM, seed: int = 1) -> DDPM:
    """The model with every weight moved a little: the fresh U-Net's zero-initialized output layer predicts 0."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=g))
    return model


def digits8(n: int = 16) -> torch.Tensor:
    from genlearn.data import get_dataset

    x, _ = get_dataset("digits", split="train")  # (N, 1, 8, 8) in [-1, 1]
    return x[:n]


def test_config_round_trips_through_json_and_refuses_nonsense():
    config = DDPMConfig.digits(width=32, schedule="cosine", parameterization="v")
    assert DDPMConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(ValueError, match="schedule must be 'linear' or 'cosine'"):
        DDPMConfig(schedule="quadratic")
    with pytest.raises(ValueError, match="parameterization must be one of"):
        DDPMConfig(parameterization="score")
    with pytest.raises(ValueError, match="timesteps must be >= 2"):
        DDPMConfig(timesteps=1)


@pytest.mark.parametrize("size, channels", [(16, 1), (32, 3), (64, 3)])
def test_the_recipe_predicts_v_on_the_cosine_schedule_in_every_profile(size, channels):
    """Profiles change sizes only: the parameterization and schedule chapter 13 chose are the same in smoke, cpu and gpu."""
    from genlearn.recipes.ddpm import PARAMETERIZATION, SCHEDULE, ddpm_config

    configs = {p: ddpm_config(size, channels, profile=p) for p in ("smoke", "cpu", "gpu")}
    assert (PARAMETERIZATION, SCHEDULE) == ("v", "cosine")
    assert {(c.parameterization, c.schedule) for c in configs.values()} == {("v", "cosine")}
    assert all(c.unet.image_size == size and c.unet.in_channels == channels for c in configs.values())
    assert configs["cpu"] == DDPMConfig.digits(width=32, schedule="cosine", parameterization="v") or size != 16


@pytest.mark.parametrize("sampler, steps", [("ddim", 5), ("ddpm", None), ("heun", 4)])
def test_every_sampler_gives_images_in_range_and_a_seed_repeats_them(sampler, steps):
    model = perturbed(tiny_model())
    draw = lambda seed: model.sample(3, generator=torch.Generator().manual_seed(seed), sampler=sampler, steps=steps)  # noqa: E731
    a, b, c = draw(0), draw(0), draw(1)
    assert a.shape == (3, 1, 8, 8) and a.min() >= -1 and a.max() <= 1
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_sample_refuses_what_its_sampler_cannot_do():
    model = tiny_model()
    with pytest.raises(ValueError, match="sampler must be one of ddpm, ddim, heun"):
        model.sample(2, sampler="euler")
    with pytest.raises(ValueError, match="takes all T = 50 steps"):
        model.sample(2, sampler="ddpm", steps=10)
    with pytest.raises(ValueError, match="heun sampler is deterministic"):
        model.sample(2, sampler="heun", eta=0.5)
    with pytest.raises(ValueError, match="one class per sample"):
        model.sample(2, labels=torch.tensor([0]))


def test_the_step_is_algorithm_1_computed_by_hand():
    """The step's loss equals || eps - eps_theta(sqrt(ab) x0 + sqrt(1 - ab) eps, t) ||^2 with the same t and eps."""
    model = perturbed(tiny_model())
    x0 = digits8(8)
    opt = torch.optim.SGD(model.parameters(), lr=0.0)  # lr 0: the weights stay, so the hand computation sees the same net
    torch.manual_seed(3)
    logged = ddpm_step(model, opt, max_grad_norm=None)(x0)["loss"]
    torch.manual_seed(3)
    t = torch.randint(0, 50, (8,))
    eps = torch.randn_like(x0)
    ab = torch.cumprod(1 - torch.linspace(1e-4 * 20, 0.02 * 20, 50, dtype=torch.float64), 0)[t].float().view(-1, 1, 1, 1)
    with torch.no_grad():
        expected = (model(ab.sqrt() * x0 + (1 - ab).sqrt() * eps, t.float()) - eps).pow(2).mean().item()
    assert logged == pytest.approx(expected, rel=1e-5)


def test_the_step_clips_the_gradient_and_reports_its_norm():
    model = perturbed(tiny_model())
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    log = ddpm_step(model, opt, max_grad_norm=1e-3)(digits8(8))
    total = torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None]).norm().item()
    assert log["grad_norm"] > 1e-3 and total == pytest.approx(1e-3, rel=1e-3)


def test_a_tiny_model_overfits_one_batch():
    model = tiny_model()
    x0 = digits8(4)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    step = ddpm_step(model, opt, max_grad_norm=1.0)
    torch.manual_seed(0)
    losses = [step(x0)["loss"] for _ in range(200)]
    assert np.mean(losses[-30:]) < 0.5 * np.mean(losses[:10])


def test_train_resumes_bit_for_bit_and_load_returns_the_ema(tmp_path):
    import genlearn

    x = digits8(32)
    config = DDPMTrainConfig(batch_size=8, lr=1e-3, warmup=3, ema_decay=0.9)

    def run(steps, folder):
        return train_ddpm(tiny_model(), x, config=config, steps=steps, seed=1, device="cpu",
                          fit=FitOptions(checkpoint=folder / "checkpoint.pt", progress=False))  # fmt: skip

    straight = run(6, tmp_path / "a").model
    run(3, tmp_path / "b")
    resumed = run(6, tmp_path / "b").model
    for (name, p), q in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(p, q), name
    payload = load_checkpoint(tmp_path / "b" / "checkpoint.pt")
    assert payload["step"] == 6 and {"ddpm", "ddpm_ema"} <= set(payload["modules"])
    # every step moved the EMA, the warmup and the counter (a trainer that forgets Setup.end_step trains at lr / warmup
    # forever and samples from its initialization)
    assert int(payload["modules"]["steps"]["count"]) == 6 and int(payload["modules"]["ddpm_ema"]["updates"]) == 6
    assert payload["optimizers"]["ddpm_lr"]["last_epoch"] == 6
    initial = tiny_model().state_dict()
    assert any(not torch.equal(initial[k], v) for k, v in straight.state_dict().items())
    loaded = genlearn.load(tmp_path / "b")
    assert isinstance(loaded, DDPM) and all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), resumed.state_dict().values()))


def test_train_refuses_images_of_the_wrong_size():
    with pytest.raises(ValueError, match=r"x must be \(N, 1, 8, 8\)"):
        train_ddpm(tiny_model(), torch.zeros(4, 1, 16, 16), steps=1, device="cpu")


def test_the_learned_score_of_a_2d_mixture_points_where_the_analytic_one_does():
    """A small MLP trained with the chapter's own step on chapter 1's ring of Gaussians: its score -eps/sqrt(1 - ab)
    agrees in direction with the mixture's exact noisy score (mean cosine > 0.9) at two noise levels."""
    from genlearn.data.toy import mixture_modes, toy_mixture
    from genlearn.diffusion.ideal import mixture_score
    from genlearn.models.toy_denoiser import ToyDenoiser

    torch.manual_seed(0)
    x, _ = toy_mixture("ring", 4096, seed=0)
    means, std = mixture_modes("ring")
    schedule = NoiseSchedule.linear(100)
    net = ToyDenoiser()
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    step = ddpm_step(net, opt, max_grad_norm=1.0, schedule=schedule, parameterization="eps")
    g = torch.Generator().manual_seed(0)
    for _ in range(1500):
        step(x[torch.randint(0, len(x), (256,), generator=g)])
    for t in (20, 60):
        ab = float(schedule.alpha_bar[t])
        points = q_sample(schedule, x[:1000], torch.full((1000,), t), torch.randn(1000, 2, generator=g))
        with torch.no_grad():
            learned = -net(points, torch.full((1000,), float(t))) / (1 - ab) ** 0.5
        exact = mixture_score(points, ab, means, std)
        cosine = torch.nn.functional.cosine_similarity(learned, exact, dim=1).mean().item()
        assert cosine > 0.9, (t, cosine)


ENV = {**os.environ, "PYTHONPATH": str(ROOT), "GENLEARN_PROFILE": "smoke", "OMP_NUM_THREADS": "1"}


def cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "genlearn", *args], env=ENV, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_the_command_line_trains_samples_and_refuses_mistakes_in_one_sentence(tmp_path):
    assert cli("train", "ddpm", "--steps", "3", "--out", "run", "--device", "cpu", cwd=tmp_path).returncode == 0
    ok = cli("sample", "run", "--n", "5", "--sampler", "ddim", "--steps", "4", "--eta", "0.5", "--out", "s.npz", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert np.load(tmp_path / "s.npz")["images"].shape == (5, 1, 16, 16)
    heun = cli("sample", "run", "--n", "2", "--sampler", "heun", "--steps", "3", "--out", "h.npz", cwd=tmp_path)
    assert heun.returncode == 0, heun.stderr[-2000:]
    assert cli("train", "vae", "--steps", "1", "--out", "vae", "--device", "cpu", cwd=tmp_path).returncode == 0
    for args, said in [(["run", "--steps", "0"], "--steps must be >= 1, got 0"),
                       (["run", "--eta", "1.5"], "--eta must be between 0"),
                       (["run", "--sampler", "heun", "--eta", "0.3"], "--eta is for the ddim sampler"),
                       (["run", "--sampler", "ddpm", "--steps", "10"], "takes all T = 100 steps"),
                       (["vae", "--sampler", "ddim"], "--sampler are for ddpm runs"),
                       (["run", "--sampler", "euler"], "invalid choice: 'euler'")]:  # fmt: skip
        result = cli("sample", *args, "--out", "x.npz", cwd=tmp_path)
        assert result.returncode == 2 and said in result.stderr and "Traceback" not in result.stderr, (args, result.stderr[-500:])


def test_the_default_sampler_steps_are_cut_only_by_a_dry_runs_step_cap(monkeypatch):
    """A dry run (GENLEARN_MAX_STEPS) of a gpu-size U-Net on a CPU must not take DDIM's 50 steps over 1,800 samples."""
    import argparse

    from genlearn.cli import diffusion_options
    from genlearn.models.ddpm import DEFAULT_STEPS

    model = tiny_model()
    args = lambda **kw: argparse.Namespace(**{"sampler": None, "steps": None, "eta": None, "run": "run", **kw})  # noqa: E731
    monkeypatch.delenv("GENLEARN_MAX_STEPS", raising=False)
    assert diffusion_options(args(), model, "ddpm")["steps"] == DEFAULT_STEPS["ddim"] > 3  # DDIM is the default sampler
    assert diffusion_options(args(sampler="heun"), model, "ddpm")["steps"] == DEFAULT_STEPS["heun"] > 3
    assert "steps" not in diffusion_options(args(sampler="ddpm"), model, "ddpm")  # all T steps, always
    monkeypatch.setenv("GENLEARN_MAX_STEPS", "3")
    assert diffusion_options(args(), model, "ddpm")["steps"] == 3
    assert diffusion_options(args(sampler="heun"), model, "ddpm")["steps"] == 3
    assert diffusion_options(args(steps=7), model, "ddpm")["steps"] == 7  # asked for: not cut


def test_the_warmup_raises_the_learning_rate_linearly_then_holds_it():
    from genlearn.train.schedules import linear_warmup

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.5)
    schedule = linear_warmup(opt, 4)
    seen = []
    for _ in range(6):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        schedule.step()
    assert seen == pytest.approx([0.125, 0.25, 0.375, 0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="warmup steps must be >= 0"):
        linear_warmup(opt, -1)
