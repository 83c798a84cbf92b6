"""Sampling from a trained denoiser: DDPM's ancestral chain, DDIM, and Heun on the probability-flow ODE.

Every sampler takes ``denoise(x_t, t) -> (x0_hat, eps_hat)``: x_t (N, ...), t (N,) float64 step indices on the CPU
(0-based, possibly fractional: index i is the paper's t = i + 1; float64 because Apple's MPS has none, so a wrapper
moves ``t`` to its network's device), and the two guesses (N, ...) in x_t's dtype and device. A trained network is
wrapped with :func:`genlearn.diffusion.process.x0_eps_at`; tests pass the exact denoiser of Gaussian data.

* :func:`ddpm_sample` -- Ho, Jain & Abbeel (2020), Algorithm 2: T stochastic steps.
* :func:`ddim_sample` -- Song, Meng & Ermon (2021), Eq. 12 on a sub-sequence tau of the steps; eta = 0 is deterministic,
  eta = 1 with tau = every step is DDPM with the posterior variance.
* :func:`heun_sample` -- Karras, Aittala, Aila & Laine (2022), Algorithm 1: Heun's method on the probability-flow ODE
  in sigma, about 2 * steps network evaluations.

The starting noise ``x_T`` is drawn with ``torch.randn(shape, generator=generator)`` on the CPU and then moved to
``device``, and so is every later draw, so one seed gives the same samples on every device.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import torch

from genlearn.diffusion.schedules import NoiseSchedule
from genlearn.runtime import progress_bar

SAMPLERS = ("ddpm", "ddim", "heun")
VARIANCES = ("beta", "posterior")

Denoiser = Callable[[torch.Tensor, torch.Tensor], "tuple[torch.Tensor, torch.Tensor]"]


def _start(shape: Sequence[int], x_T: torch.Tensor | None, generator: torch.Generator | None,
           device: str | torch.device) -> torch.Tensor:
    """x_T (N, ...) on ``device``: the given one, or N(0, I) drawn on the CPU from ``generator``."""
    shape = tuple(int(n) for n in shape)
    if x_T is None:
        return torch.randn(shape, generator=generator).to(device)
    if tuple(x_T.shape) != shape:
        raise ValueError(f"x_T must have the sample shape {shape}, got {tuple(x_T.shape)}")
    return x_T.to(device)


def _noise(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """z ~ N(0, I) shaped like x, drawn on the CPU (device-independent for a seed), in x's dtype and device."""
    return torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)


def _t(i: float, x: torch.Tensor) -> torch.Tensor:
    """The step index i for every sample, (N,) float64 on the CPU."""
    return torch.full((x.shape[0],), float(i), dtype=torch.float64)


