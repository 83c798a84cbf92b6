"""Recipe ``python -m genlearn train classifier``: retrain a classifier behind the book's digits metrics.

* ``--data digits`` (the default): the weights shipped in ``genlearn/metrics/digits_classifier.pt``
  (the digits Fréchet distance and class accuracy), trained on scikit-learn's digits.
* ``--data digit-domains``: ``genlearn/metrics/translation_classifier.pt`` (label preservation of
  translations, chapter 7), trained on every labelled digit domain (:func:`genlearn.data.digit_domains`).

Both retrain with the shipped procedure (one thread, so the run repeats bit for bit) and write
``RUN/<name>.pt``; to change a metric, copy that file over the shipped one and put its SHA-256
(printed) into the module's ``WEIGHTS_SHA256`` -- every number made with it then moves, so
re-execute the chapters.
"""

from __future__ import annotations

from pathlib import Path

import torch

from genlearn.data import DIGIT_DOMAINS, digit_domains
from genlearn.metrics.digits import classify_digits, file_sha256, heldout_accuracy
from genlearn.models.classifier import ClassifierConfig
from genlearn.recipes import TrainRequest, write_history
from genlearn.train.checkpoint import run_info, save_checkpoint
from genlearn.train.classifier import BATCH_SIZE, TRAIN_STEPS, train_digits_classifier

DEFAULT_DATA = "digits"  # --data when none is given

DOMAINS_STEPS = 1000  # the translation classifier sees 6,874 images of three styles


def check_data(name: str) -> str:
    """'digits' or 'digit-domains', else ValueError saying what is expected."""
    if name in ("digits", "digit-domains"):
        return name
    raise ValueError(f"the classifier trains on 'digits' (the digits metric) or 'digit-domains' (translation scores), got --data {name!r}")


def train(req: TrainRequest) -> Path:
    check_data(req.data)
    domains = req.data == "digit-domains"
    default = DOMAINS_STEPS if domains else TRAIN_STEPS
    steps = req.steps if req.steps is not None else req.pick(smoke=20, cpu=default, gpu=default)
    config = ClassifierConfig()
    data = digit_domains("train", config.image_size)[:2] if domains else None
    distributed = req.distributed
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the result depends on the thread count; the shipped weights used one
    try:
        model, history = train_digits_classifier(steps, config=config, seed=req.seed, data=data, distributed=distributed,
                                                 desc="translation classifier" if domains else "digits classifier")  # fmt: skip
    finally:
        torch.set_num_threads(threads)
    run = Path(req.out)
    if distributed is not None and not distributed.is_main:  # rank 0 alone writes and reports
        return run
    save_checkpoint(run / "checkpoint.pt", modules={"classifier": model}, step=steps,
                    run=run_info("classifier", config.to_dict(), {"steps": steps, "batch_size": BATCH_SIZE}, req.data, req.seed))  # fmt: skip
    weights = run / ("translation_classifier.pt" if domains else "digits_classifier.pt")
    torch.save(model.state_dict(), weights)
    write_history(run, history)
    if domains:
        x, y, domain = digit_domains("test", config.image_size)
        hit = classify_digits(x, model) == y
        shares = ", ".join(f"{name} {hit[domain == i].float().mean():.4f}" for i, name in enumerate(DIGIT_DOMAINS))
        print(f"held-out accuracy per domain: {shares}")
    else:
        print(f"held-out accuracy on the digits test split: {heldout_accuracy(model):.4f}")
    print(f"weights: {weights} (SHA-256 {file_sha256(weights)})")
    return run
