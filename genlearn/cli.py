"""``python -m genlearn``: train a model and sample from a finished run.

    python -m genlearn train dcgan --data digits --profile cpu --out runs/dcgan
    python -m genlearn sample runs/dcgan --n 1000            # -> runs/dcgan/samples.npz

Each model name maps to a recipe module (:data:`genlearn.recipes.MODELS`) with
``train(args) -> Path``; ``sample`` rebuilds the run's model with :func:`genlearn.load` and calls
its ``sample(n, labels=None, generator=None)``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from genlearn.recipes import MODELS, recipe
from genlearn.runtime import PROFILES

SAMPLE_CHUNK = 512  # images per forward pass when sampling


def save_samples(path: Path, samples: dict[str, torch.Tensor]) -> Path:
    """Write samples as ``.npz`` (images float32 (N, C, H, W) in [-1, 1]; labels int64 if any)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **{k: v.detach().cpu().numpy() for k, v in samples.items()})
    return path


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m genlearn", description="Train genlearn models and sample from runs.")
    sub = p.add_subparsers(dest="command", required=True, metavar="{train,sample}")

    t = sub.add_parser("train", help="train a model; writes RUN/checkpoint.pt and RUN/history.json")
    t.add_argument("model", metavar="MODEL", help=f"one of: {', '.join(sorted(MODELS))}")
    t.add_argument("--data", default="digits", help="dataset name (default: digits)")
    t.add_argument("--profile", choices=PROFILES, default=None, help="sizes and step counts (default: $GENLEARN_PROFILE, else by device)")
    t.add_argument("--steps", type=int, default=None, help="training steps (default: the profile's)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--out", type=Path, default=None, help="run folder (default: runs/MODEL-DATA); an existing checkpoint there is resumed")
    t.add_argument("--device", default=None, help="cpu, cuda or mps (default: best available)")

    s = sub.add_parser("sample", help="draw samples from a trained run; writes an .npz file and a preview .png")
    s.add_argument("run", metavar="RUN", type=Path, help="run folder (or its checkpoint.pt)")
    s.add_argument("--n", type=int, default=64, help="number of samples")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", type=Path, default=None, help="output .npz (default: RUN/samples.npz)")
    return p


def draw_samples(model: torch.nn.Module, n: int, seed: int) -> dict[str, torch.Tensor]:
    """``n`` samples of a loaded model from one seeded stream (chunks continue it, so different
    seeds give disjoint sets); conditional models get labels ``0, 1, ..., K-1, 0, ...``."""
    g = torch.Generator().manual_seed(seed)
    num_classes = int(getattr(getattr(model, "config", None), "num_classes", 0) or 0)
    labels = torch.arange(n) % num_classes if num_classes else None
    chunks = []
    for i in range(0, n, SAMPLE_CHUNK):
        k = min(SAMPLE_CHUNK, n - i)
        chunks.append(model.sample(k, labels=None if labels is None else labels[i : i + k], generator=g))
    out = {"images": torch.cat(chunks).float().clamp(-1, 1)}
    return out | ({"labels": labels} if labels is not None else {})


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "train":
        if args.steps is not None and args.steps < 0:
            raise SystemExit(f"genlearn: --steps must be >= 0, got {args.steps}")
        if args.profile:
            import os

            os.environ["GENLEARN_PROFILE"] = args.profile
        args.out = args.out or Path("runs") / f"{args.model}-{args.data}"
        run = recipe(args.model).train(args)
        print(f"run saved in {run}")
        return 0

    import genlearn
    from genlearn.train.checkpoint import checkpoint_path, load_checkpoint

    if args.n < 1:
        raise SystemExit(f"genlearn: --n must be >= 1, got {args.n}")
    ckpt = checkpoint_path(args.run)
    if not ckpt.is_file():
        raise SystemExit(f"genlearn: no checkpoint at {ckpt}; train first with: python -m genlearn train MODEL --out {args.run}")
    name = load_checkpoint(ckpt).get("model")
    model = genlearn.load(ckpt)
    if not hasattr(model, "sample"):
        from genlearn.models.registry import BUILDABLE

        generative = sorted(m for m in BUILDABLE if m != "classifier")
        raise SystemExit(f"genlearn: {name!r} is not a generative model; sample from one of: {', '.join(generative)}")
    samples = draw_samples(model, args.n, args.seed)
    out = args.out or ckpt.parent / "samples.npz"
    save_samples(out, samples)
    from genlearn.viz import show_grid

    fig = show_grid(samples["images"][:64], title=f"{name}: {args.n} samples (first 64 shown)")
    fig.savefig(out.with_suffix(".png"), dpi=100, bbox_inches="tight")
    print(f"wrote {args.n} samples to {out} (preview {out.with_suffix('.png')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
