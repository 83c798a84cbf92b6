"""genlearn: the tested code behind the genlearn book on generative image models.

Import what you need from the submodules, e.g. ``from genlearn.runtime import get_device``, and
reload any finished run with :func:`load`. Importing genlearn has no side effects: no downloads,
no prints, no registration.
"""

from __future__ import annotations

from genlearn._version import __version__


def load(run, device=None, *, encoder_weights=None):
    """The model of a run, rebuilt from its checkpoint alone: ``G = genlearn.load("runs/dcgan-digits")``.

    Args:
        run: a run folder (``RUN/checkpoint.pt`` is read) or a checkpoint file.
        device: where to put the model (default: CPU), e.g. "cuda" or "mps".
        encoder_weights: an AdaIN run's encoder weights file (e.g. a downloaded ``vgg19-dcbb9e9d.pth``), where that
            fixed network's default file is missing; the run itself saves only its decoder.

    Returns:
        The network the run samples from (the EMA copy where the run kept one), in eval mode;
        generative models answer ``model.sample(n, labels=None, generator=None)``.

    Raises:
        FileNotFoundError: no checkpoint there (or no file at ``encoder_weights``).
        genlearn.checkpoint.CheckpointError: a corrupt file, another kind of file, or a config
            this version cannot rebuild (one sentence saying which).
        ValueError: ``encoder_weights`` for a run without a fixed encoder, or a file that does not fit it.

    Chapters 2, 7, 8, 10 and 11.
    """
    from genlearn.checkpoint import load_run  # the schema alone: loading imports nothing of genlearn.train

    return load_run(run, device, encoder_weights=encoder_weights)


__all__ = ["__version__", "load"]
