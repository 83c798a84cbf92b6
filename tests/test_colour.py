"""Colour preservation (Gatys et al. 2016b): the recoloured image has the target's mean and covariance, by hand."""

import numpy as np
import pytest
import torch

from genlearn.data import load_photo, load_texture, match_colour


def _stats(x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    p = x.reshape(3, -1).double().numpy()
    return p.mean(axis=1), np.cov(p, bias=True)


def test_match_colour_gives_the_targets_mean_and_covariance():
    g = torch.Generator().manual_seed(0)
    mix = torch.tensor([[0.3, 0.1, 0.0], [0.05, 0.2, 0.1], [0.0, 0.1, 0.25]])
    source = (mix @ torch.randn(3, 40 * 30, generator=g)).reshape(3, 40, 30) * 0.5  # correlated channels, small values
    target = load_photo("coffee", (20, 30))
    y = match_colour(source, target, clamp=False)
    mu_y, cov_y = _stats(y)
    mu_t, cov_t = _stats(target)
    np.testing.assert_allclose(mu_y, mu_t, atol=1e-5)
    np.testing.assert_allclose(cov_y, cov_t, atol=1e-5)
    # the symmetric choice of A: A = cov_t^(1/2) cov_s^(-1/2), computed here with scipy-free numpy eigen-decompositions
    _, cov_s = _stats(source)
    root = lambda c, p: (lambda v, q: q @ np.diag(v**p) @ q.T)(*np.linalg.eigh(c))  # noqa: E731
    a = root(cov_t, 0.5) @ root(cov_s, -0.5)
    expected = a @ (source.reshape(3, -1).double().numpy() - source.reshape(3, -1).double().numpy().mean(1, keepdims=True))
    np.testing.assert_allclose(y.reshape(3, -1).double().numpy(), expected + mu_t[:, None], atol=1e-5)


def test_a_grey_style_takes_the_contents_colours():
    brick = load_texture("brick", 48)  # grey: three equal channels
    y = match_colour(brick, load_photo("coffee", 48))
    assert y.abs().max() <= 1 and y.shape == brick.shape
    assert (y[0] - y[2]).abs().mean() > 0.05  # no longer grey: coffee's warm colours
    with pytest.raises(ValueError, match="single images"):
        match_colour(brick[None], brick)
    with pytest.raises(ValueError, match="must have 3 channel"):
        match_colour(brick[:1], brick)


def test_colour_variants_turn_hues_keep_luma_structure_and_are_seeded():
    from genlearn.data import colour_variants, load_photo, load_texture

    photo = load_photo("coffee", (32, 32))[None].repeat(8, 1, 1, 1)  # (8, 3, 32, 32): one photo, eight recolourings
    v = colour_variants(photo, seed=0)
    assert v.shape == photo.shape and v.min() >= -1 and v.max() <= 1
    assert torch.equal(v, colour_variants(photo, seed=0)) and not torch.equal(v, colour_variants(photo, seed=1))
    means = v.mean((2, 3))  # (8, 3) mean colours: the recolourings differ from each other
    assert torch.cdist(means, means).max() > 0.3
    # structure is kept: each variant's pixels are an affine function of the photo's, up to clamping and inversion
    for k in range(8):
        a, b = photo[k].reshape(3, -1).T, v[k].reshape(3, -1).T  # (HW, 3)
        fit = torch.linalg.lstsq(torch.cat([a, torch.ones(len(a), 1)], 1), b).solution
        assert (torch.cat([a, torch.ones(len(a), 1)], 1) @ fit - b).abs().mean() < 0.08
    grey = load_texture("brick", (32, 32))[None].repeat(16, 1, 1, 1)  # a grey texture gets tints
    tinted = colour_variants(grey, seed=0, grey_tint=1.0)
    assert ((tinted - tinted.mean(1, keepdim=True)).abs().amax((1, 2, 3)) > 0.05).all()
    plain = colour_variants(grey, seed=0, grey_tint=0.0)  # no tint: turning hues and scaling saturation leave grey grey
    assert (plain - plain.mean(1, keepdim=True)).abs().max() < 1e-4
    with pytest.raises(ValueError, match="3 channel"):
        colour_variants(grey[:, :1])
