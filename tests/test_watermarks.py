"""The photo split and the watermark-removal pairs of chapter 8: deterministic, disjoint, targets untouched."""

import numpy as np
import pytest
import torch

from genlearn import data


def test_photo_splits_are_disjoint_and_cover_every_photo():
    train, test = data.list_photos("train"), data.list_photos("test")
    assert not set(train) & set(test) and sorted(train + test) == list(data.list_photos("all")) == list(data.list_photos())
    assert test == ("astronaut", "coffee", "flower", "motorcycle") and len(train) == 10
    with pytest.raises(ValueError, match="split"):
        data.list_photos("val")


def test_watermark_pairs_are_deterministic_and_leave_the_target_alone(monkeypatch):
    x, y = data.watermark_pairs("train", n=16, size=32, seed=0)
    assert x.shape == y.shape == (16, 3, 32, 32) and x.min() >= -1 and x.max() <= 1
    x2, y2 = data.watermark_pairs("train", n=16, size=32, seed=0)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    x3, y3 = data.watermark_pairs("train", n=16, size=32, seed=1)
    assert not torch.equal(y, y3)
    xh, yh = data.watermark_pairs("train", n=16, size=32, seed=0, marks="held-out")
    assert torch.equal(yh, y) and not torch.equal(xh, x)  # same crops, other marks: the target does not depend on the marks
    changed = (x != y).flatten(1)  # (16, 3 * 32 * 32)
    assert changed.any(1).all()  # every pair carries a mark
    assert changed.float().mean() < 0.5  # and the rest of the crop is exactly the clean photo
    loaded = []
    real = data.watermarks.load_photo
    monkeypatch.setattr(data.watermarks, "load_photo", lambda name, **k: loaded.append(name) or real(name, **k))
    data.watermark_pairs("test", n=4, size=32)
    assert tuple(loaded) == data.list_photos("test")  # test pairs come from the held-out photos only


def test_held_out_marks_share_no_font_text_or_opacity_with_training():
    tr, ho = data.MARK_STYLES["train"], data.MARK_STYLES["held-out"]
    assert not set(tr["fonts"]) & set(ho["fonts"]) and not set(tr["texts"]) & set(ho["texts"])
    assert tr["opacity"][1] <= ho["opacity"][0]


def test_watermark_pairs_bad_input():
    with pytest.raises(ValueError, match="split"):
        data.watermark_pairs("all")
    with pytest.raises(ValueError, match="marks"):
        data.watermark_pairs(marks="invisible")
    with pytest.raises(ValueError, match="positive int"):
        data.watermark_pairs(n=0)


def test_mark_sets_name_every_style():
    assert data.MARK_SETS == tuple(data.MARK_STYLES)


