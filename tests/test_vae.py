import math

import numpy as np
import pytest
import torch
from torch.distributions import Bernoulli, Normal

from genlearn.checks import to_unit
from genlearn.losses.elbo import (
    bernoulli_log_likelihood,
    binarize,
    elbo,
    gaussian_log_likelihood,
    iw_log_likelihood,
    kl_divergence,
    reparameterize,
)
from genlearn.models.vae import VAE, FactorizedBernoulli, VAEConfig, VAEOutput


def digits(n=32, binarized=True):
    from genlearn.data import load_digits

    x, y = load_digits("train")
    x, y = x[:n], y[:n]
    return (binarize(x) * 2 - 1 if binarized else x), y


# -- the pure functions -----------------------------------------------------------------------------


def test_kl_zero_at_standard_normal():
    mu, logvar = torch.zeros(5, 3), torch.zeros(5, 3)
    assert kl_divergence(mu, logvar).item() == 0.0
    assert torch.equal(kl_divergence(mu, logvar, reduction="none"), torch.zeros(5))


def test_kl_matches_monte_carlo_and_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(4, 3, generator=g, dtype=torch.float64)
    logvar = torch.randn(4, 3, generator=g, dtype=torch.float64) * 0.5
    kl = kl_divergence(mu, logvar, reduction="none")  # (4,)
    q, p = Normal(mu, (0.5 * logvar).exp()), Normal(torch.zeros_like(mu), torch.ones_like(mu))
    z = q.sample((200_000,))  # (S, 4, 3)
    mc = (q.log_prob(z) - p.log_prob(z)).sum(-1).mean(0)
    assert torch.allclose(kl, mc, atol=0.03), (kl, mc)
    assert torch.allclose(kl, torch.distributions.kl_divergence(q, p).sum(-1), atol=1e-12)
    assert kl_divergence(mu, logvar).item() == pytest.approx(kl.mean().item())  # summed over dims, averaged over batch


def test_kl_bad_inputs():
    with pytest.raises(ValueError, match="same shape"):
        kl_divergence(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="reduction"):
        kl_divergence(torch.zeros(2, 3), torch.zeros(2, 3), reduction="sum")


def test_reparameterize_is_the_gaussian_and_differentiable():
    mu = torch.tensor([[1.0, -2.0]], requires_grad=True)
    logvar = torch.tensor([[0.0, math.log(4.0)]], requires_grad=True)
    eps = torch.tensor([[0.5, -1.0]])
    z = reparameterize(mu, logvar, eps=eps)
    assert torch.allclose(z, torch.tensor([[1.5, -4.0]]))
    z.sum().backward()
    assert torch.allclose(mu.grad, torch.ones(1, 2))  # dz/dmu = 1
    assert torch.allclose(logvar.grad, 0.5 * torch.exp(0.5 * logvar.detach()) * eps)  # dz/dlogvar = sigma * eps / 2
    g = torch.Generator().manual_seed(1)
    zs = reparameterize(mu.detach().expand(100_000, 2), logvar.detach().expand(100_000, 2), generator=g)
    assert torch.allclose(zs.mean(0), torch.tensor([1.0, -2.0]), atol=0.03)
    assert torch.allclose(zs.std(0), torch.tensor([1.0, 2.0]), atol=0.03)


def test_bernoulli_log_likelihood_matches_distribution():
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(3, 1, 4, 4, generator=g) * 3
    target = torch.rand(3, 1, 4, 4, generator=g).round()
    expected = Bernoulli(logits=logits).log_prob(target).sum((1, 2, 3))
    assert torch.allclose(bernoulli_log_likelihood(logits, target), expected, atol=1e-5)
    # leading sample axes broadcast over the same targets
    stacked = bernoulli_log_likelihood(torch.stack([logits, -logits]), target)
    assert stacked.shape == (2, 3)
    assert torch.allclose(stacked[1], Bernoulli(logits=-logits).log_prob(target).sum((1, 2, 3)), atol=1e-5)
    # extreme logits stay finite (no log(0))
    assert torch.isfinite(bernoulli_log_likelihood(torch.full((1, 1, 2, 2), 200.0), torch.zeros(1, 1, 2, 2))).all()


