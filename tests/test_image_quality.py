"""PSNR, SSIM and the sharpness ratio against independent computations (hand formulas and torchmetrics)."""

import math

import pytest
import torch
import torch.nn.functional as F

from genlearn.metrics.image_quality import high_frequency_energy, psnr, sharpness_ratio, ssim


def photos(n=3, c=3, size=32, seed=0):
    """Smooth random images in [-1, 1] (upsampled noise), so SSIM's windows see structure."""
    g = torch.Generator().manual_seed(seed)
    return F.interpolate(torch.rand(n, c, size // 4, size // 4, generator=g) * 2 - 1, size=size, mode="bilinear", align_corners=False)


def test_psnr_against_the_formula_and_torchmetrics():
    from torchmetrics.functional.image import peak_signal_noise_ratio

    x = photos()
    y = (x + 0.1).clamp(-1, 1)
    by_hand = [10 * math.log10(4.0 / ((x[i] - y[i]) ** 2).mean().item()) for i in range(3)]
    assert psnr(y, x).tolist() == pytest.approx(by_hand, abs=1e-4)
    for i in range(3):
        ref = peak_signal_noise_ratio(y[i : i + 1], x[i : i + 1], data_range=2.0)
        assert psnr(y[i : i + 1], x[i : i + 1]).item() == pytest.approx(ref.item(), abs=1e-4)
    assert psnr(x, x).isinf().all()
    assert psnr(torch.zeros(1, 1, 4, 4), torch.ones(1, 1, 4, 4)).item() == pytest.approx(10 * math.log10(4.0))  # MSE 1


def test_ssim_matches_torchmetrics_and_its_limits():
    from torchmetrics.functional.image import structural_similarity_index_measure

    x = photos(size=48)
    g = torch.Generator().manual_seed(1)
    for noise in (0.05, 0.3):
        y = (x + noise * torch.randn(x.shape, generator=g)).clamp(-1, 1)
        ours = ssim(y, x)
        for i in range(3):
            ref = structural_similarity_index_measure(y[i : i + 1], x[i : i + 1], data_range=2.0)
            assert ours[i].item() == pytest.approx(ref.item(), abs=1e-4)
    assert ssim(x, x).tolist() == pytest.approx([1.0] * 3)
    assert (ssim((x + 0.3 * torch.randn(x.shape, generator=g)).clamp(-1, 1), x) < ssim((x + 0.05 * torch.randn(x.shape, generator=g)).clamp(-1, 1), x)).all()
    with pytest.raises(ValueError, match="at least 11x11"):
        ssim(torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 8, 8))
    with pytest.raises(ValueError, match="same shape"):
        ssim(x[:, :1], x)


def test_sharpness_ratio_separates_blur_from_detail():
    x = photos(size=32) + 0.2 * torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(2))  # fine detail
    blurred = F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), 3, stride=1)
    assert sharpness_ratio(x, x).tolist() == pytest.approx([1.0] * 3)
    assert (sharpness_ratio(blurred, x) < 0.5).all()
    assert (sharpness_ratio(x, blurred) > 2).all()
    # the Laplacian energy by hand for one pixel pattern: a single bright pixel in a 5x5 zero image
    dot = torch.zeros(1, 1, 5, 5)
    dot[0, 0, 2, 2] = 1.0
    # valid 3x3 positions: the centre responds -4, its four neighbours +1, the four corners 0 -> (16 + 4) / 9
    assert high_frequency_energy(dot).item() == pytest.approx(20 / 9)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        high_frequency_energy(x[0])


def test_colourfulness_against_a_hand_computation():
    import numpy as np

    from genlearn.metrics.image_quality import colourfulness

    grey = torch.rand(2, 1, 8, 8).repeat(1, 3, 1, 1) * 2 - 1
    assert torch.allclose(colourfulness(grey), torch.zeros(2), atol=1e-4)  # gray has no colour
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, size=(3, 6, 5)).astype(np.float64)  # an RGB image in 0-255
    rg, yb = img[0] - img[1], (img[0] + img[1]) / 2 - img[2]
    expected = np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean())  # the paper's Eq. 3
    x = torch.from_numpy(img / 127.5 - 1)[None].float()
    assert abs(colourfulness(x).item() - expected) < 1e-3 * expected
    with pytest.raises(ValueError, match="RGB"):
        colourfulness(torch.zeros(1, 1, 4, 4))


def test_detail_ratio_counts_only_the_targets_detail():
    from genlearn.metrics.image_quality import detail_ratio

    x = photos(size=32)  # (3, 3, 32, 32)
    blurred = F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), 3, stride=1)
    noise = 0.1 * torch.randn(x.shape, generator=torch.Generator().manual_seed(5))
    assert detail_ratio(x, x).tolist() == pytest.approx([1.0] * 3)
    assert (detail_ratio(blurred, x) < 0.8).all()  # smooth photos: a 3x3 box blur keeps about two thirds
    assert (sharpness_ratio(x + noise, x) > 2).all() and (detail_ratio(x + noise, x) - 1).abs().max() < 0.1  # noise: energy, not detail
    assert detail_ratio(-x, x).tolist() == pytest.approx([-1.0] * 3)  # inverted detail counts against
    # by hand for two 3x3 images: one valid position each, Laplacians -4 (a dot) and 1 + 1 (two neighbours)
    dot, pair = torch.zeros(1, 1, 3, 3), torch.zeros(1, 1, 3, 3)
    dot[..., 1, 1] = 1.0
    pair[..., 0, 1] = pair[..., 1, 0] = 1.0
    assert detail_ratio(pair, dot).item() == pytest.approx((2 * -4) / 16)
    both = torch.cat([x[:1], blurred[:1]]), torch.cat([x[:1], x[:1]])
    from genlearn.metrics.image_quality import laplacian

    ly = laplacian(x[:1])
    expected = (ly.pow(2).sum() + (laplacian(blurred[:1]) * ly).sum()) / (2 * ly.pow(2).sum())
    assert detail_ratio(*both, over="set").item() == pytest.approx(expected.item(), rel=1e-5)
    with pytest.raises(ValueError, match="over"):
        detail_ratio(x, x, over="pixel")
