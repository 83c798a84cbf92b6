"""Profile presets of the recipes: image sizes and network widths per dataset and profile (sizes only)."""

from __future__ import annotations

from genlearn.models.dcgan import DCGANConfig
from genlearn.runtime import pick

SMALL_DATA = ("digits", "mnist-5k", "faces")


def image_size(data: str, *, profile: str | None = None) -> int:
    """Training resolution: 16 for the 8x8 digits, 32 for the other small sets, else 16/32/64 by profile."""
    if data == "digits":
        return 16
    return 32 if data in SMALL_DATA else pick(profile=profile, smoke=16, cpu=32, gpu=64)


def dcgan_config(data: str, channels: int, *, profile: str | None = None) -> DCGANConfig:
    """The DCGAN size for a dataset and the active profile (one code path, sizes only)."""
    width = pick(profile=profile, smoke=8, cpu=32, gpu=64)
    return DCGANConfig(image_size=image_size(data, profile=profile), channels=channels, latent_dim=pick(profile=profile, smoke=16, cpu=64, gpu=100), g_width=width, d_width=width)


__all__ = ["SMALL_DATA", "dcgan_config", "image_size"]
