"""Fréchet distance and kernel distance between two sets of feature vectors.

Both compare *features* of real and generated images, shape ``(N, D)``; which network gives the
features (Inception for FID, genlearn's digits classifier for the digits FD) is the caller's choice.
"""

from __future__ import annotations

import contextlib
from typing import Iterator, Sequence

import torch


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Small float64 linear algebra runs fastest on one thread (and 50x slower on a busy machine
    with several: the threads spin waiting for each other)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


def _features(f: torch.Tensor, name: str) -> torch.Tensor:
    if not isinstance(f, torch.Tensor) or f.dim() != 2:
        raise ValueError(f"{name} must be a feature matrix of shape (N, D), got {getattr(f, 'shape', type(f))}")
    if f.shape[0] < 2:
        raise ValueError(f"{name} needs at least 2 samples to estimate a covariance, got {f.shape[0]}")
    if not torch.isfinite(f).all():
        raise ValueError(f"{name} contain NaN or infinity")
    return f.detach().to(torch.float64).cpu()


def feature_stats(f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean ``(D,)`` and unbiased covariance ``(D, D)`` of features ``(N, D)``, in float64.

    Chapter 0.
    """
    f = _features(f, "features")
    mu = f.mean(0)
    centered = f - mu
    return mu, centered.T @ centered / (f.shape[0] - 1)


def _sqrt_psd(a: torch.Tensor) -> torch.Tensor:
    """Symmetric square root of a positive semi-definite matrix (tiny negative eigenvalues clipped)."""
    evals, evecs = torch.linalg.eigh((a + a.T) / 2)
    return (evecs * evals.clamp_min(0).sqrt()) @ evecs.T


def frechet_distance_from_stats(mu1: torch.Tensor, cov1: torch.Tensor, mu2: torch.Tensor, cov2: torch.Tensor) -> float:
    r"""Fréchet distance between Gaussians N(mu1, cov1) and N(mu2, cov2) (Dowson & Landau 1982):

    .. math:: d^2 = \lVert\mu_1-\mu_2\rVert^2 + \operatorname{tr}\big(\Sigma_1+\Sigma_2-2(\Sigma_1\Sigma_2)^{1/2}\big)

    ``tr((Σ1 Σ2)^{1/2})`` is computed as ``tr((Σ1^{1/2} Σ2 Σ1^{1/2})^{1/2})``: the same eigenvalues,
    but of a *symmetric* PSD matrix, so ``eigh`` applies and no complex parts appear (the scipy
    ``sqrtm`` route of the reference FID code needs ad hoc fixes for those).

    Chapter 0.
    """
    mu1, mu2, cov1, cov2 = (t.to(torch.float64) for t in (mu1, mu2, cov1, cov2))
    if mu1.shape != mu2.shape or cov1.shape != cov2.shape or cov1.shape != (mu1.shape[0],) * 2:
        raise ValueError(f"mismatched statistics: mu {tuple(mu1.shape)} / {tuple(mu2.shape)}, cov {tuple(cov1.shape)} / {tuple(cov2.shape)}")
    s1 = _sqrt_psd(cov1)
    middle = s1 @ cov2 @ s1
    tr_sqrt = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp_min(0).sqrt().sum()
    d2 = (mu1 - mu2).square().sum() + torch.trace(cov1) + torch.trace(cov2) - 2 * tr_sqrt
    return float(d2.clamp_min(0))


def frechet_distance(f1: torch.Tensor, f2: torch.Tensor) -> float:
    """Fréchet distance between feature sets ``(N1, D)`` and ``(N2, D)`` (FID when D is Inception's pool3).

    Biased upwards at small N: always compare at the same N and report it.

    Chapters 0 and 12.
    """
    f1, f2 = _features(f1, "first features"), _features(f2, "second features")
    if f1.shape[1] != f2.shape[1]:
        raise ValueError(f"feature sizes differ: {f1.shape[1]} vs {f2.shape[1]}")
    with _one_thread():
        return frechet_distance_from_stats(*feature_stats(f1), *feature_stats(f2))


def kernel_distance(
    f1: torch.Tensor,
    f2: torch.Tensor,
    *,
    subsets: int = 100,
    subset_size: int = 1000,
    degree: int = 3,
    seed: int = 0,
) -> tuple[float, float]:
    r"""Kernel distance (KID, Bińkowski et al. 2018, Sec. 4): the unbiased MMD² with the kernel
    :math:`k(x, y) = (x^\top y / D + 1)^3`, averaged over random subsets.

    Unlike the Fréchet distance it is unbiased, so values at small N are comparable. It estimates MMD², which is 0
    when the two distributions match; the estimate drops the within-set diagonal terms, so for two samples of one
    distribution it scatters around 0 and can be negative.

    Returns:
        (mean, std) over the subsets.

    Chapter 12.
    """
    f1, f2 = _features(f1, "first features"), _features(f2, "second features")
    if f1.shape[1] != f2.shape[1]:
        raise ValueError(f"feature sizes differ: {f1.shape[1]} vs {f2.shape[1]}")
    m = min(subset_size, f1.shape[0], f2.shape[0])
    d = f1.shape[1]
    g = torch.Generator().manual_seed(seed)
    values = []
    with _one_thread():
        for _ in range(subsets):
            x = f1[torch.randperm(f1.shape[0], generator=g)[:m]]
            y = f2[torch.randperm(f2.shape[0], generator=g)[:m]]
            kxx = (x @ x.T / d + 1) ** degree  # (m, m)
            kyy = (y @ y.T / d + 1) ** degree
            kxy = (x @ y.T / d + 1) ** degree
            off = (kxx.sum() - kxx.diagonal().sum() + kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
            values.append(off - 2 * kxy.mean())
    v = torch.stack(values)
    return float(v.mean()), float(v.std(unbiased=False))


def bias_curve(f: torch.Tensor, reference: torch.Tensor, ns: list[int], draws: int = 5, seed: int = 0) -> list[dict]:
    """The Fréchet distance and KID of ``draws`` random subsets of ``n`` rows of ``f`` (N, D) against ``reference``
    (M, D), for each n in ``ns``: ``[{"n", "fd": {"mean", "std"}, "kid": {"mean", "std"}}, ...]``.

    With ``f`` and ``reference`` from one distribution (a real-vs-real curve) the FD falls towards 0 as n grows,
    its bias at small n, while KID, unbiased, stays near 0 at every n (Bińkowski et al. 2018: KID in Sec. 4, the
    FD's bias in App. D). :func:`fd_infinity` fits the FD's fall and extrapolates it to n = infinity.

    Chapter 12.
    """
    f = _features(f, "features")
    if not ns or min(ns) < 2 or max(ns) > len(f):
        raise ValueError(f"every n must be in [2, {len(f)}] (the rows available), got {list(ns)}")
    g = torch.Generator().manual_seed(seed)
    out = []
    for n in ns:
        fds, kids = [], []
        for _ in range(draws):
            sub = f[torch.randperm(len(f), generator=g)[:n]]
            fds.append(frechet_distance(sub, reference))
            kids.append(kernel_distance(sub, reference, subsets=20, subset_size=n, seed=int(torch.randint(2**31, (1,), generator=g)))[0])
        fd, kid = torch.tensor(fds), torch.tensor(kids)
        out.append({"n": n, "fd": {"mean": fd.mean().item(), "std": fd.std().item() if draws > 1 else 0.0},
                    "kid": {"mean": kid.mean().item(), "std": kid.std().item() if draws > 1 else 0.0}})  # fmt: skip
    return out


def fd_infinity(f: torch.Tensor, reference: torch.Tensor, ns: Sequence[int], draws: int = 5, seed: int = 0) -> dict:
    r"""The Fréchet distance extrapolated to infinitely many samples (Chong & Forsyth 2020, "FID∞").

    The FD of n samples is biased: :math:`\mathrm{FD}_n \approx \mathrm{FD}_\infty + k / n`, and the slope ``k``
    depends on the model, so two models compared at one n can be ordered by their bias rather than their distance.
    Chong & Forsyth's procedure: the FD of random subsets of n rows of ``f`` (N, D) against ``reference`` (M, D) at
    several n, a least-squares line in 1/n, and its value at 1/n = 0. Each of ``draws`` repeats draws fresh subsets
    (without replacement) and fits its own line; the result is the mean and sd of the fits over the repeats. (Their
    code, mchong6/FID_IS_infinity, fits 15 sizes from 5,000 to 50,000 Inception features, one draw each.)

    Only the samples' bias is removed: the reference is used whole at every n, so its own finite size adds a term
    that stays (a second real set scores about that term, not 0). The subsets all come from the one set ``f``, so
    the sd shows the subsampling noise, not that of a new set of samples (at ``n = N`` every draw is the whole set).
    The 1/n law holds for n well above D; n <= D is refused.

    Args:
        f: the samples' features (N, D).
        reference: the reference features (M, D), used whole.
        ns: at least two different subset sizes, each in [D + 1, N].
        draws: repeats of the whole fit, each with fresh subsets.
        seed: seeds the subsets.

    Returns:
        ``{"fd_inf": {"mean", "std"}, "k": {"mean", "std"}, "curve": [{"n", "fd": {"mean", "std"}}, ...]}``:
        the intercept and slope of the fit (sd 0 for one draw) and the mean FD at each n that the line was fitted to.

    Chapter 12.
    """
    f = _features(f, "features")
    reference = _features(reference, "reference features")
    if f.shape[1] != reference.shape[1]:
        raise ValueError(f"feature sizes differ: {f.shape[1]} vs {reference.shape[1]}")
    ns, d = sorted(int(n) for n in ns), f.shape[1]
    if len(set(ns)) < 2:
        raise ValueError(f"the fit in 1/n needs at least two different n, got {ns}")
    if ns[0] <= d or ns[-1] > len(f):
        raise ValueError(f"every n must be in [{d + 1}, {len(f)}] (above the feature dimension, at most the rows available), got {ns}")
    if draws < 1:
        raise ValueError(f"draws must be >= 1, got {draws}")
    g = torch.Generator().manual_seed(seed)
    fds = torch.tensor([[frechet_distance(f[torch.randperm(len(f), generator=g)[:n]], reference) for n in ns] for _ in range(draws)],
                       dtype=torch.float64)  # (draws, len(ns))  # fmt: skip
    x = 1.0 / torch.tensor(ns, dtype=torch.float64)  # least squares of fd = fd_inf + k x, one line per draw
    xc = x - x.mean()
    k = (fds - fds.mean(1, keepdim=True)) @ xc / (xc @ xc)  # (draws,)
    fd_inf = fds.mean(1) - k * x.mean()

    def stats(v: torch.Tensor) -> dict[str, float]:
        return {"mean": v.mean().item(), "std": v.std().item() if len(v) > 1 else 0.0}

    return {"fd_inf": stats(fd_inf), "k": stats(k), "curve": [{"n": n, "fd": stats(fds[:, i])} for i, n in enumerate(ns)]}
