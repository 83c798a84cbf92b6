"""Adversarial objectives, one pure function each: GAN losses on discriminator *logits*, Wasserstein losses on critic scores.

The discriminator returns a logit ``l``; ``D(x) = sigmoid(l)``. Every ``log D`` and ``log(1 - D)``
is computed through ``binary_cross_entropy_with_logits`` or ``softplus``, which never evaluate
``log(0)``:

    log D(x)       = log sigmoid(l)  = -softplus(-l)
    log(1 - D(x))  = log sigmoid(-l) = -softplus(l)

Each function returns a scalar (the mean over the batch), ready for ``.backward()``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _check_logits(name: str, logits: torch.Tensor) -> None:
    if not isinstance(logits, torch.Tensor) or not logits.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor of discriminator logits, got {type(logits).__name__}")
    if logits.dim() not in (1, 2) or (logits.dim() == 2 and logits.shape[1] != 1):
        raise ValueError(f"{name} must have shape (N,) or (N, 1) (one logit per image), got {tuple(logits.shape)}")


def d_loss_bce(real_logits: torch.Tensor, fake_logits: torch.Tensor, real_label: float = 1.0) -> torch.Tensor:
    """Discriminator loss of the original GAN (Goodfellow et al. 2014, Eq. 1), to minimize.

        L_D = -E_x[log D(x)] - E_z[log(1 - D(G(z)))]

    i.e. binary cross-entropy with target 1 for real and 0 for fake. ``real_label < 1`` is
    *one-sided label smoothing* (Salimans et al. 2016, Sec. 3.4): the real target becomes e.g. 0.9,
    so D stops pushing its real logits to infinity; the fake target stays 0 (smoothing it too
    would reward G's samples where there is no data).

    Args:
        real_logits: D's logits on real images, (N,) or (N, 1).
        fake_logits: D's logits on generated images, (M,) or (M, 1).
        real_label: target for real images, in (0, 1]; 1.0 is the paper's loss.

    Chapters 1 and 4.
    """
    _check_logits("real_logits", real_logits)
    _check_logits("fake_logits", fake_logits)
    if not 0.0 < real_label <= 1.0:
        raise ValueError(f"real_label must be in (0, 1], got {real_label}")
    loss_real = F.binary_cross_entropy_with_logits(real_logits, torch.full_like(real_logits, real_label))  # ()
    loss_fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))  # ()
    return loss_real + loss_fake


def g_loss_minimax(fake_logits: torch.Tensor) -> torch.Tensor:
    """The *saturating* generator loss of the minimax game (Goodfellow et al. 2014, Eq. 1), to minimize.

        L_G = E_z[log(1 - D(G(z)))] = -E_z[softplus(l)]

    When D confidently rejects a sample (l -> -inf), the gradient of softplus(l) vanishes, so G
    learns nothing early in training -- the reason for :func:`g_loss_nonsaturating`.

    Args:
        fake_logits: D's logits on generated images, (N,) or (N, 1).

    Chapters 1 and 4.
    """
    _check_logits("fake_logits", fake_logits)
    return -F.softplus(fake_logits).mean()  # log(1 - sigmoid(l)) = -softplus(l)


def g_loss_nonsaturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """The *non-saturating* generator loss (Goodfellow et al. 2014, Sec. 3, below Eq. 1), to minimize.

        L_G = -E_z[log D(G(z))] = E_z[softplus(-l)]

    Same fixed point as the minimax loss, but strong gradients exactly where D rejects G's samples.
    Equal to BCE with target 1 on the fake logits.

    Args:
        fake_logits: D's logits on generated images, (N,) or (N, 1).

    Chapter 1.
    """
    _check_logits("fake_logits", fake_logits)
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def d_loss_hinge(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Hinge discriminator loss (Miyato et al. 2018, spectral normalization, Eq. 16; Lim & Ye 2017).

        L_D = E_x[max(0, 1 - D(x))] + E_z[max(0, 1 + D(G(z)))]

    Here ``D`` is the raw logit (no sigmoid). D is only penalised on samples inside the margin.

    Args:
        real_logits: D's logits on real images, (N,) or (N, 1).
        fake_logits: D's logits on generated images, (M,) or (M, 1).

    Chapter 2.
    """
    _check_logits("real_logits", real_logits)
    _check_logits("fake_logits", fake_logits)
    return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()


def g_loss_hinge(fake_logits: torch.Tensor) -> torch.Tensor:
    """Hinge generator loss (Miyato et al. 2018, Eq. 17): ``L_G = -E_z[D(G(z))]`` on raw logits.

    Args:
        fake_logits: D's logits on generated images, (N,) or (N, 1).

    Chapter 2.
    """
    _check_logits("fake_logits", fake_logits)
    return -fake_logits.mean()


def d_loss_lsgan(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """Least-squares discriminator loss (Mao et al. 2017, Eq. 2 with a = 0, b = 1), to minimize.

        L_D = 1/2 E_x[(D(x) - 1)^2] + 1/2 E_z[D(G(z))^2]

    CycleGAN's choice (Zhu et al. 2017, Sec. 4): D regresses reals to 1 and fakes to 0. The factor 1/2 is
    from Zhu et al.'s App. 7.1 ("we divide the objective by 2 while optimizing D"); it only scales D's rate.
    Mao et al.'s argument for the squares concerns the *generator's* loss (:func:`g_loss_lsgan`).
    Scores of any shape (one per image, or a PatchGAN's map of patch scores) are averaged.

    Args:
        real_scores: D's outputs on real images, any shape (N, ...).
        fake_scores: D's outputs on generated images, any shape (M, ...).

    Chapter 7.
    """
    return 0.5 * ((real_scores - 1).pow(2).mean() + fake_scores.pow(2).mean())


def g_loss_lsgan(fake_scores: torch.Tensor) -> torch.Tensor:
    """Least-squares generator loss (Mao et al. 2017, Eq. 2 with c = 1), to minimize.

        L_G = E_z[(D(G(z)) - 1)^2]

    Mao et al. write a factor 1/2; CycleGAN's code (and genlearn) leave it out, which only scales
    G's learning rate. Their argument: a fake that D already scores as real but that lies far from the
    data still gets a gradient proportional to its distance from the target score, where the log loss's
    gradient has faded. Scores of any shape are averaged.

    Chapter 7.
    """
    return (fake_scores - 1).pow(2).mean()


D_LOSSES = {"bce": d_loss_bce, "hinge": d_loss_hinge, "lsgan": d_loss_lsgan}
G_LOSSES = {"minimax": g_loss_minimax, "nonsaturating": g_loss_nonsaturating, "hinge": g_loss_hinge, "lsgan": g_loss_lsgan}



# --- Wasserstein GAN (chapters 4-5): a critic's raw scores, no sigmoid ---------------------------------


def critic_loss_wasserstein(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """Wasserstein critic loss (Arjovsky et al. 2017, Eq. 3 and Algorithm 1), to minimize.

        L_C = E_z[f(G(z))] - E_x[f(x)]

    ``f`` is the critic: raw scores, no sigmoid, no log. Minimizing ``L_C`` over 1-Lipschitz ``f``
    maximizes ``E_x[f(x)] - E_z[f(G(z))]``, whose supremum is the Wasserstein-1 distance
    (Kantorovich-Rubinstein duality, Eq. 2), so ``-L_C`` is the critic's estimate of ``W(P_r, P_g)``
    (up to the Lipschitz constant that clipping allows). These are also the first two terms of
    WGAN-GP's critic loss (Gulrajani et al. 2017, Eq. 3); the third is :func:`gradient_penalty`.

    Args:
        real_scores: the critic's scores on real images, (N,) or (N, 1).
        fake_scores: the critic's scores on generated images, (M,) or (M, 1).

    Chapters 4 and 5.
    """
    _check_logits("real_scores", real_scores)
    _check_logits("fake_scores", fake_scores)
    return fake_scores.mean() - real_scores.mean()


def g_loss_wasserstein(fake_scores: torch.Tensor) -> torch.Tensor:
    """Wasserstein generator loss (Arjovsky et al. 2017, Algorithm 1, line 10), to minimize.

        L_G = -E_z[f(G(z))]

    The only term of ``W`` that depends on G. Same formula as :func:`g_loss_hinge`; the difference
    lies in how the critic was trained.

    Args:
        fake_scores: the critic's scores on generated images, (N,) or (N, 1).

    Chapter 4.
    """
    _check_logits("fake_scores", fake_scores)
    return -fake_scores.mean()


__all__ = [
    "D_LOSSES", "G_LOSSES", "critic_loss_wasserstein", "d_loss_bce", "d_loss_hinge", "d_loss_lsgan", "g_loss_hinge",
    "g_loss_lsgan", "g_loss_minimax", "g_loss_nonsaturating", "g_loss_wasserstein",
]
