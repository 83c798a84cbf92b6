"""Objectives, one pure function each, grouped by kind (every name is re-exported here).

* :mod:`genlearn.losses.adversarial` -- GAN losses on logits, Wasserstein losses on critic scores.
* :mod:`genlearn.losses.penalties` -- gradient penalties of D / the critic (R1, WGAN-GP).
* :mod:`genlearn.losses.elbo` -- the VAE's ELBO, its terms and the importance-weighted bound.
* :mod:`genlearn.losses.reconstruction` -- L1 losses of image translation (CycleGAN's cycle and identity, pix2pix's lambda * L1).
* :mod:`genlearn.losses.pix2pix` -- pix2pix's conditional GAN losses on patch logits, and the watermark remover's gate loss.
* :mod:`genlearn.losses.style` -- neural style transfer: Gram matrices, content, style and TV losses, AdaIN.
* :mod:`genlearn.losses.stylegan` -- StyleGAN2's path length regularizer.
* :mod:`genlearn.losses.diffusion` -- denoising diffusion: the simple loss, Gaussian KL, the discretized decoder.
"""

from genlearn.losses.adversarial import (
    D_LOSSES,
    G_LOSSES,
    critic_loss_wasserstein,
    d_loss_bce,
    d_loss_hinge,
    d_loss_lsgan,
    g_loss_hinge,
    g_loss_lsgan,
    g_loss_minimax,
    g_loss_nonsaturating,
    g_loss_wasserstein,
)
from genlearn.losses.diffusion import discretized_gaussian_log_likelihood, normal_kl, simple_loss
from genlearn.losses.elbo import (
    LOG_2PI,
    bernoulli_log_likelihood,
    binarize,
    check_targets,
    elbo,
    gaussian_log_likelihood,
    iw_log_likelihood,
    kl_divergence,
    log_normal,
    reparameterize,
)
from genlearn.losses.penalties import gradient_penalty, r1_penalty
from genlearn.losses.pix2pix import d_loss_patch_bce, g_loss_patch_bce, mark_mask_loss
from genlearn.losses.reconstruction import cycle_consistency_loss, identity_loss, l1_reconstruction_loss
from genlearn.losses.stylegan import path_length_penalty, path_lengths
from genlearn.losses.style import (
    adain,
    adain_content_loss,
    content_loss,
    gram_matrix,
    style_loss,
    style_statistics_loss,
    total_variation_loss,
)

__all__ = [
    "path_length_penalty", "path_lengths", "discretized_gaussian_log_likelihood", "normal_kl", "simple_loss",
    "D_LOSSES", "G_LOSSES", "LOG_2PI", "adain", "adain_content_loss", "bernoulli_log_likelihood", "binarize", "check_targets", "critic_loss_wasserstein",
    "content_loss", "cycle_consistency_loss", "d_loss_bce", "d_loss_hinge", "d_loss_lsgan", "d_loss_patch_bce", "elbo", "g_loss_hinge",
    "g_loss_lsgan", "g_loss_minimax", "g_loss_nonsaturating", "g_loss_patch_bce", "g_loss_wasserstein",
    "gaussian_log_likelihood", "gradient_penalty", "gram_matrix", "identity_loss", "iw_log_likelihood", "kl_divergence",
    "l1_reconstruction_loss", "log_normal", "mark_mask_loss", "r1_penalty", "reparameterize", "style_loss", "style_statistics_loss", "total_variation_loss",
]
