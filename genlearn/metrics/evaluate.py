"""Every applicable sample-quality metric in one call, as plain numbers: what ``python -m genlearn evaluate`` prints.

``evaluate(samples, reference, features="digits")`` embeds both image sets with one fixed feature network and returns
the Fréchet distance, KID (mean and standard deviation over subsets, unbiased), precision and recall (k = 3) and
density and coverage (k = 5), with ``n`` and the reference's size. With ``draws=K`` and ``n=N`` it follows the
book's protocol: K disjoint draws of N samples against the one fixed reference, each metric reported as
``{"mean", "std"}`` over the draws. The k-NN metrics compare equal-sized sets, as their papers do: each draw
against one fixed random subset of N reference images (``knn_reference_n``). Feature networks:

* ``"digits"`` -- genlearn's shipped digits classifier (64-d; grey images, any size, resized to 16x16);
* ``"efficientnet-lite0"`` -- the offline ImageNet network of chapters 9-10, its 1280-d pooled head at 224x224
  (grey images get three equal channels);
* ``"inception-v3-fid"`` -- the standard FID network (TensorFlow's Inception-v3, 2048-d), from a local weights
  file only (:mod:`genlearn.models.fid_inception`); its absence is one sentence naming the file.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from genlearn.checks import check_images
from genlearn.metrics.frechet import frechet_distance, kernel_distance
from genlearn.metrics.manifold import density_coverage, precision_recall

FEATURES = ("digits", "efficientnet-lite0", "inception-v3-fid")


def feature_function(name: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """The embedding ``images (N, C, H, W) in [-1, 1] -> (N, D)`` of a feature network by name.

    Chapter 12.
    """
    if name == "digits":
        from genlearn.metrics.digits import digits_features

        def digits(x: torch.Tensor) -> torch.Tensor:
            if x.shape[1] != 1:
                raise ValueError(f"the digits features read grey images (1 channel); these have {x.shape[1]}: use --features efficientnet-lite0")
            return digits_features(x)

        return digits
    if name == "efficientnet-lite0":
        from genlearn.models.efficientnet_lite import load_efficientnet_lite0

        net = load_efficientnet_lite0()

        @torch.no_grad()
        def efficientnet(x: torch.Tensor) -> torch.Tensor:
            out = []
            for i in range(0, len(x), 64):
                b = x[i : i + 64].float()
                b = b.repeat(1, 3, 1, 1) if b.shape[1] == 1 else b
                b = F.interpolate(b, size=(224, 224), mode="bilinear", antialias=True, align_corners=False)
                out.append(net.extract(b, ["head"])["head"].mean(dim=(2, 3)))  # (B, 1280)
            return torch.cat(out)

        return efficientnet
    if name == "inception-v3-fid":
        from genlearn.models.fid_inception import load_fid_inception

        inception = load_fid_inception()

        def fid(x: torch.Tensor) -> torch.Tensor:
            x = x.float()
            x = x.repeat(1, 3, 1, 1) if x.shape[1] == 1 else x
            return torch.cat([inception(x[i : i + 32]) for i in range(0, len(x), 32)])  # (N, 2048)

        return fid
    raise ValueError(f"unknown feature network {name!r}; choose one of {', '.join(FEATURES)}")


def evaluate(
    samples: torch.Tensor,
    reference: torch.Tensor,
    features: str = "digits",
    kid_subset: int | None = None,
    n: int | None = None,
    draws: int = 1,
) -> dict:
    """Metrics of ``samples`` (N, C, H, W) against ``reference`` (M, C', H', W'), both in [-1, 1].

    Args:
        n: samples per draw (default: all of them, one draw).
        draws: disjoint draws of ``n`` samples (the first ``n * draws``); with more than one, every metric is
            ``{"mean", "std"}`` over the draws (the KID's: of each draw's mean over its subsets).

    Raises ValueError (one sentence) for channel counts that differ, too few samples (the k-NN metrics need
    more than 5 per set, the Fréchet distance more than the feature dimension, the draws ``n * draws``), a KID
    subset larger than either set, or an unknown feature network.

    Chapter 12.
    """
    check_images(samples, name="the samples", channels=(1, 3))
    check_images(reference, name="the reference images", channels=(1, 3))
    if samples.shape[1] != reference.shape[1]:
        raise ValueError(f"the samples have {samples.shape[1]} channel(s) and the reference {reference.shape[1]}; compare like with like")
    if draws < 1:
        raise ValueError(f"draws must be >= 1, got {draws}")
    n = len(samples) // draws if n is None else n
    if n * draws > len(samples):
        raise ValueError(f"{draws} disjoint draws of {n} need {n * draws} samples; there are {len(samples)}")
    m = len(reference)
    if min(n, m) < 6:
        raise ValueError(f"need at least 6 images in each set (density and coverage use each point's 5th neighbour), got {n} samples and {m} reference images")
    subset = kid_subset or min(n, m, 1000)
    if subset > min(n, m):
        raise ValueError(f"the KID subset ({subset}) is larger than the smaller set ({min(n, m)} images); use at most {min(n, m)}")
    if features not in FEATURES:
        raise ValueError(f"unknown feature network {features!r}; choose one of {', '.join(FEATURES)}")
    embed = feature_function(features)
    f, r = embed(samples[: n * draws]), embed(reference)
    d = f.shape[1]
    if min(n, m) <= d:
        raise ValueError(f"the Fréchet distance fits {d}-dimensional covariances, so it needs more than {d} images in each set "
                         f"(at least {d + 1}); got {n} samples and {m} reference images")  # fmt: skip
    # The k-NN metrics compare sets of equal size, as both papers do: a larger reference would shrink every ball and
    # make coverage count up to n / m at most. One fixed random subset of n reference images serves every draw.
    r_knn = r[torch.randperm(m, generator=torch.Generator().manual_seed(0))[:n]] if m > n else r
    scores = [_scores(f[i * n : (i + 1) * n], r, r_knn, subset) for i in range(draws)]
    if draws == 1:
        result = scores[0]
    else:
        result = {}
        for key in scores[0]:
            v = torch.tensor([s[key]["mean"] if key == "kid" else s[key] for s in scores], dtype=torch.float64)
            result[key] = {"mean": v.mean().item(), "std": v.std().item()}
    return result | {"n": n, "draws": draws, "reference_n": m, "knn_reference_n": len(r_knn), "features": features}


def _scores(f: torch.Tensor, r: torch.Tensor, r_knn: torch.Tensor, kid_subset: int) -> dict:
    """One draw's metrics from features f (n, D) against r (m, D); the k-NN ones against r_knn (n, D)."""
    kid_mean, kid_std = kernel_distance(f, r, subsets=100, subset_size=kid_subset)
    return {"fd": frechet_distance(f, r), "kid": {"mean": kid_mean, "std": kid_std}, **precision_recall(r_knn, f, k=3),
            **density_coverage(r_knn, f, k=5)}  # fmt: skip


def paired_scores(outputs: torch.Tensor, targets: torch.Tensor) -> dict:
    """PSNR and SSIM of translations against their paired targets (N, C, H, W) each, as mean and sd over the images.

    Chapter 8.
    """
    from genlearn.metrics.image_quality import psnr, ssim

    if outputs.shape != targets.shape:
        raise ValueError(f"the targets must match the translations one to one: got {tuple(targets.shape)} for {tuple(outputs.shape)}")
    p, s = psnr(outputs, targets), ssim(outputs, targets)
    return {"psnr": {"mean": p.mean().item(), "std": p.std().item()}, "ssim": {"mean": s.mean().item(), "std": s.std().item()}}


def label_scores(outputs: torch.Tensor, labels: torch.Tensor) -> dict:
    """Label preservation of translated digits (chapter 7's classifier): ``{"label_preservation": {"mean", "se"}}``.

    Chapter 7.
    """
    from genlearn.metrics.translation import label_preservation

    if outputs.shape[1] != 1:
        raise ValueError(f"label preservation reads grey digits (1 channel); these have {outputs.shape[1]}")
    kept = label_preservation(outputs, labels.long())
    return {"label_preservation": {"mean": kept["kept"], "se": kept["se"]}}


__all__ = ["FEATURES", "evaluate", "feature_function", "label_scores", "paired_scores"]