def test_bernoulli_rejects_targets_outside_unit_interval():
    x, _ = digits(4, binarized=False)  # genlearn images in [-1, 1]
    with pytest.raises(ValueError, match=r"\[0, 1\].*to_unit"):
        bernoulli_log_likelihood(torch.zeros_like(x), x)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        bernoulli_log_likelihood(torch.zeros(1, 1, 2, 2), torch.full((1, 1, 2, 2), 255.0))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        bernoulli_log_likelihood(torch.zeros(1, 1, 2, 2), torch.full((1, 1, 2, 2), float("nan")))
    with pytest.raises(TypeError, match="floating-point"):
        bernoulli_log_likelihood(torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 2, 2, dtype=torch.uint8))
    bernoulli_log_likelihood(torch.zeros_like(x), to_unit(x))  # the documented conversion works


def test_gaussian_log_likelihood_matches_distribution():
    g = torch.Generator().manual_seed(3)
    mean, target = torch.rand(2, 1, 3, 3, generator=g), torch.rand(2, 1, 3, 3, generator=g)
    logvar = torch.tensor(-1.3)
    expected = Normal(mean, (0.5 * logvar).exp()).log_prob(target).sum((1, 2, 3))
    assert torch.allclose(gaussian_log_likelihood(mean, target, logvar), expected, atol=1e-5)
    assert torch.allclose(gaussian_log_likelihood(mean, target, -1.3), expected, atol=1e-5)


def test_binarize_fixed_threshold():
    x = torch.tensor([-1.0, -0.1, 0.0, 0.01, 1.0]).reshape(1, 1, 1, 5)
    assert binarize(x).flatten().tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]  # to_unit(x) > 0.5
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        binarize(x * 255)


