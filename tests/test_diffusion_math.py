"""Diffusion's math against independent computations: the losses, the variational bound, the ideal denoiser and scores.

Everything is tiny (a handful of pixels, T = 20 steps) and in float64, so the file runs in seconds on a CPU.
"""

import inspect
import math

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from genlearn.diffusion import NoiseSchedule, q_sample
from genlearn.diffusion import ideal as ideal_mod
from genlearn.diffusion import likelihood as likelihood_mod
from genlearn.diffusion.ideal import (
    gaussian_posterior_mean,
    ideal_denoise_fn,
    ideal_denoiser,
    mixture_sample,
    mixture_score,
    posterior_weights,
    score_from_eps,
    tweedie_score,
)
from genlearn.diffusion.likelihood import bits_per_dim, variational_bound
from genlearn.losses import diffusion as losses_mod
from genlearn.losses.diffusion import discretized_gaussian_log_likelihood, normal_kl, simple_loss

LEVELS = 17  # the 8x8 digits' grey values


def grid_images(n: int, shape=(1, 2, 2), levels: int = LEVELS, seed: int = 0) -> torch.Tensor:
    """n images in [-1, 1] on the grid of ``levels`` values, including both ends."""
    g = torch.Generator().manual_seed(seed)
    k = torch.randint(0, levels, (n, *shape), generator=g)
    k.view(-1)[0], k.view(-1)[-1] = 0, levels - 1
    return (2 * k / (levels - 1) - 1).double()


# ----------------------------------------------------------------------------------------------------------- losses
def test_simple_loss_is_the_mean_of_squares_over_every_element():
    g = torch.Generator().manual_seed(0)
    pred, target = torch.randn(3, 1, 4, 4, generator=g), torch.randn(3, 1, 4, 4, generator=g)
    by_hand = sum(float(p - q) ** 2 for p, q in zip(pred.flatten(), target.flatten())) / pred.numel()
    assert simple_loss(pred, target).shape == ()
    assert simple_loss(pred, target).item() == pytest.approx(by_hand, rel=1e-6)
    assert simple_loss(target, target).item() == 0
    with pytest.raises(ValueError, match="same shape"):
        simple_loss(pred, target[:, :, :1])  # would broadcast silently


def test_normal_kl_matches_torch_distributions_and_broadcasts():
    g = torch.Generator().manual_seed(1)
    m1, m2 = torch.randn(5, 3, generator=g, dtype=torch.float64), torch.randn(5, 3, generator=g, dtype=torch.float64)
    lv1, lv2 = torch.randn(5, 3, generator=g, dtype=torch.float64), torch.randn(5, 3, generator=g, dtype=torch.float64)
    ref = kl_divergence(Normal(m1, (0.5 * lv1).exp()), Normal(m2, (0.5 * lv2).exp()))
    torch.testing.assert_close(normal_kl(m1, lv1, m2, lv2), ref)
    assert torch.equal(normal_kl(m1, lv1, m1, lv1), torch.zeros_like(m1))
    # floats broadcast: KL(N(m1, e^lv1) || N(0, 1))
    torch.testing.assert_close(normal_kl(m1, lv1, 0.0, 0.0), kl_divergence(Normal(m1, (0.5 * lv1).exp()), Normal(0.0, 1.0)))
    assert (normal_kl(m1, lv1, m2, lv2) > 0).all()


@pytest.mark.parametrize("levels", [2, LEVELS, 256])
@pytest.mark.parametrize("mean, log_scale", [(0.0, 0.0), (0.37, math.log(0.05)), (-0.9, math.log(0.3)), (0.5, math.log(3.0))])
def test_the_discretized_decoder_sums_to_one_over_the_levels(levels, mean, log_scale):
    x = torch.linspace(-1, 1, levels, dtype=torch.float64)  # every grey value
    logp = discretized_gaussian_log_likelihood(x, torch.full_like(x, mean), log_scale, levels)
    assert logp.shape == (levels,) and (logp <= 0).all()
    assert logp.exp().sum().item() == pytest.approx(1.0, abs=1e-9)


