"""The digits classifier genlearn trains for itself, and the metrics built on it.

* :func:`digits_classifier` -- trained deterministically on the digits *train* split (cached).
* :func:`digits_fd` -- Fréchet distance in the classifier's feature space against a reference split.
* :func:`class_accuracy` -- share of samples classified as the class they were asked to be.

Inception-based FID would be meaningless on 8×8 grey digits; a classifier trained on the same
domain is the standard substitute (as in the MNIST experiments of many GAN papers).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch
import torch.nn.functional as F

import genlearn
from genlearn.metrics.frechet import frechet_distance, kernel_distance
from genlearn.models.classifier import ClassifierConfig, DigitsClassifier, random_shift
from genlearn.train import InfiniteBatches, fit

TRAIN_STEPS = 500
BATCH_SIZE = 64
IMAGE_SIZE = 16


def cache_dir() -> Path:
    """``$GENLEARN_CACHE`` or ``~/.cache/genlearn``."""
    return Path(os.environ.get("GENLEARN_CACHE", Path.home() / ".cache" / "genlearn")).expanduser()


def train_digits_classifier(
    steps: int = TRAIN_STEPS,
    *,
    config: ClassifierConfig = ClassifierConfig(),
    seed: int = 0,
    progress: bool = True,
    callbacks=(),
):
    """Train :class:`DigitsClassifier` on the digits train split with small random shifts.

    Deterministic for a seed on CPU. Returns ``(model, history)``; the model is in eval mode.
    """
    from genlearn.data import load_digits

    torch.manual_seed(seed)
    x, y = load_digits("train", size=config.image_size)
    model = DigitsClassifier(config)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=max(steps, 1))
    g = torch.Generator().manual_seed(seed)

    def step(batch):
        xb, yb = batch
        xb = random_shift(xb, 2, generator=g)
        logits = model(xb)
        loss = F.cross_entropy(logits, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        return {"loss": loss.item(), "acc": (logits.argmax(1) == yb).float().mean().item()}

    history = fit(
        step,
        InfiniteBatches(x, y, batch_size=BATCH_SIZE, seed=seed),
        steps=steps,
        modules={"classifier": model},
        optimizers={"opt": opt},
        callbacks=callbacks,
        desc="digits classifier",
        progress=progress,
    )
    return model.eval(), history


def _cache_key(config: ClassifierConfig, steps: int, seed: int) -> str:
    text = json.dumps([genlearn.__version__, config.to_dict(), steps, seed, BATCH_SIZE], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


_MEMO: dict[str, DigitsClassifier] = {}


def digits_classifier(*, steps: int = TRAIN_STEPS, seed: int = 0, progress: bool = False) -> DigitsClassifier:
    """The reference digits classifier: loaded from the cache, else trained (~30 s on 2 cores) and cached."""
    config = ClassifierConfig()
    key = _cache_key(config, steps, seed)
    if key in _MEMO:
        return _MEMO[key]
    path = cache_dir() / f"digits_classifier-{key}.pt"
    model = DigitsClassifier(config)
    if path.is_file():
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    else:
        model, _ = train_digits_classifier(steps, config=config, seed=seed, progress=progress)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        torch.save(model.state_dict(), tmp)
        os.replace(tmp, path)
    _MEMO[key] = model.eval()
    return _MEMO[key]


@torch.no_grad()
def _batched(fn, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    return torch.cat([fn(x[i : i + batch_size].float().cpu()) for i in range(0, x.shape[0], batch_size)])


def digits_features(x: torch.Tensor, classifier: DigitsClassifier | None = None) -> torch.Tensor:
    """(N, 1, H, W) in [-1, 1] -> classifier features (N, 64)."""
    classifier = classifier or digits_classifier()
    return _batched(classifier.features, x)


def classify_digits(x: torch.Tensor, classifier: DigitsClassifier | None = None) -> torch.Tensor:
    """(N, 1, H, W) in [-1, 1] -> predicted classes (N,)."""
    classifier = classifier or digits_classifier()
    return _batched(classifier, x).argmax(1)


def reference_features(split: str = "train", classifier: DigitsClassifier | None = None) -> torch.Tensor:
    from genlearn.data import load_digits

    x, _ = load_digits(split, size=IMAGE_SIZE)
    return digits_features(x, classifier)


def digits_fd(samples: torch.Tensor, reference: str = "train", classifier: DigitsClassifier | None = None) -> float:
    """Digits Fréchet distance of ``samples`` (N, 1, H, W) in [-1, 1] to a digits split.

    The reference is the train split (1,437 images) by default. The value depends on N: compare
    models at the same N, and against :func:`digits_fd_floor` at that N.
    """
    return frechet_distance(digits_features(samples, classifier), reference_features(reference, classifier))


def digits_kid(samples: torch.Tensor, reference: str = "train", classifier: DigitsClassifier | None = None) -> tuple[float, float]:
    """Kernel distance (mean, std) in the same feature space; unbiased, so small N is fine."""
    f = digits_features(samples, classifier)
    r = reference_features(reference, classifier)
    return kernel_distance(f, r, subsets=50, subset_size=min(len(f), len(r), 500))


def digits_fd_floor(classifier: DigitsClassifier | None = None) -> float:
    """Real-vs-real floor: the held-out test split (N = 360) against the train split."""
    from genlearn.data import load_digits

    x, _ = load_digits("test", size=IMAGE_SIZE)
    return digits_fd(x, "train", classifier)


def class_accuracy(samples: torch.Tensor, labels: torch.Tensor, classifier: DigitsClassifier | None = None) -> dict:
    """Share of ``samples`` that the classifier assigns to ``labels``, overall and per class."""
    if labels.shape != (samples.shape[0],):
        raise ValueError(f"labels must have shape ({samples.shape[0]},), got {tuple(labels.shape)}")
    pred = classify_digits(samples, classifier)
    hit = (pred == labels.cpu()).float()
    per_class = {int(c): float(hit[labels.cpu() == c].mean()) for c in labels.unique().tolist()}
    return {"accuracy": float(hit.mean()), "per_class": per_class, "n": int(samples.shape[0])}


@torch.no_grad()
def heldout_accuracy(classifier: DigitsClassifier | None = None) -> float:
    """Held-out accuracy of the classifier on the digits test split (360 images)."""
    from genlearn.data import load_digits

    x, y = load_digits("test", size=IMAGE_SIZE)
    return float((classify_digits(x, classifier) == y).float().mean())


__all__ = [
    "cache_dir",
    "class_accuracy",
    "classify_digits",
    "digits_classifier",
    "digits_fd",
    "digits_fd_floor",
    "digits_features",
    "digits_kid",
    "reference_features",
    "heldout_accuracy",
    "train_digits_classifier",
]
