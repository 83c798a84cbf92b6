"""The book's digits metrics, all read through one fixed classifier whose weights ship with genlearn.

* :func:`digits_classifier` -- the reference classifier, loaded from ``digits_classifier.pt`` next
  to this file (its SHA-256 is checked); the same weights on every machine and device.
* :func:`digits_fd` -- Fréchet distance in the classifier's feature space against a reference split.
* :func:`class_accuracy` -- share of samples classified as the class they were asked to be.

Inception-based FID would be meaningless on 8×8 grey digits; a classifier trained on the same
domain is the standard substitute (as in the MNIST experiments of many GAN papers). FID is
comparable across papers because its Inception weights are fixed; so is this metric: the weights
were trained once (``python -m genlearn train classifier`` retrains them; see
:mod:`genlearn.recipes.classifier` for how to ship a new set), not on first use.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch

from genlearn.metrics.frechet import frechet_distance, kernel_distance
from genlearn.models.classifier import ClassifierConfig, DigitsClassifier

IMAGE_SIZE = 16
WEIGHTS = Path(__file__).with_name("digits_classifier.pt")
# SHA-256 of the shipped weights: the definition of the book's digits metrics.
WEIGHTS_SHA256 = "3c601f85e5a6d3124dc1c243648594033a24bc7a6f542d5f014da00173d5cbb1"


class ClassifierWeightsError(RuntimeError):
    """The shipped classifier weights are missing or are not the ones the book's numbers were made with.

    Chapter 0.
    """


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_classifier(path: str | Path = WEIGHTS, sha256: str | None = WEIGHTS_SHA256) -> DigitsClassifier:
    """A :class:`DigitsClassifier` with the weights at ``path`` (checked against ``sha256`` unless None), eval mode, CPU.

    Chapter 0.
    """
    path = Path(path)
    if not path.is_file():
        raise ClassifierWeightsError(f"the digits classifier weights are missing at {path}; reinstall genlearn (they ship inside the package)")
    if sha256 is not None and file_sha256(path) != sha256:
        raise ClassifierWeightsError(f"{path} is not the classifier the book's metrics are defined with (SHA-256 differs); reinstall genlearn")
    model = DigitsClassifier(ClassifierConfig())
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.eval()


_MEMO: dict[str, DigitsClassifier] = {}


def digits_classifier() -> DigitsClassifier:
    """The reference digits classifier (the shipped weights, loaded once per process).

    Chapters 0 and 12.
    """
    if "reference" not in _MEMO:
        _MEMO["reference"] = load_classifier()
    return _MEMO["reference"]


@torch.no_grad()
def _batched(fn, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    return torch.cat([fn(x[i : i + batch_size].float().cpu()) for i in range(0, x.shape[0], batch_size)])


def digits_features(x: torch.Tensor, classifier: DigitsClassifier | None = None) -> torch.Tensor:
    """(N, 1, H, W) in [-1, 1] -> classifier features (N, 64).

    Chapters 0, 11 and 12.
    """
    classifier = classifier or digits_classifier()
    return _batched(classifier.features, x)


def classify_digits(x: torch.Tensor, classifier: DigitsClassifier | None = None) -> torch.Tensor:
    """(N, 1, H, W) in [-1, 1] -> predicted classes (N,).

    Chapters 1, 2 and 6.
    """
    classifier = classifier or digits_classifier()
    return _batched(classifier, x).argmax(1)


def reference_features(split: str = "train", classifier: DigitsClassifier | None = None) -> torch.Tensor:
    """Classifier features (N, 64) of a digits split ("train", 1,437 images; "test", 360): the reference of :func:`digits_fd`.

    Chapter 0.
    """
    from genlearn.data import load_digits

    x, _ = load_digits(split, size=IMAGE_SIZE)
    return digits_features(x, classifier)


def digits_fd(samples: torch.Tensor, reference: str = "train", classifier: DigitsClassifier | None = None) -> float:
    """Digits Fréchet distance of ``samples`` (N, 1, H, W) in [-1, 1] to a digits split.

    The reference is the train split (1,437 images) by default. The value depends on N: compare
    models at the same N, and against :func:`digits_fd_floor` at that N.

    Chapter 0; chapters 1-6 and 11 report it.
    """
    return frechet_distance(digits_features(samples, classifier), reference_features(reference, classifier))


def digits_kid(samples: torch.Tensor, reference: str = "train", classifier: DigitsClassifier | None = None) -> tuple[float, float]:
    """Kernel distance (mean, std) in the same feature space; unbiased, so small N is fine.

    Chapter 0.
    """
    f = digits_features(samples, classifier)
    r = reference_features(reference, classifier)
    return kernel_distance(f, r, subsets=50, subset_size=min(len(f), len(r), 500))


def digits_fd_floor(classifier: DigitsClassifier | None = None) -> float:
    """Real-vs-real floor: the held-out test split (N = 360) against the train split.

    Chapter 0; chapters 1-6 and 11 report it.
    """
    from genlearn.data import load_digits

    x, _ = load_digits("test", size=IMAGE_SIZE)
    return digits_fd(x, "train", classifier)


def class_accuracy(samples: torch.Tensor, labels: torch.Tensor, classifier: DigitsClassifier | None = None) -> dict:
    """Share of ``samples`` that the classifier assigns to ``labels``, overall and per class.

    Chapters 3 and 6.
    """
    if labels.shape != (samples.shape[0],):
        raise ValueError(f"labels must have shape ({samples.shape[0]},), got {tuple(labels.shape)}")
    pred = classify_digits(samples, classifier)
    hit = (pred == labels.cpu()).float()
    per_class = {int(c): float(hit[labels.cpu() == c].mean()) for c in labels.unique().tolist()}
    return {"accuracy": float(hit.mean()), "per_class": per_class, "n": int(samples.shape[0])}


@torch.no_grad()
def heldout_accuracy(classifier: DigitsClassifier | None = None) -> float:
    """Held-out accuracy of the classifier on the digits test split (360 images).

    Chapters 0 and 3.
    """
    from genlearn.data import load_digits

    x, y = load_digits("test", size=IMAGE_SIZE)
    return float((classify_digits(x, classifier) == y).float().mean())


__all__ = [
    "ClassifierWeightsError",
    "WEIGHTS",
    "WEIGHTS_SHA256",
    "class_accuracy",
    "classify_digits",
    "digits_classifier",
    "digits_fd",
    "digits_fd_floor",
    "digits_features",
    "digits_kid",
    "heldout_accuracy",
    "load_classifier",
    "reference_features",
]
