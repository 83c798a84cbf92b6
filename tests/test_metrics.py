import numpy as np
import pytest
import scipy.linalg
import torch
from torch import nn

from genlearn.metrics import feature_stats, frechet_distance, frechet_distance_from_stats, kernel_distance


def random_spd(d, seed):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(d, d, generator=g, dtype=torch.float64)
    return a @ a.T / d + 0.1 * torch.eye(d, dtype=torch.float64)


def test_fd_closed_form_for_diagonal_gaussians():
    mu1, mu2 = torch.tensor([0.0, 1.0, 2.0]), torch.tensor([1.0, 1.0, 0.0])
    s1, s2 = torch.tensor([1.0, 4.0, 9.0]), torch.tensor([4.0, 1.0, 1.0])
    # commuting covariances: d^2 = |mu1-mu2|^2 + sum (sqrt(s1) - sqrt(s2))^2 = 5 + (1 + 1 + 4)
    assert frechet_distance_from_stats(mu1, torch.diag(s1), mu2, torch.diag(s2)) == pytest.approx(11.0, rel=1e-10)


def test_fd_matches_scipy_sqrtm_for_non_commuting_covariances():
    d = 16
    c1, c2 = random_spd(d, 1), random_spd(d, 2)
    mu1, mu2 = torch.zeros(d, dtype=torch.float64), torch.full((d,), 0.3, dtype=torch.float64)
    covmean = scipy.linalg.sqrtm(c1.numpy() @ c2.numpy()).real
    expected = float(((mu1 - mu2) ** 2).sum()) + np.trace(c1.numpy() + c2.numpy() - 2 * covmean)
    assert frechet_distance_from_stats(mu1, c1, mu2, c2) == pytest.approx(expected, rel=1e-8)


def test_fd_matches_torchmetrics_with_custom_features():
    torchmetrics_fid = pytest.importorskip("torchmetrics.image.fid")
    g = torch.Generator().manual_seed(0)
    f1 = torch.randn(300, 8, generator=g)
    f2 = torch.randn(300, 8, generator=g) @ torch.randn(8, 8, generator=g) * 0.5 + 0.7

    class Identity(nn.Module):
        num_features = 8

        def forward(self, x):
            return x.flatten(1)

    metric = torchmetrics_fid.FrechetInceptionDistance(feature=Identity(), normalize=True)
    metric.update(f1.view(300, 8, 1, 1), real=True)
    metric.update(f2.view(300, 8, 1, 1), real=False)
    assert frechet_distance(f1, f2) == pytest.approx(float(metric.compute()), rel=1e-4)


# torchmetrics says that it keeps every feature in memory: true and harmless for the 400 rows here
@pytest.mark.filterwarnings("ignore:Metric `Kernel Inception Distance` will save all extracted features:UserWarning")
def test_kid_matches_torchmetrics():
    torchmetrics_kid = pytest.importorskip("torchmetrics.image.kid")
    g = torch.Generator().manual_seed(1)
    f1 = torch.randn(200, 8, generator=g)
    f2 = torch.randn(200, 8, generator=g) + 0.5

    class Identity(nn.Module):
        def forward(self, x):
            return x.flatten(1)

    # one subset holding every sample: no randomness on either side
    metric = torchmetrics_kid.KernelInceptionDistance(feature=Identity(), subsets=1, subset_size=200, normalize=True)
    metric.update(f1.view(200, 8, 1, 1), real=True)
    metric.update(f2.view(200, 8, 1, 1), real=False)
    expected, _ = metric.compute()
    mean, std = kernel_distance(f1, f2, subsets=1, subset_size=200)
    assert mean == pytest.approx(float(expected), rel=1e-4)
    assert std == 0


def test_distances_are_zero_for_identical_sets_and_grow_with_shift():
    f = torch.randn(500, 6, generator=torch.Generator().manual_seed(2))
    assert frechet_distance(f, f) == pytest.approx(0.0, abs=1e-8)
    assert frechet_distance(f, f + 1.0) == pytest.approx(6.0, rel=1e-6)  # |mu shift|^2 = 6
    assert abs(kernel_distance(f, f, subsets=5, subset_size=200)[0]) < 0.05
    assert kernel_distance(f, f + 1.0, subsets=5, subset_size=200)[0] > 0.5


def test_fd_handles_rank_deficient_covariance():
    f = torch.randn(10, 64, generator=torch.Generator().manual_seed(3))  # N < D
    d = frechet_distance(f, f * 1.1)
    assert np.isfinite(d) and d > 0


def test_feature_stats_unbiased():
    f = torch.randn(50, 3, generator=torch.Generator().manual_seed(4))
    mu, cov = feature_stats(f)
    assert torch.allclose(cov, torch.from_numpy(np.cov(f.numpy(), rowvar=False)), atol=1e-6)
    assert torch.allclose(mu, f.double().mean(0))


@pytest.mark.parametrize("bad, message", [(torch.zeros(5), r"\(N, D\)"), (torch.zeros(1, 3), "at least 2"),
                                          (torch.full((3, 2), float("nan")), "NaN")])
def test_bad_features(bad, message):
    with pytest.raises(ValueError, match=message):
        frechet_distance(bad, torch.zeros(4, 2))


def test_mismatched_feature_sizes():
    with pytest.raises(ValueError, match="feature sizes differ"):
        frechet_distance(torch.randn(5, 3), torch.randn(5, 4))


