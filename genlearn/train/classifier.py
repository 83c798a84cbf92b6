"""Recipe ``python -m genlearn train classifier``: the digits classifier behind the digits metrics."""

from __future__ import annotations

from pathlib import Path

from genlearn.runtime import pick
from genlearn.train.checkpoint import save_checkpoint
from genlearn.train.recipe import write_history


def train(args) -> Path:
    from genlearn.metrics.digits import TRAIN_STEPS, heldout_accuracy, train_digits_classifier
    from genlearn.models.classifier import ClassifierConfig

    if args.data != "digits":
        raise SystemExit(f"genlearn: the classifier trains on 'digits' only, got --data {args.data!r}")
    steps = args.steps if args.steps is not None else pick(smoke=20, cpu=TRAIN_STEPS, gpu=TRAIN_STEPS)
    config = ClassifierConfig()
    model, history = train_digits_classifier(steps, config=config, seed=args.seed)
    run = Path(args.out)
    save_checkpoint(
        run / "checkpoint.pt",
        modules={"classifier": model},
        step=steps,
        config={"model": "classifier", "classifier": config.to_dict(), "seed": args.seed},
    )
    write_history(run, history)
    print(f"held-out accuracy on the digits test split: {heldout_accuracy(model):.4f}")
    return run