def test_colorization_pairs_are_the_luma_of_their_colour_crops():
    import numpy as np
    from PIL import Image

    x, y = data.colorization_pairs("test", n=6, size=32, seed=3)
    assert x.shape == (6, 1, 32, 32) and y.shape == (6, 3, 32, 32)
    x2, y2 = data.colorization_pairs("test", n=6, size=32, seed=3)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    rgb = ((y[0] + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()  # (32, 32, 3)
    luma = np.asarray(Image.fromarray(rgb).convert("L"), np.float32) / 127.5 - 1  # PIL's own conversion
    assert np.abs(x[0, 0].numpy() - luma).max() < 1.5 / 127.5  # PIL rounds to whole levels
    assert (y - y.mean(1, keepdim=True)).abs().amax() > 0.1  # the targets have colour


def test_get_paired_reads_offline_sets_and_folders_of_a_b_pairs(tmp_path, monkeypatch):
    from PIL import Image

    x, y = data.get_paired("watermarks", "test", size=16, n=3)
    assert torch.equal(x, data.watermark_pairs("test", n=3, size=16, seed=1)[0])  # test pairs use seed 1
    xc, yc = data.get_paired("colorize", "train", size=16, n=2)
    assert xc.shape == (2, 1, 16, 16) and yc.shape == (2, 3, 16, 16)
    (tmp_path / "train").mkdir()
    for i in range(3):
        pair = Image.new("RGB", (40, 20), (0, 0, 0))
        pair.paste((255, 0, 0), (0, 0, 20, 20))  # A: red
        pair.paste((0, 0, 255 - 40 * i), (20, 0, 40, 20))  # B: blue
        pair.save(tmp_path / "train" / f"{i}.png")
    a, b = data.get_paired(str(tmp_path), "train", size=8)
    assert a.shape == b.shape == (3, 3, 8, 8) and (a[:, 0] > 0.9).all() and (b[:, 2] > 0.2).all() and (b[:, 0] < -0.9).all()
    b2, a2 = data.get_paired(str(tmp_path), "train", size=8, direction="BtoA")
    assert torch.equal(a2, a) and torch.equal(b2, b)
    facades = tmp_path / "facades"  # an archive whose paper direction is right -> left
    facades.mkdir()
    (tmp_path / "train").rename(facades / "train")
    monkeypatch.setattr(data.paired, "download_pix2pix", lambda name: facades)
    labels, photos = data.get_paired("facades", "train", size=8)
    assert torch.equal(labels, b) and torch.equal(photos, a)  # labels -> photo, as Isola et al. train it
    with pytest.raises(ValueError, match="pix2pix trains on pairs"):
        data.get_paired("digits")
    with pytest.raises(ValueError, match="split"):
        data.get_paired("colorize", "val")


def test_broad_marks_leave_a_share_unmarked_and_other_sets_mark_the_same_crops():
    x, y = data.watermark_pairs("train", n=40, size=32, seed=0, marks="broad", unmarked=0.15)
    assert x.shape == y.shape == (40, 3, 32, 32) and x.min() >= -1 and x.max() <= 1
    assert torch.equal(x, data.watermark_pairs("train", n=40, size=32, seed=0, marks="broad", unmarked=0.15)[0])
    assert torch.equal(y, data.watermark_pairs("train", n=40, size=32, seed=0)[1])  # the crops do not depend on the marks
    changed = (x != y).flatten(1)  # (40, 3 * 32 * 32)
    assert 2 <= (~changed.any(1)).sum() <= 12  # about 15% of the crops carry no mark: 6 expected
    for marks in ("broad", "unseen", "faint-tiled"):  # by default every crop carries a mark
        xm, ym = data.watermark_pairs("train", n=40, size=32, seed=0, marks=marks)
        assert torch.equal(ym, y) and (xm != ym).flatten(1).any(1).all(), marks
    clean, yc = data.watermark_pairs("train", n=40, size=32, seed=0, marks="broad", unmarked=1.0)
    assert torch.equal(clean, yc) and torch.equal(yc, y)  # the same crops, no mark at all


def test_scale_sizes_photos_and_marks_for_the_crops_a_model_is_used_on(monkeypatch):
    sizes = []
    real = data.watermarks.load_photo
    monkeypatch.setattr(data.watermarks, "load_photo", lambda name, size: sizes.append(size) or real(name, size=size))
    x, y = data.watermark_pairs("test", n=2, size=16, marks="broad", scale=64)
    assert x.shape == (2, 3, 16, 16) and set(sizes) == {256}  # photos sized for 64-pixel crops, cut 16 at a time
    with pytest.raises(ValueError, match="scale"):
        data.watermark_pairs(size=32, scale=16)
    with pytest.raises(ValueError, match="unmarked"):
        data.watermark_pairs(n=2, unmarked=1.5)


def test_faint_tiled_marks_are_faint_and_cover_every_crop():
    x, y = data.watermark_pairs("test", n=24, size=64, seed=1, marks="faint-tiled")
    covered = lambda a, b: ((a - b).abs().amax(1) > 2 / 255).float().mean((1, 2))  # (N,) share of pixels a mark touches
    assert covered(x, y).min() > 0.05  # a grid over every crop
    assert (x - y).abs().amax() <= 0.6 * 2 + 1e-6  # opacity at most 0.6: a pixel moves at most 60% of the way


def test_broad_faint_marks_are_the_training_procedure_limited_as_faint_tiled_is(monkeypatch):
    broad, faint, limited = (data.MARK_STYLES[k] for k in ("broad", "faint-tiled", "broad-faint"))
    assert limited["fonts"] == broad["fonts"] and limited["texts"] == broad["texts"] and limited["codes"]
    assert (limited["opacity"], limited["size"], limited["tiled"]) == (faint["opacity"], faint["size"], faint["tiled"])
    x, y = data.watermark_pairs("test", n=24, size=64, seed=1, marks="broad-faint")
    covered = ((x - y).abs().amax(1) > 2 / 255).float().mean((1, 2))  # (N,) share of pixels a mark touches
    assert covered.min() > 0.05 and (x - y).abs().amax() <= 0.6 * 2 + 1e-6  # a faint grid over every crop
    lattices, draw = set(), data.watermarks._layered_marks  # drawn by the "broad" procedure: no brick-wise rows
    monkeypatch.setattr(data.watermarks, "_layered_marks", lambda *a, brick: lattices.add((a[2]["fonts"], brick)) or draw(*a, brick=brick))
    for marks in ("broad-faint", "broad", "faint-tiled", "unseen"):
        data.watermark_pairs("test", n=4, size=16, seed=1, marks=marks)
    assert lattices == {(broad["fonts"], False), (faint["fonts"], True)}  # broad and broad-faint square, the others brick-wise
    from genlearn.metrics.watermarks import REMOVAL_TESTS

    assert REMOVAL_TESTS["faint tiled, training fonts"] == ("test", "broad-faint", 0.0)


def test_the_unseen_procedure_shares_no_font_or_text_with_broad_and_draws_what_broad_never_shows():
    broad = data.MARK_STYLES["broad"]
    for name in ("unseen", "faint-tiled"):
        other = data.MARK_STYLES[name]
        assert not set(broad["fonts"]) & set(other["fonts"]) and not set(broad["texts"]) & set(other["texts"])
    assert broad["opacity"][0] <= 0.2 and broad["opacity"][1] >= 0.9 and 0 < broad["tiled"] < 1  # broad training marks
    assert "tinted" not in broad and "outlined" not in broad and data.MARK_STYLES["unseen"]["tinted"] > 0
    import numpy as np

    flat = np.full((64, 64, 3), 128, np.uint8)  # a grey photo: a grey mark keeps it grey, a tinted one does not

    def coloured(marks, brick):  # the share of 40 draws whose mark has a colour
        style = data.MARK_STYLES[marks]
        out = [data.watermarks._layered_marks(flat, np.random.default_rng([7, i]), style, 64, brick).astype(int) for i in range(40)]
        return np.mean([(o.max(2) - o.min(2)).max() > 20 for o in out])

    assert coloured("broad", False) == 0 and 0.2 < coloured("unseen", True) < 0.8  # half the unseen marks are tinted


def test_varied_backgrounds_are_57_images_with_no_held_out_photo_and_train_only():
    from genlearn.data.dead_leaves import dead_leaves, palette_from
    from genlearn.data.watermarks import background_arrays, photo_arrays

    images = background_arrays(16)  # shorter side 64
    assert len(images) == 57 and all(a.dtype.name == "uint8" for a in images)
    assert all(min(a.shape[:2]) == 64 and a.shape[2] == 3 for a in images)
    held_out = photo_arrays("test", 16)
    assert not any(a.shape == h.shape and (a == h).all() for a in images for h in held_out)  # no held-out photo
    train = photo_arrays("train", 16)
    assert all((a == t).all() for a, t in zip(images[:10], train))  # the training photos first, then the others
    same = [a.shape == t.shape and (a == t).all() for a, t in zip(images[10:30], train + train)]  # the recolourings
    assert sum(same) <= 3  # a grey photo left untinted (probability 1/2) and not inverted keeps its pixels
    palette = palette_from(train)
    assert all((a == dead_leaves(64, k, palette)).all() for k, a in enumerate(images[45:]))  # the dead leaves last
    x, y = data.watermark_pairs("train", n=60, size=16, seed=0, marks="broad", backgrounds="varied")
    plain = data.watermark_pairs("train", n=60, size=16, seed=0, marks="broad")[1]
    assert x.shape == (60, 3, 16, 16) and not torch.equal(y, plain)  # crops of more than the 10 photos
    with pytest.raises(ValueError, match="held-out photos alone"):
        data.watermark_pairs("test", n=2, size=16, backgrounds="varied")
    with pytest.raises(ValueError, match="backgrounds"):
        data.watermark_pairs("train", n=2, size=16, backgrounds="textures")


def test_removal_scores_against_doing_nothing_and_a_known_error():
    import math

    from genlearn.metrics.watermarks import REMOVAL_TESTS, clean_psnr, removal_gain, removal_test

    class Shift:  # a "remover" that adds a constant: its clean PSNR is 10 log10(2^2 / c^2)
        def __init__(self, c):
            self.c = c

        def translate(self, x):
            return x + self.c

    x, y = removal_test("unseen marks", n=6, size=32)
    assert x.shape == y.shape == (6, 3, 32, 32) and (x != y).flatten(1).any(1).all()
    assert torch.equal(removal_gain(Shift(0.0), x, y), torch.zeros(6))  # doing nothing gains nothing
    assert (removal_gain(Shift(y - x), x, y) > 50).all()  # a perfect remover: far above the input
    clean, target = removal_test("clean photos", n=6, size=32)
    assert torch.equal(clean, target) and torch.equal(target, removal_test("held-out photos", n=6, size=32)[1])  # same crops, no marks
    assert clean_psnr(Shift(0.0), clean) == {"psnr": math.inf, "changed": 0.0}
    shifted = clean_psnr(Shift(0.1), clean)
    assert shifted["psnr"] == pytest.approx(10 * math.log10(4 / 0.01), abs=1e-6) and shifted["changed"] == 1.0
    assert set(REMOVAL_TESTS) >= {"unseen marks", "faint tiled", "clean photos"}
    with pytest.raises(ValueError, match="clean_psnr"):
        removal_gain(Shift(0.0), clean, target)
    with pytest.raises(ValueError, match="name"):
        removal_test("no such set")


def test_the_remover_pairs_are_varied_broad_and_partly_clean():
    x, y = data.watermarks.remover_pairs(n=40, size=16, seed=0)
    assert x.shape == (40, 3, 16, 16)
    unmarked = (x == y).flatten(1).all(1).float().mean().item()
    assert 0.3 <= unmarked <= 0.7  # half expected
    same = data.watermark_pairs("train", n=40, size=16, seed=0, marks="broad", scale=16, unmarked=0.5, backgrounds="varied")
    assert torch.equal(x, same[0]) and torch.equal(y, same[1])


def test_leaf_radii_follow_the_inverse_cube_density():
    """Against the CDF F(r) = (r_min^-2 - r^-2) / (r_min^-2 - r_max^-2) of p(r) ~ r^-3 (Lee, Mumford & Huang 2001)."""
    from genlearn.data.dead_leaves import leaf_radii

    r = leaf_radii(np.random.default_rng(0), 200_000, 1.5, 100.0)
    assert r.min() >= 1.5 and r.max() <= 100.0
    for q in (2.0, 3.0, 10.0, 50.0):
        expected = (1.5**-2 - q**-2) / (1.5**-2 - 100.0**-2)
        assert abs((r < q).mean() - expected) < 0.005, (q, (r < q).mean(), expected)
    # scale invariance: a disc between q and 2q is as likely as one between 2q and 4q, times 1/4 (the density's r^-3 dr)
    a, b = ((r >= 4) & (r < 8)).mean(), ((r >= 8) & (r < 16)).mean()
    assert abs(b / a - 0.25) < 0.02
    with pytest.raises(ValueError, match="0 < r_min < r_max"):
        leaf_radii(np.random.default_rng(0), 3, 5.0, 5.0)


def test_dead_leaves_paint_palette_colours_reproducibly_and_check_their_input():
    from genlearn.data.dead_leaves import dead_leaves, palette_from

    palette = np.array([[250, 10, 10], [10, 250, 10], [10, 10, 250], [120, 120, 120]], np.uint8)
    a = dead_leaves(64, 3, palette, blur=False)
    assert a.shape == (64, 64, 3) and a.dtype == np.uint8
    assert (a == dead_leaves(64, 3, palette, blur=False)).all() and not (a == dead_leaves(64, 4, palette, blur=False)).all()
    colours = {tuple(c) for c in a.reshape(-1, 3)}
    assert colours <= {tuple(c) for c in palette} and len(colours) == 4  # unblurred: palette colours only, all of them
    blurred = dead_leaves(64, 3, palette, blur=True)
    assert len({tuple(c) for c in blurred.reshape(-1, 3)}) > 4  # a blur mixes the colours at the edges
    # clutter at every scale: flat regions (large leaves) and many edges (small ones)
    edges = (np.abs(np.diff(a.astype(int), axis=1)).sum(2) > 0).mean()
    assert 0.05 < edges < 0.6
    photos = [np.full((8, 8, 3), 7, np.uint8), np.full((4, 4, 3), 200, np.uint8)]
    assert {tuple(c) for c in palette_from(photos, n=100)} == {(7, 7, 7), (200, 200, 200)}
    with pytest.raises(ValueError, match="shape \\(K, 3\\)"):
        dead_leaves(16, 0, np.zeros((4,), np.uint8))
    with pytest.raises(ValueError, match="how many discs fall"):
        dead_leaves(16, 0, palette, leaves=0)  # not silently the default number
    with pytest.raises(ValueError, match="at least one image"):
        palette_from([])
