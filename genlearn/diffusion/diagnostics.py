"""When a diffusion model's samples are noise: where along the noise levels is the denoiser failing?

Two checks answer it without sampling (which compounds every step's error):

* :func:`loss_by_noise_level` -- the eps and x_0 errors at chosen step indices against what predicting nothing would
  score. A healthy model beats "no noise" (eps_hat = 0, error 1 per pixel) at every level and the batch mean at low
  noise; a model that only matches the baselines has learned nothing at those levels (a schedule whose last level
  is not noisy enough, a t that never reaches the network, an untrained EMA).
* :func:`x0_predictions` -- the clean image the model guesses from x_t at several t: sharp digits at low t, the
  average digit at high t. Noise in the guesses at low t is a broken network; identical guesses at all t, a network
  that ignores t.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch

from genlearn.diffusion.process import q_sample
from genlearn.diffusion.schedules import NoiseSchedule

Denoise = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def _noised(schedule: NoiseSchedule, x0: torch.Tensor, t: int, generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    if not 0 <= t < schedule.T:
        raise ValueError(f"step indices must lie in [0, {schedule.T - 1}], got {t}")
    eps = torch.randn(x0.shape, generator=generator).to(x0.device)
    tt = torch.full((x0.shape[0],), float(t), dtype=torch.float64)
    return q_sample(schedule, x0, tt, eps), eps, tt


@torch.no_grad()
def loss_by_noise_level(denoise: Denoise, schedule: NoiseSchedule, x0: torch.Tensor, timesteps: Sequence[int], *,
                        generator: torch.Generator | None = None) -> dict[str, list[float]]:  # fmt: skip
    """Per step index in ``timesteps``: the mean squared errors of the eps and x_0 guesses on ``x0`` (N, ...), and the
    baselines of predicting nothing (eps_hat = 0; x0_hat = the batch's mean image).

    Args:
        denoise: ``denoise(x_t, t) -> (x0_hat, eps_hat)`` (:meth:`genlearn.models.ddpm.DDPM.denoiser`, or the ideal
            denoiser of :func:`genlearn.diffusion.ideal.ideal_denoise_fn`).
        schedule: the model's noise schedule.
        x0: clean images in [-1, 1], ideally held out.
        timesteps: 0-based step indices.
        generator: the noise.

    Returns:
        ``{"t": [...], "eps_mse": [...], "eps_mse_zero": [...], "x0_mse": [...], "x0_mse_mean": [...]}``.

    Chapter 13.
    """
    out: dict[str, list[float]] = {"t": [], "eps_mse": [], "eps_mse_zero": [], "x0_mse": [], "x0_mse_mean": []}
    mean_image = x0.mean(0, keepdim=True)
    for t in timesteps:
        x_t, eps, tt = _noised(schedule, x0, int(t), generator)
        x0_hat, eps_hat = denoise(x_t, tt)
        out["t"].append(int(t))
        out["eps_mse"].append(float((eps_hat - eps).pow(2).mean()))
        out["eps_mse_zero"].append(float(eps.pow(2).mean()))
        out["x0_mse"].append(float((x0_hat - x0).pow(2).mean()))
        out["x0_mse_mean"].append(float((mean_image - x0).pow(2).mean()))
    return out


@torch.no_grad()
def x0_predictions(denoise: Denoise, schedule: NoiseSchedule, x0: torch.Tensor, timesteps: Sequence[int], *,
                   generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """The noisy inputs and the model's clean-image guesses: two tensors (len(timesteps), N, ...), row k at
    ``timesteps[k]`` (for a grid: row = noise level, column = image).

    Chapter 13.
    """
    noisy, guesses = [], []
    for t in timesteps:
        x_t, _, tt = _noised(schedule, x0, int(t), generator)
        noisy.append(x_t)
        guesses.append(denoise(x_t, tt)[0])
    return torch.stack(noisy), torch.stack(guesses)


__all__ = ["loss_by_noise_level", "x0_predictions"]
