"""The command line's recipes: ``python -m genlearn train MODEL`` runs ``MODELS[MODEL]``'s ``train(args)``.

A recipe turns a profile and the command-line flags into configs, calls the library's trainer and
writes ``RUN/checkpoint.pt`` (the one schema, reloadable with :func:`genlearn.load`) and
``RUN/history.json``. Only recipes (and notebooks) read the profile; library code never does.
The table is plain data (module paths imported on use), so importing genlearn registers nothing;
chapters add their line here and, for generative models, in :mod:`genlearn.models.registry`.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from types import ModuleType

from genlearn.train.loop import History

MODELS: dict[str, str] = {
    "classifier": "genlearn.recipes.classifier",
    "gaussian": "genlearn.recipes.gaussian",
    "gan": "genlearn.recipes.gan",
    "dcgan": "genlearn.recipes.dcgan",
    "cgan": "genlearn.recipes.cgan",
    "wgan": "genlearn.recipes.wgan",
    "wgan-gp": "genlearn.recipes.wgan",
    "vae": "genlearn.recipes.vae",
    "cvae": "genlearn.recipes.vae",
}


def recipe(name: str) -> ModuleType:
    """The recipe module for a model name; unknown names list the choices."""
    if name not in MODELS:
        raise SystemExit(f"genlearn: unknown model {name!r}; choose one of: {', '.join(sorted(MODELS))}")
    return importlib.import_module(MODELS[name])


def write_history(run: Path, history: History) -> Path:
    """``RUN/history.json``: per-step logs and sparse events that are plain numbers."""
    events = {k: [(s, v) for s, v in pts if isinstance(v, (int, float))] for k, pts in history.events.items()}
    path = Path(run) / "history.json"
    path.write_text(json.dumps({"steps": history.steps, "logs": history.logs, "events": events}))
    return path


__all__ = ["MODELS", "recipe", "write_history"]