def step_indices(timesteps: int, steps: int) -> torch.Tensor:
    """DDIM's sub-sequence tau of the step indices (Song et al. 2021, Sec. 4.2), int64 (S,), increasing:
    round(linspace(0, T - 1, S)), so both the first index 0 and the last T - 1 are visited; S = 1 gives [T - 1].

    Args:
        timesteps: T, the number of steps the model was trained on.
        steps: S, how many of them to visit, 1 <= S <= T.

    Chapter 13.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= timesteps:
        raise ValueError(f"steps must be an int in [1, T] = [1, {timesteps}], got {steps!r}")
    if steps == 1:
        return torch.tensor([timesteps - 1], dtype=torch.long)
    return torch.linspace(0, timesteps - 1, steps, dtype=torch.float64).round().long()  # (S,)


@torch.no_grad()
def ddpm_sample(denoise: Denoiser, schedule: NoiseSchedule, shape: Sequence[int], *,
                generator: torch.Generator | None = None, device: str | torch.device = "cpu", variance: str = "beta",
                clip: bool = True, x_T: torch.Tensor | None = None, progress: bool = False) -> torch.Tensor:
    """Ancestral sampling over all T steps (Ho et al. 2020, Algorithm 2), written with the posterior of Eqs. 6-7:

        x_{t-1} = mu_tilde(x_t, x0_hat) + sigma_t z,   z ~ N(0, I) for t > 1, z = 0 at the last step,

    where x0_hat is the denoiser's guess, clipped to [-1, 1] when ``clip`` (the official code's ``clip_denoised``).
    Unclipped, mu_tilde(x_t, x0_hat) equals Algorithm 2's mean
    1/sqrt(alpha_t) (x_t - beta_t / sqrt(1 - alpha_bar_t) eps_hat).
    sigma_t^2 is beta_t (``variance="beta"``) or beta_tilde_t (``"posterior"``); Sec. 3.2 reports similar results.

    Args:
        denoise: (x_t (N, ...), t (N,) float64) -> (x0_hat, eps_hat), both (N, ...).
        schedule: the noise schedule the denoiser was trained with.
        shape: (N, ...), the shape of the batch of samples.
        generator: a CPU generator for x_T and every z.
        device: where x_t and the denoiser's inputs live.
        variance: ``"beta"`` or ``"posterior"``.
        clip: clip x0_hat to [-1, 1] (images) before the posterior mean.
        x_T: the starting noise (N, ...); drawn from ``generator`` when None.
        progress: show a progress bar.

    Returns:
        x_0 (N, ...) on ``device``.

    Chapter 13.
    """
    if variance not in VARIANCES:
        raise ValueError(f"variance must be one of {VARIANCES}, got {variance!r}")
    var = schedule.betas if variance == "beta" else schedule.posterior_variance  # (T,) float64
    coef_x0, coef_xt = schedule.posterior_mean_coef_x0, schedule.posterior_mean_coef_xt  # (T,) Eq. 7
    x = _start(shape, x_T, generator, device)  # (N, ...)
    bar = progress_bar(schedule.T, desc="DDPM", enabled=progress)
    try:
        for i in reversed(range(schedule.T)):
            x0_hat, _ = denoise(x, _t(i, x))  # (N, ...)
            if clip:
                x0_hat = x0_hat.clamp(-1, 1)
            x_prev = coef_x0[i].item() * x0_hat + coef_xt[i].item() * x  # Eq. 7's mu_tilde
            if i > 0:
                x_prev = x_prev + math.sqrt(var[i].item()) * _noise(x, generator)
            x = x_prev
            bar.update(1)
    finally:
        bar.close()
    return x


@torch.no_grad()
def ddim_sample(denoise: Denoiser, schedule: NoiseSchedule, shape: Sequence[int], *, steps: int = 50, eta: float = 0.0,
                generator: torch.Generator | None = None, device: str | torch.device = "cpu", clip: bool = True,
                x_T: torch.Tensor | None = None, progress: bool = False) -> torch.Tensor:
    """DDIM (Song, Meng & Ermon 2021, Eq. 12) over tau = :func:`step_indices` (T, steps), from the last index down:

        x_prev = sqrt(ab_prev) x0_hat + sqrt(1 - ab_prev - sigma^2) eps_hat + sigma z,
        sigma  = eta sqrt((1 - ab_prev) / (1 - ab)) sqrt(1 - ab / ab_prev)            (Eq. 16)

    with ab = alpha_bar at the current index and ab_prev at the previous one in tau (1 after the first index, so the
    last update returns x0_hat). eta = 0 is the deterministic DDIM (no noise is drawn); eta = 1 with steps = T is DDPM
    with sigma_t^2 = beta_tilde_t, drawing its noise in the same order as :func:`ddpm_sample`. When ``clip``, x0_hat
    is clipped to [-1, 1] and eps_hat recomputed from it, eps = (x_t - sqrt(ab) x0) / sqrt(1 - ab), as the official
    DDIM code does.

    Args:
        denoise: (x_t (N, ...), t (N,) float64) -> (x0_hat, eps_hat), both (N, ...).
        schedule: the noise schedule the denoiser was trained with.
        shape: (N, ...), the shape of the batch of samples.
        steps: how many of the T indices to visit (network evaluations), 1 <= steps <= T.
        eta: 0 (deterministic) to 1 (DDPM-like), Eq. 16.
        generator: a CPU generator for x_T and every z.
        device: where x_t and the denoiser's inputs live.
        clip: clip x0_hat to [-1, 1] (images).
        x_T: the starting noise (N, ...); drawn from ``generator`` when None.
        progress: show a progress bar.

    Returns:
        x_0 (N, ...) on ``device``.

    Chapter 13.
    """
    if not 0.0 <= eta <= 1.0:
        raise ValueError(f"eta must lie in [0, 1] (0 = deterministic DDIM, 1 = DDPM-like), got {eta!r}")
    tau = step_indices(schedule.T, steps)  # (S,)
    alpha_bar = schedule.alpha_bar  # (T,) float64
    x = _start(shape, x_T, generator, device)  # (N, ...)
    bar = progress_bar(len(tau), desc="DDIM", enabled=progress)
    try:
        for k in reversed(range(len(tau))):
            i = int(tau[k])
            ab = alpha_bar[i].item()
            ab_prev = alpha_bar[int(tau[k - 1])].item() if k > 0 else 1.0
            x0_hat, eps_hat = denoise(x, _t(i, x))  # (N, ...) each
            if clip:
                x0_hat = x0_hat.clamp(-1, 1)
                eps_hat = (x - math.sqrt(ab) * x0_hat) / math.sqrt(1 - ab)  # invert Eq. 4 for the clipped x0
            sigma = eta * math.sqrt((1 - ab_prev) / (1 - ab)) * math.sqrt(1 - ab / ab_prev)  # Eq. 16
            x_prev = math.sqrt(ab_prev) * x0_hat + math.sqrt(max(1 - ab_prev - sigma**2, 0.0)) * eps_hat  # Eq. 12
            if sigma > 0:
                x_prev = x_prev + sigma * _noise(x, generator)
            x = x_prev
            bar.update(1)
    finally:
        bar.close()
    return x


SIGMA_MAX = 80.0  # Karras et al. (2022) Table 1, their own sampler's highest noise level (images in [-1, 1])


def karras_sigmas(steps: int, sigma_min: float, sigma_max: float, rho: float = 7.0) -> torch.Tensor:
    """Karras et al. (2022) Eq. 5's noise levels, float64 (steps + 1,), from sigma_max down to sigma_min, then 0:

        sigma_i = (sigma_max^(1/rho) + i / (N - 1) (sigma_min^(1/rho) - sigma_max^(1/rho)))^rho,   i < N,   sigma_N = 0

    Args:
        steps: N >= 1, the number of nonzero levels (N = 1 gives [sigma_max, 0]).
        sigma_min: the lowest nonzero level, 0 < sigma_min <= sigma_max.
        sigma_max: the highest level.
        rho: the warping; larger spends more steps at low noise (the paper uses 7).

    Chapter 13.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")
    if not 0 < sigma_min <= sigma_max:
        raise ValueError(f"the noise levels must satisfy 0 < sigma_min <= sigma_max, "
                         f"got {sigma_min!r} and {sigma_max!r}")
    if not rho > 0:
        raise ValueError(f"rho must be > 0, got {rho!r}")
    lo, hi = sigma_min ** (1 / rho), sigma_max ** (1 / rho)
    ramp = torch.linspace(0, 1, steps, dtype=torch.float64) if steps > 1 else torch.zeros(1, dtype=torch.float64)
    sigmas = (hi + ramp * (lo - hi)) ** rho  # (N,) Eq. 5
    sigmas[0] = sigma_max  # exact ends: the pow round trip can miss them by an ulp
    if steps > 1:
        sigmas[-1] = sigma_min
    return torch.cat([sigmas, torch.zeros(1, dtype=torch.float64)])  # (N + 1,)


