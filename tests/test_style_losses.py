"""Style transfer objectives against hand computations and the papers' equations."""

import pytest
import torch

from genlearn.losses import adain, content_loss, gram_matrix, style_loss, total_variation_loss


def test_gram_matrix_is_symmetric_psd_normalized_and_differentiable():
    torch.manual_seed(0)
    f = torch.randn(2, 5, 4, 3)
    g = gram_matrix(f)  # (2, 5, 5)
    assert g.shape == (2, 5, 5) and torch.allclose(g, g.transpose(1, 2))
    assert (torch.linalg.eigvalsh(g) > -1e-6).all()  # positive semi-definite
    flat = f.reshape(2, 5, 12)
    by_hand = torch.einsum("nik,njk->nij", flat, flat) / (5 * 4 * 3)  # Johnson et al.'s normalization
    assert torch.allclose(g, by_hand, atol=1e-6)
    assert torch.allclose(gram_matrix(f.repeat(1, 1, 2, 2)), g, atol=1e-6)  # independent of the image size
    assert torch.autograd.gradcheck(gram_matrix, (torch.randn(1, 3, 2, 2, dtype=torch.float64, requires_grad=True),))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        gram_matrix(torch.zeros(5, 4))


def test_style_loss_equals_gatys_equation_4_on_unnormalized_grams():
    torch.manual_seed(1)
    feats = {"a": torch.randn(1, 4, 3, 5), "b": torch.randn(1, 6, 2, 2)}
    style = {"a": torch.randn(1, 4, 6, 2), "b": torch.randn(1, 6, 3, 3)}
    weights = {"a": 0.5, "b": 0.5}
    expected = 0.0
    for name, w in weights.items():
        n, m = feats[name].shape[1], feats[name].shape[2] * feats[name].shape[3]  # N_l channels, M_l positions
        f, s = feats[name].reshape(n, -1), style[name].reshape(n, -1)
        G = f @ f.T  # Eq. 3, unnormalized
        A = (s @ s.T) * m / s.shape[1]  # the style image has another size: its Gram rescaled to M_l positions
        expected += w * ((G - A) ** 2).sum() / (4 * n**2 * m**2)  # Eq. 4, summed with weights as Eq. 5
    grams = {k: gram_matrix(v) for k, v in style.items()}
    assert style_loss(feats, grams, weights).item() == pytest.approx(expected.item(), rel=1e-5)
    assert style_loss(feats, grams, {"a": 1.0}).item() < style_loss(feats, grams, {"a": 1.0, "b": 1.0}).item()
    with pytest.raises(ValueError, match="without features"):
        style_loss(feats, grams, {"c": 1.0})


def test_content_and_total_variation_losses_by_hand():
    f = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    p = torch.zeros_like(f)
    assert content_loss(f, p).item() == pytest.approx(0.5 * (1 + 4 + 9 + 16))  # Gatys Eq. 1
    assert total_variation_loss(f).item() == pytest.approx((1 + 1) + (4 + 4))  # horizontal 1, 1; vertical 2, 2
    assert total_variation_loss(torch.ones(2, 3, 4, 4)).item() == 0.0
    with pytest.raises(ValueError, match="features of one layer"):
        content_loss(f, torch.zeros(1, 2, 2, 2))


def test_adain_gives_the_style_statistics_and_keeps_the_content_layout():
    torch.manual_seed(2)
    x, y = torch.randn(2, 4, 8, 8) * 3 + 1, torch.randn(2, 4, 5, 7) * 0.5 - 2
    out = adain(x, y)
    assert out.shape == x.shape
    assert torch.allclose(out.mean((2, 3)), y.mean((2, 3)), atol=1e-5)
    assert torch.allclose(out.std((2, 3), correction=0), y.std((2, 3), correction=0), atol=1e-3)
    normalized = (x - x.mean((2, 3), keepdim=True)) / x.std((2, 3), keepdim=True, correction=0)
    assert torch.allclose((out - out.mean((2, 3), keepdim=True)) / out.std((2, 3), keepdim=True, correction=0), normalized, atol=1e-3)
    assert adain(x, y[:1]).shape == x.shape  # one style for the batch
    with pytest.raises(ValueError, match="channels"):
        adain(x, torch.zeros(2, 3, 4, 4))
