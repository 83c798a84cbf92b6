"""Chapter 11's measurements: the perceptual path length in W and in Z, and the droplet statistic of feature maps."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from genlearn.metrics.droplets import peak_to_mean, style_activations
from genlearn.metrics.ppl import perceptual_path_length, slerp
from genlearn.models.stylegan import StyleGANConfig, StyleGANGenerator


def test_slerp_moves_along_the_great_circle_at_constant_speed():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(6, 5, generator=g, dtype=torch.float64), 3 * torch.randn(6, 5, generator=g, dtype=torch.float64)
    ua, ub = a / a.norm(dim=1, keepdim=True), b / b.norm(dim=1, keepdim=True)
    theta = torch.acos((ua * ub).sum(1))
    assert torch.allclose(slerp(a, b, torch.zeros(6, 1, dtype=torch.float64)), ua)
    assert torch.allclose(slerp(a, b, torch.ones(6, 1, dtype=torch.float64)), ub)
    t = torch.rand(6, 1, generator=g, dtype=torch.float64)
    p = slerp(a, b, t)
    assert torch.allclose(p.norm(dim=1), torch.ones(6, dtype=torch.float64))
    assert torch.allclose(torch.acos((p * ua).sum(1).clamp(-1, 1)), t[:, 0] * theta)  # angle travelled: t theta
    assert torch.allclose(torch.acos((p * ub).sum(1).clamp(-1, 1)), (1 - t[:, 0]) * theta)  # and the rest is left
    with pytest.raises(ValueError, match="slerp needs"):
        slerp(a, b, t[:, 0])


class SphereIdentity(nn.Module):
    """A stand-in generator: latents on the unit sphere, the identity as mapping, the image is w itself."""

    def __init__(self, dim: int):
        super().__init__()
        self.dim, self.mapping_net = dim, nn.Identity()

    def sample_latent(self, n, generator=None):
        z = torch.randn(n, self.dim, generator=generator)
        return z / z.norm(dim=1, keepdim=True)

    def broadcast(self, w):
        return w[:, None]

    def synthesis(self, ws, noise="none"):
        return ws[:, 0]


def test_with_an_identity_mapping_the_two_spaces_differ_only_by_chord_against_arc():
    G, n, eps = SphereIdentity(16), 300, 1e-3  # one batch, so the pairs can be drawn again below
    ppl = {s: perceptual_path_length(G, lambda x: x, n=n, eps=eps, generator=torch.Generator().manual_seed(3), batch_size=n, space=s) for s in ("w", "z")}
    g = torch.Generator().manual_seed(3)
    z1, z2 = G.sample_latent(n, g), G.sample_latent(n, g)  # the pairs both spaces drew
    theta = torch.acos((z1 * z2).sum(1).clamp(-1, 1)).double()
    assert torch.allclose(ppl["w"].double(), (z2 - z1).pow(2).sum(1).double(), rtol=1e-3)  # lerp: the chord, |z2 - z1|^2
    assert torch.allclose(ppl["z"].double(), theta.pow(2), rtol=1e-3)  # slerp: the arc, theta^2 per unit of t
    chord_to_arc = (theta / (2 * torch.sin(theta / 2))).pow(2)
    assert torch.allclose(ppl["z"].double() / ppl["w"].double(), chord_to_arc, rtol=2e-3)


def test_ppl_in_w_is_the_lerp_of_mapped_latents_and_bad_input_is_refused():
    torch.manual_seed(0)
    G = StyleGANGenerator(StyleGANConfig.tiny(image_size=8)).eval()
    features = lambda x: x.flatten(1)  # noqa: E731
    v = perceptual_path_length(G, features, n=7, generator=torch.Generator().manual_seed(1), batch_size=4)
    g = torch.Generator().manual_seed(1)  # by hand, the first batch of 4
    z1, z2 = G.sample_latent(4, g), G.sample_latent(4, g)
    t = torch.rand(4, 1, generator=g)
    w1, w2 = G.mapping_net(z1), G.mapping_net(z2)
    with torch.no_grad():
        images = G.synthesis(G.broadcast(torch.cat([torch.lerp(w1, w2, t), torch.lerp(w1, w2, t + 1e-4)])), noise="none")
    expected = (features(images[:4]) - features(images[4:])).pow(2).sum(1) / 1e-8
    assert v.shape == (7,) and torch.allclose(v[:4], expected, rtol=1e-5)
    vz = perceptual_path_length(G, features, n=7, generator=torch.Generator().manual_seed(1), space="z")
    assert vz.shape == (7,) and torch.isfinite(vz).all() and (vz >= 0).all()
    assert torch.equal(vz, perceptual_path_length(G, features, n=7, generator=torch.Generator().manual_seed(1), space="z"))
    with pytest.raises(ValueError, match="space must be one of"):
        perceptual_path_length(G, features, n=4, space="x")
    with pytest.raises(ValueError, match="n >= 1"):
        perceptual_path_length(G, features, n=0)
    with pytest.raises(ValueError, match="eps > 0"):
        perceptual_path_length(G, features, n=4, eps=0.0)


def test_peak_to_mean_is_one_for_a_flat_map_and_chw_for_a_single_spike():
    flat = -2 * torch.ones(3, 4, 5, 5)
    assert torch.allclose(peak_to_mean(flat), torch.ones(3))
    spike = torch.zeros(2, 4, 5, 5)
    spike[0, 1, 2, 3], spike[1, 3, 0, 0] = 7.0, -0.5
    assert torch.allclose(peak_to_mean(spike), torch.full((2,), 4 * 5 * 5.0))
    mixed = torch.tensor([1.0, 1.0, 1.0, 5.0]).reshape(1, 1, 2, 2)
    assert peak_to_mean(mixed).item() == pytest.approx(5 / 2)
    with pytest.raises(ValueError, match="feature maps"):
        peak_to_mean(torch.ones(4, 5))


@pytest.mark.parametrize("mode", ["modulated", "adain"])
def test_style_activations_are_the_layer_outputs_or_what_adain_normalizes(mode):
    torch.manual_seed(0)
    G = StyleGANGenerator(StyleGANConfig.tiny(image_size=16, style_mode=mode)).eval()
    outputs = []
    hooks = [layer.register_forward_hook(lambda m, i, out: outputs.append(out)) for layer in G.layers]
    acts = style_activations(G, 3, torch.Generator().manual_seed(5))
    for h in hooks:
        h.remove()
    assert [tuple(a.shape) for a in acts] == [(3, G.config.channels_at(s[2]), s[2], s[3]) for s in G.noise_shapes(3)]
    assert all(not layer.noise._forward_hooks for layer in G.layers)  # the hooks are gone
    w = G.mapping_net(G.sample_latent(3, torch.Generator().manual_seed(5)))
    for layer, a, out in zip(G.layers, acts, outputs):
        if mode == "modulated":
            assert torch.equal(a, out)
        else:  # StyleGAN Eq. 1 applied to the activation gives the layer's output
            y_s, y_b = layer.affine(w).chunk(2, dim=1)
            assert torch.allclose(y_s[:, :, None, None] * F.instance_norm(a) + y_b[:, :, None, None], out, atol=1e-5)
    assert math.isfinite(peak_to_mean(acts[-1]).sum().item())
    with pytest.raises(ValueError, match="n >= 1"):
        style_activations(G, 0)
