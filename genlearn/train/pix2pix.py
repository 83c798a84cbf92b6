"""pix2pix training (Isola et al. 2017): one discriminator step and one generator step, on the shared set-up.

Each iteration takes a batch of pairs ``(x, y)`` (input, target), computes ``G(x)`` once and updates D, then G,
as the paper has it (Sec. 3.3: "one gradient descent step on D, then one step on G") and as the authors' code
does: G's step sees the D just updated on the same batch. ``Pix2PixTrainConfig(d_first=False)`` is the other
order, G then D (genlearn's CycleGAN's, and its pix2pix default before 0.3); chapter 8 measures both.

1. :func:`discriminator_step` (the discriminator update) -- D on the real pair ``(x, y)`` against the
   *detached* fake pair ``(x, G(x))``, its objective halved (Sec. 3.3).
2. :func:`generator_step` (the generator update) -- with D frozen: ``lambda_gan * -log D(x, G(x))`` over
   patches plus ``lambda_l1 * |y - G(x)|_1`` (Eq. 4). ``lambda_gan = 0`` is the L1-only baseline (the order
   then makes no difference: D is never used).

Adam 2e-4 with beta1 0.5 for both (Sec. 3.3); batch 1 in most of the paper's experiments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from genlearn.losses import d_loss_patch_bce, g_loss_patch_bce, l1_reconstruction_loss
from genlearn.models.pix2pix import ConditionalPatchDiscriminator, UnetGenerator
from genlearn.train.precision import autocast, backward_and_step
from genlearn.train.adversarial import Adversarial, AdversarialTrainConfig, frozen
from genlearn.train.loop import FitOptions, Trained, fit_options


@dataclass(frozen=True)
class Pix2PixTrainConfig(AdversarialTrainConfig):
    """Isola et al. 2017, Sec. 3.3 and 4: Adam 2e-4, beta1 0.5, batch 1, lambda = 100.

    Args:
        lambda_l1: weight of the L1 term (100).
        lambda_gan: weight of the adversarial term (1; 0 trains the L1-only baseline, D unused).
        d_first: True (the paper's Sec. 3.3 and the authors' code): one forward pass of G, D's update on its
            detached output, then G's update through the updated D. False: G's update first, then D's on the
            same (detached) output, genlearn's order before 0.3: a config saved without this field
            (``from_dict``) loads with False, the order it trained with.

    Chapter 8.
    """

    batch_size: int = 1
    lambda_l1: float = 100.0
    lambda_gan: float = 1.0
    d_first: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.lambda_l1 < 0 or self.lambda_gan < 0:
            raise ValueError(f"lambda_l1 and lambda_gan must be >= 0, got {self.lambda_l1}, {self.lambda_gan}")

    @classmethod
    def from_dict(cls, d):
        """The config a checkpoint stored; one saved before ``d_first`` existed updated G first."""
        return cls(**{"d_first": False, **d})


def generator_step(G: UnetGenerator, D: ConditionalPatchDiscriminator, opt_g: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, *,
                   lambda_l1: float = 100.0, lambda_gan: float = 1.0, scaler=None, fake: torch.Tensor | None = None,
                   ) -> tuple[dict[str, float], torch.Tensor]:  # fmt: skip
    """Update G on one batch of pairs with D frozen; returns the logs (``g_gan``, ``l1``, ``g_loss``) and ``G(x)`` detached.

    ``fake``: ``G(x)`` already computed, with its graph (the paper's order: D's step has used it, detached);
    None computes it here.

    Chapter 8.
    """
    with frozen(D):  # D's weights get no gradient and are not updated
        with autocast(x.device):
            fake = G(x) if fake is None else fake  # (N, C_out, S, S)
            l1 = l1_reconstruction_loss(fake.float(), y, lambda_l1)
            gan = g_loss_patch_bce(D(x, fake).float()) if lambda_gan > 0 else torch.zeros((), device=x.device)
            loss = lambda_gan * gan + l1
        backward_and_step(loss, opt_g, scaler)  # backward outside autocast
    return {"g_gan": gan.item(), "l1": l1.item(), "g_loss": loss.item()}, fake.detach()


def discriminator_step(D: ConditionalPatchDiscriminator, opt_d: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
                       fake: torch.Tensor, *, scaler=None) -> dict[str, float]:  # fmt: skip
    """Update D: the real pair ``(x, y)`` towards 1, the fake pair ``(x, G(x))`` (detached) towards 0, halved.

    Chapter 8.
    """
    with autocast(x.device):
        loss = d_loss_patch_bce(D(x, y).float(), D(x, fake.detach()).float())  # fake detached: no gradient reaches G
    backward_and_step(loss, opt_d, scaler)
    return {"d_loss": loss.item()}


def train_pix2pix(
    G: UnetGenerator,
    D: ConditionalPatchDiscriminator,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    config: Pix2PixTrainConfig = Pix2PixTrainConfig(),
    steps: int,
    seed: int = 0,
    device: torch.device | str = "cpu",
    fit: FitOptions | None = None,
    **options: Any,
) -> Trained:
    """Train G to map inputs ``x`` (N, C_in, S, S) to their targets ``y`` (N, C_out, S, S) for ``steps`` iterations.

    Returns :class:`~genlearn.train.Trained` ``(G, history)``, G in eval mode (dropout off; put the
    dropout layers back in train mode to sample the noise the paper keeps at test time). ``distributed``: train
    with DDP on several processes, ``config.batch_size`` being the global batch (:mod:`genlearn.train.distributed`).

    Chapter 8.
    """
    if x.shape[0] != y.shape[0] or x.shape[-2:] != y.shape[-2:]:
        raise ValueError(f"pix2pix trains on pairs: x and y need the same count and size, got {tuple(x.shape)} and {tuple(y.shape)}")
    fit = fit_options(fit, options, desc="pix2pix", where="train_pix2pix")
    setup = Adversarial(G, D, x, y, config=config, steps=steps, seed=seed, device=device, fit=fit)

    def d_update(xb, yb, fake) -> dict[str, float]:
        if config.lambda_gan > 0:
            return discriminator_step(setup.D, setup.opt_d, xb, yb, fake, scaler=setup.scaler)
        setup.opt_d.step()  # L1 only: D is unused; a step without gradients changes nothing and keeps D's schedule in order
        return {}

    def step(batch) -> dict[str, float]:
        xb, yb = (setup.real(t) for t in batch)  # (N, C_in, S, S), (N, C_out, S, S)
        # each player's DDP replica only where its own update runs backward through it
        g_args = dict(lambda_l1=config.lambda_l1, lambda_gan=config.lambda_gan, scaler=setup.scaler)
        if config.d_first:  # the paper's order: one G(x), D's step on it detached, then G's through the updated D
            with autocast(xb.device):
                fake = setup.G(xb)  # (N, C_out, S, S), with its graph for G's step
            d_logs = d_update(xb, yb, fake)
            logs, _ = generator_step(setup.G, setup.D_core, setup.opt_g, xb, yb, fake=fake, **g_args)
            logs |= d_logs
        else:  # G first: G's step, then D's on the same output
            logs, fake = generator_step(setup.G, setup.D_core, setup.opt_g, xb, yb, **g_args)
            logs |= d_update(xb, yb, fake)
        setup.end_step()
        return logs

    history = setup.fit(step)
    return setup.trained(history)


__all__ = ["Pix2PixTrainConfig", "discriminator_step", "generator_step", "train_pix2pix"]
