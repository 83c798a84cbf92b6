"""The forward process in closed form, its posterior, and the network's three parameterizations.

Ho, Jain & Abbeel (2020)::

    Eq. 4:     q(x_t | x_0) = N(x_t; sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I),  i.e.  x_t = sqrt(ab) x_0 + sqrt(1 - ab) eps
    Eqs. 6-7:  q(x_{t-1} | x_t, x_0) = N(mu_tilde, beta_tilde_t I),
               mu_tilde = sqrt(ab_{t-1}) beta_t / (1 - ab_t) x_0 + sqrt(alpha_t) (1 - ab_{t-1}) / (1 - ab_t) x_t,
               beta_tilde_t = (1 - ab_{t-1}) / (1 - ab_t) beta_t

A network may predict the noise eps (Ho et al.), the clean image x_0, or the velocity
v = sqrt(ab) eps - sqrt(1 - ab) x_0 (Salimans & Ho 2022, Sec. 4); each determines the other two given x_t.
Step indices ``t`` are 0-based (see :mod:`genlearn.diffusion.schedules`); fractional ones interpolate the schedule.
"""

from __future__ import annotations

import torch

from genlearn.diffusion.schedules import NoiseSchedule, gather

PARAMETERIZATIONS = ("eps", "x0", "v")


def _ab(schedule: NoiseSchedule, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """alpha_bar at t (N,) as (N, 1, 1, 1) in like's dtype and device (fractional t interpolated)."""
    return schedule.alpha_bar_at(t).to(device=like.device, dtype=like.dtype).view(-1, *([1] * (like.dim() - 1)))


def check_parameterization(parameterization: str) -> str:
    """``parameterization`` if it is one of ``"eps"``, ``"x0"``, ``"v"``; else ValueError.

    Chapter 13.
    """
    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(f"parameterization must be one of {PARAMETERIZATIONS}, got {parameterization!r}")
    return parameterization


def q_sample(schedule: NoiseSchedule, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps (Ho et al. Eq. 4): x0, noise (N, ...), t (N,).

    Chapter 13.
    """
    if x0.shape != noise.shape or t.shape != (x0.shape[0],):
        raise ValueError(f"x0 and noise must have one shape and t shape (N,), got {tuple(x0.shape)}, {tuple(noise.shape)}, {tuple(t.shape)}")
    ab = _ab(schedule, t, x0)
    return ab.sqrt() * x0 + (1 - ab).sqrt() * noise


def q_posterior(schedule: NoiseSchedule, x0: torch.Tensor, xt: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean (N, ...) and variance (N, 1, ...) of q(x_{t-1} | x_t, x_0) (Ho et al. Eqs. 6-7), integer t (N,).

    Chapter 13.
    """
    mean = gather(schedule.posterior_mean_coef_x0, t, x0) * x0 + gather(schedule.posterior_mean_coef_xt, t, xt) * xt
    return mean, gather(schedule.posterior_variance, t, x0)


def v_from(schedule: NoiseSchedule, x0: torch.Tensor, eps: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """The velocity v = sqrt(alpha_bar) eps - sqrt(1 - alpha_bar) x_0 (Salimans & Ho 2022, Sec. 4).

    Chapter 13.
    """
    ab = _ab(schedule, t, x0)
    return ab.sqrt() * eps - (1 - ab).sqrt() * x0


def training_target(schedule: NoiseSchedule, x0: torch.Tensor, eps: torch.Tensor, t: torch.Tensor, parameterization: str) -> torch.Tensor:
    """What the network regresses on: eps, x_0 or v.

    Chapter 13.
    """
    check_parameterization(parameterization)
    if parameterization == "eps":
        return eps
    return x0 if parameterization == "x0" else v_from(schedule, x0, eps, t)


def x0_eps_at(schedule: NoiseSchedule, xt: torch.Tensor, t: torch.Tensor, output: torch.Tensor, parameterization: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The network's ``output`` at (x_t, t) read as the pair (x_0 guess, eps guess), by inverting Eq. 4:

        eps:  x_0 = (x_t - sqrt(1 - ab) eps) / sqrt(ab)
        x0:   eps = (x_t - sqrt(ab) x_0) / sqrt(1 - ab)
        v:    x_0 = sqrt(ab) x_t - sqrt(1 - ab) v,   eps = sqrt(1 - ab) x_t + sqrt(ab) v

    Chapter 13.
    """
    check_parameterization(parameterization)
    ab = _ab(schedule, t, xt)
    if parameterization == "eps":
        return (xt - (1 - ab).sqrt() * output) / ab.sqrt(), output
    if parameterization == "x0":
        return output, (xt - ab.sqrt() * output) / (1 - ab).sqrt()
    return ab.sqrt() * xt - (1 - ab).sqrt() * output, (1 - ab).sqrt() * xt + ab.sqrt() * output


__all__ = ["PARAMETERIZATIONS", "check_parameterization", "q_posterior", "q_sample", "training_target", "v_from", "x0_eps_at"]
