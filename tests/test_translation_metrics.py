"""The offline digit pairs' framing, every labelled domain, and the translation scores of chapter 7."""

import pytest
import torch

from genlearn import data
from genlearn.metrics import translation
from genlearn.metrics.frechet import frechet_distance


def ink_box(x: torch.Tensor) -> tuple[float, float]:
    """Mean height and width (pixels) of the ink's bounding box of (N, 1, S, S) digits."""
    ink = x[:, 0] > -0.5
    return ink.any(2).float().sum(1).mean().item(), ink.any(1).float().sum(1).mean().item()


def test_optdigits_framing_fills_the_frame_like_scikit_learns_digits():
    x_a, _ = data.load_digits("train", 16)
    x_b, y_b = data.typeset_digits(300, 16, seed=0, framing="optdigits")
    x_m, _ = data.typeset_digits(300, 16, seed=0)  # the MNIST framing: 50-75% of the side
    (ha, wa), (hb, wb), (hm, _) = ink_box(x_a), ink_box(x_b), ink_box(x_m)
    assert ha > 15.5 and hb > 15.5 and hm < 12.5  # A and optdigits-framed B fill the height; MNIST framing does not
    assert abs(wa - wb) < 2.0  # and their widths agree within two pixels
    assert torch.equal(y_b, data.typeset_digits(300, 16, seed=0)[1])  # same draws, other framing
    assert torch.equal(x_b, data.typeset_digits(300, 16, seed=0, framing="optdigits")[0])
    with pytest.raises(ValueError, match="framing must be 'mnist' or 'optdigits'"):
        data.typeset_digits(10, 16, framing="centred")


def test_the_typeset_pair_is_framed_alike_and_digit_domains_concatenates_every_domain():
    x_a, y_a, x_b, y_b = data.get_unpaired("digits-typeset", "test", 16)
    assert x_a.shape == (360, 1, 16, 16) and x_b.shape == (360, 1, 16, 16)
    assert torch.equal(x_b, data.typeset_digits(360, 16, seed=1, framing="optdigits")[0])
    x, y, domain = data.digit_domains("test", 16)
    assert x.shape == (360 + 360 + 1000, 1, 16, 16) and y.shape == domain.shape == (1720,)
    assert torch.bincount(domain).tolist() == [360, 360, 1000] and data.DIGIT_DOMAINS == ("digits", "typeset", "mnist-5k")
    assert torch.equal(x[domain == 1], x_b) and torch.equal(y[domain == 0], y_a)


def test_the_shipped_translation_classifier_knows_every_domain():
    x, y, domain = data.digit_domains("test", 16)
    for i, name in enumerate(data.DIGIT_DOMAINS):
        kept = translation.label_preservation(x[domain == i], y[domain == i])
        assert kept["kept"] > 0.97, name  # real held-out images keep their own labels
    shuffled = translation.label_preservation(x[domain == 0], y[domain == 0].roll(1))
    assert shuffled["kept"] < 0.2  # a "translation" that swaps digits scores near chance
    p, n = shuffled["kept"], shuffled["n"]
    assert shuffled["se"] == pytest.approx((p * (1 - p) / n) ** 0.5)
    with pytest.raises(ValueError, match="labels must have shape"):
        translation.label_preservation(x[:4], y[:3])


def test_retraining_the_translation_classifier_repeats_the_shipped_weights(tmp_path, capsys):
    """Bit for bit where the CPU rounds as the machine that made the file did; elsewhere (another make or
    instruction set) the same classifier in behaviour, as ``test_retraining_the_classifier_repeats_the_shipped_weights``."""
    from genlearn.cli import main
    from genlearn.metrics.digits import file_sha256, load_classifier
    from genlearn.recipes.classifier import DOMAINS_STEPS

    assert main(["train", "classifier", "--data", "digit-domains", "--steps", str(DOMAINS_STEPS), "--out", str(tmp_path)]) == 0
    assert "held-out accuracy per domain: digits 0.98" in capsys.readouterr().out
    if file_sha256(tmp_path / "translation_classifier.pt") == translation.WEIGHTS_SHA256:
        return
    retrained = load_classifier(tmp_path / "translation_classifier.pt", sha256=None)
    x, y, domain = data.digit_domains("test", 16)
    same = (retrained(x).argmax(1) == translation.translation_classifier()(x).argmax(1)).float().mean()
    assert same >= 0.97
    for i, name in enumerate(data.DIGIT_DOMAINS):
        kept = translation.label_preservation(x[domain == i], y[domain == i], classifier=retrained)
        assert kept["kept"] > 0.97, name


class Shift:
    """A stand-in translation model: AtoB adds ``delta``, BtoA subtracts ``back``."""

    def __init__(self, delta: float, back: float):
        self.delta, self.back = delta, back

    def translate(self, x, direction="AtoB"):
        return x + self.delta if direction == "AtoB" else x - self.back


