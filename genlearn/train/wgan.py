"""WGAN and WGAN-GP training: critic and generator steps, weight clipping, the loop, two recipes.

Each generator update follows ``n_critic`` critic updates (Arjovsky et al. 2017, Algorithm 1;
Gulrajani et al. 2017, Algorithm 1), each on a fresh real batch:

1. :func:`critic_step` -- minimize ``E[f(G(z))] - E[f(x)]`` on detached fakes (Eq. 3 of either
   paper), keeping ``f`` (roughly) 1-Lipschitz by one of two means:

   * ``"clip"`` (WGAN): after each update clamp every critic weight to ``[-c, c]``
     (:func:`clip_weights`; RMSprop, lr 5e-5, c = 0.01, n_critic = 5);
   * ``"gp"`` (WGAN-GP): add ``lambda * E[(||grad f(x_hat)||_2 - 1)^2]`` on random interpolates
     (:func:`genlearn.losses.gradient_penalty`; Adam, lr 1e-4, betas (0, 0.9), lambda = 10,
     n_critic = 5). ``WGANConfig(gp_every=k)`` applies it on every k-th critic update only, with
     weight ``k * lambda`` (lazy regularization, Karras et al. 2020).

2. :func:`generator_step` -- minimize ``-E[f(G(z))]`` with the critic frozen.

``-L_C`` (logged as ``w_estimate``) is the critic's estimate of the Wasserstein distance.

Mixed precision and compilation: on CUDA the scores run under autocast, but the penalty's double
backward runs in float32 with autocast off (inside :func:`~genlearn.losses.gradient_penalty`).
``torch.compile`` does not support double backward, so the critic step with the penalty must stay
eager; the generator step may be compiled (``torch.compile(G)``). Neither has been measured on a
GPU here.

Reading the estimate: ``-L_C`` is Eq. 2's supremum only for a critic near its optimum.
:func:`refine_critic` trains a copy of the critic further against a frozen generator and
:func:`wasserstein_estimate` reads ``E[f(x)] - E[f(x~)]`` on fixed sets (chapter 5 does this at
every evaluation, on held-out digits).

``python -m genlearn train wgan`` / ``wgan-gp`` train DCGAN's generator against :class:`Critic`.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence

import torch
from torch import nn

from genlearn.augment import diff_augment, parse_policy
from genlearn.ema import EMA
from genlearn.losses import critic_loss_wasserstein, g_loss_wasserstein, gradient_penalty
from genlearn.models.critic import has_batch_norm
from genlearn.runtime import autocast, backward_and_step, grad_scaler, to_channels_last
from genlearn.train.gan import frozen
from genlearn.train.loop import Every, History, InfiniteBatches, fit, linear_decay

CONSTRAINTS = ("clip", "gp")


@torch.no_grad()
def clip_weights(critic: nn.Module, c: float) -> None:
    """WGAN's Lipschitz constraint (Arjovsky et al. 2017, Algorithm 1, line 7): ``w <- clip(w, -c, c)``.

    Every parameter of the critic is clamped in place to ``[-c, c]``, so ``f`` lies in a compact
    family of ``K``-Lipschitz functions for some ``K`` that depends on ``c`` and the architecture.
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
    opt_c.zero_grad(set_to_none=True)
    if scaler is None:
        loss.backward()
        opt_c.step()
    else:
        scaler.scale(loss).backward()
        scaler.step(opt_c)
        scaler.update()
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
    """
    augment = augment or (lambda x: x)
    with frozen(critic), autocast(z.device):  # the critic's weights get no gradient
        loss_g = g_loss_wasserstein(critic(augment(G(z))).float())
        backward_and_step(loss_g, opt_g, scaler)
    return {"g_loss": loss_g.item()}


@dataclass(frozen=True)
class WGANConfig:
    """Optimization settings of a WGAN / WGAN-GP run (stored in the checkpoint).

    Args:
        constraint: "clip" (WGAN) or "gp" (WGAN-GP).
        n_critic: critic updates per generator update.
        batch_size: images per critic / generator update.
        optimizer: "rmsprop" (WGAN's choice: momentum-based optimizers were unstable with
            clipping, Sec. 4) or "adam".
        lr_g, lr_c: learning rates of G and the critic.
        beta1, beta2: Adam's betas (WGAN-GP: 0, 0.9).
        clip: the clipping constant ``c``; gp_lambda: the penalty weight ``lambda``.
        gp_every: apply the penalty on every this many critic updates with weight
            ``gp_every * gp_lambda`` ("lazy" regularization, as :class:`~genlearn.train.gan.TrainConfig`'s
            ``r1_every``: the same average pull for a fraction of the double backwards).
        diffaugment: DiffAugment policy for the critic's inputs ("" = none).
        ema_decay: decay of the EMA of G's weights used for sampling (0 = none).
        lr_decay: the final fraction of the run over which both learning rates fall linearly to 0
            (0 = constant rates), as in :class:`genlearn.train.gan.TrainConfig`.
    """

    constraint: str = "gp"
    n_critic: int = 5
    batch_size: int = 64
    optimizer: str = "adam"
    lr_g: float = 1e-4
    lr_c: float = 1e-4
    beta1: float = 0.0
    beta2: float = 0.9
    clip: float = 0.01
    gp_lambda: float = 10.0
    gp_every: int = 1
    diffaugment: str = ""
    ema_decay: float = 0.0
    lr_decay: float = 0.0

    def __post_init__(self) -> None:
        if self.constraint not in CONSTRAINTS:
            raise ValueError(f"constraint must be one of {CONSTRAINTS}, got {self.constraint!r}")
        if self.optimizer not in ("rmsprop", "adam"):
            raise ValueError(f"optimizer must be 'rmsprop' or 'adam', got {self.optimizer!r}")
        if self.n_critic < 1 or self.batch_size < 1 or self.gp_every < 1:
            raise ValueError(f"n_critic, batch_size and gp_every must be >= 1, got {self.n_critic}, {self.batch_size} and {self.gp_every}")
        if not self.clip > 0 or self.gp_lambda < 0 or not (self.lr_g > 0 and self.lr_c > 0):
            raise ValueError(f"need clip > 0, gp_lambda >= 0 and positive learning rates, got {self}")
        parse_policy(self.diffaugment)
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        if not 0.0 <= self.lr_decay <= 1.0:
            raise ValueError(f"lr_decay must be a fraction of the run in [0, 1], got {self.lr_decay}")

    @classmethod
    def wgan(cls, **changes) -> "WGANConfig":
        """Arjovsky et al. 2017, Algorithm 1: RMSprop, lr 5e-5, c = 0.01, n_critic = 5, batch 64."""
        return cls(**{"constraint": "clip", "optimizer": "rmsprop", "lr_g": 5e-5, "lr_c": 5e-5, **changes})

    @classmethod
    def wgan_gp(cls, **changes) -> "WGANConfig":
        """Gulrajani et al. 2017, Algorithm 1: Adam, lr 1e-4, betas (0, 0.9), lambda = 10, n_critic = 5, batch 64."""
        return cls(**{"constraint": "gp", "optimizer": "adam", "lr_g": 1e-4, "lr_c": 1e-4, **changes})

    def make_optimizer(self, params, lr: float) -> torch.optim.Optimizer:
        if self.optimizer == "rmsprop":
            return torch.optim.RMSprop(params, lr=lr)
        return torch.optim.Adam(params, lr=lr, betas=(self.beta1, self.beta2))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "WGANConfig":
        return cls(**d)


def train_wgan(
    G: nn.Module,
    critic: nn.Module,
    x: torch.Tensor,
    *,
    config: WGANConfig = WGANConfig.wgan_gp(),
    steps: int,
    seed: int = 0,
    device: torch.device | str = "cpu",
    ema: EMA | None = None,
    callbacks: Sequence[Every] = (),
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 200,
    run_config: dict | None = None,
    time_budget: float | None = None,
    desc: str = "WGAN",
    progress: bool = True,
) -> tuple[History, EMA | None]:
    """Train ``G`` against ``critic`` on data ``x`` for ``steps`` generator updates.

    One step of the loop is ``config.n_critic`` critic updates, each on its own real batch drawn
    from the same shuffled stream, then one generator update. ``x`` may be images or any
    ``(N, ...)`` data the two networks accept (2-D toy points with the MLP networks). Logs per step:
    ``c_loss``, ``w_estimate`` and ``gp`` (means over the critic updates) and ``g_loss``.

    Raises:
        ValueError: the gradient penalty with a batch-norm critic (per-sample gradients undefined).
    """
    if config.constraint == "gp" and has_batch_norm(critic):
        raise ValueError(
            "the gradient penalty needs per-sample gradients, but the critic has batch norm, which mixes the samples "
            "of a batch; use CriticConfig(norm='layer') or norm='none' (Gulrajani et al. 2017, Sec. 4)"
        )
    device = torch.device(device)
    G, critic = to_channels_last(G.to(device), device), to_channels_last(critic.to(device), device)
    opt_g = config.make_optimizer(G.parameters(), config.lr_g)
    opt_c = config.make_optimizer(critic.parameters(), config.lr_c)
    schedules = {name: linear_decay(opt, steps, config.lr_decay) for name, opt in (("G_lr", opt_g), ("critic_lr", opt_c))}
    if ema is None and config.ema_decay > 0:
        ema = EMA(G, config.ema_decay)
    if ema is not None:
        ema.to(device)
    scaler = grad_scaler(device)
    augment = (lambda t: diff_augment(t, config.diffaugment)) if config.diffaugment else None
    batches = InfiniteBatches(x, batch_size=min(config.batch_size, x.shape[0]), seed=seed, device=device)
    latent_dim = G.config.latent_dim

    def step(x_real: torch.Tensor) -> dict[str, float]:
        logs: dict[str, float] = {"c_loss": 0.0, "w_estimate": 0.0, "gp": 0.0}
        done = schedules["critic_lr"].last_epoch * config.n_critic  # critic updates so far (restored on resume)
        for i in range(config.n_critic):
            lazy = (done + i) % config.gp_every == 0  # lazy penalty: every gp_every-th update, gp_every times heavier
            gp_lambda = config.gp_lambda * config.gp_every if lazy else 0.0
            x_real = x_real if i == 0 else next(batches)  # a fresh real batch for every critic update
            z = torch.randn(x_real.shape[0], latent_dim, device=device)  # (N, latent_dim)
            out = critic_step(G, critic, opt_c, x_real, z, constraint=config.constraint, clip=config.clip,
                              gp_lambda=gp_lambda, augment=augment, scaler=scaler)  # fmt: skip
            for k in logs:
                logs[k] += out[k] / config.n_critic
        z = torch.randn(config.batch_size, latent_dim, device=device)
        logs |= generator_step(G, critic, opt_g, z, augment=augment, scaler=scaler)
        if ema is not None:
            ema.update(G)
        for schedule in schedules.values():
            schedule.step()
        return logs

    modules = {"G": G, "critic": critic} | ({"G_ema": ema} if ema is not None else {})
    history = fit(
        step, batches, steps=steps, modules=modules, optimizers={"G": opt_g, "critic": opt_c} | schedules, callbacks=callbacks,
        checkpoint=checkpoint, checkpoint_every=checkpoint_every, config=run_config, time_budget=time_budget,
        desc=desc, progress=progress,
    )  # fmt: skip
    G.eval(), critic.eval()
    return history, ema


# --- reading the estimate: a critic nearer its optimum ---------------------------------------------


@torch.no_grad()
def wasserstein_estimate(critic: nn.Module, x_real: torch.Tensor, x_fake: torch.Tensor, batch_size: int = 256) -> float:
    """The critic's estimate ``E[f(x)] - E[f(x~)]`` of ``W(P_r, P_g)`` on two fixed sets (-L_C, no penalty).

    By Kantorovich-Rubinstein duality this is a lower bound on ``W`` for a 1-Lipschitz ``f`` and
    equals ``W`` for the optimal one; how close it gets depends on how well ``f`` is trained. A
    penalized critic is only near 1-Lipschitz (its gradient norms settle a little above 1), so its
    reading can overshoot ``W``: when ``P_g`` is a translate of ``P_r`` the penalized optimum has
    slope ``1 + W / (2 lambda)`` and reads ``W (1 + W / (2 lambda))``, 2.5% over for ``W = 0.5``.
    """
    scores = [torch.cat([critic(t[i : i + batch_size]).float().flatten() for i in range(0, len(t), batch_size)]) for t in (x_real, x_fake)]
    return (scores[0].mean() - scores[1].mean()).item()


def refine_critic(
    critic: nn.Module,
    x_real: torch.Tensor,
    sample_fake: Callable[[int, torch.Generator], torch.Tensor],
    *,
    steps: int = 100,
    gp_lambda: float = 10.0,
    lr: float = 1e-4,
    batch_size: int = 128,
    seed: int = 0,
) -> nn.Module:
    """A copy of ``critic`` trained ``steps`` more updates against a frozen generator; ``critic`` is untouched.

    The training critic's ``-L_C`` is the supremum of Eq. 2 only if the critic is near its optimum.
    With few critic updates per generator update it lags behind, and its estimate stops tracking
    the samples' quality (chapter 5). Refining a copy (WGAN-GP's objective: Adam with betas (0, 0.9),
    the penalty on every update) before reading the estimate brings it nearer the supremum, at the
    cost of ``steps`` updates per reading, spent outside training.

    Args:
        critic: the trained critic (must not contain batch norm: the penalty is used).
        x_real: real samples (N, ...) drawn from with replacement.
        sample_fake: ``sample_fake(n, generator) -> (n, ...)`` samples of the frozen generator.
        steps, gp_lambda, lr, batch_size: the refinement's updates and settings.
        seed: seeds the batches, latents and interpolates: a reading is repeatable.

    Returns:
        The refined copy, in eval mode.
    """
    if has_batch_norm(critic):
        raise ValueError("refine_critic uses the gradient penalty, which needs a critic without batch norm (see train_wgan)")
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    refined = copy.deepcopy(critic).train()
    opt = torch.optim.Adam(refined.parameters(), lr=lr, betas=(0.0, 0.9))
    gen = torch.Generator(device=x_real.device).manual_seed(seed)
    for _ in range(steps):
        x_r = x_real[torch.randint(0, len(x_real), (batch_size,), generator=gen, device=x_real.device)]  # (B, ...)
        with torch.no_grad():
            x_f = sample_fake(batch_size, gen)  # (B, ...)
        eps = torch.rand(batch_size, generator=gen, device=x_real.device)  # (B,) interpolation weights
        loss = critic_loss_wasserstein(refined(x_r), refined(x_f)) + gradient_penalty(refined, x_r, x_f, gp_lambda, eps=eps)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return refined.eval()


# --- recipes: python -m genlearn train wgan | wgan-gp ----------------------------------------------


def digits_config(model: str) -> WGANConfig:
    """Settings for the 1,437 digits under chapter 5's 5-minute CPU budget.

    Both add two of chapter 2's remedies: DiffAugment translation and an EMA of G.

    * ``"wgan"`` keeps Arjovsky et al.'s RMSprop at 5e-5, n_critic = 5 and constant rates.
    * ``"wgan-gp"`` keeps the penalty, Adam's betas (0, 0.9) and the layer-norm critic, but trades
      the paper's n_critic = 5 and lambda = 10 for more generator steps in the budget: one critic
      update per generator update at batch 128, Adam 5e-4, lambda = 1 applied lazily every 4th
      critic update (weight 4), and rates decaying to 0 over the last three quarters of the run.
      Chapter 5 measures what each change buys against the paper's settings.
    """
    if model == "wgan":
        return WGANConfig.wgan(diffaugment="translation", ema_decay=0.999)
    if model != "wgan-gp":
        raise ValueError(f"digits_config knows 'wgan' and 'wgan-gp', not {model!r}")
    return WGANConfig.wgan_gp(
        n_critic=1, batch_size=128, lr_g=5e-4, lr_c=5e-4, gp_lambda=1.0, gp_every=4,
        diffaugment="translation", ema_decay=0.999, lr_decay=0.75,
    )  # fmt: skip


def train(args) -> Path:
    from genlearn.data import get_dataset
    from genlearn.models.critic import Critic, CriticConfig
    from genlearn.models.dcgan import Generator
    from genlearn.runtime import get_device, pick, seed_everything
    from genlearn.train.dcgan import SMALL_DATA, image_size, model_config
    from genlearn.train.recipe import write_history

    if args.model not in ("wgan", "wgan-gp"):
        raise SystemExit(f"genlearn: the wgan recipe trains 'wgan' or 'wgan-gp', not {args.model!r}")
    seed_everything(args.seed)
    x, _ = get_dataset(args.data, split="train", size=image_size(args.data))  # (N, C, S, S) in [-1, 1]
    model = model_config(args.data, x.shape[1])
    critic_cfg = CriticConfig.from_dcgan(model, norm="layer")
    if args.data in SMALL_DATA:
        train_cfg = digits_config(args.model)
    else:
        train_cfg = WGANConfig.wgan() if args.model == "wgan" else WGANConfig.wgan_gp()
    cpu_steps = 7000 if args.model == "wgan-gp" else 4500  # ~5 min each on the 2 cores of chapter 5's trials, ~2x on slower ones
    steps = args.steps if args.steps is not None else pick(smoke=10, cpu=cpu_steps, gpu=20000)
    run = Path(args.out)
    config = {"model": args.model, "data": args.data, "dcgan": model.to_dict(), "critic": critic_cfg.to_dict(),
              "train": train_cfg.to_dict(), "seed": args.seed}  # fmt: skip
    history, _ = train_wgan(
        Generator(model), Critic(critic_cfg), x, config=train_cfg, steps=steps, seed=args.seed,
        device=get_device(args.device), checkpoint=run / "checkpoint.pt", run_config=config, desc=args.model,
    )  # fmt: skip
    write_history(run, history)
    return run


def sample(payload: dict, n: int, seed: int) -> dict[str, torch.Tensor]:
    """Samples of a wgan / wgan-gp run: its generator is the DCGAN one, so the DCGAN recipe's sampler applies."""
    from genlearn.train.dcgan import sample as dcgan_sample

    return dcgan_sample(payload, n, seed)


__all__ = [
    "CONSTRAINTS", "WGANConfig", "clip_weights", "critic_step", "generator_step", "refine_critic", "train_wgan",
    "wasserstein_estimate",
]
