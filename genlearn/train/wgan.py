"""WGAN and WGAN-GP training: critic and generator steps, weight clipping, the loop, the digits recipes.

Each generator update follows ``n_critic`` critic updates (Arjovsky et al. 2017, Algorithm 1;
Gulrajani et al. 2017, Algorithm 1), each on a fresh real batch:

1. :func:`critic_step` (the critic's update: the discriminator's role) -- minimize ``E[f(G(z))] - E[f(x)]``
   on detached fakes (Eq. 3 of either paper), constraining the slope of ``f`` by one of two means:

   * ``"clip"`` (WGAN): after each update clamp every critic weight to ``[-c, c]``
     (:func:`clip_weights`; RMSprop, lr 5e-5, c = 0.01, n_critic = 5). This keeps ``f``
     K-Lipschitz for some unknown K (set by c and the architecture), so the clipped critic's
     best ``-L_C`` is at most ``K * W``, and at best proportional (up to K) to W within the clipped
     family;
   * ``"gp"`` (WGAN-GP): add ``lambda * E[(||grad f(x_hat)||_2 - 1)^2]`` on random interpolates
     (:func:`genlearn.losses.gradient_penalty`; Adam, lr 1e-4, betas (0, 0.9), lambda = 10,
     n_critic = 5). ``WGANTrainConfig(gp_every=k)`` applies it on every k-th critic update only, with
     weight ``k * lambda`` (lazy regularization, Karras et al. 2020).

2. :func:`generator_step` (the generator update) -- minimize ``-E[f(G(z))]`` with the critic frozen.

``-L_C`` (logged as ``w_estimate``) is the critic's estimate of the Wasserstein distance (under clipping, at
most K times it, see above).

Mixed precision and compilation: on CUDA the scores run under autocast, but the penalty's double
backward runs in float32 with autocast off (inside :func:`~genlearn.losses.gradient_penalty`).
``torch.compile`` does not support double backward, so the critic step with the penalty must stay
eager; the generator step may be compiled (``torch.compile(G)``). Neither has been measured on a
GPU here.

Reading the estimate: ``-L_C`` is Eq. 2's supremum only for a critic near its optimum.
:func:`~genlearn.metrics.wasserstein.refine_critic` trains a copy of the critic further against a frozen generator and
:func:`~genlearn.metrics.wasserstein.wasserstein_estimate` reads ``E[f(x)] - E[f(x~)]`` on fixed sets (chapter 5 does this at
every evaluation, on held-out digits).

Both run on the shared set-up of :mod:`genlearn.train.adversarial` (the critic is its ``D``,
saved as ``critic``); ``python -m genlearn train wgan`` / ``wgan-gp`` train DCGAN's generator
against :class:`~genlearn.models.critic.Critic`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import nn

from genlearn.losses import critic_loss_wasserstein, g_loss_wasserstein, gradient_penalty
from genlearn.models.critic import has_batch_norm
from genlearn.train.precision import autocast, backward_and_step
from genlearn.train.adversarial import Adversarial, AdversarialTrainConfig, frozen
from genlearn.train.ema import EMA
from genlearn.train.loop import FitOptions, Trained, fit_options

CONSTRAINTS = ("clip", "gp")


@torch.no_grad()
def clip_weights(critic: nn.Module, c: float) -> None:
    """WGAN's Lipschitz constraint (Arjovsky et al. 2017, Algorithm 1, line 7): ``w <- clip(w, -c, c)``.

    Every parameter of the critic is clamped in place to ``[-c, c]``, so ``f`` lies in a compact
    family of ``K``-Lipschitz functions for some ``K`` that depends on ``c`` and the architecture.

    Chapters 4 and 5.
    """
    if not c > 0:
        raise ValueError(f"the clipping constant c must be > 0, got {c}")
    for p in critic.parameters():
        p.clamp_(-c, c)


def critic_step(
    G: nn.Module,
    critic: nn.Module,
    opt_c: torch.optim.Optimizer,
    x_real: torch.Tensor,
    z: torch.Tensor,
    *,
    constraint: str = "gp",
    clip: float = 0.01,
    gp_lambda: float = 10.0,
    augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
    scaler: torch.amp.GradScaler | None = None,
) -> dict[str, float]:
    """One critic update: minimize ``L_C = E[f(G(z))] - E[f(x)]`` (+ the penalty), then clip if asked.

    Args:
        G, critic: generator and critic; only ``opt_c`` (the critic's optimizer) is stepped.
        x_real: real images (N, C, H, W); z: latents (N, latent_dim).
        constraint: "clip" (WGAN) or "gp" (WGAN-GP).
        clip: WGAN's ``c``; gp_lambda: WGAN-GP's ``lambda`` (0: skip the penalty on this update).
        augment: a differentiable transform of every image the critic sees (DiffAugment); the
            penalty's interpolates are taken between the augmented reals and fakes.
        scaler: a GradScaler for float16 autocast on CUDA (None: plain backward).

    Returns:
        ``c_loss`` (the total), ``w_estimate`` (``-L_C`` without the penalty) and ``gp`` (0 for "clip").

    Chapters 4 and 5.
    """
    if constraint not in CONSTRAINTS:
        raise ValueError(f"constraint must be one of {CONSTRAINTS}, got {constraint!r}")
    augment = augment or (lambda x: x)
    with autocast(x_real.device):
        x_fake = G(z).detach()  # (N, C, H, W); detach: no gradient reaches G
        x_real, x_fake = augment(x_real), augment(x_fake)
        loss_w = critic_loss_wasserstein(critic(x_real).float(), critic(x_fake).float())  # (), Eq. 3 terms 1-2
    use_gp = constraint == "gp" and gp_lambda > 0  # lambda = 0: a lazy-penalty step without the penalty
    gp = gradient_penalty(critic, x_real, x_fake, gp_lambda) if use_gp else torch.zeros((), device=x_real.device)
    loss = loss_w + gp  # float32; the penalty ran outside autocast
    backward_and_step(loss, opt_c, scaler)
    if constraint == "clip":
        clip_weights(critic, clip)
    return {"c_loss": loss.item(), "w_estimate": -loss_w.item(), "gp": gp.item()}


def generator_step(
    G: nn.Module,
    critic: nn.Module,
    opt_g: torch.optim.Optimizer,
    z: torch.Tensor,
    *,
    augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
    scaler: torch.amp.GradScaler | None = None,
) -> dict[str, float]:
    """One generator update: minimize ``-E[f(G(z))]`` (Algorithm 1, line 10) with the critic frozen.

    Only first derivatives are needed here, so ``G`` may be a ``torch.compile``-d module.

    Returns:
        ``g_loss``.

    Chapters 4 and 5.
    """
    augment = augment or (lambda x: x)
    with frozen(critic):  # the critic's weights get no gradient
        with autocast(z.device):
            loss_g = g_loss_wasserstein(critic(augment(G(z))).float())  # (), from scores (N,)
        backward_and_step(loss_g, opt_g, scaler)  # backward outside autocast (PyTorch's AMP notes)
    return {"g_loss": loss_g.item()}


@dataclass(frozen=True)
class WGANTrainConfig(AdversarialTrainConfig):
    """Settings of a WGAN / WGAN-GP run (stored in the checkpoint).

    The shared fields are :class:`~genlearn.train.adversarial.AdversarialTrainConfig`'s, with
    WGAN-GP's defaults (Adam, lr 1e-4 for G and the critic, betas (0, 0.9), batch 64);
    ``lr_d`` is the critic's learning rate. WGAN-specific:

    Args:
        constraint: "clip" (WGAN) or "gp" (WGAN-GP).
        n_critic: critic updates per generator update.
        clip: the clipping constant ``c``; gp_lambda: the penalty weight ``lambda``.
        gp_every: apply the penalty on every this many critic updates with weight
            ``gp_every * gp_lambda`` ("lazy" regularization, as :class:`~genlearn.train.gan.GANTrainConfig`'s
            ``r1_every``: the same average pull for a fraction of the double backwards).

    WGAN's optimizer is "rmsprop": momentum-based optimizers were unstable with clipping (Sec. 4). The papers'
    settings are :meth:`wgan` and :meth:`wgan_gp`; the digits recipes of chapters 4 and 5 are :meth:`digits_wgan`
    and :meth:`digits_wgan_gp`.

    Chapters 4 and 5.
    """

    batch_size: int = 64
    lr_g: float = 1e-4
    lr_d: float = 1e-4
    beta1: float = 0.0
    beta2: float = 0.9
    constraint: str = "gp"
    n_critic: int = 5
    clip: float = 0.01
    gp_lambda: float = 10.0
    gp_every: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.constraint not in CONSTRAINTS:
            raise ValueError(f"constraint must be one of {CONSTRAINTS}, got {self.constraint!r}")
        if self.n_critic < 1 or self.gp_every < 1:
            raise ValueError(f"n_critic and gp_every must be >= 1, got {self.n_critic} and {self.gp_every}")
        if not self.clip > 0 or self.gp_lambda < 0:
            raise ValueError(f"need clip > 0 and gp_lambda >= 0, got clip={self.clip} and gp_lambda={self.gp_lambda}")

    @classmethod
    def wgan(cls, **changes) -> "WGANTrainConfig":
        """Arjovsky et al. 2017, Algorithm 1: RMSprop, lr 5e-5, c = 0.01, n_critic = 5, batch 64."""
        return cls(**{"constraint": "clip", "optimizer": "rmsprop", "lr_g": 5e-5, "lr_d": 5e-5, **changes})

    @classmethod
    def wgan_gp(cls, **changes) -> "WGANTrainConfig":
        """Gulrajani et al. 2017, Algorithm 1: Adam, lr 1e-4, betas (0, 0.9), lambda = 10, n_critic = 5, batch 64."""
        return cls(**{"constraint": "gp", "optimizer": "adam", "lr_g": 1e-4, "lr_d": 1e-4, **changes})

    # the digits settings of chapters 4 and 5, under their 5-minute CPU budget; both add two of chapter 2's
    # remedies: DiffAugment translation and an EMA of G

    @classmethod
    def digits_wgan(cls) -> "WGANTrainConfig":
        """WGAN on the 1,437 digits: Arjovsky et al.'s RMSprop at 5e-5, n_critic = 5 and constant rates, plus
        DiffAugment translation and an EMA of G (0.999)."""
        return cls.wgan(diffaugment="translation", ema_decay=0.999)

    @classmethod
    def digits_wgan_gp(cls) -> "WGANTrainConfig":
        """WGAN-GP on the 1,437 digits, plus DiffAugment translation and an EMA of G (0.999).

        It keeps the penalty, Adam's betas (0, 0.9) and the layer-norm critic, but trades the paper's n_critic = 5
        and lambda = 10 for more generator steps in the budget: one critic update per generator update at batch 128,
        Adam 5e-4, lambda = 1 applied lazily every 4th critic update (weight 4), and rates decaying to 0 over the
        last three quarters of the run. Chapter 5 measures what each change buys against the paper's settings.
        """
        return cls.wgan_gp(
            n_critic=1, batch_size=128, lr_g=5e-4, lr_d=5e-4, gp_lambda=1.0, gp_every=4,
            diffaugment="translation", ema_decay=0.999, lr_decay=0.75,
        )  # fmt: skip


WGANConfig = WGANTrainConfig  # 0.2's name; chapters 4 and 5 import it


def train_wgan(
    G: nn.Module,
    critic: nn.Module,
    x: torch.Tensor,
    *,
    config: WGANTrainConfig = WGANTrainConfig.wgan_gp(),
    steps: int,
    seed: int = 0,
    device: torch.device | str = "cpu",
    ema: EMA | None = None,
    fit: FitOptions | None = None,
    **options: Any,
) -> Trained:
    """Train ``G`` against ``critic`` on data ``x`` for ``steps`` generator updates.

    One step of the loop is ``config.n_critic`` critic updates, each on its own real batch drawn
    from the same shuffled stream, then one generator update. ``x`` may be images or any
    ``(N, ...)`` data the two networks accept (2-D toy points with the MLP networks). Logs per step:
    ``c_loss``, ``w_estimate`` and ``gp`` (means over the critic updates) and ``g_loss``.

    ``distributed``: train with DDP on several processes, ``config.batch_size`` being the global batch; each process
    draws its own interpolation points for the penalty (:mod:`genlearn.train.distributed`).

    Returns:
        :class:`~genlearn.train.Trained`: the network to sample from (EMA copy or G) and the history.

    Raises:
        ValueError: the gradient penalty with a batch-norm critic (per-sample gradients undefined).

    Chapters 4 and 5.
    """
    if config.constraint == "gp" and has_batch_norm(critic):
        raise ValueError(
            "the gradient penalty needs per-sample gradients, but the critic has batch norm, which mixes the samples "
            "of a batch; use CriticConfig(norm='layer') or norm='none' (Gulrajani et al. 2017, Sec. 4)"
        )
    fit = fit_options(fit, options, desc="WGAN", where="train_wgan", checkpoint_every=200)
    setup = Adversarial(G, critic, x, config=config, steps=steps, seed=seed, device=device, ema=ema, d_name="critic", fit=fit)  # fmt: skip
    world = setup.shard[1]  # processes sharing each global batch (1 without DDP)

    def step(x_real: torch.Tensor) -> dict[str, float]:
        logs: dict[str, float] = {"c_loss": 0.0, "w_estimate": 0.0, "gp": 0.0}
        done = setup.done * config.n_critic  # critic updates so far (restored on resume)
        for i in range(config.n_critic):
            lazy = (done + i) % config.gp_every == 0  # lazy penalty: every gp_every-th update, gp_every times heavier
            x_real = setup.real(x_real if i == 0 else next(setup.batches))  # a fresh real batch per critic update
            out = critic_step(setup.G_core, setup.D, setup.opt_d, x_real, setup.latents(x_real.shape[0]), constraint=config.constraint,
                              clip=config.clip, gp_lambda=config.gp_lambda * config.gp_every if lazy else 0.0,
                              augment=setup.augment, scaler=setup.scaler)  # fmt: skip
            for k in logs:
                logs[k] += out[k] / config.n_critic
        logs |= generator_step(setup.G, setup.D_core, setup.opt_g, setup.latents(config.batch_size // world), augment=setup.augment, scaler=setup.scaler)
        setup.end_step()
        return logs

    history = setup.fit(step)
    return setup.trained(history)


# --- reading the estimate: a critic nearer its optimum ---------------------------------------------


from genlearn.metrics.wasserstein import refine_critic, wasserstein_estimate  # noqa: E402, F401 (chapter 5 imports them from here)


# --- the digits settings of chapters 4 and 5, by name ------------------------------------------------


def digits_config(model: str) -> WGANTrainConfig:
    """The digits recipe of ``model``: :meth:`WGANTrainConfig.digits_wgan` for ``"wgan"``,
    :meth:`WGANTrainConfig.digits_wgan_gp` for ``"wgan-gp"`` (the names of ``python -m genlearn train``).

    Chapters 4 and 5.
    """
    if model == "wgan":
        return WGANTrainConfig.digits_wgan()
    if model != "wgan-gp":
        raise ValueError(f"digits_config knows 'wgan' and 'wgan-gp', not {model!r}")
    return WGANTrainConfig.digits_wgan_gp()


__all__ = [
    "CONSTRAINTS", "WGANTrainConfig", "WGANConfig", "clip_weights", "critic_step", "digits_config", "generator_step", "train_wgan",
]
