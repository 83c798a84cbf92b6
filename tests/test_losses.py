"""Each GAN loss against an explicit float64 computation with log(sigmoid) written out."""

import math

import pytest
import torch

from genlearn.losses import d_loss_bce, d_loss_hinge, g_loss_hinge, g_loss_minimax, g_loss_nonsaturating


def sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


REAL = [2.0, -0.5, 0.3, 4.0]
FAKE = [-1.5, 0.7, -3.0]


def t(values, shape=None):
    x = torch.tensor(values, dtype=torch.float64)
    return x if shape is None else x.reshape(shape)


def test_d_loss_bce_matches_hand_computation():
    want = -sum(math.log(sigmoid(r)) for r in REAL) / len(REAL) - sum(math.log(1 - sigmoid(f)) for f in FAKE) / len(FAKE)
    assert d_loss_bce(t(REAL), t(FAKE)).item() == pytest.approx(want, rel=1e-12)
    # (N, 1) logits give the same value
    assert d_loss_bce(t(REAL, (-1, 1)), t(FAKE, (-1, 1))).item() == pytest.approx(want, rel=1e-12)


def test_d_loss_bce_one_sided_label_smoothing():
    a = 0.9
    real = -sum(a * math.log(sigmoid(r)) + (1 - a) * math.log(1 - sigmoid(r)) for r in REAL) / len(REAL)
    fake = -sum(math.log(1 - sigmoid(f)) for f in FAKE) / len(FAKE)  # fake target stays 0
    assert d_loss_bce(t(REAL), t(FAKE), real_label=a).item() == pytest.approx(real + fake, rel=1e-12)
    assert d_loss_bce(t(REAL), t(FAKE), real_label=a).item() != pytest.approx(d_loss_bce(t(REAL), t(FAKE)).item())


def test_generator_losses_match_hand_computation():
    minimax = sum(math.log(1 - sigmoid(f)) for f in FAKE) / len(FAKE)
    nonsat = -sum(math.log(sigmoid(f)) for f in FAKE) / len(FAKE)
    assert g_loss_minimax(t(FAKE)).item() == pytest.approx(minimax, rel=1e-12)
    assert g_loss_nonsaturating(t(FAKE)).item() == pytest.approx(nonsat, rel=1e-12)


def test_hinge_losses_match_hand_computation():
    d = sum(max(0.0, 1 - r) for r in REAL) / len(REAL) + sum(max(0.0, 1 + f) for f in FAKE) / len(FAKE)
    assert d_loss_hinge(t(REAL), t(FAKE)).item() == pytest.approx(d, rel=1e-12)
    assert g_loss_hinge(t(FAKE)).item() == pytest.approx(-sum(FAKE) / len(FAKE), rel=1e-12)


def test_losses_are_finite_for_extreme_logits():
    big = torch.tensor([-200.0, 200.0])
    for value in (d_loss_bce(big, big), g_loss_minimax(big), g_loss_nonsaturating(big)):
        assert torch.isfinite(value)
    # the saturating loss has (almost) no gradient where D rejects the sample; the non-saturating one does
    fake = torch.tensor([-10.0], requires_grad=True)
    (g1,) = torch.autograd.grad(g_loss_minimax(fake), fake)
    (g2,) = torch.autograd.grad(g_loss_nonsaturating(fake), fake)
    assert abs(g1.item()) < 1e-4 and abs(g2.item()) > 0.99


def test_gradcheck_float64():
    r = torch.randn(5, dtype=torch.float64, requires_grad=True)
    f = torch.randn(5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(d_loss_bce, (r, f))
    assert torch.autograd.gradcheck(lambda x: d_loss_bce(x, f.detach(), 0.9), (r,))
    assert torch.autograd.gradcheck(g_loss_minimax, (f,))
    assert torch.autograd.gradcheck(g_loss_nonsaturating, (f,))


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="one logit per image"):
        d_loss_bce(torch.zeros(4, 2), torch.zeros(4))
    with pytest.raises(ValueError, match="real_label"):
        d_loss_bce(torch.zeros(4), torch.zeros(4), real_label=1.5)
    with pytest.raises(TypeError, match="floating-point"):
        g_loss_nonsaturating(torch.zeros(4, dtype=torch.long))


def test_r1_penalty_against_a_closed_form():
    from genlearn.losses import r1_penalty

    # D(x) = w . x + b has grad_x D = w for every x, so R1 = gamma / 2 * ||w||^2 exactly
    w = torch.tensor([3.0, -4.0, 12.0], dtype=torch.float64)  # ||w|| = 13
    D = lambda x: x.flatten(1) @ w + 0.5  # noqa: E731
    x = torch.randn(5, 3, dtype=torch.float64)
    torch.testing.assert_close(r1_penalty(D, x, gamma=2.0), torch.tensor(169.0, dtype=torch.float64))
    # D(x) = sum(x^2) has grad 2x: R1 = gamma / 2 * mean_i 4 ||x_i||^2
    x = torch.randn(6, 1, 2, 2, dtype=torch.float64)
    want = 0.5 * 4 * x.flatten(1).pow(2).sum(1).mean()
    torch.testing.assert_close(r1_penalty(lambda v: v.pow(2).sum((1, 2, 3)), x, gamma=1.0), want)


def test_r1_penalty_reaches_the_discriminator_weights():
    from genlearn.losses import r1_penalty

    torch.manual_seed(0)
    D = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    x = torch.randn(3, 1, 2, 2)
    r1_penalty(D, x, gamma=10.0).backward()  # a double backward: the input gradient depends on the weights
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in D[1].parameters())
    assert not x.requires_grad  # the caller's tensor is left alone
    with pytest.raises(ValueError, match="gamma"):
        r1_penalty(D, x, gamma=-1.0)
    with pytest.raises(ValueError, match="x_real"):
        r1_penalty(D, torch.randn(0, 4), gamma=1.0)