def test_the_discretized_decoder_is_a_cdf_difference_with_open_edge_bins():
    x = torch.linspace(-1, 1, LEVELS, dtype=torch.float64)
    mean, scale, h = 0.2, 0.3, 1 / (LEVELS - 1)
    ours = discretized_gaussian_log_likelihood(x, torch.full_like(x, mean), math.log(scale), LEVELS)
    d = Normal(torch.tensor(mean, dtype=torch.float64), torch.tensor(scale, dtype=torch.float64))
    i = 9  # an interior bin
    assert ours[i].item() == pytest.approx(math.log(d.cdf(x[i] + h) - d.cdf(x[i] - h)), rel=1e-9)
    assert ours[0].item() == pytest.approx(math.log(d.cdf(x[0] + h)), rel=1e-9)  # (-inf, -1 + h]
    assert ours[-1].item() == pytest.approx(math.log(1 - d.cdf(x[-1] - h)), rel=1e-9)  # [1 - h, inf)
    # a tensor log-scale per element broadcasts like a float one
    torch.testing.assert_close(ours, discretized_gaussian_log_likelihood(x, torch.full_like(x, mean), torch.full_like(x, math.log(scale)), LEVELS))


def test_the_discretized_decoder_is_finite_far_in_the_tails():
    # a bin 44 standard deviations from the mean: Phi(hi) - Phi(lo) is 0 in float64, its log is not
    x = torch.tensor([0.5, 1.0, -1.0], dtype=torch.float64, requires_grad=False)
    mean = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    logp = discretized_gaussian_log_likelihood(x, mean, math.log(0.01), LEVELS)
    lo = (0.5 - 1 / 16) / 0.01
    assert logp[0].item() == pytest.approx(torch.special.log_ndtr(torch.tensor(-lo, dtype=torch.float64)).item(), rel=1e-6)
    assert torch.isfinite(logp).all() and (logp < -900).all()
    logp.sum().backward()
    assert torch.isfinite(mean.grad).all()


def test_the_discretized_decoder_rejects_bad_levels_and_ranges():
    x = torch.zeros(3)
    with pytest.raises(ValueError, match="levels must be an int >= 2"):
        discretized_gaussian_log_likelihood(x, x, 0.0, levels=1)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        discretized_gaussian_log_likelihood(x + 2, x, 0.0)


# ------------------------------------------------------------------------------------------------- variational bound
SCHEDULE = NoiseSchedule(torch.linspace(1e-3, 0.4, 20, dtype=torch.float64))  # T = 20 (linear_betas needs T >= 51)


def recording(x0_guess):
    """A denoiser returning ``x0_guess(x_t, t)`` that records every (t, x_t) it is asked about."""
    seen = {}

    def denoise(x_t, t):
        assert t.dtype == torch.float64 and t.shape == (x_t.shape[0],)
        seen[int(t[0])] = x_t.clone()
        x0_hat = x0_guess(x_t, t)
        ab = SCHEDULE.alpha_bar_at(t).view(-1, 1, 1, 1)
        return x0_hat, (x_t - ab.sqrt() * x0_hat) / (1 - ab).sqrt()

    return denoise, seen


