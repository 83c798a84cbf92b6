"""DDPM: a time-conditioned U-Net and the noise schedule it was trained under, as one model that samples.

Ho, Jain & Abbeel (2020). The network ``unet(x_t, t, y)`` predicts eps (their choice), x_0 or v for the step index t;
:class:`DDPM` reads that prediction as the pair (x_0 guess, eps guess) with
:func:`~genlearn.diffusion.process.x0_eps_at` and hands it to a sampler: DDPM's ancestral Algorithm 2, DDIM (Song,
Meng & Ermon 2021) or Heun on the probability-flow ODE (Karras et al. 2022). The config holds everything needed to
rebuild it from a checkpoint: the U-Net's config, the schedule's name, T and the parameterization.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

import torch
from torch import nn

from genlearn.diffusion.process import check_parameterization, x0_eps_at
from genlearn.diffusion.samplers import SAMPLERS, ddim_sample, ddpm_sample, heun_sample
from genlearn.diffusion.schedules import NoiseSchedule
from genlearn.models._config import SavedConfig
from genlearn.models.diffusion_unet import DiffusionUNet, DiffusionUNetConfig

DEFAULT_STEPS = {"ddim": 50, "heun": 18}  # ddpm always takes all T steps


@dataclass(frozen=True)
class DDPMConfig(SavedConfig):
    """A diffusion model: the U-Net (:class:`~genlearn.models.diffusion_unet.DiffusionUNetConfig`), the noise
    ``schedule`` (``"linear"``: Ho et al.; ``"cosine"``: Nichol & Dhariwal), its ``timesteps`` T and what the network
    predicts (``parameterization``: ``"eps"``, ``"x0"`` or ``"v"``).

    Chapter 13.
    """

    unet: DiffusionUNetConfig = field(default_factory=DiffusionUNetConfig)
    schedule: str = "linear"
    timesteps: int = 1000
    parameterization: str = "eps"

    def __post_init__(self) -> None:
        if isinstance(self.unet, Mapping):
            object.__setattr__(self, "unet", DiffusionUNetConfig.from_dict(self.unet))
        if self.schedule not in ("linear", "cosine"):
            raise ValueError(f"schedule must be 'linear' or 'cosine', got {self.schedule!r}")
        if self.timesteps < 2:
            raise ValueError(f"timesteps must be >= 2, got {self.timesteps}")
        check_parameterization(self.parameterization)

    @property
    def num_classes(self) -> int:
        return self.unet.num_classes

    @classmethod
    def tiny(cls) -> "DDPMConfig":
        """A few-thousand-parameter model of 8x8 grey images with T = 50, for tests."""
        return cls(unet=DiffusionUNetConfig.tiny(), timesteps=50)

    @classmethod
    def digits(cls, width: int = 32, *, schedule: str = "linear", parameterization: str = "eps", timesteps: int = 1000) -> "DDPMConfig":
        """The book's model of the 16x16 digits: 2x2 patches folded into channels (the digits are 8x8 images resized,
        so nothing is lost), then levels of 8, 4 and 2 pixels with ``width``, 2 ``width`` and 2 ``width`` channels, one
        residual block each, attention at 4x4, no dropout, T = 1000 (chapter 13's cpu run uses width 32). On 2 cores
        its training step takes about as long as that of the book's earlier net (no patches, levels of 16, 8 and 4
        pixels, width 16), with 4 times the parameters; chapter 13 compares the two."""
        unet = DiffusionUNetConfig(image_size=16, in_channels=1, width=width, channel_mults=(1, 2, 2), num_res_blocks=1,
                                   attention_resolutions=(4,), dropout=0.0, norm_groups=min(8, width), patch_size=2)  # fmt: skip
        return cls(unet=unet, schedule=schedule, timesteps=timesteps, parameterization=parameterization)

    def to_dict(self) -> dict:
        return {**asdict(self), "unet": self.unet.to_dict()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "DDPMConfig":
        return cls(**{**d, "unet": DiffusionUNetConfig.from_dict(d["unet"])})


class DDPM(nn.Module):
    """A U-Net denoiser with its schedule; ``sample(n)`` runs a sampler from pure noise.

    Args:
        config: the :class:`DDPMConfig`.

    ``forward(x_t (N, C, H, W), t (N,), y (N,) or None) -> (N, C, H, W)`` is the network's raw prediction (eps, x_0
    or v); :meth:`denoiser` reads it as (x_0, eps).

    Chapter 13.
    """

    def __init__(self, config: DDPMConfig):
        super().__init__()
        self.config = config
        self.unet = DiffusionUNet(config.unet)
        self.schedule = NoiseSchedule.named(config.schedule, config.timesteps)  # float64 tables, not parameters

    @property
    def num_classes(self) -> int:
        return self.config.num_classes

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.unet(x_t, t, y)  # (N, C, H, W)

    def denoiser(self, labels: torch.Tensor | None = None):
        """``denoise(x_t, t) -> (x0_hat, eps_hat)``, the samplers' protocol, for class ``labels`` (N,) or none."""

        def denoise(x_t: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            t_net = t.to(device=x_t.device, dtype=torch.float32)
            y = None if labels is None else labels.to(x_t.device)
            out = self(x_t, t_net, y).float()
            return x0_eps_at(self.schedule, x_t, t, out, self.config.parameterization)

        return denoise

    @torch.no_grad()
    def sample(self, n: int, *, labels: torch.Tensor | None = None, generator: torch.Generator | None = None, sampler: str = "ddim",
               steps: int | None = None, eta: float = 0.0, progress: bool = False) -> torch.Tensor:  # fmt: skip
        """``n`` images (n, C, H, W) in [-1, 1] from pure noise.

        Args:
            labels: (n,) classes of a class-conditional model (none: unconditional).
            generator: the noise (drawn on the CPU, so a seed gives the same images on every device).
            sampler: ``"ddim"`` (default, 50 steps, eta = 0: deterministic), ``"ddpm"`` (Algorithm 2, all T steps,
                variance beta_t) or ``"heun"`` (18 steps, 35 network evaluations).
            steps: the sampler's steps (ddim, heun); ddpm always takes T.
            eta: DDIM's stochasticity (0: deterministic; 1: DDPM's posterior variance).
            progress: a bar over the steps.
        """
        if sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {', '.join(SAMPLERS)}, got {sampler!r}")
        if labels is not None and len(labels) != n:
            raise ValueError(f"labels must hold one class per sample ({n}), got {len(labels)}")
        was_training = self.training
        self.eval()
        c, s = self.config.unet.in_channels, self.config.unet.image_size
        device = next(self.parameters()).device
        common = dict(generator=generator, device=device, progress=progress)
        denoise = self.denoiser(labels)
        if sampler == "ddpm":
            if steps is not None and steps != self.config.timesteps:
                raise ValueError(f"the ddpm sampler takes all T = {self.config.timesteps} steps; use ddim for fewer")
            x = ddpm_sample(denoise, self.schedule, (n, c, s, s), **common)
        elif sampler == "ddim":
            x = ddim_sample(denoise, self.schedule, (n, c, s, s), steps=steps or DEFAULT_STEPS["ddim"], eta=eta, **common)
        else:
            if eta:
                raise ValueError("the heun sampler is deterministic; eta is for ddim")
            x = heun_sample(denoise, self.schedule, (n, c, s, s), steps=steps or DEFAULT_STEPS["heun"], **common)
        self.train(was_training)
        return x.clamp(-1, 1)


__all__ = ["DEFAULT_STEPS", "DDPM", "DDPMConfig"]
