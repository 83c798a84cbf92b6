"""Neural style transfer objectives (chapters 9-10), one pure function each, on feature maps ``(N, C, H, W)``.

* :func:`gram_matrix` -- feature correlations, normalized by ``C * H * W`` (Johnson et al. 2016, Sec. 3.2);
* :func:`content_loss` -- Gatys et al. 2016, Eq. 1;
* :func:`style_loss` -- Gatys et al. 2016, Eqs. 4-5, on normalized Gram matrices (the same value);
* :func:`total_variation_loss` -- a smoothness prior on the image (Johnson et al. 2016, Sec. 3.3);
* :func:`adain` -- adaptive instance normalization (Huang & Belongie 2017, Eq. 8), and the two losses
  its decoder trains with: :func:`adain_content_loss` (Eq. 12) and :func:`style_statistics_loss` (Eq. 13).
"""

from __future__ import annotations

from typing import Mapping

import torch


def _check_features(f: torch.Tensor, what: str) -> None:
    if f.ndim != 4:
        raise ValueError(f"{what} must be feature maps (N, C, H, W), got shape {tuple(f.shape)}")


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """``G_ij = sum_k F_ik F_jk / (C H W)`` for the ``C`` channels ``F_i`` (flattened over the ``H W``
    positions): (N, C, H, W) -> (N, C, C).

    Gatys et al. (Eq. 3) leave ``G`` unnormalized and put ``1 / (4 N^2 M^2)`` (``N = C``, ``M = H W``)
    into the style loss; dividing by ``C H W`` here, as Johnson et al. do, makes a Gram matrix
    independent of the image size, and :func:`style_loss` then equals Gatys's Eq. 4 exactly.

    Chapter 9.
    """
    _check_features(features, "gram_matrix's input")
    n, c, h, w = features.shape
    f = features.reshape(n, c, h * w)  # (N, C, M)
    return f @ f.transpose(1, 2) / (c * h * w)  # (N, C, C)


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Gatys et al. 2016, Eq. 1: ``1/2 sum (F - P)^2`` over channels and positions, averaged over the batch.

    Args:
        features: the generated image's features F at the content layer, (N, C, H, W).
        target: the content image's features P there, same shape (or batch 1, broadcast).

    Chapter 9.
    """
    _check_features(features, "content_loss's features")
    if target.shape[1:] != features.shape[1:]:
        raise ValueError(f"content_loss compares features of one layer, got {tuple(features.shape)} and {tuple(target.shape)}")
    return 0.5 * (features - target).pow(2).flatten(1).sum(1).mean()


def style_loss(features: Mapping[str, torch.Tensor], target_grams: Mapping[str, torch.Tensor], weights: Mapping[str, float]) -> torch.Tensor:
    """Gatys et al. 2016, Eqs. 4-5: ``sum_l w_l E_l`` with ``E_l = 1/4 sum_ij (G^l_ij - A^l_ij)^2`` on
    :func:`gram_matrix` (normalized) Grams, which equals the paper's ``1/(4 N_l^2 M_l^2) sum (G - A)^2`` on
    unnormalized ones; averaged over the batch.

    Args:
        features: the generated image's features per layer name, (N, C_l, H_l, W_l).
        target_grams: the style image's Gram matrices per layer, (1 or N, C_l, C_l).
        weights: ``w_l`` per layer (the paper: equal weights summing to 1); only these layers count.

    Chapter 9.
    """
    missing = [name for name in weights if name not in features or name not in target_grams]
    if missing:
        raise ValueError(f"style_loss has weights for layers without features or target Grams: {missing}")
    total = 0.0
    for name, w in weights.items():
        g = gram_matrix(features[name])  # (N, C, C)
        total = total + w * 0.25 * (g - target_grams[name]).pow(2).flatten(1).sum(1).mean()
    return torch.as_tensor(total)


def total_variation_loss(x: torch.Tensor) -> torch.Tensor:
    """Squared differences between neighbouring pixels, ``sum (x[i, j+1] - x[i, j])^2 + (x[i+1, j] - x[i, j])^2``
    over channels and positions, averaged over the batch: (N, C, H, W) -> (); penalizes high-frequency noise.

    Chapter 9.
    """
    _check_features(x, "total_variation_loss's input")
    dx = (x[..., :, 1:] - x[..., :, :-1]).pow(2).flatten(1).sum(1)  # (N,)
    dy = (x[..., 1:, :] - x[..., :-1, :]).pow(2).flatten(1).sum(1)
    return (dx + dy).mean()


def adain(content: torch.Tensor, style: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Huang & Belongie 2017, Eq. 8: ``sigma(y) (x - mu(x)) / sigma(x) + mu(y)``, with the mean and standard
    deviation of each channel over the positions of each image (Eqs. 5-6; ``sigma = sqrt(var + eps)``).

    Args:
        content: content features x, (N, C, H, W).
        style: style features y, (N or 1, C, H', W') (any size: only their statistics are used).
    Returns:
        (N, C, H, W): x with the per-channel mean and standard deviation of y.

    Chapter 10.
    """
    _check_features(content, "adain's content features")
    _check_features(style, "adain's style features")
    if style.shape[1] != content.shape[1] or style.shape[0] not in (1, content.shape[0]):
        raise ValueError(f"adain needs style features with the content's channels and batch (or batch 1), got {tuple(content.shape)} and {tuple(style.shape)}")
    (mu_x, sigma_x), (mu_y, sigma_y) = _mean_std(content, eps), _mean_std(style, eps)  # (N, C, 1, 1) each
    return sigma_y * (content - mu_x) / sigma_x + mu_y


