"""``python -m genlearn``: train a model and sample from a finished run.

    python -m genlearn train dcgan --data digits --profile cpu --out runs/dcgan
    python -m genlearn sample runs/dcgan --n 1000            # -> runs/dcgan/samples.npz

Each model name maps to a recipe module with ``train(args) -> Path`` and
``sample(payload, n, seed) -> dict``; chapters add their line to :data:`MODELS`. The table is
plain data (module paths imported on use), so importing genlearn registers nothing.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from genlearn.runtime import PROFILES

MODELS: dict[str, str] = {
    "classifier": "genlearn.train.classifier",
    "gaussian": "genlearn.train.gaussian",
    "gan": "genlearn.train.gan",
    "dcgan": "genlearn.train.dcgan",
    "cgan": "genlearn.train.cgan",
    "wgan": "genlearn.train.wgan",
    "wgan-gp": "genlearn.train.wgan",
    "vae": "genlearn.train.vae",
    "cvae": "genlearn.train.vae",
}


def recipe(name: str):
    """The recipe module for a model name; unknown names list the choices."""
    if name not in MODELS:
        raise SystemExit(f"genlearn: unknown model {name!r}; choose one of: {', '.join(sorted(MODELS))}")
    return importlib.import_module(MODELS[name])


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

    from genlearn.train.checkpoint import load_checkpoint

    if args.n < 1:
        raise SystemExit(f"genlearn: --n must be >= 1, got {args.n}")
    ckpt = args.run / "checkpoint.pt" if args.run.is_dir() else args.run
    if not ckpt.is_file():
        raise SystemExit(f"genlearn: no checkpoint at {ckpt}; train first with: python -m genlearn train MODEL --out {args.run}")
    payload = load_checkpoint(ckpt)
    model = payload["config"].get("model")
    mod = recipe(model)
    if not hasattr(mod, "sample"):
        generative = sorted(m for m in MODELS if hasattr(recipe(m), "sample"))
        raise SystemExit(f"genlearn: {model!r} is not a generative model; sample from one of: {', '.join(generative)}")
    samples = mod.sample(payload, args.n, args.seed)
    out = args.out or ckpt.parent / "samples.npz"
    save_samples(out, samples)
    from genlearn.viz import show_grid

    fig = show_grid(samples["images"][:64], title=f"{model}: {args.n} samples (first 64 shown)")
    fig.savefig(out.with_suffix(".png"), dpi=100, bbox_inches="tight")
    print(f"wrote {args.n} samples to {out} (preview {out.with_suffix('.png')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