def test_each_kl_term_of_the_bound_is_eqs_6_7_by_hand():
    x0 = grid_images(3)
    denoise, seen = recording(lambda x_t, t: 1.2 * x_t.clamp(-1, 1))  # outside [-1, 1]: the bound must not clip it
    out = variational_bound(denoise, SCHEDULE, x0, levels=LEVELS, generator=torch.Generator().manual_seed(0))
    assert set(out) == {"bpd", "prior", "decoder", "terms"}
    assert out["terms"].shape == (3, 20) and out["bpd"].shape == out["prior"].shape == out["decoder"].shape == (3,)
    assert sorted(seen) == list(range(20))
    D, beta = 4, SCHEDULE.betas.tolist()
    ab = [math.prod(1 - b for b in beta[: i + 1]) for i in range(20)]
    for i in (1, 7, 19):  # the paper's t = 2, 8, 20
        x_t, x0_hat = seen[i], 1.2 * seen[i].clamp(-1, 1)
        c0 = math.sqrt(ab[i - 1]) * beta[i] / (1 - ab[i])  # Eq. 7
        ct = math.sqrt(1 - beta[i]) * (1 - ab[i - 1]) / (1 - ab[i])
        var_q, var_p = (1 - ab[i - 1]) / (1 - ab[i]) * beta[i], beta[i]
        mu_q, mu_p = c0 * x0 + ct * x_t, c0 * x0_hat + ct * x_t
        kl = 0.5 * (math.log(var_p / var_q) + var_q / var_p - 1 + (mu_q - mu_p) ** 2 / var_p)  # (N, 1, 2, 2)
        torch.testing.assert_close(out["terms"][:, i], kl.flatten(1).sum(1) / (D * math.log(2)))
    # the decoder: -log of CDF differences of N(x0_hat, beta_1), edge bins open
    x0_hat, h = 1.2 * seen[0].clamp(-1, 1), 1 / (LEVELS - 1)
    d = Normal(x0_hat, math.sqrt(beta[0]))
    p = torch.where(x0 < -0.99, d.cdf(x0 + h), torch.where(x0 > 0.99, 1 - d.cdf(x0 - h), d.cdf(x0 + h) - d.cdf(x0 - h)))
    torch.testing.assert_close(out["decoder"], -p.log().flatten(1).sum(1) / (D * math.log(2)))
    torch.testing.assert_close(out["terms"][:, 0], out["decoder"])
    torch.testing.assert_close(out["bpd"], out["prior"] + out["terms"].sum(1))


def test_the_prior_term_is_the_kl_to_a_standard_normal_in_bits_per_dim():
    x0 = grid_images(2, shape=(1, 3, 3))
    out = variational_bound(lambda x, t: (x, x), SCHEDULE, x0, levels=LEVELS, generator=torch.Generator().manual_seed(0))
    ab_T = float(torch.prod(1 - SCHEDULE.betas))
    m, v = math.sqrt(ab_T) * x0, 1 - ab_T
    nats = (0.5 * (v + m**2 - 1 - math.log(v))).flatten(1).sum(1)
    torch.testing.assert_close(out["prior"], nats / (9 * math.log(2)))
    assert bits_per_dim(9 * math.log(2) * 3.0, 9) == pytest.approx(3.0)
    torch.testing.assert_close(bits_per_dim(nats, 9), out["prior"])


def test_an_oracle_denoiser_has_a_smaller_bound_than_a_useless_one():
    x0 = grid_images(4, shape=(1, 3, 3), seed=3)
    oracle = recording(lambda x_t, t: x0)[0]
    zeros = recording(lambda x_t, t: torch.zeros_like(x_t))[0]
    good = variational_bound(oracle, SCHEDULE, x0, levels=LEVELS, generator=torch.Generator().manual_seed(0))
    bad = variational_bound(zeros, SCHEDULE, x0, levels=LEVELS, generator=torch.Generator().manual_seed(0))
    assert (good["bpd"] < bad["bpd"]).all()
    assert (good["decoder"] < bad["decoder"]).all()
    torch.testing.assert_close(good["prior"], bad["prior"])
    # with the true x0 each KL is only the variance mismatch beta_tilde vs beta, the same for every image
    kl = good["terms"][:, 1:]
    assert (kl > 0).all() and torch.allclose(kl, kl[:1].expand_as(kl))


