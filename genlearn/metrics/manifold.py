"""Precision and recall of generative models as k-NN manifolds (Kynkäänniemi et al. 2019), and density and coverage
(Naeem et al. 2020): fidelity and variety measured apart, where a Fréchet distance mixes them into one number.

Each set of features is given a manifold: the union of balls around its points, each ball's radius the distance to
that point's k-th nearest neighbour in its own set (``NND_k``).

* **precision** -- the share of generated samples inside the real manifold (fidelity);
* **recall** -- the share of real samples inside the generated manifold (variety);
* **density** -- ``1 / (k M) sum_j sum_i 1[Y_j in B(X_i, NND_k(X_i))]``: how many real balls contain each sample,
  so a few outlying real points cannot inflate it the way they inflate precision (Naeem et al., Sec. 3);
* **coverage** -- ``1 / N sum_i 1[exists j: Y_j in B(X_i, NND_k(X_i))]``: the share of real balls that hold a
  sample, built on the real manifold only, so generated outliers cannot inflate it the way they inflate recall.

X are the N real features, Y the M generated ones, both ``(n, D)``; distances are Euclidean, in float64.
"""

from __future__ import annotations

import torch

from genlearn.metrics.frechet import _features


def _distances(a: torch.Tensor, b: torch.Tensor, chunk: int = 2048) -> torch.Tensor:
    return torch.cat([torch.cdist(a[i : i + chunk], b) for i in range(0, len(a), chunk)])  # (len(a), len(b))


def knn_radii(f: torch.Tensor, k: int) -> torch.Tensor:
    """Distance from each point of ``f`` (n, D) to its k-th nearest *other* point: (n,).

    Chapter 12.
    """
    f = _features(f, "features")
    if not 1 <= k < len(f):
        raise ValueError(f"k must be in [1, {len(f) - 1}] for {len(f)} points (the k-th neighbour of a point is another point), got {k}")
    d = _distances(f, f)
    return d.kthvalue(k + 1, dim=1).values  # k + 1: the point itself is its own nearest, at distance 0


def _inside(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor) -> torch.Tensor:
    """(len(points), len(centres)) booleans: is point j inside ball i?"""
    return _distances(points, centres) <= radii[None, :]


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = 3) -> dict[str, float]:
    """Kynkäänniemi et al. 2019 (Sec. 2; Sec. 3 applies it to StyleGAN and BigGAN): precision and recall with k-NN
    manifolds (k = 3 in the paper).

    Chapter 12.
    """
    real, fake = _features(real, "real features").double(), _features(fake, "generated features").double()
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"feature sizes differ: {real.shape[1]} vs {fake.shape[1]}")
    precision = _inside(fake, real, knn_radii(real, k)).any(dim=1).double().mean().item()
    recall = _inside(real, fake, knn_radii(fake, k)).any(dim=1).double().mean().item()
    return {"precision": precision, "recall": recall}


def density_coverage(real: torch.Tensor, fake: torch.Tensor, k: int = 5) -> dict[str, float]:
    """Naeem et al. 2020 (Sec. 3, Eqs. for density and coverage), on the real manifold only (k = 5 in the paper).

    Chapter 12.
    """
    real, fake = _features(real, "real features").double(), _features(fake, "generated features").double()
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"feature sizes differ: {real.shape[1]} vs {fake.shape[1]}")
    inside = _inside(fake, real, knn_radii(real, k))  # (M, N)
    density = inside.double().sum().item() / (k * len(fake))
    coverage = inside.any(dim=0).double().mean().item()
    return {"density": density, "coverage": coverage}




def nearest_neighbour_distances(samples: torch.Tensor, train: torch.Tensor) -> torch.Tensor:
    """Each sample's distance to its nearest training point, features (M, D) and (N, D) -> (M,): the memorization
    check. A "model" that returns training images scores 0 here while its Fréchet distance sits at the floor;
    compare with the same distances of held-out real images (``nearest_neighbour_distances(test, train)``).

    Chapter 12.
    """
    samples, train = _features(samples, "sample features").double(), _features(train, "training features").double()
    if samples.shape[1] != train.shape[1]:
        raise ValueError(f"feature sizes differ: {samples.shape[1]} vs {train.shape[1]}")
    return _distances(samples, train).min(dim=1).values


def inception_score(probs: torch.Tensor, splits: int = 10) -> tuple[float, float]:
    """Salimans et al. 2016: ``exp(E_x KL(p(y|x) || p(y)))`` from class probabilities (N, K), as (mean, std) over
    ``splits`` equal parts (the paper's protocol: 10 splits). At most K (every image certain, classes balanced).

    Chapter 12.
    """
    if probs.ndim != 2 or (probs < 0).any() or not torch.allclose(probs.sum(1), torch.ones(len(probs), dtype=probs.dtype), atol=1e-4):
        raise ValueError(f"inception_score needs class probabilities (N, K) whose rows sum to 1, got shape {tuple(probs.shape)}")
    if not 1 <= splits <= len(probs):
        raise ValueError(f"splits must be in [1, {len(probs)}] for {len(probs)} images, got {splits}")
    p = probs.double()
    scores = []
    for part in p.chunk(splits):
        marginal = part.mean(0, keepdim=True)  # p(y) over this part
        kl = (part * (part.clamp_min(1e-12).log() - marginal.clamp_min(1e-12).log())).sum(1)  # (n,)
        scores.append(kl.mean().exp())
    s = torch.stack(scores)
    return float(s.mean()), float(s.std(unbiased=False))


__all__ = ["density_coverage", "inception_score", "knn_radii", "nearest_neighbour_distances", "precision_recall"]
