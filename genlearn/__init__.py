"""genlearn: the tested code behind the genlearn book on generative image models.

Import what you need from the submodules, e.g. ``from genlearn.runtime import get_device``, and
reload any finished run with :func:`load`. Importing genlearn has no side effects: no downloads,
no prints, no registration.
"""

from __future__ import annotations

from genlearn._version import __version__


def load(run, device=None):
    """The model of a run, rebuilt from its checkpoint alone: ``G = genlearn.load("runs/dcgan-digits")``.

    Args:
        run: a run folder (``RUN/checkpoint.pt`` is read) or a checkpoint file.
        device: where to put the model (default: CPU), e.g. "cuda" or "mps".

    Returns:
        The network the run samples from (the EMA copy where the run kept one), in eval mode;
        generative models answer ``model.sample(n, labels=None, generator=None)``.

    Raises:
        FileNotFoundError: no checkpoint there.
        genlearn.train.checkpoint.CheckpointError: a corrupt file, another kind of file, or a config
            this version cannot rebuild (one sentence saying which).

    Chapters 2, 7, 8, 10 and 11.
    """
    from genlearn.train.checkpoint import load_run

    return load_run(run, device)


__all__ = ["__version__", "load"]