def test_a_subset_of_timesteps_estimates_the_sum():
    x0 = grid_images(2)
    denoise = recording(lambda x_t, t: 0.5 * x_t)[0]
    full = variational_bound(denoise, SCHEDULE, x0, levels=LEVELS, generator=torch.Generator().manual_seed(0))
    same = variational_bound(denoise, SCHEDULE, x0, levels=LEVELS, generator=torch.Generator().manual_seed(0), timesteps=range(1, 20))
    torch.testing.assert_close(same["bpd"], full["bpd"])
    part = variational_bound(denoise, SCHEDULE, x0, levels=LEVELS, generator=torch.Generator().manual_seed(0), timesteps=[3, 11])
    assert torch.isnan(part["terms"][:, 1]).all() and not torch.isnan(part["terms"][:, [0, 3, 11]]).any()
    estimate = part["prior"] + part["decoder"] + 19 * part["terms"][:, [3, 11]].mean(1)
    torch.testing.assert_close(part["bpd"], estimate)


def test_the_bound_rejects_bad_inputs():
    x0 = grid_images(2)
    ok = lambda x, t: (x, x)  # noqa: E731
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        variational_bound(ok, SCHEDULE, (x0 + 1) / 2 * 255)
    with pytest.raises(ValueError, match="levels"):
        variational_bound(ok, SCHEDULE, x0, levels=1)
    with pytest.raises(ValueError, match="timesteps"):
        variational_bound(ok, SCHEDULE, x0, timesteps=[0, 20])
    with pytest.raises(ValueError, match="x0_hat of shape"):
        variational_bound(lambda x, t: (x[:, :, :1], x), SCHEDULE, x0)
    with pytest.raises(ValueError, match="dims"):
        bits_per_dim(1.0, 0)


# ----------------------------------------------------------------------------------------------- the ideal denoiser
def test_the_ideal_denoiser_of_many_gaussian_samples_is_the_gaussian_posterior_mean():
    g = torch.Generator().manual_seed(0)
    m, s = torch.tensor([0.5, -0.3], dtype=torch.float64), 0.4
    data = m + s * torch.randn(20_000, 2, generator=g, dtype=torch.float64)  # (M, 2)
    schedule = NoiseSchedule.linear(100)
    i = int((schedule.alpha_bar - 0.5).abs().argmin())
    ab = float(schedule.alpha_bar[i])
    x0 = m + s * torch.randn(200, 2, generator=g, dtype=torch.float64)
    x_t = q_sample(schedule, x0, torch.full((200,), i), torch.randn(200, 2, generator=g, dtype=torch.float64))
    ours = ideal_denoiser(x_t, float(i), data, schedule)
    assert ours.shape == (200, 2)
    assert (ours - gaussian_posterior_mean(x_t, ab, m, s**2)).abs().max() < 0.05


def test_at_low_noise_the_ideal_denoiser_copies_the_nearest_training_image():
    g = torch.Generator().manual_seed(1)
    data = torch.rand(3, 1, 4, 4, generator=g, dtype=torch.float64) * 2 - 1
    schedule = NoiseSchedule.linear(1000)
    x_t = q_sample(schedule, data[[2, 0, 1, 2]], torch.zeros(4, dtype=torch.long), torch.randn(4, 1, 4, 4, generator=g, dtype=torch.float64))
    torch.testing.assert_close(ideal_denoiser(x_t, 0, data, schedule), data[[2, 0, 1, 2]], atol=1e-9, rtol=0)
    # a point midway between two images is a blend of exactly those two
    mid = schedule.alpha_bar[0].sqrt() * (data[:1] + data[1:2]) / 2
    torch.testing.assert_close(ideal_denoiser(mid, 0, data, schedule), (data[:1] + data[1:2]) / 2, atol=1e-9, rtol=0)


def test_at_the_highest_noise_the_ideal_denoiser_returns_about_the_data_mean():
    g = torch.Generator().manual_seed(2)
    data = torch.rand(50, 1, 4, 4, generator=g, dtype=torch.float64) * 2 - 1
    schedule = NoiseSchedule.linear(1000)
    x_t = torch.randn(8, 1, 4, 4, generator=g, dtype=torch.float64)
    out = ideal_denoiser(x_t, 999, data, schedule)
    assert (out - data.mean(0)).abs().max() < 0.02


