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
