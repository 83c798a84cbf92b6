"""The held-out style images of chapter 10: paintings drawn by a process that no training style comes from."""

import pytest
import torch

from genlearn.data import PAINTING_KINDS, painted_style


@pytest.mark.parametrize("kind", PAINTING_KINDS)
def test_painted_styles_are_seeded_coloured_images(kind):
    x = painted_style(kind, size=48, seed=3)
    assert x.shape == (3, 48, 48) and x.dtype == torch.float32 and x.min() >= -1 and x.max() <= 1
    assert torch.equal(x, painted_style(kind, size=48, seed=3)) and not torch.equal(x, painted_style(kind, size=48, seed=4))
    assert (x - x.mean(0, keepdim=True)).abs().mean() > 0.03  # coloured, not grey
    assert x.std((1, 2)).mean() > 0.1  # structure, not a flat colour


def test_the_kinds_differ_in_texture():
    """strokes and dots are fine-grained; blocks are flat regions with lines; neighbouring pixels tell them apart."""
    def roughness(x):  # mean absolute difference of horizontal neighbours, over the image's own spread
        return (x[..., 1:] - x[..., :-1]).abs().mean() / x.std()

    r = {k: roughness(painted_style(k, size=96, seed=0)) for k in PAINTING_KINDS}
    assert r["dots"] > r["blocks"] and r["strokes"] > r["blocks"] and r["strokes"] > r["waves"]


def test_painted_style_bad_input():
    with pytest.raises(ValueError, match="painting kind"):
        painted_style("cubism")
    with pytest.raises(ValueError, match="size"):
        painted_style("dots", size=0)


def test_the_unseen_style_names_load_as_paintings_of_any_size():
    from genlearn.data import list_styles, load_image

    names = list_styles("unseen")
    assert len(names) == 8 and {n.rsplit("-", 1)[0] for n in names} == set(PAINTING_KINDS)
    x = load_image("dots-101", 64)
    assert torch.equal(x, painted_style("dots", 64, seed=101))  # a square painting at the side asked for
    assert load_image("waves-100", (40, 56)).shape == (3, 40, 56) and load_image("blocks-100").shape == (3, 256, 256)


def test_style_training_crops_take_every_scale_and_recolour_a_share():
    from genlearn.data import style_training_crops

    images = [painted_style("blocks", 96, seed=0), painted_style("waves", 96, seed=1)]
    plain = style_training_crops(images, 16, 10, seed=0, scales=(1.0, 3.0), recoloured=0.0)
    assert plain.shape == (10, 3, 16, 16) and torch.equal(plain, style_training_crops(images, 16, 10, seed=0, scales=(1.0, 3.0), recoloured=0.0))
    # at scale 1 a crop is a whole 16-pixel copy of an image (fine detail averaged away); at scale 3 a third of a side
    rough = [(c[..., 1:] - c[..., :-1]).abs().mean().item() for c in plain]
    assert sum(rough[:5]) > sum(rough[5:])  # the whole-image crops hold more edges per pixel than the magnified ones
    mixed = style_training_crops(images, 16, 10, seed=0, scales=(1.0, 3.0), recoloured=0.4)
    changed = [not torch.equal(a, b) for a, b in zip(plain, mixed)]
    assert sum(changed) == 4  # the same crops, 4 of 10 recoloured
    with pytest.raises(ValueError, match="every scale >= 1"):
        style_training_crops(images, 16, 4, scales=(0.5,))
    with pytest.raises(ValueError, match="at least one style image"):
        style_training_crops([], 16, 4)
