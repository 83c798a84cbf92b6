"""The 2-D toy GAN of chapter 1: an MLP GAN on a ring (or grid) of Gaussians, scored by mode coverage.

``notebooks/01_vanilla_gan.ipynb`` uses :func:`train_toy_gan` to show mode collapse and its fix.
One iteration is Algorithm 1 of Goodfellow et al. 2014 (https://arxiv.org/abs/1406.2661): ``k``
discriminator steps (:func:`genlearn.train.gan.d_step`), then one generator step
(:func:`genlearn.train.gan.g_step`), on the shared set-up of :mod:`genlearn.train.adversarial`. Optionally the discriminator judges ``pack`` samples at once
(PacGAN, Lin et al. 2018, https://arxiv.org/abs/1712.04086).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from genlearn.data import mode_coverage, toy_mixture
from genlearn.models.mlp import MLPConfig, MLPDiscriminator, MLPGenerator
from genlearn.runtime import seed_everything
from genlearn.train.adversarial import Adversarial, AdversarialTrainConfig
from genlearn.train.gan import d_step, g_step
from genlearn.train.loop import Every, History


@dataclass(frozen=True)
class ToyGANTrainConfig:
    """One toy experiment.

    Args:
        mixture: "ring" (8 modes) or "grid" (25 modes), see :func:`genlearn.data.toy_mixture`.
        steps: generator updates.
        batch_size: samples per D judgement (with ``pack > 1``, D sees ``batch_size`` packs of
            ``pack`` samples, so ``batch_size * pack`` points per step).
        latent_dim, hidden, depth: sizes of both MLPs (:class:`genlearn.models.mlp.MLPConfig`).
        lr_g, lr_d, beta1, beta2: Adam settings of G and D.
        g_loss: "nonsaturating" or "minimax" (see :mod:`genlearn.losses`).
        d_steps: discriminator updates per generator update (``k`` in Algorithm 1).
        pack: samples D judges jointly (1 = the standard GAN).
        lr_decay: the final fraction of the run over which both learning rates fall linearly to 0
            (0 = constant; 1.0 = over the whole run, so the last steps sharpen the modes instead of
            jittering around them), as in every genlearn config.
        r1_gamma: weight of the R1 penalty on D's gradient at real points (Mescheder et al. 2018;
            0 = none), see :func:`genlearn.losses.r1_penalty`.
        n_data: size of the fixed training set drawn from the mixture.

    Chapter 1.
    """

    mixture: str = "ring"
    steps: int = 3000
    batch_size: int = 256
    latent_dim: int = 16
    hidden: int = 128
    depth: int = 3
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    beta1: float = 0.5
    beta2: float = 0.999
    g_loss: str = "nonsaturating"
    d_steps: int = 1
    pack: int = 1
    lr_decay: float = 0.0
    r1_gamma: float = 0.0
    n_data: int = 50_000

    def __post_init__(self) -> None:
        if self.g_loss not in ("nonsaturating", "minimax"):
            raise ValueError(f"g_loss must be 'nonsaturating' or 'minimax', got {self.g_loss!r}")
        for name in ("steps", "batch_size", "d_steps", "pack", "n_data"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 0.0 <= self.lr_decay <= 1.0:
            raise ValueError(f"lr_decay must be a fraction of the run in [0, 1], got {self.lr_decay}")
        if self.r1_gamma < 0:
            raise ValueError(f"r1_gamma must be >= 0, got {self.r1_gamma}")
        if self.batch_size * self.pack > self.n_data:
            raise ValueError(f"batch_size * pack = {self.batch_size * self.pack} exceeds n_data = {self.n_data}")

    def mlp(self) -> MLPConfig:
        return MLPConfig(data_shape=(2,), latent_dim=self.latent_dim, hidden=self.hidden, depth=self.depth)

    def to_dict(self) -> dict:
        return asdict(self)


ToyGANConfig = ToyGANTrainConfig  # 0.2's name; chapter 1 imports it


class PackedDiscriminator(nn.Module):
    """PacGAN: score ``pack`` samples jointly, ``(N, 2) -> (N // pack,)`` logits.

    A pack of real points holds points from different modes; a collapsed generator's pack holds
    near-copies, which a discriminator that sees them side by side detects easily.

    Chapter 1.
    """

    def __init__(self, D: MLPDiscriminator, pack: int):
        super().__init__()
        if D.config.data_shape[0] % pack:
            raise ValueError(f"D's input size {D.config.data_shape} is not a multiple of pack={pack}")
        self.D, self.pack = D, pack

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (N, 2) with N a multiple of ``pack`` -> logits (N // pack,)."""
        if x.shape[0] % self.pack:
            raise ValueError(f"batch of {x.shape[0]} points does not split into packs of {self.pack}")
        return self.D(x.reshape(x.shape[0] // self.pack, -1))  # (N // pack, 2 * pack) -> (N // pack,)


@dataclass
class ToyGANResult:
    """What :func:`train_toy_gan` returns.

    Attributes:
        samples: ``(n_eval, 2)`` generator samples after training.
        coverage: :func:`genlearn.data.mode_coverage` of ``samples``.
        history: per-step ``d_loss``, ``d_real``, ``d_fake``, ``g_loss``; events ``modes_covered``
            and ``high_quality`` every ``eval_every`` steps.
        snapshots: ``[(step, samples (n_snapshot, 2))]`` from fixed latents, every ``eval_every`` steps.
        generator: the trained :class:`~genlearn.models.mlp.MLPGenerator` (eval mode).
        config: the :class:`ToyGANTrainConfig` of the run.

    Chapter 1.
    """

    samples: torch.Tensor
    coverage: dict
    history: History
    snapshots: list[tuple[int, torch.Tensor]] = field(default_factory=list)
    generator: MLPGenerator | None = None
    config: ToyGANTrainConfig | None = None


def train_toy_gan(
    config: ToyGANTrainConfig = ToyGANTrainConfig(),
    *,
    seed: int = 0,
    n_eval: int = 2500,
    eval_every: int | None = None,
    n_snapshot: int = 1000,
    progress: bool = True,
    desc: str = "toy GAN",
) -> ToyGANResult:
    """Train an MLP GAN on a 2-D mixture and measure its mode coverage.

    Args:
        config: the experiment.
        seed: seeds the data, the initial weights, the latents and the batch order; the same seed
            gives the same result on CPU.
        n_eval: samples scored at the end (2,500, as in PacGAN's ring and grid experiments).
        eval_every: record coverage and a snapshot every this many steps (None: only at the end).
        n_snapshot: points per snapshot.
        progress: show the tqdm bar.
        desc: the bar's label.

    Chapter 1.
    """
    seed_everything(seed)
    x, _ = toy_mixture(config.mixture, config.n_data, seed=seed)  # (n_data, 2)
    G = MLPGenerator(config.mlp())
    D_base = MLPDiscriminator(MLPConfig(data_shape=(2 * config.pack,), latent_dim=config.latent_dim, hidden=config.hidden, depth=config.depth))
    D = PackedDiscriminator(D_base, config.pack) if config.pack > 1 else D_base
    n = config.batch_size * config.pack  # points per D judgement round
    optim = AdversarialTrainConfig(batch_size=n, lr_g=config.lr_g, lr_d=config.lr_d, beta1=config.beta1, beta2=config.beta2,
                                   lr_decay=float(config.lr_decay))  # fmt: skip
    setup = Adversarial(G, D, x, config=optim, steps=config.steps, seed=seed, latent_generator=torch.Generator().manual_seed(seed + 1))
    z_fixed = torch.randn(n_snapshot, config.latent_dim, generator=torch.Generator().manual_seed(seed + 2))  # (n_snapshot, latent)

    def step(x_real: torch.Tensor) -> dict[str, float]:
        for i in range(config.d_steps):
            if i > 0:
                x_real = next(setup.batches)  # each of the k D steps sees a fresh real batch
            logs = d_step(G, D, setup.opt_d, x_real, setup.latents(n), r1_gamma=config.r1_gamma)
        logs |= g_step(G, D, setup.opt_g, setup.latents(n), loss=config.g_loss)
        setup.end_step()
        return logs

    snapshots: list[tuple[int, torch.Tensor]] = []

    def evaluate(step_: int, history: History) -> None:
        with torch.no_grad():
            snap = G(z_fixed)
        snapshots.append((step_, snap))
        cov = mode_coverage(snap, config.mixture)
        history.record("modes_covered", step_, cov["modes_covered"])
        history.record("high_quality", step_, cov["high_quality"])

    callbacks = [Every(eval_every, evaluate)] if eval_every else []
    history = setup.fit(step, steps=config.steps, callbacks=callbacks, desc=desc, progress=progress)
    G.eval()
    samples = G.sample(n_eval, generator=torch.Generator().manual_seed(seed + 3))  # (n_eval, 2)
    return ToyGANResult(samples, mode_coverage(samples, config.mixture), history, snapshots, G, config)


__all__ = ["PackedDiscriminator", "ToyGANTrainConfig", "ToyGANConfig", "ToyGANResult", "train_toy_gan"]