def test_posterior_weights_are_a_softmax_over_the_training_set_and_chunking_changes_nothing():
    g = torch.Generator().manual_seed(3)
    data = torch.rand(30, 1, 3, 3, generator=g, dtype=torch.float64) * 2 - 1
    x_t = torch.randn(11, 1, 3, 3, generator=g, dtype=torch.float64)
    schedule = SCHEDULE
    t = torch.linspace(0, 19, 11, dtype=torch.float64) * 0.93  # fractional steps too
    ab = schedule.alpha_bar_at(t)
    w = posterior_weights(x_t, ab, data)
    assert w.shape == (11, 30) and (w >= 0).all()
    torch.testing.assert_close(w.sum(1), torch.ones(11, dtype=torch.float64))
    # direct (N, M, D) distances, no expansion
    dist2 = (x_t.flatten(1)[:, None] - ab.sqrt()[:, None, None] * data.flatten(1)[None]).pow(2).sum(-1)
    torch.testing.assert_close(w, torch.softmax(-dist2 / (2 * (1 - ab[:, None])), dim=1))
    ref = ideal_denoiser(x_t, t, data, schedule, chunk_size=1000)
    torch.testing.assert_close(ref, (w @ data.flatten(1)).view_as(x_t))
    for chunk in (1, 4):
        torch.testing.assert_close(ideal_denoiser(x_t, t, data, schedule, chunk_size=chunk), ref, atol=1e-12, rtol=0)
    # the samplers' callable: eps inverts Eq. 4, and -eps / sqrt(1 - ab) is Tweedie's score
    x0_hat, eps_hat = ideal_denoise_fn(data, schedule, chunk_size=5)(x_t, t)
    torch.testing.assert_close(x0_hat, ref)
    abv = ab.view(-1, 1, 1, 1)
    torch.testing.assert_close(abv.sqrt() * x0_hat + (1 - abv).sqrt() * eps_hat, x_t)
    torch.testing.assert_close(score_from_eps(eps_hat, ab), tweedie_score(x_t, x0_hat, ab))


def test_the_ideal_denoiser_rejects_mismatched_shapes():
    schedule = SCHEDULE
    with pytest.raises(ValueError, match="image shape"):
        ideal_denoiser(torch.zeros(2, 1, 3, 3), 0, torch.zeros(5, 1, 4, 4), schedule)
    with pytest.raises(ValueError, match="shape"):
        ideal_denoiser(torch.zeros(2, 1, 3, 3), torch.zeros(3), torch.zeros(5, 1, 3, 3), schedule)


# ------------------------------------------------------------------------------------------------------------ scores
def gaussian_score(x, ab, m, s):
    return -(x - ab**0.5 * m) / (ab * s**2 + 1 - ab)


def test_tweedie_turns_the_gaussian_posterior_mean_into_the_gaussian_score():
    g = torch.Generator().manual_seed(4)
    x = torch.randn(7, 3, generator=g, dtype=torch.float64)
    m, s = torch.tensor([0.3, -1.0, 2.0], dtype=torch.float64), 0.7
    for ab in (0.05, 0.5, 0.97):
        torch.testing.assert_close(tweedie_score(x, gaussian_posterior_mean(x, ab, m, s**2), ab), gaussian_score(x, ab, m, s))
    ab = torch.linspace(0.1, 0.9, 7, dtype=torch.float64)  # one per row
    torch.testing.assert_close(tweedie_score(x, gaussian_posterior_mean(x, ab, m, s**2), ab), gaussian_score(x, ab[:, None], m, s))
    with pytest.raises(ValueError, match="alpha_bar"):
        tweedie_score(x, x, 1.0)
    with pytest.raises(ValueError, match="same shape"):
        tweedie_score(x, x[:, :2], 0.5)


def mixture_log_density(x, ab, means, std, weights):
    v = ab * std**2 + 1 - ab
    comp = Normal(math.sqrt(ab) * means, math.sqrt(v)).log_prob(x[:, None]).sum(-1)  # (N, K)
    return torch.logsumexp(weights.log() + comp, dim=1)