def step_of_sigma(schedule: NoiseSchedule, sigma: torch.Tensor | float) -> torch.Tensor:
    """The fractional step index whose noise level is ``sigma``: the inverse of :meth:`~genlearn.diffusion.schedules.NoiseSchedule.alpha_bar_at`,
    which interpolates log sigma linearly between neighbouring steps (sigma = sqrt((1 - ab) / ab), Karras et al. 2022
    Table 1's VP column). Integer indices come back at the table's sigmas.

    Args:
        schedule: the noise schedule.
        sigma: noise levels (any shape) within [schedule.sigmas[0], schedule.sigmas[-1]].

    Returns:
        float64 step indices in [0, T - 1], sigma's shape.

    Chapter 13.
    """
    sigma = torch.as_tensor(sigma, dtype=torch.float64).cpu()
    table = schedule.sigmas.log()  # (T,) increasing
    lo_s, hi_s = schedule.sigmas[0].item(), schedule.sigmas[-1].item()
    slack = 1e-9  # relative; absorbs rounding at the ends
    inside = (sigma >= lo_s * (1 - slack)) & (sigma <= hi_s * (1 + slack))  # False for NaN
    if sigma.numel() == 0 or not bool(inside.all()):
        got = f"{sigma.min().item():g} to {sigma.max().item():g}" if sigma.numel() else "an empty tensor"
        raise ValueError(f"sigma must lie in the schedule's range [{lo_s:g}, {hi_s:g}], got {got}")
    log_sigma = sigma.log().clamp(table[0], table[-1])
    lo = (torch.searchsorted(table, log_sigma.reshape(-1), right=True) - 1).clamp(0, schedule.T - 2)  # (M,)
    w = (log_sigma.reshape(-1) - table[lo]) / (table[lo + 1] - table[lo])  # (M,) in [0, 1]
    return (lo.double() + w).reshape(sigma.shape)


