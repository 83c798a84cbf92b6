import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from genlearn.train import History  # noqa: E402
from genlearn.viz import compare_rows, grid_image, interpolation_strip, plot_losses, plot_metric, scatter_2d, show_grid, show_row, smooth  # noqa: E402


def test_grid_image_layout_and_range():
    x = torch.linspace(-1, 1, 6 * 8 * 8).reshape(6, 1, 8, 8)
    g = grid_image(x, nrow=3, padding=2)
    assert g.shape == (3, 2 * 8 + 3 * 2, 3 * 8 + 4 * 2)
    assert g.min() >= 0 and g.max() <= 1


def test_grid_rejects_bad_input():
    with pytest.raises(ValueError, match="channel"):
        grid_image(torch.zeros(2, 5, 8, 8))
    with pytest.raises(ValueError, match=r"\[0, 255\]"):
        grid_image(torch.full((2, 3, 8, 8), 255.0))


def test_figures_are_returned():
    h = History()
    for s in range(1, 21):
        h.append(s, {"d_loss": 1.0 / s, "g_loss": float(s)})
    figs = [
        show_grid(torch.zeros(4, 3, 8, 8), title="t"),
        plot_losses(h, window=5),
        plot_metric([(1, 3.0), (2, 2.0)], "FD", floor=1.0),
        compare_rows({"input": torch.zeros(3, 1, 8, 8), "output": torch.ones(3, 1, 8, 8)}),
        interpolation_strip(torch.zeros(10, 1, 8, 8), steps=5),
        scatter_2d({"real": torch.randn(10, 2)}),
    ]
    assert all(isinstance(f, plt.Figure) for f in figs)
    assert len(figs[1].axes[0].lines) == 4  # raw + smoothed per key
    with pytest.raises(ValueError, match="rows of 3"):
        interpolation_strip(torch.zeros(10, 1, 8, 8), steps=3)
    plt.close("all")


def test_smooth_is_trailing_mean():
    assert smooth([1, 2, 3, 4], 2) == [1, 1.5, 2.5, 3.5]


def test_show_row_keeps_each_images_aspect():
    wide, square = torch.zeros(1, 3, 20, 60), torch.zeros(3, 30, 30)  # batch-of-one and plain images alike
    fig = show_row([wide, square], ["wide", "square"], height=2.0)
    axes = fig.axes
    assert [a.get_title() for a in axes] == ["wide", "square"]
    widths = [a.get_position().width for a in axes]
    assert widths[0] / widths[1] == pytest.approx(3.0, rel=0.15)  # 3:1 against 1:1
    assert [a.images[0].get_array().shape[:2] for a in axes] == [(20, 60), (30, 30)]  # each image at its own size
    plt.close(fig)
