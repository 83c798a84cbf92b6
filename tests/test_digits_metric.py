import pytest
import torch

from genlearn.data import load_digits
from genlearn.train.classifier import train_digits_classifier
from genlearn.metrics.digits import (
    class_accuracy,
    classify_digits,
    digits_fd,
    digits_fd_floor,
    digits_features,
    digits_kid,
    heldout_accuracy,
)
from genlearn.models.classifier import ClassifierConfig, DigitsClassifier


def test_classifier_shapes_and_resize():
    model = DigitsClassifier(ClassifierConfig.tiny()).eval()
    for size in (8, 16, 32):
        x = torch.rand(3, 1, size, size) * 2 - 1
        assert model(x).shape == (3, 10)
        assert model.features(x).shape == (3, 8)
    with pytest.raises(ValueError, match="1 channel"):
        model(torch.zeros(2, 3, 16, 16))


def test_classifier_training_is_deterministic():
    a, _ = train_digits_classifier(15, config=ClassifierConfig.tiny(), seed=3, progress=False)
    b, _ = train_digits_classifier(15, config=ClassifierConfig.tiny(), seed=3, progress=False)
    for p, q in zip(a.state_dict().values(), b.state_dict().values()):
        assert torch.equal(p, q)


def test_reference_classifier_accuracy(classifier):
    assert heldout_accuracy(classifier) >= 0.97


def test_fd_floor_is_small_and_controls_are_large(classifier):
    floor = digits_fd_floor(classifier)
    x, y = load_digits("test", size=16)
    noise = torch.rand_like(x) * 2 - 1
    one_class = load_digits("train", size=16)[0][load_digits("train")[1] == 3][:360]
    blurred = torch.nn.functional.avg_pool2d(x, 5, stride=1, padding=2, count_include_pad=False)
    assert floor < digits_fd(blurred, classifier=classifier) < digits_fd(noise, classifier=classifier)
    assert digits_fd(one_class, classifier=classifier) > 5 * floor
    kid_real, _ = digits_kid(x, classifier=classifier)
    kid_noise, _ = digits_kid(noise, classifier=classifier)
    assert kid_real < 0.1 * kid_noise


def test_class_accuracy_per_class(classifier):
    x, y = load_digits("test", size=16)
    report = class_accuracy(x, y, classifier)
    assert report["n"] == 360 and report["accuracy"] >= 0.97 and set(report["per_class"]) == set(range(10))
    wrong = class_accuracy(x, (y + 1) % 10, classifier)
    assert wrong["accuracy"] < 0.1
    with pytest.raises(ValueError, match="labels must have shape"):
        class_accuracy(x, y[:5], classifier)


def test_features_batch_independent(classifier):
    x, _ = load_digits("test", size=16)
    f_all = digits_features(x[:40], classifier)
    f_part = digits_features(x[:7], classifier)
    assert f_all.shape == (40, 64)
    assert torch.allclose(f_all[:7], f_part, atol=1e-5)
    assert classify_digits(x[:7], classifier).shape == (7,)