@pytest.mark.parametrize("ab", [0.0, 0.3, 0.99, 1.0])
def test_mixture_score_is_the_gradient_of_the_log_density(ab):
    g = torch.Generator().manual_seed(5)
    means = torch.tensor([[-2.0, 0.0], [2.0, 1.0], [0.0, 3.0]], dtype=torch.float64)
    weights = torch.tensor([0.2, 0.5, 0.3], dtype=torch.float64)
    x = (3 * torch.randn(16, 2, generator=g, dtype=torch.float64)).requires_grad_()
    (ref,) = torch.autograd.grad(mixture_log_density(x, ab, means, 0.5, weights).sum(), x)
    torch.testing.assert_close(mixture_score(x.detach(), ab, means, 0.5, weights), ref)


def test_a_one_component_mixture_has_the_gaussian_score_and_far_points_stay_finite():
    g = torch.Generator().manual_seed(6)
    x = torch.randn(9, 2, generator=g, dtype=torch.float64)
    m = torch.tensor([[1.0, -0.5]], dtype=torch.float64)
    torch.testing.assert_close(mixture_score(x, 0.4, m, 0.3), gaussian_score(x, 0.4, m[0], 0.3))
    far = torch.tensor([[1e3, -1e3]], dtype=torch.float64)
    means = torch.tensor([[-2.0, 0.0], [2.0, 1.0]], dtype=torch.float64)
    out = mixture_score(far, 0.999, means, 0.01)
    assert torch.isfinite(out).all()
    ab = torch.tensor([0.2, 0.9], dtype=torch.float64)  # one alpha_bar per row
    rows = mixture_score(x[:2], ab, means, 0.5)
    torch.testing.assert_close(rows[1], mixture_score(x[1:2], 0.9, means, 0.5)[0])


def test_mixture_sample_draws_from_the_weighted_components():
    means = torch.tensor([[-5.0, 0.0], [5.0, 0.0]], dtype=torch.float64)
    x = mixture_sample(4000, means, 0.5, torch.tensor([0.25, 0.75]), generator=torch.Generator().manual_seed(7))
    assert x.shape == (4000, 2) and x.dtype == torch.float64
    assert (x[:, 0] > 0).double().mean().item() == pytest.approx(0.75, abs=0.03)
    assert x[x[:, 0] > 0, 1].std().item() == pytest.approx(0.5, abs=0.05)
    with pytest.raises(ValueError, match="sum to 1"):
        mixture_score(x[:3], 0.5, means, 0.5, torch.tensor([0.5, 0.6]))
    with pytest.raises(ValueError, match=r"\(K, D\)"):
        mixture_score(x[:3], 0.5, means[0], 0.5)


# --------------------------------------------------------------------------------------------------------------- docs
@pytest.mark.parametrize("module", [losses_mod, likelihood_mod, ideal_mod], ids=lambda m: m.__name__)
def test_every_public_function_documents_its_chapter(module):
    for name in module.__all__:
        doc = inspect.getdoc(getattr(module, name)) or ""
        assert doc.rstrip().endswith("Chapter 13."), f"{module.__name__}.{name}"
        assert "Args:" in doc, f"{module.__name__}.{name} has no Args section"


def test_gather_reads_integer_steps_and_refuses_fractional_ones():
    from genlearn.diffusion import NoiseSchedule, gather

    s = NoiseSchedule.linear(100)
    out = gather(s.betas, torch.tensor([0, 99]), torch.zeros(2, 1, 2, 2))
    assert out.shape == (2, 1, 1, 1) and out.flatten().tolist() == pytest.approx([s.betas[0].item(), s.betas[99].item()])
    assert gather(s.betas, torch.tensor([3.0]), torch.zeros(1, 2)).item() == pytest.approx(s.betas[3].item())
    with pytest.raises(ValueError, match="integer step indices"):
        gather(s.betas, torch.tensor([0.5]), torch.zeros(1, 2))