def test_cycle_error_is_the_mean_round_trip_difference():
    x = torch.rand(5, 1, 8, 8)
    assert translation.cycle_error(Shift(0.3, 0.3), x) == pytest.approx(0.0, abs=1e-6)
    assert translation.cycle_error(Shift(0.3, 0.1), x, "AtoB") == pytest.approx(0.2, abs=1e-6)  # x + 0.3 - 0.1
    assert translation.cycle_error(Shift(0.3, 0.1), x, "BtoA") == pytest.approx(0.2, abs=1e-6)  # x - 0.1 + 0.3
    with pytest.raises(ValueError, match="direction must be"):
        translation.cycle_error(Shift(0, 0), x, "AB")


def test_domain_fd_folds_against_an_independent_computation():
    from genlearn.metrics.digits import digits_features

    x_a, _, x_b, _ = data.get_unpaired("digits-typeset", "test", 16)
    ref = data.get_unpaired("digits-typeset", "train", 16)[2]
    clf = translation.translation_classifier()
    fd = translation.domain_fd(x_b, ref, folds=3)
    f, r = digits_features(x_b, clf), digits_features(ref, clf)
    by_hand = torch.tensor([frechet_distance(f[i * 120 : (i + 1) * 120], r) for i in range(3)])
    assert fd["mean"] == pytest.approx(float(by_hand.mean()), rel=1e-6) and fd["sd"] == pytest.approx(float(by_hand.std()), rel=1e-6)
    assert fd["n"] == 120
    wrong_domain = translation.domain_fd(x_a, ref, folds=3)  # handwritten digits are far from the typeset ones
    assert wrong_domain["mean"] > 5 * fd["mean"]
    assert translation.domain_fd_floor(x_b, ref)["mean"] == pytest.approx(fd["mean"])
    with pytest.raises(ValueError, match="at least 6 images"):
        translation.domain_fd(x_b[:5], ref)


def test_patchgan_depth_follows_the_image_side():
    from genlearn.models.cyclegan import PatchDiscriminator, receptive_field
    from genlearn.recipes.cyclegan import patch_layers

    assert [patch_layers(s) for s in (16, 32, 64, 128, 256)] == [1, 1, 2, 3, 3]
    for side in (32, 64, 256):  # the patches never exceed the image by more than the paper's 70 on 256 would
        assert receptive_field(PatchDiscriminator(1, 4, patch_layers(side))) <= max(16, 0.6 * side)


def test_cyclegan_rates_are_flat_for_half_the_run_then_fall_linearly_to_zero(monkeypatch):
    """The paper's schedule (Sec. 4: 100 epochs at 2e-4, then 100 decaying linearly to 0), read off a real run."""
    import genlearn.train.cyclegan as cg
    from genlearn.models.cyclegan import CycleGAN, CycleGANConfig, CycleGANDiscriminators

    seen = []
    real_step = cg.generator_step

    def spy(G, D, opt_g, *args, **kwargs):
        seen.append(opt_g.param_groups[0]["lr"])
        return real_step(G, D, opt_g, *args, **kwargs)

    monkeypatch.setattr(cg, "generator_step", spy)
    cfg = CycleGANConfig.tiny()
    x = torch.rand(8, 1, 16, 16) * 2 - 1
    cg.train_cyclegan(CycleGAN(cfg), CycleGANDiscriminators(cfg), x, x.flip(0), config=cg.CycleGANTrainConfig(batch_size=2), steps=10, progress=False)
    assert seen == pytest.approx([2e-4] * 6 + [1.6e-4, 1.2e-4, 0.8e-4, 0.4e-4])


def test_label_confusion_counts_pairs_and_permutation_agreement_finds_a_relabelling():
    x, y, domain = data.digit_domains("test", 16)
    x, y = x[domain == 0], y[domain == 0]
    pred = translation.classify_digits(x, translation.translation_classifier())
    conf = translation.label_confusion(x, y)
    assert conf.shape == (10, 10) and int(conf.sum()) == len(y)
    assert torch.equal(conf, torch.tensor([[int(((y == i) & (pred == j)).sum()) for j in range(10)] for i in range(10)]))
    kept = translation.label_preservation(x, y)["kept"]
    assert translation.permutation_agreement(conf) == pytest.approx(kept, abs=1e-6)  # the identity is the best relabelling
    perm = torch.tensor([3, 8, 0, 1, 9, 2, 7, 6, 4, 5])  # the "translation" relabels every digit: labels y -> perm[y]
    swapped = translation.label_confusion(x, perm.argsort()[y])  # sources labelled so that the classifier sees perm
    assert swapped.diagonal().sum() < 0.2 * len(y)  # few labels kept ...
    assert translation.permutation_agreement(swapped) == pytest.approx(kept, abs=1e-6)  # ... yet a clean relabelling
    assert translation.permutation_agreement(torch.ones(10, 10)) == pytest.approx(0.1)  # no structure: chance
    with pytest.raises(ValueError, match="labels must have shape"):
        translation.label_confusion(x[:4], y[:3])
