"""pix2pix training (Isola et al. 2017): one discriminator step and one generator step, on the shared set-up.

Each iteration takes a batch of pairs ``(x, y)`` (input, target), computes ``G(x)`` once and updates D, then G,
as the paper has it (Sec. 3.3: "one gradient descent step on D, then one step on G") and as the authors' code
does: G's step sees the D just updated on the same batch. ``Pix2PixTrainConfig(d_first=False)`` is the other
order, G then D (genlearn's CycleGAN's, and its pix2pix default before 0.3); chapter 8 measures both.

1. :func:`discriminator_step` (the discriminator update) -- D on the real pair ``(x, y)`` against the
   *detached* fake pair ``(x, G(x))``, its objective halved (Sec. 3.3).
2. :func:`generator_step` (the generator update) -- with D frozen: ``lambda_gan * -log D(x, G(x))`` over
   patches plus ``lambda_l1 * |y - G(x)|_1`` (Eq. 4). ``lambda_gan = 0`` is the L1-only baseline (the order
   then makes no difference: D is never used). ``lambda_mask > 0`` (a blend U-Net only, genlearn's watermark
   remover) adds :func:`~genlearn.losses.mark_mask_loss` on the gate.

Adam 2e-4 with beta1 0.5 for both (Sec. 3.3); batch 1 in most of the paper's experiments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from genlearn.losses import d_loss_patch_bce, g_loss_patch_bce, l1_reconstruction_loss, mark_mask_loss
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
        lambda_mask: weight of :func:`~genlearn.losses.mark_mask_loss` on a blend U-Net's gate (0: none, the
            paper's objective); mark_threshold: the change in [-1, 1] that counts as marked; mask_negative_weight:
            how much more a gate opened on a clean pixel costs than a mark missed.

    Chapter 8.
    """

    batch_size: int = 1
    lambda_l1: float = 100.0
    lambda_gan: float = 1.0
    d_first: bool = True
    lambda_mask: float = 0.0
    mark_threshold: float = 0.02
    mask_negative_weight: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if min(self.lambda_l1, self.lambda_gan, self.lambda_mask) < 0:
            raise ValueError(f"lambda_l1, lambda_gan and lambda_mask must be >= 0, got {self.lambda_l1}, {self.lambda_gan}, {self.lambda_mask}")
        if not self.mask_negative_weight > 0:
            raise ValueError(f"mask_negative_weight must be > 0, got {self.mask_negative_weight}")

    @classmethod
    def remover(cls, batch_size: int = 4) -> "Pix2PixTrainConfig":
        """genlearn's watermark remover (chapter 8): L1 and the gate's mask loss at equal weight (100 each), a gate opened
        on a clean pixel costing 3 times a missed mark, no cGAN term (with it, one seed: +0.60 dB on unseen marks
        against +1.09 without, at 64-pixel crops), Adam 1e-3 for G, the last half of the run decaying to 0."""
        return cls(batch_size=batch_size, lr_g=1e-3, lr_decay=0.5, lambda_gan=0.0, lambda_mask=100.0, mask_negative_weight=3.0)

    @classmethod
    def from_dict(cls, d):
        """The config a checkpoint stored; one saved before ``d_first`` existed updated G first."""
        return cls(**{"d_first": False, **d})


def generator_step(G: UnetGenerator, D: ConditionalPatchDiscriminator, opt_g: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, *,
                   lambda_l1: float = 100.0, lambda_gan: float = 1.0, scaler=None, fake: torch.Tensor | None = None,
                   lambda_mask: float = 0.0, gate: torch.Tensor | None = None, mark_threshold: float = 0.02,
                   mask_negative_weight: float = 1.0) -> tuple[dict[str, float], torch.Tensor]:  # fmt: skip
    """Update G on one batch of pairs with D frozen; returns the logs (``g_gan``, ``l1``, ``g_loss``; ``mask``) and ``G(x)`` detached.

    ``fake``: ``G(x)`` already computed, with its graph (the paper's order: D's step has used it, detached);
    None computes it here. ``lambda_mask > 0``: ``gate`` holds the blend head's logits that came with ``fake``
    (computed here with it when ``fake`` is None).

    Chapter 8.
    """
    with frozen(D):  # D's weights get no gradient and are not updated
        with autocast(x.device):
            if fake is None:
                fake, gate = G(x, with_gate=True) if lambda_mask > 0 else (G(x), None)  # (N, C_out, S, S)
            l1 = l1_reconstruction_loss(fake.float(), y, lambda_l1)
            gan = g_loss_patch_bce(D(x, fake).float()) if lambda_gan > 0 else torch.zeros((), device=x.device)
            loss = lambda_gan * gan + l1
            logs = {}
            if lambda_mask > 0:
                mask = mark_mask_loss(gate.float(), x, y, mark_threshold, mask_negative_weight)
                loss = loss + lambda_mask * mask
                logs["mask"] = mask.item()
        backward_and_step(loss, opt_g, scaler)  # backward outside autocast
    return {"g_gan": gan.item(), "l1": l1.item(), "g_loss": loss.item()} | logs, fake.detach()


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
    if config.lambda_mask > 0 and not getattr(getattr(G, "G", G), "blend", False):  # a Pix2Pix or its U-Net
        raise ValueError("lambda_mask supervises the gate of a blend U-Net: build G with Pix2PixConfig(blend=True), or set lambda_mask=0")
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
        g_args = dict(lambda_l1=config.lambda_l1, lambda_gan=config.lambda_gan, scaler=setup.scaler,
                      lambda_mask=config.lambda_mask, mark_threshold=config.mark_threshold,
                      mask_negative_weight=config.mask_negative_weight)  # fmt: skip
        if config.d_first:  # the paper's order: one G(x), D's step on it detached, then G's through the updated D
            with autocast(xb.device):
                fake, gate = setup.G(xb, with_gate=True) if config.lambda_mask > 0 else (setup.G(xb), None)  # (N, C_out, S, S), with its graph
            d_logs = d_update(xb, yb, fake)
            logs, _ = generator_step(setup.G, setup.D_core, setup.opt_g, xb, yb, fake=fake, gate=gate, **g_args)
            logs |= d_logs
        else:  # G first: G's step, then D's on the same output
            logs, fake = generator_step(setup.G, setup.D_core, setup.opt_g, xb, yb, **g_args)
            logs |= d_update(xb, yb, fake)
        setup.end_step()
        return logs

    history = setup.fit(step)
    return setup.trained(history)


__all__ = ["Pix2PixTrainConfig", "discriminator_step", "generator_step", "train_pix2pix"]
