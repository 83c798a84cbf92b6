"""The samplers of genlearn.diffusion.samplers against Gaussian data, whose ideal denoiser and probability-flow ODE
are known in closed form, plus hand computations of the step sequences and noise levels."""

from __future__ import annotations

import math

import pytest
import torch

from genlearn.diffusion import samplers
from genlearn.diffusion.samplers import (
    SAMPLERS,
    SIGMA_MAX,
    ddim_sample,
    ddpm_sample,
    heun_sample,
    karras_sigmas,
    network_evaluations,
    step_indices,
    step_of_sigma,
)
from genlearn.diffusion.schedules import NoiseSchedule

# Gaussian data x0 ~ N(M, diag(S^2)), one mean and one scale per coordinate
M = torch.tensor([0.3, -0.5], dtype=torch.float64)
S = torch.tensor([0.5, 0.25], dtype=torch.float64)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """These tensors are tiny: on a shared CPU, waking a second OpenMP thread per op costs far more than it saves."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def sched1000() -> NoiseSchedule:
    return NoiseSchedule.linear(1000)


@pytest.fixture(scope="module")
def sched200() -> NoiseSchedule:
    return NoiseSchedule.linear(200)


def gaussian_denoiser(schedule: NoiseSchedule, m: torch.Tensor = M, s: torch.Tensor = S):
    """The exact posterior mean of Gaussian data: with x_t = sqrt(ab) x0 + sqrt(1 - ab) eps,
    E[x0 | x_t] = m + sqrt(ab) s^2 / (ab s^2 + 1 - ab) (x_t - sqrt(ab) m), and eps_hat inverts Eq. 4."""

    def denoise(x: torch.Tensor, t: torch.Tensor):
        assert t.shape == (x.shape[0],) and t.dtype == torch.float64
        ab = schedule.alpha_bar_at(t).to(x).view(-1, *([1] * (x.dim() - 1)))  # (N, 1)
        mm, ss = m.to(x), s.to(x)
        x0 = mm + ab.sqrt() * ss**2 / (ab * ss**2 + 1 - ab) * (x - ab.sqrt() * mm)
        return x0, (x - ab.sqrt() * x0) / (1 - ab).sqrt()

    return denoise


def assert_moments(x: torch.Tensor, mean_tol: float, std_rtol: float) -> None:
    x = x.double()
    assert x.shape == (4000, 2)
    assert torch.allclose(x.mean(0), M, atol=mean_tol), x.mean(0)
    assert torch.allclose(x.std(0), S, rtol=std_rtol, atol=0), x.std(0)


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- docstrings ----------------------------------------------------------------------------------------------------


def test_public_names_and_docstrings():
    assert SAMPLERS == ("ddpm", "ddim", "heun")
    for name in samplers.__all__:
        obj = getattr(samplers, name)
        if callable(obj):
            assert obj.__doc__.strip().endswith("Chapter 13."), name


# --- step sequences and noise levels --------------------------------------------------------------------------------


def test_step_indices():
    tau = step_indices(1000, 50)
    assert tau.dtype == torch.long and tau.shape == (50,)
    assert tau[0] == 0 and tau[-1] == 999
    assert bool((tau[1:] > tau[:-1]).all())
    assert tau[1] == round(999 / 49)  # 20.39 -> 20
    assert step_indices(1000, 6).tolist() == [0, 200, 400, 599, 799, 999]  # round(999 k / 5), not truncated
    assert step_indices(1000, 1).tolist() == [999]
    assert step_indices(7, 7).tolist() == list(range(7))
    assert step_indices(7, 2).tolist() == [0, 6]


@pytest.mark.parametrize("steps", [0, 11, -3])
def test_step_indices_rejects_bad_steps(steps):
    with pytest.raises(ValueError, match=r"\[1, 10\]"):
        step_indices(10, steps)


def test_karras_sigmas():
    lo, hi, rho = 0.002, 80.0, 7.0
    sig = karras_sigmas(10, lo, hi, rho)
    assert sig.dtype == torch.float64 and sig.shape == (11,)
    assert sig[0] == hi and sig[9] == lo and sig[10] == 0
    assert bool((sig[1:] < sig[:-1]).all())
    by_hand = (hi ** (1 / rho) + 4 / 9 * (lo ** (1 / rho) - hi ** (1 / rho))) ** rho  # Eq. 5 at i = 4, N = 10
    assert math.isclose(sig[4].item(), by_hand, rel_tol=1e-12)
    assert karras_sigmas(1, lo, hi).tolist() == [hi, 0.0]
    with pytest.raises(ValueError, match="sigma_min <= sigma_max"):
        karras_sigmas(10, hi, lo)


def test_step_of_sigma_inverts_alpha_bar_at(sched1000):
    t = torch.rand(64, generator=gen(0), dtype=torch.float64) * 999  # fractional indices in [0, 999]
    ab = sched1000.alpha_bar_at(t)
    sigma = ((1 - ab) / ab).sqrt()
    assert torch.allclose(step_of_sigma(sched1000, sigma), t, rtol=0, atol=1e-9)
    # the table's own sigmas give back the integer indices, ends included
    assert torch.allclose(step_of_sigma(sched1000, sched1000.sigmas), torch.arange(1000, dtype=torch.float64),
                          rtol=0, atol=1e-12)
    assert step_of_sigma(sched1000, sched1000.sigmas[500].item()).item() == pytest.approx(500, abs=1e-12)


@pytest.mark.parametrize("factor", [0.5, 2.0])
def test_step_of_sigma_rejects_out_of_range(sched1000, factor):
    end = sched1000.sigmas[0] if factor < 1 else sched1000.sigmas[-1]
    with pytest.raises(ValueError, match="schedule's range"):
        step_of_sigma(sched1000, end * factor)


# --- samplers reproduce Gaussian data -------------------------------------------------------------------------------


def test_ddim_deterministic_reproduces_gaussian(sched1000):
    x = ddim_sample(gaussian_denoiser(sched1000), sched1000, (4000, 2), steps=200, clip=False, generator=gen(1))
    assert_moments(x, mean_tol=0.03, std_rtol=0.05)


def test_heun_reproduces_gaussian(sched1000):
    x = heun_sample(gaussian_denoiser(sched1000), sched1000, (4000, 2), steps=40, generator=gen(1))
    assert_moments(x, mean_tol=0.03, std_rtol=0.05)


@pytest.mark.parametrize("variance", ["beta", "posterior"])
def test_ddpm_reproduces_gaussian(sched200, variance):
    # T = 200: both variance choices are a few percent off for the narrow coordinate (the true one lies between)
    x = ddpm_sample(gaussian_denoiser(sched200), sched200, (4000, 2), variance=variance, clip=False, generator=gen(1))
    assert_moments(x, mean_tol=0.03, std_rtol=0.08)


def test_ddpm_matches_algorithm_2_literally():
    """Ho et al. Algorithm 2 as printed, eps form, with the same noise draws: x_{t-1} = 1/sqrt(alpha_t)
    (x_t - beta_t / sqrt(1 - ab_t) eps_hat) + sqrt(beta_t) z."""
    sched = NoiseSchedule.linear(50)
    denoise = gaussian_denoiser(sched)
    got = ddpm_sample(denoise, sched, (16, 2), variance="beta", clip=False, generator=gen(4))
    g = gen(4)
    x = torch.randn(16, 2, generator=g)
    for i in reversed(range(50)):
        _, eps = denoise(x, torch.full((16,), float(i), dtype=torch.float64))
        beta, alpha, ab = (sched.betas[i].item(), sched.alphas[i].item(), sched.alpha_bar[i].item())
        z = torch.randn(16, 2, generator=g) if i > 0 else torch.zeros(16, 2)
        x = (x - beta / math.sqrt(1 - ab) * eps) / math.sqrt(alpha) + math.sqrt(beta) * z
    assert torch.allclose(got, x, atol=1e-5)


@pytest.mark.parametrize("clip", [False, True])
def test_ddim_two_steps_by_hand(sched1000, clip):
    """tau = [0, 999]: x' = sqrt(ab_0) x0_hat(x_T, 999) + sqrt(1 - ab_0) eps_hat(x_T, 999), then x0_hat(x', 0); with
    ``clip`` (data centred outside [-1, 1]) x0_hat is clipped and eps_hat recomputed from it, eps = (x - sqrt(ab) x0) /
    sqrt(1 - ab)."""
    m = torch.tensor([1.2, -1.1], dtype=torch.float64) if clip else M
    denoise = gaussian_denoiser(sched1000, m, S)
    x_T = torch.randn(8, 2, generator=gen(5), dtype=torch.float64)
    got = ddim_sample(denoise, sched1000, (8, 2), steps=2, clip=clip, x_T=x_T)
    ab0, ab999 = sched1000.alpha_bar[0].item(), sched1000.alpha_bar[999].item()
    x0, eps = denoise(x_T, torch.full((8,), 999.0, dtype=torch.float64))
    if clip:
        x0 = x0.clamp(-1, 1)
        eps = (x_T - math.sqrt(ab999) * x0) / math.sqrt(1 - ab999)
    x_mid = math.sqrt(ab0) * x0 + math.sqrt(1 - ab0) * eps
    want, _ = denoise(x_mid, torch.zeros(8, dtype=torch.float64))
    if clip:
        want = want.clamp(-1, 1)
        assert bool((want.abs() == 1).any())  # the clip is active
    assert torch.allclose(got, want, rtol=0, atol=1e-12)


def test_ddim_eta_one_every_step_is_ddpm_posterior(sched200):
    """Eq. 16 with eta = 1 and tau = every step gives sigma^2 = beta_tilde, and Eq. 12's mean is then Eq. 7's."""
    denoise = gaussian_denoiser(sched200)
    a = ddim_sample(denoise, sched200, (64, 2), steps=200, eta=1.0, clip=False, generator=gen(3))
    b = ddpm_sample(denoise, sched200, (64, 2), variance="posterior", clip=False, generator=gen(3))
    assert torch.allclose(a, b, rtol=0, atol=1e-5)
    c = ddpm_sample(denoise, sched200, (64, 2), variance="beta", clip=False, generator=gen(3))
    assert not torch.allclose(a, c, rtol=0, atol=1e-3)  # the other variance really differs


def test_clip_keeps_images_in_range(sched200):
    m, s = torch.tensor([1.5, -1.5], dtype=torch.float64), torch.tensor([0.3, 0.3], dtype=torch.float64)
    denoise = gaussian_denoiser(sched200, m, s)
    for sample in (lambda c: ddpm_sample(denoise, sched200, (32, 2), clip=c, generator=gen(6)),
                   lambda c: ddim_sample(denoise, sched200, (32, 2), steps=20, clip=c, generator=gen(6))):
        assert sample(True).abs().max() <= 1.0
        assert sample(False).abs().max() > 1.2


# --- Heun is second order -------------------------------------------------------------------------------------------


def test_heun_second_order_euler_first_order(sched1000):
    """For Gaussian data D(x; sigma) = m + s^2 / (s^2 + sigma^2) (x - m) in Karras' x = x_t / sqrt(ab), so the ODE
    dx/dsigma = (x - D) / sigma = (x - m) sigma / (s^2 + sigma^2) has the solution
    x(sigma) - m = (x(sigma_max) - m) sqrt(s^2 + sigma^2) / sqrt(s^2 + sigma_max^2). Both samplers end with the same
    Euler step from sigma_min to 0, x = D(x(sigma_min); sigma_min), whose error no step count removes, so the
    reference is that step applied to the exact x(sigma_min)."""
    denoise = gaussian_denoiser(sched1000)
    smin, smax = sched1000.sigmas[0].item(), min(sched1000.sigmas[-1].item(), SIGMA_MAX)
    x_T = torch.randn(16, 2, generator=gen(7), dtype=torch.float64)
    x_start = x_T * smax
    x_min = M + (x_start - M) * (S**2 + smin**2).sqrt() / (S**2 + smax**2).sqrt()  # exact x(sigma_min)
    ref = M + S**2 / (S**2 + smin**2) * (x_min - M)  # then the final Euler step

    def euler(steps: int) -> torch.Tensor:
        sig = karras_sigmas(steps, smin, smax)
        x = x_start.clone()
        for k in range(steps):
            s, s_next = sig[k].item(), sig[k + 1].item()
            ab = 1 / (1 + s**2)
            t = step_of_sigma(sched1000, s).expand(16).clone()
            d = (x - denoise(math.sqrt(ab) * x, t)[0]) / s
            x = x + (s_next - s) * d
        return x

    heun_err = [(heun_sample(denoise, sched1000, (16, 2), steps=n, x_T=x_T) - ref).abs().max().item() for n in (20, 40)]
    euler_err = [(euler(n) - ref).abs().max().item() for n in (20, 40)]
    assert heun_err[0] / heun_err[1] > 3.0, heun_err
    assert 1.5 < euler_err[0] / euler_err[1] < 2.6, euler_err
    assert heun_err[1] < euler_err[1] / 4


@pytest.mark.parametrize("schedule, sigma_max, top", [
    (NoiseSchedule.cosine(1000), SIGMA_MAX, SIGMA_MAX),  # the cosine schedule's own ~20,000 is capped
    (NoiseSchedule.cosine(1000), None, None),  # None: the schedule's own
    (NoiseSchedule.linear(200), 1e6, None),  # a cap above the schedule's top changes nothing
])
def test_heun_starts_at_the_capped_sigma_max(schedule, sigma_max, top):
    top = schedule.sigmas[-1].item() if top is None else top
    seen = []

    def denoise(x, t):
        seen.append((x.std().item(), t[0].item()))
        return torch.zeros_like(x), x

    x_T = torch.randn(4000, 2, generator=gen(3), dtype=torch.float64)
    heun_sample(denoise, schedule, (4000, 2), steps=3, sigma_max=sigma_max, x_T=x_T)
    std, t = seen[0]
    ab = 1 / (1 + top**2)
    assert std == pytest.approx(math.sqrt(ab) * top * x_T.std().item(), rel=1e-9)  # x_t = sqrt(ab) sigma_max x_T
    assert t == pytest.approx(step_of_sigma(schedule, top).item(), abs=1e-9)


# --- randomness ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sample", [
    lambda d, s, g: ddpm_sample(d, s, (8, 2), generator=g),
    lambda d, s, g: ddim_sample(d, s, (8, 2), steps=10, eta=0.5, generator=g),
    lambda d, s, g: ddim_sample(d, s, (8, 2), steps=10, generator=g),
    lambda d, s, g: heun_sample(d, s, (8, 2), steps=5, generator=g),
], ids=["ddpm", "ddim-eta0.5", "ddim-eta0", "heun"])
def test_same_seed_same_samples(sched200, sample):
    denoise = gaussian_denoiser(sched200)
    a, b, c = sample(denoise, sched200, gen(9)), sample(denoise, sched200, gen(9)), sample(denoise, sched200, gen(10))
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)


@pytest.mark.parametrize("sample", [
    lambda d, s, x, g: ddim_sample(d, s, (8, 2), steps=10, eta=0.0, x_T=x, generator=g),
    lambda d, s, x, g: heun_sample(d, s, (8, 2), steps=5, x_T=x, generator=g),
], ids=["ddim", "heun"])
def test_deterministic_maps_draw_no_noise(sched200, sample):
    denoise = gaussian_denoiser(sched200)
    x_T = torch.randn(8, 2, generator=gen(11))
    g1, g2 = gen(1), gen(2)
    state = g1.get_state()
    assert torch.equal(sample(denoise, sched200, x_T, g1), sample(denoise, sched200, x_T, g2))
    assert torch.equal(g1.get_state(), state)


def test_ddpm_draws_noise_even_with_x_T(sched200):
    denoise = gaussian_denoiser(sched200)
    x_T = torch.randn(8, 2, generator=gen(11))
    assert not torch.allclose(ddpm_sample(denoise, sched200, (8, 2), x_T=x_T, generator=gen(1)),
                              ddpm_sample(denoise, sched200, (8, 2), x_T=x_T, generator=gen(2)))


# --- network evaluations --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sampler, steps", [("ddpm", None), ("ddim", 7), ("ddim", 1), ("heun", 6), ("heun", 1)])
def test_network_evaluations_counts_calls(sched200, sampler, steps):
    calls = []
    inner = gaussian_denoiser(sched200)

    def counting(x, t):
        calls.append(t)
        return inner(x, t)

    fn = {"ddpm": ddpm_sample, "ddim": ddim_sample, "heun": heun_sample}[sampler]
    kwargs = {} if steps is None else {"steps": steps}
    fn(counting, sched200, (4, 2), generator=gen(0), **kwargs)
    assert len(calls) == network_evaluations(sampler, steps, sched200.T)
    by_hand = {"ddpm": 200, "ddim": steps, "heun": 2 * (steps or 0) - 1}[sampler]
    assert network_evaluations(sampler, steps, 200) == by_hand


def test_network_evaluations_defaults_and_unknown():
    assert network_evaluations("ddim", None, 1000) == 50
    assert network_evaluations("heun", None, 1000) == 35
    with pytest.raises(ValueError, match="'ddpm', 'ddim', 'heun'"):
        network_evaluations("euler", 10, 1000)


# --- bad inputs ------------------------------------------------------------------------------------------------------


def test_bad_inputs_raise_clear_errors(sched200):
    denoise = gaussian_denoiser(sched200)
    with pytest.raises(ValueError, match=r"eta must lie in \[0, 1\]"):
        ddim_sample(denoise, sched200, (2, 2), eta=1.5)
    with pytest.raises(ValueError, match=r"\[1, 200\]"):
        ddim_sample(denoise, sched200, (2, 2), steps=0)
    with pytest.raises(ValueError, match=r"\[1, 200\]"):
        ddim_sample(denoise, sched200, (2, 2), steps=201)
    with pytest.raises(ValueError, match="'beta', 'posterior'"):
        ddpm_sample(denoise, sched200, (2, 2), variance="learned")
    with pytest.raises(ValueError, match=r">= 1"):
        heun_sample(denoise, sched200, (2, 2), steps=0)
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        heun_sample(denoise, sched200, (2, 2), x_T=torch.zeros(3, 2))


def test_progress_bars_run(monkeypatch):
    bars = []

    def recording(total, initial=0, desc="", enabled=True):
        bar = real(total, initial=initial, desc=desc, enabled=enabled)
        bars.append((bar, bar.disable))  # close() disables a bar, so record it now
        return bar

    real = samplers.progress_bar
    monkeypatch.setattr(samplers, "progress_bar", recording)
    small = NoiseSchedule.cosine(10)
    denoise = gaussian_denoiser(small)
    for x in (ddpm_sample(denoise, small, (2, 2), progress=True, generator=gen(0)),
              ddim_sample(denoise, small, (2, 2), steps=5, progress=True, generator=gen(0)),
              heun_sample(denoise, small, (2, 2), steps=3, progress=True, generator=gen(0))):
        assert x.shape == (2, 2) and bool(torch.isfinite(x).all())
    assert [(b.total, b.n, off) for b, off in bars] == [(10, 10, False), (5, 5, False), (3, 3, False)]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_same_samples_on_cuda_and_cpu(sched200):
    denoise = gaussian_denoiser(sched200)
    cpu = ddpm_sample(denoise, sched200, (8, 2), generator=gen(12))
    cuda = ddpm_sample(denoise, sched200, (8, 2), generator=gen(12), device="cuda")
    assert cuda.device.type == "cuda"
    assert torch.allclose(cuda.cpu(), cpu, atol=1e-4)