def _mean_std(f: torch.Tensor, eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image, per-channel mean and ``sqrt(var + eps)`` over the positions (Eqs. 5-6): (N, C, H, W) -> (N, C, 1, 1) each."""
    return f.mean((2, 3), keepdim=True), (f.var((2, 3), keepdim=True, correction=0) + eps).sqrt()


def adain_content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Huang & Belongie 2017, Eq. 12: the distance between the encoder's features of the output,
    ``f(g(t))``, and the AdaIN target ``t`` itself (not the content image's features), (N, C, H, W) each.

    The paper writes a Euclidean norm; the authors' code takes the mean squared error, as here.

    Chapter 10.
    """
    _check_features(features, "adain_content_loss's features")
    if features.shape != target.shape:
        raise ValueError(f"adain_content_loss compares f(g(t)) with t, got {tuple(features.shape)} and {tuple(target.shape)}")
    return (features - target).pow(2).mean()


def style_statistics_loss(features: Mapping[str, torch.Tensor], style_features: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """Huang & Belongie 2017, Eq. 13: ``sum_i ||mu(phi_i(g(t))) - mu(phi_i(s))|| + ||sigma(phi_i(g(t))) - sigma(phi_i(s))||``
    over the layers ``i`` of ``style_features`` (relu1_1 ... relu4_1 for VGG-19); squared errors averaged over the
    channels, as the PyTorch port naoto0804/pytorch-AdaIN computes them. The authors' Torch code
    (xunhuang1995/AdaIN-style) sums them over the channels instead (and averages over the batch), so its style weight
    lambda is not interchangeable with one used here.

    Args:
        features: the output's features per layer, (N, C_i, H_i, W_i).
        style_features: the style images' features per layer, (N or 1, C_i, H'_i, W'_i).

    Chapter 10.
    """
    missing = [name for name in style_features if name not in features]
    if missing:
        raise ValueError(f"style_statistics_loss lacks the output's features for {missing}")
    total = 0.0
    for name, fs in style_features.items():
        (mu, sigma), (mu_s, sigma_s) = _mean_std(features[name]), _mean_std(fs)  # (N, C, 1, 1) each
        total = total + (mu - mu_s).pow(2).mean() + (sigma - sigma_s).pow(2).mean()
    return torch.as_tensor(total)


__all__ = ["adain", "adain_content_loss", "content_loss", "gram_matrix", "style_loss", "style_statistics_loss", "total_variation_loss"]
