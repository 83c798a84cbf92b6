"""StyleGAN's droplet artifacts, measured: how much a generator's feature maps are dominated by one spike.

StyleGAN2 (Karras et al. 2020, Sec. 2, Fig. 1) traces StyleGAN's blob-shaped "droplets" to AdaIN, which normalizes
the mean and variance of each feature map separately. Their hypothesis: the generator sneaks signal-strength
information past the normalization by creating a strong, localized spike that dominates the statistics, and so can
scale the signal elsewhere as it likes. Such a spike shows as a feature map whose largest magnitude is many times
its mean magnitude. :func:`style_activations` reads each style layer's activation, and :func:`peak_to_mean` turns
each image's map into that ratio; compare it between ``style_mode="adain"`` and ``"modulated"`` generators trained
alike. The paper saw the droplets appear around 64x64 and grow at higher resolutions.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from genlearn.models.stylegan import SQRT2, StyleGANGenerator


def peak_to_mean(x: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """``max |x| / mean |x|`` over each image's channels and pixels: (N, C, H, W) -> (N,).

    1 for a map of constant magnitude; about ``C H W`` for a map that is zero but for one spike. The droplet
    statistic of StyleGAN2 Sec. 2 (a localized spike that dominates the statistics).

    Chapter 11.
    """
    if x.ndim != 4 or x.shape[0] < 1:
        raise ValueError(f"peak_to_mean needs feature maps (N, C, H, W), got {tuple(x.shape)}")
    a = x.abs().flatten(1)  # (N, C H W)
    return a.amax(dim=1) / a.mean(dim=1).clamp_min(eps)


@torch.no_grad()
def style_activations(G: StyleGANGenerator, n: int, generator: torch.Generator | None = None) -> list[torch.Tensor]:
    """Each style layer's activation ``lrelu(conv + noise + bias) sqrt(2)`` for ``n`` samples: a list of (n, C, r, r).

    The same point in both style modes: with ``"modulated"`` it is the layer's output (after the demodulated
    convolution); with ``"adain"`` it is what AdaIN's instance normalization receives (StyleGAN Eq. 1), the statistics
    the spike would dominate. The latents and the per-pixel noise come from ``generator``, as in ``G.sample``.

    Chapter 11.
    """
    if n < 1:
        raise ValueError(f"need n >= 1 samples, got {n}")
    captured: list[torch.Tensor] = []

    def keep(layer):  # the noise input's output is conv + noise; the layer then adds its bias and applies the activation
        return lambda module, inputs, output: captured.append(F.leaky_relu(output + layer.bias[None, :, None, None], 0.2) * SQRT2)

    handles = [layer.noise.register_forward_hook(keep(layer)) for layer in G.layers]
    try:
        z = G.sample_latent(n, generator)
        G.synthesis(G.broadcast(G.mapping_net(z)), G.make_noise(n, generator))
    finally:
        for handle in handles:
            handle.remove()
    return captured


__all__ = ["peak_to_mean", "style_activations"]
