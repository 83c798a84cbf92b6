"""GAN training: one D step and one G step (plain functions), the loop around them, and the ``gan`` recipe.

Each iteration (Goodfellow et al. 2014, Algorithm 1, with k = 1):

1. :func:`d_step` -- generate ``x_fake = G(z)``, *detach* it (D's loss must not send gradients into
   G), score reals and fakes, update D only.
2. :func:`g_step` -- generate again, score the fakes with a *frozen* D, update G only.

:func:`train_gan` wires them to :func:`genlearn.train.fit` for the MLP GAN, DCGAN and the
conditional GAN (pass labels ``y``). ``python -m genlearn train gan`` is the MLP GAN on
flattened images; ``dcgan`` and ``cgan`` live in :mod:`genlearn.train.dcgan` and
:mod:`genlearn.train.cgan`.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import torch
from torch import nn

from genlearn.augment import diff_augment, parse_policy
from genlearn.ema import EMA
from genlearn.losses import D_LOSSES, G_LOSSES, r1_penalty
from genlearn.runtime import autocast, backward_and_step, grad_scaler, to_channels_last
from genlearn.train.loop import Every, History, InfiniteBatches, fit, linear_decay


def _call(model: nn.Module, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    return model(x) if y is None else model(x, y)


@contextlib.contextmanager
def frozen(model: nn.Module) -> Iterator[nn.Module]:
    """Switch off ``requires_grad`` of ``model``'s parameters inside the block (restored after)."""
    flags = [p.requires_grad for p in model.parameters()]
    model.requires_grad_(False)
    try:
        yield model
    finally:
        for p, flag in zip(model.parameters(), flags):
            p.requires_grad_(flag)


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

    Args:
        loss: "nonsaturating" (-log D(G(z))), "minimax" (log(1 - D(G(z)))) or "hinge".
        (others as in :func:`d_step`; ``opt_g`` is the only optimizer stepped)

    Returns:
        ``g_loss``.
    """
    augment = augment or (lambda x: x)
    with frozen(D), autocast(z.device):  # D's weights get no gradient and are not updated
        x_fake = _call(G, z, y)  # (N, C, H, W), with gradients into G
        fake_logits = _call(D, augment(x_fake), y)  # (N,)
        loss_g = G_LOSSES[loss](fake_logits.float())
        backward_and_step(loss_g, opt_g, scaler)
    return {"g_loss": loss_g.item()}


@dataclass(frozen=True)
class TrainConfig:
    """Optimization settings of a GAN run (stored in the checkpoint next to the model config).

    Args:
        batch_size: images per step (reals and fakes each).
        lr_g, lr_d: Adam learning rates; unequal rates are the two time-scale rule (Heusel et al. 2017).
        beta1, beta2: Adam betas (DCGAN: 0.5, 0.999).
        d_loss: "bce" or "hinge"; g_loss: "nonsaturating", "minimax" or "hinge".
        real_label: one-sided label smoothing target (1.0: none).
        diffaugment: DiffAugment policy for D's inputs, e.g. "translation,cutout" ("" = none).
        ema_decay: decay of the EMA of G's weights used for sampling (0 = no EMA).
        r1_gamma: weight of the R1 penalty on D (Mescheder et al. 2018; 0 = none).
        r1_every: apply R1 every this many D steps with weight ``r1_every * r1_gamma`` ("lazy"
            regularization: the same average pull at a fraction of the cost).
        lr_decay: the final fraction of the run over which both learning rates fall linearly to 0
            (0 = constant rates; 0.5 = constant for the first half, then linear decay).
    """

    batch_size: int = 128
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    d_loss: str = "bce"
    g_loss: str = "nonsaturating"
    real_label: float = 1.0
    diffaugment: str = ""
    ema_decay: float = 0.0
    r1_gamma: float = 0.0
    r1_every: int = 1
    lr_decay: float = 0.0

    def __post_init__(self) -> None:
        if self.d_loss not in D_LOSSES:
            raise ValueError(f"d_loss must be one of {sorted(D_LOSSES)}, got {self.d_loss!r}")
        if self.g_loss not in G_LOSSES:
            raise ValueError(f"g_loss must be one of {sorted(G_LOSSES)}, got {self.g_loss!r}")
        parse_policy(self.diffaugment)
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        if self.r1_gamma < 0 or self.r1_every < 1:
            raise ValueError(f"need r1_gamma >= 0 and r1_every >= 1, got {self.r1_gamma} and {self.r1_every}")
        if not 0.0 <= self.lr_decay <= 1.0:
            raise ValueError(f"lr_decay must be a fraction of the run in [0, 1], got {self.lr_decay}")

    @classmethod
    def dcgan(cls) -> "TrainConfig":
        """Radford et al. 2016, Sec. 4: batch 128, Adam lr 2e-4, beta1 0.5."""
        return cls()

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        return cls(**d)


def train_gan(
    G: nn.Module,
    D: nn.Module,
    x: torch.Tensor,
    *,
    y: torch.Tensor | None = None,
    config: TrainConfig = TrainConfig(),
    steps: int,
    seed: int = 0,
    device: torch.device | str = "cpu",
    ema: EMA | None = None,
    callbacks: Sequence[Every] = (),
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 500,
    run_config: dict | None = None,
    time_budget: float | None = None,
    desc: str = "GAN",
    progress: bool = True,
) -> tuple[History, EMA | None]:
    """Alternate :func:`d_step` and :func:`g_step` for ``steps`` iterations on data ``x`` (and labels ``y``).

    ``z`` is drawn afresh for every iteration; in the conditional case the fakes use the batch's
    labels, so G is asked for classes in the data's proportions. Models are moved to ``device``
    (channels-last and mixed precision on CUDA). Returns the :class:`History` and the EMA of G
    (None when ``config.ema_decay`` is 0). Pass your own ``ema = EMA(G, decay)`` to read the average
    in callbacks during training.
    """
    device = torch.device(device)
    G, D = to_channels_last(G.to(device), device), to_channels_last(D.to(device), device)
    opt_g = torch.optim.Adam(G.parameters(), lr=config.lr_g, betas=(config.beta1, config.beta2))
    opt_d = torch.optim.Adam(D.parameters(), lr=config.lr_d, betas=(config.beta1, config.beta2))
    schedules = {name: linear_decay(opt, steps, config.lr_decay) for name, opt in (("G_lr", opt_g), ("D_lr", opt_d))}
    if ema is None and config.ema_decay > 0:
        ema = EMA(G, config.ema_decay)
    if ema is not None:
        ema.to(device)
    scaler = grad_scaler(device)
    augment = (lambda t: diff_augment(t, config.diffaugment)) if config.diffaugment else None
    tensors = (x,) if y is None else (x, y)
    batches = InfiniteBatches(*tensors, batch_size=min(config.batch_size, x.shape[0]), seed=seed, device=device)
    latent_dim = G.config.latent_dim

    def step(batch) -> dict[str, float]:
        x_real, y_real = (batch, None) if y is None else batch
        if device.type == "cuda":
            x_real = x_real.contiguous(memory_format=torch.channels_last)
        z = torch.randn(x_real.shape[0], latent_dim, device=device)  # (N, latent_dim)
        done = schedules["D_lr"].last_epoch  # steps done so far (restored on resume)
        r1_gamma = config.r1_gamma * config.r1_every if done % config.r1_every == 0 else 0.0  # lazy R1
        logs = d_step(G, D, opt_d, x_real, z, y=y_real, loss=config.d_loss, real_label=config.real_label,
                      augment=augment, r1_gamma=r1_gamma, scaler=scaler)  # fmt: skip
        logs |= g_step(G, D, opt_g, z, y=y_real, loss=config.g_loss, augment=augment, scaler=scaler)
        if ema is not None:
            ema.update(G)
        for schedule in schedules.values():
            schedule.step()
        return logs

    modules = {"G": G, "D": D} | ({"G_ema": ema} if ema is not None else {})
    history = fit(
        step,
        batches,
        steps=steps,
        modules=modules,
        optimizers={"G": opt_g, "D": opt_d} | schedules,
        callbacks=callbacks,
        checkpoint=checkpoint,
        checkpoint_every=checkpoint_every,
        config=run_config,
        time_budget=time_budget,
        desc=desc,
        progress=progress,
    )
    G.eval(), D.eval()
    return history, ema


def sampling_generator(payload: dict, G: nn.Module) -> nn.Module:
    """Load the generator to sample from out of a checkpoint: the EMA weights when the run kept them."""
    if "G_ema" in payload["modules"]:
        ema = EMA(G)
        ema.load_state_dict(payload["modules"]["G_ema"])
        return ema.model.eval()
    G.load_state_dict(payload["modules"]["G"])
    return G.eval()


# --- recipe: python -m genlearn train gan (MLP GAN on flattened images) -----------------------------


def train(args) -> Path:
    from genlearn.data import get_dataset
    from genlearn.models.mlp import MLPConfig, MLPDiscriminator, MLPGenerator
    from genlearn.runtime import get_device, pick, seed_everything
    from genlearn.train.recipe import write_history

    seed_everything(args.seed)
    x, _ = get_dataset(args.data, split="train")
    model = MLPConfig.images(channels=x.shape[1], size=x.shape[2])
    train_cfg = TrainConfig(batch_size=64, lr_g=2e-4, lr_d=2e-4)
    steps = args.steps if args.steps is not None else pick(smoke=20, cpu=5000, gpu=20000)
    run = Path(args.out)
    config = {"model": "gan", "data": args.data, "mlp": model.to_dict(), "train": train_cfg.to_dict(), "seed": args.seed}
    history, _ = train_gan(
        MLPGenerator(model), MLPDiscriminator(model), x, config=train_cfg, steps=steps, seed=args.seed,
        device=get_device(args.device), checkpoint=run / "checkpoint.pt", run_config=config, desc="gan",
    )  # fmt: skip
    write_history(run, history)
    return run


def sample(payload: dict, n: int, seed: int) -> dict[str, torch.Tensor]:
    from genlearn.models.mlp import MLPConfig, MLPGenerator

    G = sampling_generator(payload, MLPGenerator(MLPConfig.from_dict(payload["config"]["mlp"])))
    return {"images": G.sample(n, generator=torch.Generator().manual_seed(seed)).clamp(-1, 1)}


__all__ = ["TrainConfig", "d_step", "frozen", "g_step", "sampling_generator", "train_gan"]
