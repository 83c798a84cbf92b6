"""Precision / recall (k-NN manifolds) and density / coverage: by hand, against brute force, and on failures made on purpose."""

import pytest
import torch

from genlearn.metrics.manifold import density_coverage, knn_radii, precision_recall


def brute(real, fake, k):
    """The definitions, one point at a time."""
    def radius(x, pts):
        d = sorted(float((x - p).norm()) for p in pts)
        return d[k]  # d[0] = 0 is the point itself

    r_real = [radius(x, real) for x in real]
    r_fake = [radius(y, fake) for y in fake]
    inside = [[float((y - x).norm()) <= r for x, r in zip(real, r_real)] for y in fake]
    precision = sum(any(row) for row in inside) / len(fake)
    recall = sum(any(float((x - y).norm()) <= r for y, r in zip(fake, r_fake)) for x in real) / len(real)
    density = sum(sum(row) for row in inside) / (k * len(fake))
    coverage = sum(any(inside[j][i] for j in range(len(fake))) for i in range(len(real))) / len(real)
    return precision, recall, density, coverage


def test_a_hand_example():
    real = torch.tensor([[0.0], [1.0], [2.0], [10.0]])  # k = 1 radii: 1, 1, 1, 8
    fake = torch.tensor([[0.5], [5.0], [30.0]])  # radii: 4.5, 4.5, 25
    assert knn_radii(real, 1).tolist() == [1.0, 1.0, 1.0, 8.0]
    pr = precision_recall(real, fake, k=1)
    assert pr["precision"] == pytest.approx(2 / 3)  # 0.5 (near 0 and 1) and 5.0 (inside 10's ball of radius 8); 30 is outside
    assert pr["recall"] == pytest.approx(1.0)  # every real point is within a fake ball (30's radius 25 reaches 10 and 2...)
    dc = density_coverage(real, fake, k=1)
    assert dc["density"] == pytest.approx((2 + 1 + 0) / 3)  # 0.5 is in the balls of 0 and 1; 5.0 in 10's
    assert dc["coverage"] == pytest.approx(3 / 4)  # the balls of 0, 1 and 10 hold a sample; 2's ball ([1, 3]) holds none


def test_the_same_as_brute_force():
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(40, 3, generator=g), torch.randn(30, 3, generator=g) * 1.3 + 0.2
    p, r, d, c = brute(real, fake, 3)
    pr, dc = precision_recall(real, fake, k=3), density_coverage(real, fake, k=3)
    assert (pr["precision"], pr["recall"], dc["density"], dc["coverage"]) == pytest.approx((p, r, d, c))


def mixture(n, modes, spread=0.1, seed=0):
    g = torch.Generator().manual_seed(seed)
    centres = torch.tensor([[3.0 * i, 0.0] for i in range(10)])[list(modes)]
    return centres[torch.randint(len(centres), (n,), generator=g)] + spread * torch.randn(n, 2, generator=g)


def test_mode_dropping_lowers_recall_and_coverage_while_precision_stays():
    real = mixture(1000, range(10), seed=0)
    same = precision_recall(real, mixture(1000, range(10), seed=1))
    dropped = precision_recall(real, mixture(1000, range(5), seed=1))  # half the modes
    assert dropped["precision"] > 0.9 and abs(dropped["precision"] - same["precision"]) < 0.05
    assert dropped["recall"] < 0.6 < 0.9 < same["recall"]
    assert density_coverage(real, mixture(1000, range(5), seed=1))["coverage"] < 0.6


def test_spreading_lowers_precision_and_density_while_recall_stays():
    real = mixture(1000, range(10), seed=0)
    spread = mixture(1000, range(10), spread=0.4, seed=1)  # every mode, blurred
    pr, same = precision_recall(real, spread), precision_recall(real, mixture(1000, range(10), seed=1))
    assert pr["precision"] < 0.6 and pr["recall"] > 0.9 and same["precision"] > 0.9
    assert density_coverage(real, spread)["density"] < 0.5 * density_coverage(real, mixture(1000, range(10), seed=1))["density"]


def test_bad_inputs_say_what_is_needed():
    with pytest.raises(ValueError, match="k must be in"):
        knn_radii(torch.randn(3, 2), 3)
    with pytest.raises(ValueError, match="feature sizes differ"):
        precision_recall(torch.randn(5, 2), torch.randn(5, 3))
    with pytest.raises(ValueError, match="feature matrix"):
        density_coverage(torch.randn(5, 2, 1), torch.randn(5, 2))


def test_inception_score_by_closed_form():
    from genlearn.metrics.manifold import inception_score

    certain = torch.eye(10).repeat(10, 1)  # 100 images, each certain of its class, classes balanced: IS = 10
    assert inception_score(certain, splits=10) == pytest.approx((10.0, 0.0))
    assert inception_score(torch.full((50, 10), 0.1), splits=5)[0] == pytest.approx(1.0)  # no image says anything: 1
    one_class = torch.zeros(20, 10)
    one_class[:, 3] = 1.0  # certain but all the same class: the marginal is the conditional, KL = 0
    assert inception_score(one_class, splits=2)[0] == pytest.approx(1.0)
    p = torch.tensor([[0.9, 0.1], [0.2, 0.8]])
    m = p.mean(0)
    expected = torch.exp((p * (p.log() - m.log())).sum(1).mean()).item()
    assert inception_score(p, splits=1)[0] == pytest.approx(expected)
    with pytest.raises(ValueError, match="rows sum to 1"):
        inception_score(torch.ones(4, 3))


def test_memorization_is_caught_by_nearest_neighbours():
    from genlearn.metrics.manifold import nearest_neighbour_distances

    g = torch.Generator().manual_seed(0)
    train, test = torch.randn(300, 4, generator=g), torch.randn(100, 4, generator=g)
    copies = train[:100]
    assert nearest_neighbour_distances(copies, train).max() == 0
    assert nearest_neighbour_distances(test, train).min() > 0 and nearest_neighbour_distances(test, train).mean() > 0.3