def test_the_fd_is_biased_at_small_n_and_kid_is_not():
    from genlearn.metrics import bias_curve

    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(2000, 8, generator=g), torch.randn(4000, 8, generator=g)  # one distribution
    curve = bias_curve(a, b, [50, 200, 1000], draws=4)
    fds = [row["fd"]["mean"] for row in curve]
    assert fds[0] > fds[1] > fds[2] > 0 and fds[0] > 5 * fds[2]  # falls with n: the bias
    assert all(abs(row["kid"]["mean"]) < 3 * row["kid"]["std"] + 0.01 for row in curve)  # about 0 at every n
    assert [row["n"] for row in curve] == [50, 200, 1000]
    with pytest.raises(ValueError, match="every n must be in"):
        bias_curve(a, b, [1, 3000])


def gaussian_with_exact_moments(n, mu, cov, generator):
    """n rows whose sample mean and unbiased covariance are exactly ``mu`` and ``cov`` (a whitened, recoloured draw)."""
    z = torch.randn(n, len(mu), generator=generator, dtype=torch.float64)
    z = z - z.mean(0)
    chol = torch.linalg.cholesky(z.T @ z / (n - 1))
    white = torch.linalg.solve_triangular(chol, z.T, upper=False).T  # sample covariance exactly I
    return white @ torch.linalg.cholesky(cov).T + mu


def test_fd_infinity_lands_near_the_true_distance_of_two_gaussians():
    from genlearn.metrics import fd_infinity

    d, g = 8, torch.Generator().manual_seed(0)
    eye, zero = torch.eye(d, dtype=torch.float64), torch.zeros(d, dtype=torch.float64)
    reference = gaussian_with_exact_moments(1000, zero, eye, g)  # its statistics are exactly N(0, I)'s: no reference bias
    mu, var = torch.full((d,), 0.2, dtype=torch.float64), torch.linspace(0.5, 2.0, d, dtype=torch.float64)
    samples = torch.randn(4000, d, generator=g, dtype=torch.float64) * var.sqrt() + mu
    true = frechet_distance_from_stats(mu, torch.diag(var), zero, eye)  # 0.81
    ns = [20, 40, 80, 160, 400, 1000]
    fit = fd_infinity(samples, reference, ns, draws=5, seed=0)
    fd_small = fit["curve"][0]["fd"]["mean"]
    assert [row["n"] for row in fit["curve"]] == ns
    assert fd_small - true > 1.0 and fit["k"]["mean"] > 0  # the bias at n = 20, and its slope
    assert abs(fit["fd_inf"]["mean"] - true) < 0.1 * abs(fd_small - true)  # the extrapolation removes most of it
    assert abs(fit["fd_inf"]["mean"] - true) < 3 * fit["fd_inf"]["std"] + 0.05
    assert fit == fd_infinity(samples, reference, ns, draws=5, seed=0)  # seeded
    one = fd_infinity(samples, reference, ns, draws=1)
    assert one["fd_inf"]["std"] == 0 and one["k"]["std"] == 0


def test_fd_infinity_orders_two_models_that_one_n_orders_wrongly():
    """Chong & Forsyth's point: the bias slope k depends on the model, so a fixed N can invert an order."""
    from genlearn.metrics import fd_infinity

    d, g = 8, torch.Generator().manual_seed(0)
    eye, zero = torch.eye(d, dtype=torch.float64), torch.zeros(d, dtype=torch.float64)
    reference = gaussian_with_exact_moments(1000, zero, eye, g)
    mu_a = torch.full((d,), (7 / d) ** 0.5, dtype=torch.float64)
    narrow = torch.randn(4000, d, generator=g, dtype=torch.float64) * 0.5 + mu_a  # true FD 7 + 8 * 0.25 = 9, small k
    wide = torch.randn(4000, d, generator=g, dtype=torch.float64) * 2.0  # true FD 8 * 1 = 8, large k
    assert frechet_distance_from_stats(mu_a, 0.25 * eye, zero, eye) == pytest.approx(9.0)
    assert frechet_distance_from_stats(zero, 4 * eye, zero, eye) == pytest.approx(8.0)
    ns = [20, 40, 80, 160, 400, 1000]
    a, b = fd_infinity(narrow, reference, ns, seed=0), fd_infinity(wide, reference, ns, seed=0)
    assert b["curve"][0]["fd"]["mean"] > a["curve"][0]["fd"]["mean"]  # at n = 20 the better model scores worse
    assert b["k"]["mean"] > 3 * a["k"]["mean"]
    assert b["fd_inf"]["mean"] < a["fd_inf"]["mean"]  # extrapolated, the order is the true one
    assert a["fd_inf"]["mean"] == pytest.approx(9.0, abs=0.3) and b["fd_inf"]["mean"] == pytest.approx(8.0, abs=0.6)


@pytest.mark.parametrize("ns, draws, message", [([50, 50], 5, "two different n"), ([100], 5, "two different n"),
                                                 ([8, 100], 5, r"every n must be in \[9, 500\]"),
                                                 ([100, 501], 5, r"every n must be in \[9, 500\]"),
                                                 ([50, 100], 0, "draws must be >= 1")])  # fmt: skip
def test_fd_infinity_refuses_bad_input(ns, draws, message):
    from genlearn.metrics import fd_infinity

    g = torch.Generator().manual_seed(0)
    f, reference = torch.randn(500, 8, generator=g), torch.randn(300, 8, generator=g)
    with pytest.raises(ValueError, match=message):
        fd_infinity(f, reference, ns, draws=draws)
    with pytest.raises(ValueError, match="feature sizes differ"):
        fd_infinity(f, torch.randn(300, 4), [50, 100])
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        fd_infinity(f[0], reference, [50, 100])
