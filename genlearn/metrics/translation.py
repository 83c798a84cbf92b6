"""Scores of an unpaired translation on the offline digit pairs, read through one fixed classifier.

A translation should change a digit's style and keep its identity. Labels exist in both domains of
the offline pairs (:func:`genlearn.data.get_unpaired`); training never sees them, evaluation does:

* :func:`translation_classifier` -- a :class:`~genlearn.models.classifier.DigitsClassifier` trained
  once on every labelled digit domain (:func:`genlearn.data.digit_domains`), shipped with genlearn as
  ``translation_classifier.pt`` (SHA-256 checked), like the digits metric's classifier.
* :func:`label_preservation` -- the share of translated images it assigns the source image's label.
* :func:`cycle_error` -- mean absolute reconstruction error ``|F(G(x)) - x|`` in [-1, 1] units.
* :func:`domain_fd` -- Fréchet distance in its feature space to a target domain's images, as mean
  +- sd over disjoint folds, beside :func:`domain_fd_floor` (held-out real images, same folds).
"""

from __future__ import annotations

from pathlib import Path

import torch

from genlearn.metrics.digits import classify_digits, digits_features, load_classifier
from genlearn.metrics.frechet import frechet_distance
from genlearn.models.classifier import DigitsClassifier

WEIGHTS = Path(__file__).with_name("translation_classifier.pt")
# SHA-256 of the shipped weights: the definition of the translation scores.
WEIGHTS_SHA256 = "1c5a0f4087067e4b9c99d832485788efa3057defc0a5fe231bdbd71c6dfe5b33"
FOLDS = 3

_MEMO: dict[str, DigitsClassifier] = {}


def translation_classifier() -> DigitsClassifier:
    """The classifier behind the translation scores (the shipped weights, loaded once per process).

    Chapter 7.
    """
    if "translation" not in _MEMO:
        _MEMO["translation"] = load_classifier(WEIGHTS, WEIGHTS_SHA256)
    return _MEMO["translation"]


def label_preservation(x_translated: torch.Tensor, labels: torch.Tensor, classifier: DigitsClassifier | None = None) -> dict:
    """Share of translated digits (N, 1, H, W) classified as their source's ``labels`` (N,).

    Returns ``{"kept", "se", "n"}``: the share, its binomial standard error ``sqrt(p (1 - p) / n)``, and n.

    Chapter 7.
    """
    if labels.shape != (x_translated.shape[0],):
        raise ValueError(f"labels must have shape ({x_translated.shape[0]},), got {tuple(labels.shape)}")
    pred = classify_digits(x_translated, classifier or translation_classifier())
    p = float((pred == labels.cpu()).float().mean())
    n = int(labels.shape[0])
    return {"kept": p, "se": (p * (1 - p) / max(n, 1)) ** 0.5, "n": n}


def label_confusion(x_translated: torch.Tensor, labels: torch.Tensor, classifier: DigitsClassifier | None = None) -> torch.Tensor:
    """Confusion matrix (10, 10) of a translation: row = the source digit's label, column = the classifier's label of
    its translation; counts. A translation that keeps labels is diagonal; a consistent relabelling (a permutation,
    the solution cycle consistency cannot rule out) has one dominant entry per row, off the diagonal.

    Chapter 7.
    """
    if labels.shape != (x_translated.shape[0],):
        raise ValueError(f"labels must have shape ({x_translated.shape[0]},), got {tuple(labels.shape)}")
    pred = classify_digits(x_translated, classifier or translation_classifier())
    return torch.bincount(labels.cpu().long() * 10 + pred.long(), minlength=100).view(10, 10)


def permutation_agreement(confusion: torch.Tensor) -> float:
    """Share of digits whose translation's label matches the source's under the best one-to-one relabelling.

    ``max over permutations pi of sum_k C[k, pi(k)] / sum C`` (Hungarian method): equal to the labels kept when the
    best relabelling is the identity, and near 1 for a translation that is a clean permutation of the digits, however
    few labels it keeps.

    Chapter 7.
    """
    from scipy.optimize import linear_sum_assignment  # scipy comes with scikit-learn

    rows, cols = linear_sum_assignment(confusion.numpy(), maximize=True)
    return float(confusion[rows, cols].sum() / confusion.sum().clamp(min=1))


@torch.no_grad()
def cycle_error(model, x: torch.Tensor, direction: str = "AtoB") -> float:
    """Mean ``|F(G(x)) - x|`` over pixels: ``direction`` "AtoB" maps A -> B -> A, "BtoA" maps B -> A -> B.

    Chapter 7.
    """
    back = {"AtoB": "BtoA", "BtoA": "AtoB"}
    if direction not in back:
        raise ValueError(f"direction must be 'AtoB' or 'BtoA', got {direction!r}")
    return float((model.translate(model.translate(x, direction), back[direction]) - x).abs().mean())


def domain_fd(x: torch.Tensor, reference: torch.Tensor, *, folds: int = FOLDS, classifier: DigitsClassifier | None = None) -> dict:
    """Fréchet distance of ``x`` (N, 1, H, W) to ``reference`` images, mean and sd over ``folds`` disjoint folds of ``x``.

    FD depends on N: compare it with :func:`domain_fd_floor` at the same N and folds.

    Chapter 7.
    """
    if x.shape[0] < 2 * folds:
        raise ValueError(f"domain_fd needs at least {2 * folds} images for {folds} folds, got {x.shape[0]}")
    classifier = classifier or translation_classifier()
    ref = digits_features(reference, classifier)
    values = torch.tensor([frechet_distance(f, ref) for f in digits_features(x, classifier).chunk(folds)])
    return {"mean": float(values.mean()), "sd": float(values.std()), "n": int(x.shape[0] // folds)}


def domain_fd_floor(x_heldout: torch.Tensor, reference: torch.Tensor, *, folds: int = FOLDS, classifier: DigitsClassifier | None = None) -> dict:
    """Real-vs-real floor: held-out real images of the target domain against its reference, same folds.

    Chapter 7.
    """
    return domain_fd(x_heldout, reference, folds=folds, classifier=classifier)


__all__ = ["FOLDS", "WEIGHTS", "WEIGHTS_SHA256", "cycle_error", "domain_fd", "domain_fd_floor", "label_confusion", "label_preservation",
           "permutation_agreement", "translation_classifier"]
