import pytest
import torch

from genlearn.checks import check_images, from_uint8, from_unit, to_unit


def test_good_batch_passes_through():
    x = torch.rand(2, 3, 8, 8) * 2 - 1
    assert check_images(x, channels=3, size=8) is x


@pytest.mark.parametrize(
    "x, kwargs, message",
    [
        (torch.zeros(3, 8, 8), {}, r"shape \(N, C, H, W\)"),
        (torch.zeros(2, 8, 8, 3), {"channels": 3}, "channel axis last"),
        (torch.zeros(2, 1, 8, 8), {"channels": 3}, "3 channel"),
        (torch.zeros(2, 1, 8, 8), {"size": 16}, "16x16"),
        (torch.full((2, 1, 4, 4), 200.0), {}, r"\[0, 255\]"),
        (torch.full((2, 1, 4, 4), 1.5) - 0.2, {}, r"lie in \[-1, 1\]"),
        (torch.zeros(2, 1, 4, 4, dtype=torch.uint8), {}, "floating-point"),
        ("not a tensor", {}, "torch.Tensor"),
    ],
)
def test_bad_batches_say_what_was_expected(x, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        check_images(x, **kwargs)


def test_nan_is_rejected():
    x = torch.zeros(1, 1, 2, 2)
    x[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        check_images(x)


def test_range_conversions_round_trip():
    u = torch.rand(10)
    assert torch.allclose(to_unit(from_unit(u)), u)
    assert from_uint8(torch.tensor([0, 255], dtype=torch.uint8)).tolist() == [-1.0, 1.0]
