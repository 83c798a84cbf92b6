"""GAN training: one D step and one G step (plain functions) and :func:`train_gan` around them.

Each iteration (Goodfellow et al. 2014, Algorithm 1, with k = 1):

1. :func:`d_step` (the discriminator update) -- generate ``x_fake = G(z)``, *detach* it (D's loss must
   not send gradients into G), score reals and fakes, update D only.
2. :func:`g_step` (the generator update) -- generate again, score the fakes with a *frozen* D, update G only.

:func:`train_gan` runs them on the shared set-up of :mod:`genlearn.train.adversarial` for the MLP
GAN, DCGAN and the conditional GAN (pass labels ``y``); StyleGAN's trainer and the toy GAN reuse
:func:`d_step`. The other families spell the same two roles their own way (WGAN's ``critic_step`` and
``generator_step``, CycleGAN's and pix2pix's ``discriminator_step`` and ``generator_step``, StyleGAN's
``stylegan_g_step``): the chapters print and import them by these names.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import nn

from genlearn.losses import D_LOSSES, G_LOSSES, r1_penalty
from genlearn.train.precision import autocast, backward_and_step
from genlearn.train.adversarial import Adversarial, AdversarialTrainConfig, frozen
from genlearn.train.ema import EMA
from genlearn.train.loop import FitOptions, Trained, fit_options


def _call(model: nn.Module, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    return model(x) if y is None else model(x, y)


def d_step(
    G: nn.Module,
    D: nn.Module,
    opt_d: torch.optim.Optimizer,
    x_real: torch.Tensor,
    z: torch.Tensor,
    *,
    y: torch.Tensor | None = None,
    loss: str = "bce",
    real_label: float = 1.0,
    augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
    r1_gamma: float = 0.0,
    scaler: torch.amp.GradScaler | None = None,
) -> dict[str, float]:
    """One discriminator update: minimize ``D_LOSSES[loss]`` on reals vs detached fakes (+ the R1 penalty).

    Args:
        G, D: generator and discriminator (conditional ones when ``y`` is given).
        opt_d: D's optimizer (the only one stepped).
        x_real: real images (N, C, H, W); z: latents (N, latent_dim); y: labels (N,) or None.
        loss: "bce" (Goodfellow et al. 2014) or "hinge" (Miyato et al. 2018).
        real_label: target for reals with "bce" (< 1 is one-sided label smoothing).
        augment: a differentiable transform applied to every image D sees (DiffAugment).
        r1_gamma: weight of :func:`genlearn.losses.r1_penalty` on the reals (0: none).
        scaler: a GradScaler for float16 autocast on CUDA (None: plain backward).

    Returns:
        ``d_loss``, and ``d_real`` / ``d_fake``: D's mean probability that reals / fakes are real;
        ``r1`` when the penalty is on.

    Chapters 1 and 2.
    """
    augment = augment or (lambda x: x)
    with autocast(x_real.device):
        x_fake = _call(G, z, y).detach()  # (N, C, H, W); detach: no gradient reaches G
        real_logits = _call(D, augment(x_real), y)  # (N,)
        fake_logits = _call(D, augment(x_fake), y)  # (N,)
        kwargs = {"real_label": real_label} if loss == "bce" else {}
        loss_d = D_LOSSES[loss](real_logits.float(), fake_logits.float(), **kwargs)
    logs = {}
    if r1_gamma > 0:  # float32, outside autocast: the penalty needs a double backward
        r1 = r1_penalty(lambda x: _call(D, augment(x), y), x_real, r1_gamma)
        loss_d, logs["r1"] = loss_d + r1, r1.item()
    backward_and_step(loss_d, opt_d, scaler)
    return {
        "d_loss": loss_d.item(),
        "d_real": torch.sigmoid(real_logits.float()).mean().item(),
        "d_fake": torch.sigmoid(fake_logits.float()).mean().item(),
    } | logs


def g_step(
    G: nn.Module,
    D: nn.Module,
    opt_g: torch.optim.Optimizer,
    z: torch.Tensor,
    *,
    y: torch.Tensor | None = None,
    loss: str = "nonsaturating",
    augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
    scaler: torch.amp.GradScaler | None = None,
) -> dict[str, float]:
    """One generator update: minimize ``G_LOSSES[loss]`` of D's logits on fresh fakes; D is frozen.

    The other arguments are as in :func:`d_step`; ``opt_g`` is the only optimizer stepped.

    Args:
        loss: "nonsaturating" (-log D(G(z))), "minimax" (log(1 - D(G(z)))) or "hinge".

    Returns:
        ``g_loss``.

    Chapters 1 and 2.
    """
    augment = augment or (lambda x: x)
    with frozen(D):  # D's weights get no gradient and are not updated
        with autocast(z.device):
            x_fake = _call(G, z, y)  # (N, C, H, W), with gradients into G
            fake_logits = _call(D, augment(x_fake), y)  # (N,)
            loss_g = G_LOSSES[loss](fake_logits.float())
        backward_and_step(loss_g, opt_g, scaler)  # backward outside autocast (PyTorch's AMP notes)
    return {"g_loss": loss_g.item()}


@dataclass(frozen=True)
class GANTrainConfig(AdversarialTrainConfig):
    """Settings of a GAN run (stored in the checkpoint next to the model config).

    The shared fields (batch size, optimizer, learning rates, betas, DiffAugment, EMA, lr decay)
    are :class:`~genlearn.train.adversarial.AdversarialTrainConfig`'s; the defaults are DCGAN's
    (Radford et al. 2016, Sec. 4: batch 128, Adam lr 2e-4, beta1 0.5). GAN-specific:

    Args:
        d_loss: "bce" or "hinge"; g_loss: "nonsaturating", "minimax" or "hinge".
        real_label: one-sided label smoothing target (1.0: none).
        r1_gamma: weight of the R1 penalty on D (Mescheder et al. 2018; 0 = none).
        r1_every: apply R1 every this many D steps with weight ``r1_every * r1_gamma`` (lazy
            regularization, Karras et al. 2020: the same average pull at a fraction of the cost).

    Chapters 1 and 2.
    """

    d_loss: str = "bce"
    g_loss: str = "nonsaturating"
    real_label: float = 1.0
    r1_gamma: float = 0.0
    r1_every: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.d_loss not in D_LOSSES:
            raise ValueError(f"d_loss must be one of {sorted(D_LOSSES)}, got {self.d_loss!r}")
        if self.g_loss not in G_LOSSES:
            raise ValueError(f"g_loss must be one of {sorted(G_LOSSES)}, got {self.g_loss!r}")
        if self.r1_gamma < 0 or self.r1_every < 1:
            raise ValueError(f"need r1_gamma >= 0 and r1_every >= 1, got {self.r1_gamma} and {self.r1_every}")

    @classmethod
    def dcgan(cls) -> "GANTrainConfig":
        """Radford et al. 2016, Sec. 4: batch 128, Adam lr 2e-4, beta1 0.5."""
        return cls()

    @classmethod
    def digits(cls) -> "GANTrainConfig":
        """Chapter 2's recipe for the 1,437 digits (see its ablation).

        Batch 128, Adam 5e-4 for both players (beta1 0.5), lazy R1 with gamma = 1 every 4 D steps,
        constant rates for the first quarter of the run then linear decay to 0, DiffAugment
        translation, sampling from an EMA of G (0.999).
        """
        return cls(batch_size=128, lr_g=5e-4, lr_d=5e-4, diffaugment="translation", ema_decay=0.999,
                   r1_gamma=1.0, r1_every=4, lr_decay=0.75)  # fmt: skip


GANConfig = GANTrainConfig  # 0.2's name; chapters 1-3, 5, 6 and 11 import it


def digits_train_config() -> GANTrainConfig:
    """Chapter 2's digits recipe under the first edition's name: use :meth:`GANTrainConfig.digits` (this warns).

    Chapter 2.
    """
    warnings.warn("genlearn.train.gan.digits_train_config() is deprecated: use GANTrainConfig.digits()", DeprecationWarning, stacklevel=2)
    return GANTrainConfig.digits()


def __getattr__(name: str):
    if name == "TrainConfig":  # the first edition's name, a plain alias through 0.2: it warns in 0.3
        warnings.warn("genlearn.train.gan.TrainConfig is deprecated: use GANTrainConfig", DeprecationWarning, stacklevel=2)
        return GANTrainConfig
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def train_gan(
    G: nn.Module,
    D: nn.Module,
    x: torch.Tensor,
    *,
    y: torch.Tensor | None = None,
    config: GANTrainConfig = GANTrainConfig(),
    steps: int,
    seed: int = 0,
    device: torch.device | str = "cpu",
    ema: EMA | None = None,
    fit: FitOptions | None = None,
    **options: Any,
) -> Trained:
    """Alternate :func:`d_step` and :func:`g_step` for ``steps`` iterations on data ``x`` (and labels ``y``).

    ``z`` is drawn afresh for every iteration; in the conditional case the fakes use the batch's
    labels, so G is asked for classes in the data's proportions. Models are moved to ``device``
    (channels-last and mixed precision on CUDA). Pass your own ``ema = EMA(G, decay)`` to read the
    average in callbacks during training; ``run`` describes the run in its checkpoint. ``distributed``: train
    with DDP on several processes, ``config.batch_size`` being the global batch (:mod:`genlearn.train.distributed`).

    Returns:
        :class:`~genlearn.train.Trained`: the network to sample from (the EMA copy when
        ``config.ema_decay > 0``, else G), and the history.

    Chapters 1, 2 and 3.
    """
    data = (x,) if y is None else (x, y)
    fit = fit_options(fit, options, desc="GAN", where="train_gan")
    setup = Adversarial(G, D, *data, config=config, steps=steps, seed=seed, device=device, ema=ema, fit=fit)

    def step(batch) -> dict[str, float]:
        x_real, y_real = (batch, None) if y is None else batch
        x_real = setup.real(x_real)  # (N, C, H, W)
        z = setup.latents(x_real.shape[0])  # (N, latent_dim)
        lazy = setup.done % config.r1_every == 0  # lazy R1: every r1_every-th step, r1_every times heavier
        # each player's DDP wrapper only where its own update runs backward through it
        logs = d_step(setup.G_core, setup.D, setup.opt_d, x_real, z, y=y_real, loss=config.d_loss, real_label=config.real_label,
                      augment=setup.augment, r1_gamma=config.r1_gamma * config.r1_every if lazy else 0.0, scaler=setup.scaler)  # fmt: skip
        logs |= g_step(setup.G, setup.D_core, setup.opt_g, z, y=y_real, loss=config.g_loss, augment=setup.augment, scaler=setup.scaler)
        setup.end_step()
        return logs

    history = setup.fit(step)
    return setup.trained(history)


__all__ = ["GANTrainConfig", "GANConfig", "d_step", "digits_train_config", "frozen", "g_step", "train_gan"]