@torch.no_grad()
def heun_sample(denoise: Denoiser, schedule: NoiseSchedule, shape: Sequence[int], *, steps: int = 18, rho: float = 7.0,
                sigma_max: float | None = SIGMA_MAX, generator: torch.Generator | None = None, device: str | torch.device = "cpu",
                x_T: torch.Tensor | None = None, progress: bool = False) -> torch.Tensor:
    """Heun's method on the probability-flow ODE (Karras et al. 2022, Algorithm 1, deterministic: S_churn = 0).

    In Karras' variables x = x_t / sqrt(alpha_bar) and sigma = sqrt((1 - alpha_bar) / alpha_bar) (Eq. 4 with
    s = sqrt(alpha_bar)), the ODE of Eqs. 1 and 3 is

        dx/dsigma = (x - D(x; sigma)) / sigma,   D(x; sigma) = x0_hat of denoise(sqrt(ab) x, step_of_sigma(sigma)),

    with ab = 1 / (1 + sigma^2). Starting from x = sigma_max x_T on the levels of :func:`karras_sigmas` (sigma_max =
    the smaller of ``sigma_max`` and schedule.sigmas[-1], sigma_min = schedule.sigmas[0]), each step takes an Euler
    step and corrects it with the slope at its end (the trapezoid rule), except the last step to sigma = 0, which
    stays Euler. That is 2 * steps - 1 network evaluations. Nothing is drawn when ``x_T`` is given.

    The cap is Karras et al.'s sigma_max = 80 (Table 1) for images in [-1, 1]: past it x_t holds nothing of
    the image, and the cosine schedule's own largest level, about 20,000 at T = 1000 (157 for the linear one), would
    spend most of a short ladder of Eq. 5's levels up there.

    Args:
        denoise: (x_t (N, ...), t (N,) float64) -> (x0_hat, eps_hat), both (N, ...).
        schedule: the noise schedule the denoiser was trained with.
        shape: (N, ...), the shape of the batch of samples.
        steps: the number of nonzero noise levels (>= 1).
        rho: Eq. 5's warping of the levels.
        sigma_max: the highest level, at most the schedule's (None: the schedule's, uncapped).
        generator: a CPU generator for x_T.
        device: where x and the denoiser's inputs live.
        x_T: the starting noise (N, ...), ~ N(0, I); drawn from ``generator`` when None.
        progress: show a progress bar.

    Returns:
        x at sigma = 0, which is x_0 (N, ...) on ``device``.

    Chapter 13.
    """
    top = schedule.sigmas[-1].item() if sigma_max is None else min(sigma_max, schedule.sigmas[-1].item())
    sigmas = karras_sigmas(steps, schedule.sigmas[0].item(), top, rho)  # (steps + 1,)
    t_of = step_of_sigma(schedule, sigmas[:-1]).tolist()  # (steps,) the fractional index of each nonzero level
    x = _start(shape, x_T, generator, device) * sigmas[0].item()  # (N, ...) in Karras' x

    def slope(x: torch.Tensor, k: int) -> torch.Tensor:
        """dx/dsigma = (x - D(x; sigma)) / sigma at sigma = sigmas[k], Eq. 3's score turned into Eq. 1's ODE."""
        sigma = sigmas[k].item()
        ab = 1 / (1 + sigma**2)
        x0_hat, _ = denoise(math.sqrt(ab) * x, _t(t_of[k], x))  # (N, ...)
        return (x - x0_hat) / sigma

    bar = progress_bar(steps, desc="Heun", enabled=progress)
    try:
        for k in range(steps):
            s, s_next = sigmas[k].item(), sigmas[k + 1].item()
            d = slope(x, k)  # (N, ...)
            x_next = x + (s_next - s) * d  # Euler
            if s_next > 0:
                x_next = x + (s_next - s) * 0.5 * (d + slope(x_next, k + 1))  # Heun's correction
            x = x_next
            bar.update(1)
    finally:
        bar.close()
    return x


def network_evaluations(sampler: str, steps: int | None, timesteps: int) -> int:
    """How many times ``sampler`` calls the denoiser: T for DDPM (Ho et al. Algorithm 2), ``steps`` for DDIM
    (Song et al. Eq. 12), 2 * steps - 1 for Heun (Karras et al. Algorithm 1). ``steps=None`` means the sampler's
    default (DDIM 50, Heun 18); DDPM ignores it.

    Args:
        sampler: one of ``SAMPLERS``.
        steps: the sampler's ``steps`` argument, or None.
        timesteps: T, the schedule's length.

    Chapter 13.
    """
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")
    if sampler == "ddpm":
        return timesteps
    if sampler == "ddim":
        return len(step_indices(timesteps, 50 if steps is None else steps))
    steps = 18 if steps is None else steps
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")
    return 2 * steps - 1


__all__ = ["SAMPLERS", "SIGMA_MAX", "ddim_sample", "ddpm_sample", "heun_sample", "karras_sigmas", "network_evaluations",
           "step_indices", "step_of_sigma"]
