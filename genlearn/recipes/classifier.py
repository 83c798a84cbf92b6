"""Recipe ``python -m genlearn train classifier``: retrain the digits classifier behind the digits metrics.

The book's metrics use the weights shipped in ``genlearn/metrics/digits_classifier.pt``. This
recipe retrains them with the same procedure (one thread, so the run repeats bit for bit) and
writes ``RUN/digits_classifier.pt``; to change the book's metric, copy that file over the shipped
one and put its SHA-256 (printed) into ``genlearn.metrics.digits.WEIGHTS_SHA256`` -- every digits
number in the book then moves, so re-execute the chapters.
"""

from __future__ import annotations

from pathlib import Path

import torch

from genlearn.metrics.digits import file_sha256, heldout_accuracy
from genlearn.models.classifier import ClassifierConfig
from genlearn.recipes import UsageError, write_history
from genlearn.runtime import pick
from genlearn.train.checkpoint import run_info, save_checkpoint
from genlearn.train.classifier import BATCH_SIZE, TRAIN_STEPS, train_digits_classifier


def train(args) -> Path:
    if args.data != "digits":
        raise UsageError(f"the classifier trains on 'digits' only, got --data {args.data!r}")
    steps = args.steps if args.steps is not None else pick(smoke=20, cpu=TRAIN_STEPS, gpu=TRAIN_STEPS)
    config = ClassifierConfig()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the result depends on the thread count; the shipped weights used one
    try:
        model, history = train_digits_classifier(steps, config=config, seed=args.seed)
    finally:
        torch.set_num_threads(threads)
    run = Path(args.out)
    save_checkpoint(run / "checkpoint.pt", modules={"classifier": model}, step=steps,
                    run=run_info("classifier", config.to_dict(), {"steps": steps, "batch_size": BATCH_SIZE}, "digits", args.seed))  # fmt: skip
    weights = run / "digits_classifier.pt"
    torch.save(model.state_dict(), weights)
    write_history(run, history)
    print(f"held-out accuracy on the digits test split: {heldout_accuracy(model):.4f}")
    print(f"weights: {weights} (SHA-256 {file_sha256(weights)})")
    return run
