"""Denoising diffusion (chapter 13): schedules, the forward process and its posterior, samplers, the ideal denoiser
and the score, the variational bound, and diagnostics. Every name is re-exported here.

* :mod:`genlearn.diffusion.schedules` -- linear and cosine noise schedules, the tables they determine.
* :mod:`genlearn.diffusion.process` -- q(x_t | x_0), the posterior q(x_{t-1} | x_t, x_0), eps / x0 / v.
* :mod:`genlearn.diffusion.samplers` -- DDPM ancestral sampling, DDIM, Heun on the probability-flow ODE.
* :mod:`genlearn.diffusion.ideal` -- the ideal denoiser of a finite training set, Tweedie's formula, analytic scores.
* :mod:`genlearn.diffusion.likelihood` -- the variational bound in bits per dimension.
* :mod:`genlearn.diffusion.diagnostics` -- "my samples are noise": the loss by noise level and the x_0 guesses.
"""

from genlearn.diffusion.process import (
    PARAMETERIZATIONS,
    check_parameterization,
    q_posterior,
    q_sample,
    training_target,
    v_from,
    x0_eps_at,
)
from genlearn.diffusion.schedules import NoiseSchedule, cosine_betas, gather, linear_betas
from genlearn.diffusion.diagnostics import loss_by_noise_level, x0_predictions
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
from genlearn.diffusion.samplers import (
    SAMPLERS,
    ddim_sample,
    ddpm_sample,
    heun_sample,
    karras_sigmas,
    network_evaluations,
    step_indices,
    step_of_sigma,
)