def test_elbo_loss_gradcheck_float64():
    g = torch.Generator().manual_seed(4)
    logits = torch.randn(3, 1, 2, 2, generator=g, dtype=torch.float64, requires_grad=True)
    mu = torch.randn(3, 2, generator=g, dtype=torch.float64, requires_grad=True)
    logvar = (0.3 * torch.randn(3, 2, generator=g, dtype=torch.float64)).requires_grad_()
    target = torch.rand(3, 1, 2, 2, generator=g, dtype=torch.float64)

    def bernoulli_loss(logits, mu, logvar):
        return -elbo(bernoulli_log_likelihood(logits, target), mu, logvar, beta=0.7).mean()

    def gaussian_loss(mean, mu, logvar, dec_logvar):
        return -elbo(gaussian_log_likelihood(mean, target, dec_logvar), mu, logvar).mean()

    assert torch.autograd.gradcheck(bernoulli_loss, (logits, mu, logvar))
    dec_logvar = torch.tensor(-0.5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(gaussian_loss, (logits, mu, logvar, dec_logvar))
    # the loss is recon + beta * KL, computed by hand
    recon = -(target * torch.log(torch.sigmoid(logits)) + (1 - target) * torch.log(1 - torch.sigmoid(logits))).sum((1, 2, 3))
    kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(1)
    assert torch.allclose(bernoulli_loss(logits, mu, logvar), (recon + 0.7 * kl).mean())


def test_elbo_shape_check():
    with pytest.raises(ValueError, match="one value per example"):
        elbo(torch.zeros(3, 4), torch.zeros(3, 2), torch.zeros(3, 2))


# -- importance-weighted bound ----------------------------------------------------------------------


def tiny_trained_vae(latent_dim=2, steps=100):
    from genlearn.train.vae import train_vae

    x, _ = digits(64)
    config = VAEConfig(arch="mlp", latent_dim=latent_dim, hidden=32, depth=1)
    model, _ = train_vae(config, x, steps=steps, batch_size=32, lr=1e-2, progress=False)
    return model, x


@pytest.fixture(scope="module")
def trained():
    return tiny_trained_vae()


def test_iw_bound_at_k1_equals_elbo_with_the_same_sample(trained):
    model, x = trained
    target = to_unit(x)
    iw = model.iw_log_likelihood(x, target, k=1, generator=torch.Generator().manual_seed(5))
    # the same sample, computed independently with torch.distributions
    with torch.no_grad():
        mu, logvar = model.encode(x)
        eps = torch.randn((1, *mu.shape), generator=torch.Generator().manual_seed(5))[0]
        z = mu + (0.5 * logvar).exp() * eps
        log_w = (
            Bernoulli(logits=model.decode(z)).log_prob(target).sum((1, 2, 3))
            + Normal(0.0, 1.0).log_prob(z).sum(1)
            - Normal(mu, (0.5 * logvar).exp()).log_prob(z).sum(1)
        )
    assert iw.shape == (x.shape[0],)
    assert torch.allclose(iw, log_w, atol=1e-4)


def elbo_estimate(model, x, target, samples=20, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        return torch.stack([model.elbo(x, target, generator=g) for _ in range(samples)]).mean(0)  # (N,)


def test_iw_bound_tightens_with_k_and_beats_the_elbo(trained):
    model, x = trained
    target = to_unit(x)
    elbo_mean = elbo_estimate(model, x, target).mean().item()
    g = torch.Generator().manual_seed(6)
    bounds = [model.iw_log_likelihood(x, target, k=k, chunk_size=16, generator=g).mean().item() for k in (1, 10, 100)]
    assert abs(bounds[0] - elbo_mean) < 1.0  # E[L_1] = ELBO (Monte-Carlo noise only)
    assert elbo_mean < bounds[1] < bounds[2]


def test_iw_bound_approaches_exact_likelihood_in_one_dimension():
    model, x = tiny_trained_vae(latent_dim=1)
    target = to_unit(x)
    with torch.no_grad():  # log p(x) = log of the integral of p(x|z) N(z; 0, 1) dz, by quadrature on a fine grid
        z = torch.linspace(-8, 8, 1601).reshape(-1, 1, 1).expand(-1, x.shape[0], 1)  # (G, N, 1)
        log_joint = model.log_likelihood(model.decode(z), target) + Normal(0.0, 1.0).log_prob(z[..., 0])
        exact = torch.logsumexp(log_joint, 0) + math.log(16 / 1600)  # (N,)
    iw = model.iw_log_likelihood(x, target, k=1000, chunk_size=250, generator=torch.Generator().manual_seed(7))
    gap_iw, gap_elbo = (exact - iw).mean().item(), (exact - elbo_estimate(model, x, target)).mean().item()
    assert gap_elbo > 0.1  # the ELBO is a visibly loose bound here ...
    assert -0.05 < gap_iw < 0.25 * gap_elbo, (gap_iw, gap_elbo)  # ... and L_1000 is nearly exact


def test_iw_bad_k():
    model, x = VAE(VAEConfig.tiny()), digits(4)[0]
    with pytest.raises(ValueError, match="positive int"):
        model.iw_log_likelihood(x, to_unit(x), k=0)
    with pytest.raises(ValueError, match="positive int"):
        iw_log_likelihood(model.encode, lambda z: z.sum(-1), x, k=2.5)


# -- models -----------------------------------------------------------------------------------------


def test_tiny_mlp_parameter_count():
    c = VAEConfig.tiny()  # D = 64, hidden 16, depth 1, latent 2
    d, h, L = 64, 16, 2
    expected = (d * h + h) + (h * 2 * L + 2 * L) + (L * h + h) + (h * d + d)
    assert sum(p.numel() for p in VAE(c).parameters()) == expected


@pytest.mark.parametrize("arch", ["mlp", "conv"])
@pytest.mark.parametrize("num_classes", [0, 10])
def test_forward_shapes(arch, num_classes):
    torch.manual_seed(0)
    model = VAE(VAEConfig.tiny(arch, num_classes))
    x, y = digits(5)
    y = y if num_classes else None
    out = model(x, y)
    assert isinstance(out, VAEOutput)
    assert out.logits.shape == (5, 1, 8, 8)
    assert out.mu.shape == out.logvar.shape == out.z.shape == (5, 2)
    z = torch.randn(3, 5, 2)  # leading sample axis: same as decoding each slice
    stacked = model.decode(z, y)
    assert stacked.shape == (3, 5, 1, 8, 8)
    assert torch.allclose(stacked[2], model.decode(z[2], y), atol=1e-6)
    samples = model.sample(7, labels=torch.arange(7) if num_classes else None, generator=torch.Generator().manual_seed(0))
    assert samples.shape == (7, 1, 8, 8) and samples.min() >= -1 and samples.max() <= 1


def test_conv_vae_other_sizes():
    model = VAE(VAEConfig(arch="conv", image_size=32, latent_dim=3, hidden=8, width=2))
    assert model(torch.zeros(2, 1, 32, 32)).logits.shape == (2, 1, 32, 32)
    with pytest.raises(ValueError, match="power of two"):
        VAEConfig(arch="conv", image_size=28)


def test_labels_errors():
    x, y = digits(4)
    with pytest.raises(ValueError, match="needs labels"):
        VAE(VAEConfig.tiny(num_classes=10))(x)
    with pytest.raises(ValueError, match="unconditional"):
        VAE(VAEConfig.tiny())(x, y)
    with pytest.raises(ValueError, match=r"0\.\.9"):
        VAE(VAEConfig.tiny(num_classes=10))(x, y + 10)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        VAE(VAEConfig.tiny())(to_unit(x) * 255)


def test_config_round_trip_and_errors():
    c = VAEConfig.conv_digits(num_classes=10)
    assert VAEConfig.from_dict(c.to_dict()) == c
    with pytest.raises(ValueError, match="arch"):
        VAEConfig(arch="transformer")
    with pytest.raises(ValueError, match="likelihood"):
        VAEConfig(likelihood="poisson")


def test_gaussian_decoder_learns_its_variance():
    torch.manual_seed(0)
    model = VAE(VAEConfig.tiny(likelihood="gaussian"))
    x, _ = digits(8, binarized=False)
    out = model(x)
    loss = -model.log_likelihood(out.logits, to_unit(x)).mean()
    loss.backward()
    assert model.decoder_logvar.grad is not None and model.decoder_logvar.grad.abs() > 0
    expected = Normal(torch.sigmoid(out.logits), model.decoder_logvar.exp().sqrt()).log_prob(to_unit(x)).sum((1, 2, 3))
    assert torch.allclose(model.log_likelihood(out.logits, to_unit(x)), expected, atol=1e-4)


def test_factorized_bernoulli_baseline():
    target = torch.tensor([[1.0, 0.0], [1.0, 1.0], [1.0, 0.0]]).reshape(3, 1, 1, 2)
    base = FactorizedBernoulli((1, 1, 2), alpha=1.0).fit(target)
    assert torch.allclose(base.probs.flatten(), torch.tensor([4 / 5, 2 / 5]))  # (count + 1) / (N + 2)
    ll = base.log_likelihood(target)
    assert torch.allclose(ll[0], torch.tensor(math.log(4 / 5) + math.log(3 / 5)))


# -- training ---------------------------------------------------------------------------------------


def test_overfit_one_batch():
    from genlearn.train.vae import train_vae

    x, _ = digits(16)
    config = VAEConfig(latent_dim=8, hidden=64, depth=2)
    model, history = train_vae(config, x, steps=100, batch_size=16, lr=1e-2, beta=0.1, progress=False)
    first, last = np.mean(history["recon"][:5]), np.mean(history["recon"][-5:])
    assert last < first / 10, (first, last)  # measured: about 37 -> 1.5 nats per image


def test_training_is_deterministic():
    from genlearn.train.vae import train_vae

    x, y = digits(32)
    runs = [train_vae(VAEConfig.tiny("conv", 10), x, y, steps=5, batch_size=8, progress=False) for _ in range(2)]
    for (a, ha), (b, hb) in [runs]:
        assert ha["loss"] == hb["loss"]
        for pa, pb in zip(a.parameters(), b.parameters()):
            assert torch.equal(pa, pb)
