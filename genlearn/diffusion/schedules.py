"""Noise schedules: how much signal is left after t forward steps.

The forward process of Ho, Jain & Abbeel (2020, Eq. 2) adds Gaussian noise with variance beta_t at step t:

    q(x_t | x_{t-1}) = N(x_t; sqrt(1 - beta_t) x_{t-1}, beta_t I),     alpha_t = 1 - beta_t,
    alpha_bar_t = prod_{s <= t} alpha_s,                                 q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I)

genlearn indexes steps from 0: index ``i`` is the paper's t = i + 1, so ``alpha_bar[0]`` is the first noisy level and
``alpha_bar[T - 1]`` the last (close to 0). The networks are given the index ``i``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import torch


def linear_betas(timesteps: int, beta_1: float = 1e-4, beta_T: float = 0.02) -> torch.Tensor:
    """Ho et al.'s linear schedule (Sec. 4: beta_1 = 1e-4 to beta_T = 0.02 over T = 1000), float64 (T,).

    For T != 1000 both ends are scaled by 1000 / T, as in Nichol & Dhariwal's code, so that the last level is about
    as noisy as the paper's.

    Chapter 13.
    """
    if timesteps < 2:
        raise ValueError(f"a schedule needs at least 2 timesteps, got {timesteps}")
    scale = 1000 / timesteps
    lo, hi = scale * beta_1, scale * beta_T
    if not 0 < lo <= hi < 1:
        raise ValueError(f"the linear schedule's betas scaled by 1000/T = {scale:g} must lie in (0, 1), got {lo:g} to {hi:g};"
                         " use more timesteps")
    return torch.linspace(lo, hi, timesteps, dtype=torch.float64)


def cosine_betas(timesteps: int, s: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    """Nichol & Dhariwal's cosine schedule (2021, Eq. 17), float64 (T,):

        alpha_bar(t) = f(t) / f(0),   f(t) = cos^2( (t/T + s) / (1 + s) * pi/2 ),   beta_t = min(1 - alpha_bar_t / alpha_bar_{t-1}, 0.999)

    Chapter 13.
    """
    if timesteps < 2:
        raise ValueError(f"a schedule needs at least 2 timesteps, got {timesteps}")

    def f(t: float) -> float:
        return math.cos((t / timesteps + s) / (1 + s) * math.pi / 2) ** 2

    betas = [min(1 - f(i + 1) / f(i), max_beta) for i in range(timesteps)]
    return torch.tensor(betas, dtype=torch.float64)


@dataclass(frozen=True, eq=False)
class NoiseSchedule:
    """The tables a diffusion model reads, computed once in float64 from ``betas`` (T,).

    Attributes (all (T,), index i = the paper's t = i + 1): ``betas``, ``alphas``, ``alpha_bar``, ``alpha_bar_prev``
    (alpha_bar_{t-1}, 1 at the first step), ``sigmas`` = sqrt((1 - alpha_bar) / alpha_bar) (the noise-to-signal
    ratio of Karras et al. 2022), and the posterior q(x_{t-1} | x_t, x_0) of Ho et al. Eqs. 6-7:
    ``posterior_variance`` (beta tilde), ``posterior_mean_coef_x0``, ``posterior_mean_coef_xt``.

    Chapter 13.
    """

    betas: torch.Tensor

    def __post_init__(self) -> None:
        b = torch.as_tensor(self.betas, dtype=torch.float64)
        if b.dim() != 1 or len(b) < 2 or not bool(((b > 0) & (b < 1)).all()):
            raise ValueError(f"betas must be a 1-D tensor of at least 2 values in (0, 1), got shape {tuple(b.shape)}")
        object.__setattr__(self, "betas", b)  # the tables below are computed once, on first use (cached_property)

    @classmethod
    def linear(cls, timesteps: int = 1000) -> "NoiseSchedule":
        """Ho et al.'s schedule (:func:`linear_betas`)."""
        return cls(linear_betas(timesteps))

    @classmethod
    def cosine(cls, timesteps: int = 1000) -> "NoiseSchedule":
        """Nichol & Dhariwal's schedule (:func:`cosine_betas`)."""
        return cls(cosine_betas(timesteps))

    @classmethod
    def named(cls, name: str, timesteps: int) -> "NoiseSchedule":
        """``"linear"`` or ``"cosine"``."""
        if name not in ("linear", "cosine"):
            raise ValueError(f"schedule must be 'linear' or 'cosine', got {name!r}")
        return getattr(cls, name)(timesteps)

    @property
    def T(self) -> int:
        return len(self.betas)

    @cached_property
    def alphas(self) -> torch.Tensor:
        return 1 - self.betas

    @cached_property
    def alpha_bar(self) -> torch.Tensor:
        return torch.cumprod(self.alphas, 0)

    @cached_property
    def alpha_bar_prev(self) -> torch.Tensor:
        return torch.cat([torch.ones(1, dtype=torch.float64), self.alpha_bar[:-1]])

    @cached_property
    def sigmas(self) -> torch.Tensor:
        return ((1 - self.alpha_bar) / self.alpha_bar).sqrt()

    @cached_property
    def posterior_variance(self) -> torch.Tensor:
        return self.betas * (1 - self.alpha_bar_prev) / (1 - self.alpha_bar)  # Eq. 7's beta tilde

    @cached_property
    def posterior_mean_coef_x0(self) -> torch.Tensor:
        return self.alpha_bar_prev.sqrt() * self.betas / (1 - self.alpha_bar)  # Eq. 7

    @cached_property
    def posterior_mean_coef_xt(self) -> torch.Tensor:
        return self.alphas.sqrt() * (1 - self.alpha_bar_prev) / (1 - self.alpha_bar)  # Eq. 7

    def alpha_bar_at(self, t: torch.Tensor) -> torch.Tensor:
        """alpha_bar at step indices ``t`` (N,), float64; fractional ``t`` (a continuous-time sampler's) interpolates
        log sigma linearly between the two neighbouring steps. Indices must lie in [0, T - 1]."""
        t = torch.as_tensor(t).double().cpu()
        if bool(((t < 0) | (t > self.T - 1)).any()):
            raise ValueError(f"timestep indices must lie in [0, {self.T - 1}], got {t.min().item():g} to {t.max().item():g}")
        lo = t.floor().long().clamp(max=self.T - 2)
        w = t - lo
        log_sigma = self.sigmas.log()
        ls = (1 - w) * log_sigma[lo] + w * log_sigma[lo + 1]
        return 1 / (1 + (2 * ls).exp())  # sigma^2 = (1 - a) / a  =>  a = 1 / (1 + sigma^2)


def gather(table: torch.Tensor, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``table[t]`` as a (N, 1, 1, ...) tensor that broadcasts against ``like`` (N, ...), in ``like``'s dtype and device.

    Chapter 13.
    """
    if t.is_floating_point() and not bool((t == t.round()).all()):
        raise ValueError("gather takes integer step indices; for fractional t use NoiseSchedule.alpha_bar_at")
    return table[t.long().cpu()].to(device=like.device, dtype=like.dtype).view(-1, *([1] * (like.dim() - 1)))


__all__ = ["NoiseSchedule", "cosine_betas", "gather", "linear_betas"]
