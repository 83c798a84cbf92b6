"""CycleGAN training (Zhu et al. 2017): one generator step and one discriminator step, on the shared set-up.

Each iteration takes a batch ``a`` of domain A and an unrelated batch ``b`` of domain B:

1. :func:`generator_step` (the generator update) -- both mappings at once, with both discriminators frozen
   (Eq. 3): least-squares GAN losses of ``G_AB(a)`` under ``D_B`` and ``G_BA(b)`` under ``D_A``, plus the
   cycle losses ``lambda * |G_BA(G_AB(a)) - a|_1`` and ``lambda * |G_AB(G_BA(b)) - b|_1``, plus the
   identity losses ``lambda_id * lambda * |G_AB(b) - b|_1`` and ``... |G_BA(a) - a|_1`` (Sec. 5.2).
2. :func:`discriminator_step` (the discriminator update) -- both discriminators, on real images against
   *detached* fakes drawn from a 50-image :class:`~genlearn.train.image_pool.ImagePool` per domain (Sec. 4).

Adam 2e-4 with beta1 0.5 for both groups, constant for the first half of the run and then decaying
linearly to 0 (the paper's 100 + 100 epochs), batch 1 in the paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from genlearn.losses import cycle_consistency_loss, d_loss_lsgan, g_loss_lsgan, identity_loss
from genlearn.models.cyclegan import CycleGAN, CycleGANDiscriminators
from genlearn.train.precision import autocast, backward_and_step
from genlearn.train.adversarial import Adversarial, AdversarialTrainConfig, frozen
from genlearn.train.distributed import shard
from genlearn.train.image_pool import ImagePool
from genlearn.train.batches import UnpairedBatches
from genlearn.train.loop import FitOptions, Trained, fit_options


@dataclass(frozen=True)
class CycleGANTrainConfig(AdversarialTrainConfig):
    """Zhu et al. 2017, Sec. 4: Adam 2e-4, beta1 0.5, batch 1, rates constant for half the run then to 0.

    Args:
        lambda_cycle: weight of both cycle losses (10).
        lambda_identity: identity loss weight as a fraction of ``lambda_cycle`` (0.5; 0 = none;
            needs domains with the same channel count).
        pool_size: fakes each discriminator's history holds (50; 0 = none).
        lambda_gan: weight of both generators' GAN terms (1; 0 = "cycle alone", Sec. 5.1.4).
        cycle: which cycle terms: ``"both"`` (Eq. 2), ``"forward"`` (only ``F(G(x)) ~ x``) or ``"backward"``
            (only ``G(F(y)) ~ y``), the rows "GAN + forward cycle" and "GAN + backward cycle" of Table 4.

    Chapter 7.
    """

    batch_size: int = 1
    lr_decay: float = 0.5
    lambda_cycle: float = 10.0
    lambda_identity: float = 0.5
    pool_size: int = 50
    lambda_gan: float = 1.0
    cycle: str = "both"

    def __post_init__(self) -> None:
        super().__post_init__()
        if min(self.lambda_cycle, self.lambda_identity, self.pool_size, self.lambda_gan) < 0:
            raise ValueError(f"lambda_cycle, lambda_identity, pool_size and lambda_gan must be >= 0, got {self.lambda_cycle}, "
                             f"{self.lambda_identity}, {self.pool_size}, {self.lambda_gan}")  # fmt: skip
        if self.cycle not in CYCLES:
            raise ValueError(f"cycle must be one of {CYCLES}, got {self.cycle!r}")


CYCLES = ("both", "forward", "backward")


def generator_step(G: CycleGAN, D: CycleGANDiscriminators, opt_g: torch.optim.Optimizer, a: torch.Tensor, b: torch.Tensor, *,
                   lambda_cycle: float = 10.0, lambda_identity: float = 0.5, lambda_gan: float = 1.0, cycle: str = "both",
                   scaler=None) -> tuple[dict[str, float], torch.Tensor, torch.Tensor]:  # fmt: skip
    """Update both mappings on one batch of each domain; the discriminators are frozen.

    ``lambda_gan`` and ``cycle`` switch terms off for the loss ablation of Zhu et al. (Sec. 5.1.4, Table 4):
    ``lambda_gan=0`` is "cycle alone", ``cycle="forward"`` keeps only ``|G_BA(G_AB(a)) - a|``.

    Returns:
        the logs (``g_gan``, ``cycle``, ``identity``, ``g_loss``), and the fakes ``G_BA(b)`` (in A) and
        ``G_AB(a)`` (in B), detached, for the discriminator step.

    Chapter 7.
    """
    with frozen(D):  # D's weights get no gradient and are not updated
        with autocast(a.device):
            fake_b, fake_a = G.G_AB(a), G.G_BA(b)  # (N, C_B, S, S), (N, C_A, S, S)
            gan = lambda_gan * (g_loss_lsgan(D.D_B(fake_b).float()) + g_loss_lsgan(D.D_A(fake_a).float()))  # fool both Ds
            forward = cycle_consistency_loss(a, G.G_BA(fake_b), lambda_cycle) if cycle != "backward" else 0.0  # A -> B -> A
            backward = cycle_consistency_loss(b, G.G_AB(fake_a), lambda_cycle) if cycle != "forward" else 0.0  # B -> A -> B
            cycle = forward + backward
            idt = torch.zeros((), device=a.device)
            if lambda_identity > 0:  # G_AB should leave an image of B, its own target domain, unchanged (and G_BA one of A)
                w = lambda_identity * lambda_cycle
                idt = identity_loss(G.G_AB, b, w) + identity_loss(G.G_BA, a, w)
            loss = gan + cycle.float() + idt.float()
        backward_and_step(loss, opt_g, scaler)  # backward outside autocast
    logs = {"g_gan": gan.item(), "cycle": cycle.item(), "identity": idt.item(), "g_loss": loss.item()}
    return logs, fake_a.detach(), fake_b.detach()


def discriminator_step(D: CycleGANDiscriminators, opt_d: torch.optim.Optimizer, a: torch.Tensor, b: torch.Tensor,
                       fake_a: torch.Tensor, fake_b: torch.Tensor, *, scaler=None) -> dict[str, float]:  # fmt: skip
    """Update both discriminators: reals toward 1, (pooled, detached) fakes toward 0 (least squares).

    Chapter 7.
    """
    with autocast(a.device):
        loss_a = d_loss_lsgan(D.D_A(a).float(), D.D_A(fake_a.detach()).float())  # fakes detached: no gradient reaches G
        loss_b = d_loss_lsgan(D.D_B(b).float(), D.D_B(fake_b.detach()).float())
        loss = loss_a + loss_b
    backward_and_step(loss, opt_d, scaler)
    return {"d_a": loss_a.item(), "d_b": loss_b.item()}


def train_cyclegan(
    G: CycleGAN,
    D: CycleGANDiscriminators,
    x_a: torch.Tensor,
    x_b: torch.Tensor,
    *,
    config: CycleGANTrainConfig = CycleGANTrainConfig(),
    steps: int,
    seed: int = 0,
    device: torch.device | str = "cpu",
    fit: FitOptions | None = None,
    **options: Any,
) -> Trained:
    """Train both mappings on unpaired images ``x_a`` (N_A, C_A, S, S) and ``x_b`` (N_B, C_B, S, S) for ``steps`` iterations.

    Returns:
        :class:`~genlearn.train.Trained`: the :class:`~genlearn.models.cyclegan.CycleGAN` (both
        mappings; ``translate(x, "AtoB")``) and the history.

    ``distributed``: train with DDP on several processes, ``config.batch_size`` being the global batch
    (:mod:`genlearn.train.distributed`); each process keeps its own image pools.

    Raises:
        ValueError: the identity loss with domains of different channel counts.

    Chapter 7.
    """
    if config.lambda_identity > 0 and x_a.shape[1] != x_b.shape[1]:
        raise ValueError(f"the identity loss feeds each generator images of its target domain, so both domains need the same "
                         f"channels, got {x_a.shape[1]} and {x_b.shape[1]}; set lambda_identity=0")  # fmt: skip
    fit = fit_options(fit, options, desc="CycleGAN", where="train_cyclegan")
    batches = UnpairedBatches(x_a, x_b, batch_size=config.batch_size, seed=seed, device=device, shard=shard(fit.distributed))
    pools = {"pool_A": ImagePool(config.pool_size, seed=seed), "pool_B": ImagePool(config.pool_size, seed=seed + 1)}  # checkpointed
    setup = Adversarial(G, D, config=config, steps=steps, seed=seed, device=device, batches=batches, state=pools, fit=fit)

    def step(batch) -> dict[str, float]:
        a, b = (setup.real(t) for t in batch)  # (N, C_A, S, S), (N, C_B, S, S)
        # each player's DDP replica only where its own update runs backward through it
        logs, fake_a, fake_b = generator_step(setup.G, setup.D_core, setup.opt_g, a, b, lambda_cycle=config.lambda_cycle,
                                              lambda_identity=config.lambda_identity, lambda_gan=config.lambda_gan,
                                              cycle=config.cycle, scaler=setup.scaler)  # fmt: skip
        logs |= discriminator_step(setup.D, setup.opt_d, a, b, pools["pool_A"].query(fake_a), pools["pool_B"].query(fake_b), scaler=setup.scaler)
        setup.end_step()
        return logs

    history = setup.fit(step)
    return setup.trained(history)


__all__ = ["CycleGANTrainConfig", "UnpairedBatches", "discriminator_step", "generator_step", "train_cyclegan"]
